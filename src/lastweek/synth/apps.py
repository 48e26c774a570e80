from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "lastweek.synth"
    verbose_name = "Synthetic data"

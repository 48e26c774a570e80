from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "lastweek.intake"
    verbose_name = "Email intake"

from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "lastweek.goals"
    verbose_name = "Objectives and key results"

from django.apps import AppConfig


class DirectivesConfig(AppConfig):
    name = "lastweek.directives"
    verbose_name = "Directives, cycles and participation policy"

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "lastweek.access"
    verbose_name = "Access"

from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "lastweek.org"
    verbose_name = "Organization"

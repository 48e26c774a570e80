from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "lastweek.reports"
    verbose_name = "Reports"

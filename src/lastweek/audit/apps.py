from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lastweek.audit"
    verbose_name = "Audit log"

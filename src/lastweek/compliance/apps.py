from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "lastweek.compliance"

    def ready(self) -> None:
        from lastweek.compliance import summaries  # noqa: F401  (connects the assignments_changed receiver)

"""The audit log now lives in `lastweek.audit` (its migration 0001 takes the model over): state only,
the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_api_token"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEvent")]),
    ]

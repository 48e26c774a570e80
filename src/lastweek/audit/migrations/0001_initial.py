"""The audit log moves from `access` to the ground floor: the model's state only. Its table
(access_auditevent), index and PostgreSQL trigger stay as they are, with every event in them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("access", "0003_api_token"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor_name",
                            models.CharField(
                                help_text="The actor's username when it happened.", max_length=150
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                db_index=True, help_text="e.g. roster.import, report.read", max_length=64
                            ),
                        ),
                        ("object_type", models.CharField(blank=True, max_length=64)),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        (
                            "scope",
                            models.CharField(
                                blank=True, help_text="organization, agency:CODE or unit:ID", max_length=64
                            ),
                        ),
                        ("purpose", models.CharField(blank=True, max_length=300)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "access_auditevent",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["object_type", "object_id"], name="audit_object_idx")
                        ],
                    },
                ),
            ]
        ),
    ]

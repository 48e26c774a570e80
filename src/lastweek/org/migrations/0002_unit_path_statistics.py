"""A finer histogram of unit paths for PostgreSQL's planner.

With the default 100 buckets, `path LIKE '/416/3450/13503/%'` over 217k units was estimated at 2,148
units (really 241), and the planner chose to scan all 2.3 million employees: 350 ms instead of 30.
"""

from django.db import migrations


def finer_histogram(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE org_unit ALTER COLUMN path SET STATISTICS 2000")


def default_histogram(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE org_unit ALTER COLUMN path SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(finer_histogram, default_histogram)]

"""PostgreSQL: a stored message's bytes stay in its row, uncompressed, up to about 8 kB.

By default PostgreSQL compresses (pglz) every row over 2 kB, which a fifth of the replies of a
synthetic week are with their headers: about 6% of the database's CPU on a mailbox import, and 4 µs
of the 18 µs the raw rows' COPY took per message, to save a few hundred bytes each. Longer mail is
still moved out of line and compressed as before.
"""

from django.db import migrations


def keep_in_line(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE intake_inboundmessage SET (toast_tuple_target = 8160)")


def default_target(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE intake_inboundmessage RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(keep_in_line, default_target)]

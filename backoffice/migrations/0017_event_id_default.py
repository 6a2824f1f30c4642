"""PostgreSQL draws an event's id itself when a set of events is written without one (``events_record``)."""

from django.db import migrations


def _set_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE backoffice_event ALTER COLUMN event_id SET DEFAULT gen_random_uuid()")


def _drop_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE backoffice_event ALTER COLUMN event_id DROP DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0016_reconciliation_role")]

    operations = [migrations.RunPython(_set_default, _drop_default)]

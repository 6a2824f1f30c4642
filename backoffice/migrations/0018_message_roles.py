from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Messages to customers: who reads the list and the cadence, who writes and activates the wording."""

    dependencies = [
        ("backoffice", "0017_event_id_default"),
        # The roles are applied once every model they name exists.
        ("cases", "0027_message_planned_day_index"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Supervisors see beat's schedule and propose changes of the night's entry, which a second one approves."""

    dependencies = [("backoffice", "0031_nightly_dunning_run_entry")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

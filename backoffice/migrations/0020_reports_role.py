from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Supervisors read the reports."""

    dependencies = [("backoffice", "0019_report_aggregates")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

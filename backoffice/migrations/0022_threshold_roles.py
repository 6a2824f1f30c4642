from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Supervisors set the dashboard's alert thresholds and see the refused contacts."""

    dependencies = [("backoffice", "0021_compliance_days_and_thresholds"), ("cases", "0030_contact_refusals")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0009_workbench_roles"), ("cases", "0016_run_counts_contact_importer")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0022_threshold_roles"), ("cases", "0031_contact_import_for_others")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

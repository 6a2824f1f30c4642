from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0003_contact_roles"), ("accounts", "0004_personal_data_reveal")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

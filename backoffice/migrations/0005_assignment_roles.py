from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0004_reveal_roles"), ("cases", "0007_case_assignment")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0005_assignment_roles"), ("cases", "0009_my_case_queue")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0001_roles"), ("letters", "0003_letter_approval_queue")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

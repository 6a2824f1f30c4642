from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0006_queue_roles"), ("cases", "0010_promises")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

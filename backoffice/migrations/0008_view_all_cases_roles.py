from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0007_promise_roles"), ("cases", "0011_view_all_cases")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0002_letter_roles"), ("cases", "0006_shipped_rule_packs")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

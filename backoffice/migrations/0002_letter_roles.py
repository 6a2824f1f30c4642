from django.db import migrations

from backoffice.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0001_roles"), ("letters", "0002_shipped_templates_and_phrases")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

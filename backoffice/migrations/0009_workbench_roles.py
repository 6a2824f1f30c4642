from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0008_view_all_cases_roles"), ("cases", "0014_us_rolling_rule")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

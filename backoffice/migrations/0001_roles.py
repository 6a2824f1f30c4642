from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0002_initial"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0010_agency_role_narrowed"),
        ("letters", "0004_phrase_lists_move_to_cases_one_letter_in_flight"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

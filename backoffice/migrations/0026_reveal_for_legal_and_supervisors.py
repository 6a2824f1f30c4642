from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Legal reviewers and supervisors see numbers masked, as everyone does, and reveal one with a reason."""

    dependencies = [("backoffice", "0025_merge_people"), ("accounts", "0013_full_numbers_for_nobody")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

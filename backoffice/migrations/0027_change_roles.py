from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Legal reviewers and supervisors see the changes waiting for a second person; the collections manager
    role gives the second approval of large settlements and write-offs."""

    dependencies = [("backoffice", "0026_change_proposals"), ("cases", "0031_large_proposal_permission")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

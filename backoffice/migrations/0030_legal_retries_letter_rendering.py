from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Legal reviewers retry the rendering of a letter whose rendering failed."""

    dependencies = [("backoffice", "0029_merge_change_proposals"), ("letters", "0009_letter_rendering_queue_and_render_failed")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]

import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


def backfill(apps, schema_editor):
    """Each case changed last at its latest stage change, or when it was opened: one statement for every case."""
    case = apps.get_model("cases", "Case")._meta.db_table
    transition = apps.get_model("cases", "CaseTransition")._meta.db_table
    schema_editor.execute(
        f"UPDATE {case} SET changed_at = COALESCE("
        f"(SELECT MAX(t.created_at) FROM {transition} t WHERE t.case_id = {case}.id), opened_at)"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0021_reversal'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='changed_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now, editable=False, help_text="When the stage, figures, hold, assignee or agency last changed (the API's changed_since).", verbose_name='changed at'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['changed_at', 'id'], name='case_changed_at'),
        ),
    ]

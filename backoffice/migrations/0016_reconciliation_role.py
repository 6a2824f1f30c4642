from django.db import migrations, models

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):

    dependencies = [
        ('backoffice', '0015_webhooks'),
        # The roles are applied once every model they name exists.
        ('accounts', '0007_received_at'),
        ('cases', '0022_case_changed_at'),
        ('letters', '0004_phrase_lists_move_to_cases_one_letter_in_flight'),
    ]

    operations = [
        migrations.CreateModel(
            name='Report',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'verbose_name': 'report',
                'verbose_name_plural': 'reports',
                'permissions': [('view_reconciliation', 'Can see the reconciliation of what came in and went out')],
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['occurred_at', 'type'], name='event_occurred_at'),
        ),
        migrations.RunPython(apply_roles, migrations.RunPython.noop),
    ]

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0019_case_customer'),
        ('letters', '0003_letter_approval_queue'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='froze_line',
            field=models.BooleanField(db_default=False, default=False, editable=False, help_text='Entering collection froze the line; the freeze is lifted when the case is paid in full.', verbose_name='froze its credit line'),
        ),
        migrations.AddField(
            model_name='dunningrun',
            name='letters_drafted',
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name='letters drafted'),
        ),
        # The phrase lists move here from letters: one compliance rule contacts and letters both apply.
        # The table stays as the letters app made it; only Django's state moves (letters 0004 drops its side).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ProhibitedPhraseList',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('language', models.CharField(choices=[('zh-hans', 'Simplified Chinese'), ('en', 'English')], max_length=8, verbose_name='language')),
                        ('version', models.PositiveIntegerField(verbose_name='version')),
                        ('phrases', models.TextField(verbose_name='phrases, one per line')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ],
                    options={
                        'verbose_name': 'prohibited phrase list',
                        'verbose_name_plural': 'prohibited phrase lists',
                        'db_table': 'letters_prohibitedphraselist',
                        'ordering': ['language', '-version'],
                        'constraints': [models.UniqueConstraint(fields=('language', 'version'), name='phrase_list_version_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]

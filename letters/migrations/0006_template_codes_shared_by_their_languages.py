"""A template code names one letter in every language: the shipped lawyer-letter-zh and lawyer-letter-en become the
Chinese and English versions of lawyer-letter (reminder-notice alike), and the policies naming them follow."""

from django.db import migrations, models

RENAMED = {
    "lawyer-letter-zh": "lawyer-letter",
    "lawyer-letter-en": "lawyer-letter",
    "reminder-notice-zh": "reminder-notice",
    "reminder-notice-en": "reminder-notice",
}
SUFFIX = {"zh-hans": "-zh", "en": "-en"}


def share_codes(apps, schema_editor):
    template = apps.get_model("letters", "LetterTemplate")
    policy = apps.get_model("cases", "DunningPolicy")
    for old, new in RENAMED.items():
        template.objects.filter(code=old).update(code=new)
        policy.objects.filter(legal_letter_template=old).update(legal_letter_template=new)


def split_codes(apps, schema_editor):
    template = apps.get_model("letters", "LetterTemplate")
    policy = apps.get_model("cases", "DunningPolicy")
    for new in set(RENAMED.values()):
        for language, suffix in SUFFIX.items():
            template.objects.filter(code=new, language=language).update(code=f"{new}{suffix}")
        policy.objects.filter(legal_letter_template=new).update(legal_letter_template=f"{new}-zh")


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0005_letter_email_queue_and_arrival"),
        ("cases", "0004_shipped_policy_letters"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="lettertemplate", name="template_version_unique"),
        migrations.RemoveConstraint(model_name="lettertemplate", name="template_one_active_version"),
        migrations.RunPython(share_codes, split_codes),
        migrations.AddConstraint(
            model_name="lettertemplate",
            constraint=models.UniqueConstraint(
                fields=("code", "language", "version"), name="template_version_unique_per_language"
            ),
        ),
        migrations.AddConstraint(
            model_name="lettertemplate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)),
                fields=("code", "language"),
                name="template_one_active_version_per_language",
            ),
        ),
    ]

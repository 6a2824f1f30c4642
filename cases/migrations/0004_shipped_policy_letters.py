from django.db import migrations


def name_letters(apps, schema_editor):
    apps.get_model("cases", "DunningPolicy").objects.filter(code__in=["standard", "fast-track"]).update(
        legal_letter_template="lawyer-letter-zh"
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_policy_letter_template"), ("letters", "0002_shipped_templates_and_phrases")]

    operations = [migrations.RunPython(name_letters, migrations.RunPython.noop)]

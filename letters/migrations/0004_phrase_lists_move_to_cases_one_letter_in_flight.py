from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Carry the phrase lists' content type, and with it their permissions and the roles holding them, to cases."""
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    old = content_type.objects.filter(app_label="letters", model="prohibitedphraselist").first()
    if old is None:
        return
    # One made for cases meanwhile holds nothing yet: the letters one, with its grants, takes its place.
    stale = content_type.objects.filter(app_label="cases", model="prohibitedphraselist").first()
    if stale is not None:
        permission.objects.filter(content_type=stale).delete()
        stale.delete()
    old.app_label = "cases"
    old.save(update_fields=["app_label"])


def move_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="cases", model="prohibitedphraselist").update(app_label="letters")


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0003_letter_approval_queue"),
        ("cases", "0020_froze_line_letters_drafted_phrase_lists"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ProhibitedPhraseList")],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_back),
        migrations.AddConstraint(
            model_name="letter",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("draft", "pending_approval", "approved"))),
                fields=("case",),
                name="letter_one_in_flight_per_case",
            ),
        ),
    ]

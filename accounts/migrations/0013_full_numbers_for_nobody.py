from django.db import migrations


def drop_full_view_permission(apps, schema_editor):
    """Delete the permission that showed full numbers, and so every grant of it, to a role or a person."""
    permission_model = apps.get_model("auth", "Permission")
    permission_model.objects.filter(content_type__app_label="accounts", codename="view_personal_data").delete()


class Migration(migrations.Migration):
    """Nobody sees full ID and mobile numbers on sight any more: a reveal or a whole-number search, on record."""

    dependencies = [
        ("accounts", "0012_reveal_time_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(drop_full_view_permission, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="customer",
            options={
                "permissions": [("reveal_personal_data", "Can reveal a full ID or mobile number, with a reason")],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
    ]

from django.db import migrations

from backoffice.kernel.roles import apply_roles


class Migration(migrations.Migration):
    """Sign-in failures (django-axes' records) in the admin; supervisors see them and unlock."""

    dependencies = [
        ("axes", "0010_accessattemptexpiration"),
        ("backoffice", "0022_threshold_roles"),
        ("cases", "0030_contact_refusals"),
    ]

    operations = [
        migrations.CreateModel(
            name="SignInFailure",
            fields=[],
            options={
                "verbose_name": "sign-in failure",
                "verbose_name_plural": "sign-in failures",
                "permissions": [("unlock_signinfailure", "Can unlock a locked-out sign-in")],
                "proxy": True,
                "default_permissions": ("view",),
                "indexes": [],
                "constraints": [],
            },
            bases=("axes.accessattempt",),
        ),
        migrations.RunPython(apply_roles, migrations.RunPython.noop),
    ]

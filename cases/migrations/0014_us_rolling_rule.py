from django.db import migrations


def set_rolling_rule(apps, schema_editor):
    # Regulation F, 12 CFR 1006.14(b)(2): more than 7 calls in 7 days, or a call within 7 days
    # after a telephone conversation about the debt, is presumed harassment.
    apps.get_model("cases", "RulePack").objects.filter(code="us-regf").update(
        rolling_call_cap=7, rolling_days=7, quiet_days_after_conversation=7
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_agencies_teams_proposals")]

    operations = [migrations.RunPython(set_rolling_rule, migrations.RunPython.noop)]

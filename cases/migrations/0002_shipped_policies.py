from django.db import migrations

# The two policies the product ships: the three phases of the standard process, and the
# fast track that sends the lawyer letter from DPD 12.
SHIPPED = [
    {
        "code": "standard",
        "name": "Standard",
        "reminder_from_dpd": 1,
        "collection_from_dpd": 31,
        "legal_from_dpd": 61,
        "legal_min_balance_fen": 0,
        "freeze_line_on_collection": True,
        "max_hold_days": 30,
    },
    {
        "code": "fast-track",
        "name": "Fast track",
        "reminder_from_dpd": 1,
        "collection_from_dpd": 6,
        "legal_from_dpd": 12,
        "legal_min_balance_fen": 0,
        "freeze_line_on_collection": True,
        "max_hold_days": 14,
    },
]


def create_policies(apps, schema_editor):
    policy_model = apps.get_model("cases", "DunningPolicy")
    for values in SHIPPED:
        policy_model.objects.update_or_create(code=values["code"], defaults=values)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]

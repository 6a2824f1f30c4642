import datetime

from django.db import migrations

PACKS = [
    {
        "code": "cn-default",
        "name": "Mainland China (GB/T 45251-2025, CBA 2026 guideline)",
        "window_start": datetime.time(8, 0),
        "window_end": datetime.time(22, 0),
        "daily_connected_cap": 3,
        "daily_attempt_cap": 6,
        "third_party_after_failures": 3,
    },
    {
        # FDCPA / Regulation F: 08:00-21:00 at the consumer's location; a conversation makes
        # further calls within 7 days presumptively harassing, so one connected call a day at most.
        "code": "us-regf",
        "name": "USA (FDCPA / Regulation F)",
        "window_start": datetime.time(8, 0),
        "window_end": datetime.time(21, 0),
        "daily_connected_cap": 1,
        "daily_attempt_cap": 7,
        "third_party_after_failures": 3,
    },
]


def create(apps, schema_editor):
    pack_model = apps.get_model("cases", "RulePack")
    for values in PACKS:
        pack_model.objects.update_or_create(code=values["code"], defaults=values)
    china = pack_model.objects.get(code="cn-default")
    apps.get_model("cases", "DunningPolicy").objects.filter(rule_pack__isnull=True).update(rule_pack=china)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_contacts_and_rules")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

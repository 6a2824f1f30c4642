from django.core.exceptions import ValidationError
from django.db import migrations

from accounts.validators import mainland_phone_number

BATCH = 2000


def normalize(apps, schema_editor):
    """Store every number called that is a mainland number in the form new contacts are stored in.

    The daily attempt cap and the import's "already stored" check compare numbers as stored, so a
    138-0013-8000 of yesterday must read 13800138000 like today's. A number that is no mainland
    number stays as it was: the contact is a record. An 11-digit mobile is already in that form.
    """
    contact = apps.get_model("cases", "Contact")
    others = contact.objects.exclude(phone_number="").exclude(phone_number__regex=r"^1[3-9][0-9]{9}$")
    changed = []
    for row in others.only("pk", "phone_number").order_by("pk").iterator(chunk_size=BATCH):
        try:
            number = mainland_phone_number(row.phone_number)
        except ValidationError:
            continue
        if number != row.phone_number:
            row.phone_number = number
            changed.append(row)
        if len(changed) >= BATCH:
            contact.objects.bulk_update(changed, ["phone_number"])
            changed = []
    contact.objects.bulk_update(changed, ["phone_number"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0022_case_changed_at")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]

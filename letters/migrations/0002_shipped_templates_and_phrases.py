from pathlib import Path

from django.db import migrations

SHIPPED = Path(__file__).resolve().parent.parent / "shipped"
TEMPLATES = [
    ("lawyer-letter-zh", "律师函（中文）", "lawyer_letter", "zh-hans"),
    ("lawyer-letter-en", "Lawyer letter (English)", "lawyer_letter", "en"),
    ("reminder-notice-zh", "催收函（中文）", "reminder_notice", "zh-hans"),
    ("reminder-notice-en", "Reminder notice (English)", "reminder_notice", "en"),
]
# PROHIBITED_CONTENT: no threats, insults, exposure, contacting employers or contacts, and nothing
# that impersonates a court, the police or any authority. Legal reviewers keep later versions.
PHRASES = {
    "zh-hans": [
        "传票",
        "立案通知",
        "执行通知书",
        "法院通知",
        "公安机关通知",
        "警方",
        "拘留",
        "坐牢",
        "曝光",
        "通知你的单位",
        "通知您的单位",
        "联系你的家人",
        "联系您的家人",
        "通讯录",
        "后果自负",
        "走着瞧",
    ],
    "en": [
        "summons",
        "court order",
        "arrest",
        "warrant",
        "police",
        "jail",
        "prison",
        "expose you",
        "your employer",
        "your contacts",
        "your family will",
        "or else",
    ],
}


def load(apps, schema_editor):
    template_model = apps.get_model("letters", "LetterTemplate")
    for code, name, kind, language in TEMPLATES:
        template_model.objects.update_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "kind": kind,
                "language": language,
                "body_html": (SHIPPED / f"{code}.html").read_text(encoding="utf-8"),
                # Reminder notices come from the creditor and can be used at once; lawyer letters
                # wait for their law firm to be set up (seed_demo does it for the demo firm).
                "is_active": kind == "reminder_notice",
            },
        )
    phrase_model = apps.get_model("letters", "ProhibitedPhraseList")
    for language, phrases in PHRASES.items():
        phrase_model.objects.update_or_create(language=language, version=1, defaults={"phrases": "\n".join(phrases)})


class Migration(migrations.Migration):
    dependencies = [("letters", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

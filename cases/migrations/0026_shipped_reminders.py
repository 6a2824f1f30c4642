from django.db import migrations

# The wording the product ships, per channel and language. The SMS codes stand for the templates the
# lender registers with its SMS provider under the same text; each lender replaces them with its own.
PAY = "{pay_to}"
TEMPLATES = [
    # Before the due date.
    (
        "due-soon",
        "sms",
        "zh-hans",
        "",
        "{name}您好，您的账单{amount}将于{due_date}到期，请通过" + PAY + "按时还款。如已还款请忽略。",
        "SMS_DUE_SOON_ZH",
    ),
    (
        "due-soon",
        "sms",
        "en",
        "",
        "Dear {name}, your bill of {amount} is due on {due_date}. Please pay via "
        + PAY
        + ". Ignore this if you have paid.",
        "SMS_DUE_SOON_EN",
    ),
    ("due-soon", "push", "zh-hans", "还款提醒", "您的账单{amount}将于{due_date}到期，请按时还款。", ""),
    (
        "due-soon",
        "push",
        "en",
        "Payment reminder",
        "Your bill of {amount} is due on {due_date}. Please pay on time.",
        "",
    ),
    # Overdue.
    (
        "overdue",
        "sms",
        "zh-hans",
        "",
        "{name}您好，您的合同{contract}已逾期{days_past_due}天，逾期金额{amount}，请尽快通过"
        + PAY
        + "还款。如有疑问请联系{creditor}客服。",
        "SMS_OVERDUE_ZH",
    ),
    (
        "overdue",
        "sms",
        "en",
        "",
        "Dear {name}, contract {contract} is overdue (days past due: {days_past_due}), {amount} in arrears. Please pay via "
        + PAY
        + ". Questions: contact {creditor}.",
        "SMS_OVERDUE_EN",
    ),
    (
        "overdue",
        "push",
        "zh-hans",
        "逾期提醒",
        "您的合同{contract}已逾期{days_past_due}天，逾期金额{amount}，请尽快还款。",
        "",
    ),
    (
        "overdue",
        "push",
        "en",
        "Overdue reminder",
        "Contract {contract} is overdue (days past due: {days_past_due}): {amount}. Please pay soon.",
        "",
    ),
    (
        "overdue",
        "email",
        "zh-hans",
        "逾期还款提醒：合同{contract}",
        "{name}您好：\n\n您的合同{contract}已逾期{days_past_due}天，逾期金额{amount}。\n请通过"
        + PAY
        + "还款。\n如对账单有异议，请联系{creditor}客服，我们将核实处理。\n\n{creditor}",
        "",
    ),
    (
        "overdue",
        "email",
        "en",
        "Overdue payment reminder: contract {contract}",
        "Dear {name},\n\nContract {contract} is overdue (days past due: {days_past_due}), with {amount} in arrears.\nPlease pay via "
        + PAY
        + ".\nIf you dispute the amount, contact {creditor} and we will look into it.\n\n{creditor}",
        "",
    ),
    # On entering agent collection and legal recovery.
    (
        "entered-collection",
        "sms",
        "zh-hans",
        "",
        "{name}您好，您的合同{contract}逾期金额{amount}，我们的工作人员将与您联系协商还款方案。还款方式：" + PAY + "。",
        "SMS_COLLECTION_ZH",
    ),
    (
        "entered-collection",
        "sms",
        "en",
        "",
        "Dear {name}, contract {contract} has {amount} overdue. Our staff will contact you to agree a repayment plan. Pay via "
        + PAY
        + ".",
        "SMS_COLLECTION_EN",
    ),
    (
        "entered-legal",
        "email",
        "zh-hans",
        "合同{contract}已转交律师事务所处理",
        "{name}您好：\n\n您的合同{contract}已逾期{days_past_due}天，逾期金额{amount}。\n{creditor}已委托律师事务所处理，您将收到律师函。\n现在还款仍可结清："
        + PAY
        + "。\n如有异议，请联系{creditor}客服。\n\n{creditor}",
        "",
    ),
    (
        "entered-legal",
        "email",
        "en",
        "Contract {contract} passed to a law firm",
        "Dear {name},\n\nContract {contract} is overdue (days past due: {days_past_due}), with {amount} in arrears.\n{creditor} has engaged a law firm, which will send you a lawyer's letter.\nPaying now still settles it: "
        + PAY
        + ".\nIf you dispute the amount, contact {creditor}.\n\n{creditor}",
        "",
    ),
]

# The cadence of each shipped policy: (kind, stage, channel, days, every_days, template).
STANDARD = [
    ("pre_due", "", "sms", "3,0", None, "due-soon"),
    ("pre_due", "", "push", "1", None, "due-soon"),
    ("overdue", "reminder", "sms", "1,3,7", None, "overdue"),
    ("overdue", "reminder", "push", "", 1, "overdue"),
    ("overdue", "reminder", "email", "", 7, "overdue"),
    ("overdue", "collection", "sms", "", 7, "overdue"),
    ("stage_entry", "collection", "sms", "", None, "entered-collection"),
    ("stage_entry", "legal", "email", "", None, "entered-legal"),
]
FAST_TRACK = [
    ("pre_due", "", "sms", "3,0", None, "due-soon"),
    ("overdue", "reminder", "sms", "1,3", None, "overdue"),
    ("overdue", "reminder", "push", "", 1, "overdue"),
    ("stage_entry", "collection", "sms", "", None, "entered-collection"),
    ("stage_entry", "legal", "email", "", None, "entered-legal"),
]


def create(apps, schema_editor):
    template_model = apps.get_model("cases", "MessageTemplate")
    for code, channel, language, subject, body, provider_code in TEMPLATES:
        template_model.objects.update_or_create(
            code=code,
            channel=channel,
            language=language,
            version=1,
            defaults={"subject": subject, "body": body, "provider_template_code": provider_code, "is_active": True},
        )
    policy_model, rule_model = apps.get_model("cases", "DunningPolicy"), apps.get_model("cases", "ReminderRule")
    for code, cadence in (("standard", STANDARD), ("fast-track", FAST_TRACK)):
        policy = policy_model.objects.filter(code=code).first()
        if policy is None or rule_model.objects.filter(policy=policy).exists():
            continue
        for kind, stage, channel, days, every, template in cadence:
            rule_model.objects.create(
                policy=policy,
                kind=kind,
                stage=stage,
                channel=channel,
                days=days,
                every_days=every,
                template_code=template,
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0025_outreach")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

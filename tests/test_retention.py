"""The retention policy: a customer whose case closed long ago is anonymised, in the row and its history, with
their letters, contacts and notes, the ledger's sums unchanged; a recent one is untouched; a re-run changes nothing."""

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.models import Sum
from django.test import override_settings

from accounts.models import ANONYMISED, Bill, Customer, Payment, PaymentAllocation, PersonalDataReveal
from accounts.services import credit_line_upsert, customer_reveal, customer_upsert, payment_post
from backoffice.kernel.api.idempotency import IdempotencyKey
from backoffice.kernel.api.services import api_client_create
from backoffice.retention import personal_data_purge, purge_plan, years_before
from cases.choices import Stage
from cases.contacts.services import contact_log
from cases.models import Case, CaseTransition, ComplianceIncident, Contact, Proposal
from cases.settlements.services import proposal_submit
from letters.models import Letter, LetterTemplate
from letters.services import letter_draft
from tests.factories import BillFactory, CreditLineFactory, CustomerFactory, product_on

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=SHANGHAI)
PERSONAL = ("name", "national_id", "mobile", "email", "address")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def worked_and_paid(run_dunning, agent, *, due: datetime.date, closed: bool = True) -> Customer:
    """A customer whose one bill fell overdue on ``due``: a case, a call, a letter, a proposal, then paid in full.

    The bill is 1,000.00 principal + 20.00 interest + 5.00 fees = 102,500 fen, paid by one payment of
    1,025.00 a month later, which resolves the case; the line is then closed (or not) by the lender.
    """
    customer = CustomerFactory(email="wang.wei@example.cn")
    customer_upsert(national_id=customer.national_id, actor=None, address="上海市浦东新区世纪大道 100 号 8 楼")
    line = CreditLineFactory(customer=customer, product=product_on("standard"), opened_on=due.replace(month=1, day=1))
    BillFactory(credit_line=line, due_date=due)
    run_dunning(due + datetime.timedelta(days=22))
    case = Case.objects.with_customer().get(credit_line=line)
    contact = contact_log(
        case=case,
        actor=agent,
        channel="call",
        outcome="connected",
        identity_disclosed=True,
        phone_number=customer.mobile,
        notes="客户称在华为上班，下月发薪后还款",
        occurred_at=at(due + datetime.timedelta(days=23)),
    )
    Contact.objects.filter(pk=contact.pk).update(recording_reference="REC-2019-000123")
    ComplianceIncident.objects.create(contact=contact, rule="DAILY_CONTACT_CAP", message=f"{customer.mobile} 超限")
    template = LetterTemplate.objects.get(code="reminder-notice", language="zh-hans", is_active=True)
    letter = letter_draft(case=case, template=template, actor=agent, render=False, as_of=due + datetime.timedelta(23))
    letter.pdf.save("old-letter.pdf", ContentFile(b"%PDF-1.7 the letter as it went out"), save=True)
    Letter.objects.filter(pk=letter.pk).update(dispatch_address=customer.address)
    proposal_submit(case=case, actor=agent, kind="write_off", reason="客户患病住院，无力偿还")
    customer_reveal(customer=customer, actor=agent, field="mobile", reason="客户来电，核对号码")
    paid_on = due + datetime.timedelta(days=30)
    payment_post(
        credit_line=line,
        external_reference=f"PAY-{line.number}",
        amount="1025.00",
        channel="alipay",
        received_at=at(paid_on),
    )
    run_dunning(paid_on + datetime.timedelta(days=1))
    case.refresh_from_db()
    assert case.stage == Stage.RESOLVED
    # Closed on the day the run resolved it, long ago; the customer came in before their line opened.
    Case.objects.filter(pk=case.pk).update(
        closed_at=at(paid_on + datetime.timedelta(days=1), 2), hold_note="家中有变故"
    )
    Customer.objects.filter(pk=customer.pk).update(created_at=at(line.opened_on))
    if closed:
        credit_line_upsert(
            number=line.number, customer=customer, product_code=line.product.code, limit="10000.00",
            opened_on=line.opened_on, closed=True,
        )  # fmt: skip
    return Customer.objects.get(pk=customer.pk)


def ledger_sums() -> dict:
    return {
        **Bill.objects.aggregate(
            *(Sum(f"{part}_{side}_fen") for part in ("principal", "interest", "fees") for side in ("due", "paid"))
        ),
        **Payment.objects.aggregate(Sum("amount_fen"), Sum("unallocated_fen")),
        **PaymentAllocation.objects.aggregate(Sum("principal_fen"), Sum("interest_fen"), Sum("fees_fen")),
        "rows": (Bill.objects.count(), Payment.objects.count(), PaymentAllocation.objects.count()),
    }


def everything_about(customer: Customer) -> dict:
    """Every personal value held about the customer, and what stays, as a comparable picture."""
    cases = Case.objects.filter(customer=customer)
    return {
        "row": Customer.objects.filter(pk=customer.pk).values(*PERSONAL, "anonymised_at", "do_not_contact").get(),
        "history": list(customer.history.order_by("history_id").values(*PERSONAL, "history_change_reason")),
        "letters": list(Letter.objects.filter(case__in=cases).values("snapshot", "pdf", "dispatch_address")),
        "contacts": list(Contact.objects.filter(case__in=cases).values("phone_number", "recording_reference", "notes")),
        "incidents": list(ComplianceIncident.objects.filter(contact__case__in=cases).values_list("message", flat=True)),
        "cases": list(cases.values("hold_note", "close_reason", "stage", "closed_at")),
        "transitions": list(CaseTransition.objects.filter(case__in=cases).values("reason", "to_stage", "actor")),
        "proposals": list(Proposal.objects.filter(case__in=cases).values("reason", "kind")),
    }


@pytest.fixture
def two_customers(run_dunning, agent):
    """One whose case closed in March 2019 (nearly seven years before NOW), one whose case closed in 2025."""
    return {
        "old": worked_and_paid(run_dunning, agent, due=datetime.date(2019, 1, 10)),
        "recent": worked_and_paid(run_dunning, agent, due=datetime.date(2025, 1, 10)),
    }


def test_a_customer_whose_case_closed_long_ago_is_anonymised_in_the_row_its_history_and_records(
    two_customers, django_capture_on_commit_callbacks
):
    old, recent = two_customers["old"], two_customers["recent"]
    old_pdf = Letter.objects.get(case__customer=old).pdf
    storage, old_file = old_pdf.storage, old_pdf.name
    assert storage.exists(old_file)
    sums_before, recent_before = ledger_sums(), everything_about(recent)
    # The one bill of each: 102,500 fen due, paid in full by one payment of 102,500 fen.
    assert sums_before["amount_fen__sum"] == 2 * 102_500
    assert sums_before["principal_fen__sum"] + sums_before["interest_fen__sum"] + sums_before["fees_fen__sum"] == (
        2 * 102_500
    )
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        counts = personal_data_purge(now=NOW)
    assert (counts.customers, counts.letters, counts.contacts) == (1, 1, 1)
    after = everything_about(old)
    assert after["row"] == {
        "name": ANONYMISED,
        "national_id": f"ANON{old.pk:014d}",
        "mobile": ANONYMISED,
        "email": "",
        "address": ANONYMISED,
        "anonymised_at": NOW,
        "do_not_contact": True,
    }
    # Created, then the lender's new address: two past versions, both holding the numbers until now.
    assert len(after["history"]) == 2
    anonymised = {**after["row"], "history_change_reason": None}
    del anonymised["anonymised_at"], anonymised["do_not_contact"]
    assert after["history"] == [anonymised, anonymised]
    [letter] = after["letters"]
    assert letter["snapshot"]["addressee"] == {"name": ANONYMISED, "address": ANONYMISED}
    assert (letter["pdf"], letter["dispatch_address"]) == ("", ANONYMISED)
    assert not storage.exists(old_file)
    assert after["contacts"] == [{"phone_number": "", "recording_reference": "", "notes": ANONYMISED}]
    assert after["incidents"] == [ANONYMISED]
    assert [(case["hold_note"], case["stage"]) for case in after["cases"]] == [(ANONYMISED, Stage.RESOLVED)]
    assert {transition["reason"] for transition in after["transitions"]} <= {ANONYMISED, ""}
    assert [(p["reason"], p["kind"]) for p in after["proposals"]] == [(ANONYMISED, "write_off")]
    text = str(after)
    for secret in (old.name, old.national_id, old.mobile, old.address, old.email, "华为", "住院"):
        assert secret not in text, secret
    # The audit of who saw the number stays, naming the customer's row (now the marker), not the number.
    assert PersonalDataReveal.objects.filter(customer=old).count() == 1
    assert ledger_sums() == sums_before
    assert everything_about(recent) == recent_before


def test_a_second_run_changes_nothing(two_customers):
    with time_machine.travel(NOW, tick=False):
        personal_data_purge(now=NOW)
        pictures = {key: everything_about(customer) for key, customer in two_customers.items()}
        later = NOW + datetime.timedelta(days=1)
        counts = personal_data_purge(now=later)
    assert counts.total() == 0
    assert {key: everything_about(customer) for key, customer in two_customers.items()} == pictures


def test_a_customer_with_a_line_still_open_is_kept_whatever_its_age(run_dunning, agent):
    kept = worked_and_paid(run_dunning, agent, due=datetime.date(2018, 1, 10), closed=False)
    before = everything_about(kept)
    with time_machine.travel(NOW, tick=False):
        counts = personal_data_purge(now=NOW)
    assert counts.customers == 0
    after = everything_about(kept)
    assert after["row"] == before["row"]
    assert after["history"] == before["history"]
    # Its closed case's letter and call are past their own periods all the same.
    assert (counts.letters, counts.contacts) == (1, 1)
    assert after["letters"][0]["pdf"] == ""
    assert after["contacts"][0]["recording_reference"] == ""


@override_settings(RETENTION_CUSTOMER_YEARS=8, RETENTION_LETTER_YEARS=8, RETENTION_CONTACT_YEARS=8)
def test_the_periods_are_settings(two_customers):
    with time_machine.travel(NOW, tick=False):
        assert personal_data_purge(now=NOW).total() == 0
    assert everything_about(two_customers["old"])["row"]["name"] != ANONYMISED


def test_the_dry_run_says_what_would_change_and_changes_nothing(two_customers):
    client, _token = api_client_create(name="core", scopes=["ledger:write"], actor=None)
    key = IdempotencyKey.objects.create(client=client, key="k-1", request_hash="h" * 64, response_body='{"id": 1}')
    IdempotencyKey.objects.filter(pk=key.pk).update(created_at=NOW - datetime.timedelta(hours=25))
    pictures = {name: everything_about(customer) for name, customer in two_customers.items()}
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        assert purge_plan(NOW).customers == 1
        call_command("purge_personal_data", "--dry-run", stdout=out)
    assert "Would anonymise or delete: 1 customers (with their history), 1 letters, 1 contacts, 1 stored API" in (
        out.getvalue()
    )
    assert "before 2021-03-01" in out.getvalue()
    assert {name: everything_about(customer) for name, customer in two_customers.items()} == pictures
    assert IdempotencyKey.objects.filter(pk=key.pk).exists()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_personal_data", stdout=out)
    assert "Anonymised or deleted: 1 customers (with their history), 1 letters, 1 contacts, 1 stored API" in (
        out.getvalue()
    )
    assert not IdempotencyKey.objects.filter(pk=key.pk).exists()


def test_years_before_keeps_the_instant_and_takes_29_february_to_the_28th():
    assert years_before(NOW, 5) == datetime.datetime(2021, 3, 1, 3, 0, tzinfo=SHANGHAI)
    assert years_before(at(datetime.date(2024, 2, 29)), 5) == at(datetime.date(2019, 2, 28))

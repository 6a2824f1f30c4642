"""Demo data: realistic Chinese customers, six months of bills, and payments on time, late, partial and never.

The ledger is simulated in memory (with the same allocation rule as ``payment_post``) and
written with bulk inserts, so that ``--customers 100000`` loads in minutes.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Mod
from django.utils import timezone
from faker import Faker

from accounts.allocation import Owed, allocate
from accounts.choices import Language
from accounts.models import Bill, CreditLine, Customer, Payment, PaymentAllocation, PersonalDataReveal, Product
from accounts.services import allocation_rows, customer_reveal, product_upsert
from accounts.validators import validate_mobile, validate_national_id
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create, api_client_rotate
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import AGENCY, AGENT, COLLECTIONS_MANAGER, LEGAL, SUPERVISOR
from backoffice.night import dunning_run
from backoffice.reports.aggregate import flow_write, positions_from_history, previous_month_end, vintage_write
from backoffice.reports.aggregate_letters import letters_aggregate
from backoffice.reports.compliance_models import ComplianceDay
from backoffice.reports.models import EntryObservation, FlowCell, LineDay, MonthEndPosition, PeopleDay, VintageCell
from backoffice.reports.models_recovery import LetterDay, LetterPaid, RecoveryDay, StageEntry, StageExit
from cases import models as cases
from cases.agencies.services import case_place
from cases.casework.services import case_hold
from cases.choices import AgencyStatus, ContactSource, ProposalKind, Stage
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case, DunningPolicy, Team
from cases.settlements.services import proposal_submit
from cases.workload.priority import refresh_queue_ranks
from cases.workload.services import case_assign
from letters.choices import DispatchChannel, LetterStatus
from letters.models import LawFirm, Lawyer, Letter, LetterCounter, LetterTemplate
from letters.services import letter_render, template_activate

DEMO_PASSWORD = "collect-demo"  # noqa: S105 - printed on purpose: demo logins only
DEMO_USERS = [
    ("agent1", AGENT, "王", "敏"),
    ("agent2", AGENT, "李", "强"),
    ("legal1", LEGAL, "陈", "律"),
    ("legal2", LEGAL, "周", "法"),
    ("supervisor1", SUPERVISOR, "张", "督"),
    ("supervisor2", SUPERVISOR, "吴", "管"),
    ("manager1", COLLECTIONS_MANAGER, "孙", "经"),
    ("agency1", AGENCY, "赵", "华"),
]
DEMO_AGENCY = "华信商务咨询有限公司"
PRODUCTS = [
    ("baitiao", "白条 Standard", "standard"),
    ("baitiao-fast", "白条 Fast track", "fast-track"),
    ("instalment", "分期 Instalment loan", "standard"),
]
# Payment behaviours and how often each occurs.
BEHAVIOURS = [("on_time", 45), ("late", 15), ("partial", 10), ("stopped", 22), ("never", 8)]
BILLS_PER_LINE = 6
_STATEMENT_LEAD_DAYS = 20
_CHANNELS = ["bank_transfer", "alipay", "wechat_pay", "debit_card", "auto_debit"]
ENGLISH_EVERY = 10


def demo_users() -> list[tuple[str, str]]:
    """Create (or reset the password of) one login per role and the superuser; return (username, role)."""
    created = []
    for username, role, last_name, first_name in DEMO_USERS:
        user, _new = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.is_staff = first_name, last_name, True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        created.append((username, role))
    admin, _new = User.objects.get_or_create(username="admin")
    admin.is_staff = admin.is_superuser = True
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    created.append(("admin", "superuser"))
    return created


@dataclass
class _Bill:
    due: datetime.date
    principal: int
    interest: int
    fees: int
    paid: dict = field(default_factory=lambda: {"fees": 0, "interest": 0, "principal": 0})
    last_paid_on: datetime.date | None = None
    pk: int | None = None

    def owed(self, index: int) -> Owed:
        return Owed(
            index,
            self.fees - self.paid["fees"],
            self.interest - self.paid["interest"],
            self.principal - self.paid["principal"],
        )

    @property
    def outstanding(self) -> int:
        return self.principal + self.interest + self.fees - sum(self.paid.values())


def _due_dates(today: datetime.date, due_day: int) -> list[datetime.date]:
    """Return the last six monthly due dates whose statement is already out."""
    dates, year, month = [], today.year, today.month + 1
    while len(dates) < BILLS_PER_LINE:
        due = datetime.date(year, month, due_day) if month <= 12 else datetime.date(year + 1, month - 12, due_day)
        if due - datetime.timedelta(days=_STATEMENT_LEAD_DAYS) <= today:
            dates.append(due)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return sorted(dates)


def _payments_for(bills: list[_Bill], behaviour: str, rng: random.Random, today: datetime.date) -> list[tuple]:
    """Return (date, amount_fen) payment events for a behaviour."""
    stop_after = rng.randint(1, 5) if behaviour == "stopped" else None
    events = []
    for index, bill in enumerate(bills):
        total = bill.principal + bill.interest + bill.fees
        if behaviour == "never" or (stop_after is not None and index >= BILLS_PER_LINE - stop_after):
            continue
        if behaviour == "on_time":
            when, amount = bill.due - datetime.timedelta(days=rng.randint(0, 5)), total
        elif behaviour == "late":
            when, amount = bill.due + datetime.timedelta(days=rng.randint(3, 25)), total
        elif behaviour == "partial":
            when, amount = bill.due + datetime.timedelta(days=rng.randint(0, 10)), total * rng.randint(30, 90) // 100
        else:
            when, amount = bill.due - datetime.timedelta(days=rng.randint(0, 3)), total
        if when <= today and amount > 0:
            events.append((when, amount))
    return sorted(events)


def _simulate(bills: list[_Bill], events: list[tuple]) -> list[tuple]:
    """Apply payment events to the bills; return (date, amount, shares, credit) per payment."""
    applied = []
    for when, amount in events:
        owed = [
            bill.owed(index)
            for index, bill in enumerate(bills)
            if bill.due - datetime.timedelta(days=_STATEMENT_LEAD_DAYS) <= when and bill.outstanding > 0
        ]
        shares, credit = allocate(amount, owed)
        for share in shares:
            bill = bills[share.bill_id]
            bill.paid["fees"] += share.fees_fen
            bill.paid["interest"] += share.interest_fen
            bill.paid["principal"] += share.principal_fen
            bill.last_paid_on = when
        applied.append((when, amount, shares, credit))
    return applied


def _person(fake: Faker) -> dict:
    while True:
        national_id, mobile = fake.ssn(min_age=20, max_age=65), fake.phone_number()
        try:
            validate_national_id(national_id)
            validate_mobile(mobile)
        except ValidationError:  # Faker now and then draws an unusable number: draw again
            continue
        return {
            "name": fake.name(),
            "national_id": national_id,
            "mobile": mobile,
            "email": fake.free_email(),
            "address": fake.address().replace("\n", " "),
        }


def products() -> list[Product]:
    """Create the demo products on the shipped policies."""
    policies = {policy.code: policy for policy in DunningPolicy.objects.all()}
    return [product_upsert(code=code, name=name, policy=policies[policy]) for code, name, policy in PRODUCTS]


def seed_ledger(
    *, customers: int, seed: int, today: datetime.date, chunk: int = 2000, on_chunk: Callable[[int], None] | None = None
) -> None:
    """Write ``customers`` customers with a credit line each, their bills and their payments."""
    fake, rng = Faker("zh_CN"), random.Random(seed)
    fake.seed_instance(seed)
    product_list = products()
    seen_ids: set[str] = set(Customer.objects.values_list("national_id", flat=True))
    start = CreditLine.objects.count()
    for offset in range(0, customers, chunk):
        size = min(chunk, customers - offset)
        with transaction.atomic():
            _seed_chunk(fake, rng, product_list, seen_ids, today, start + offset, size)
        if on_chunk:
            on_chunk(size)


def _seed_chunk(fake, rng, product_list, seen_ids, today, first_number, size) -> None:
    people = []
    while len(people) < size:
        person = _person(fake)
        if person["national_id"] not in seen_ids:
            seen_ids.add(person["national_id"])
            people.append(person)
    for number, person in enumerate(people, start=first_number + 1):
        # One customer in ten reads English, so the demo shows letters in both languages.
        person["preferred_language"] = Language.ENGLISH if number % ENGLISH_EVERY == 0 else Language.CHINESE
    customers = Customer.objects.bulk_create(Customer(**person) for person in people)
    lines, plans = [], []
    for number, customer in enumerate(customers, start=first_number + 1):
        product = rng.choices(product_list, weights=[60, 25, 15])[0]
        lines.append(
            CreditLine(
                number=f"CL{today.year}{number:08d}",
                customer=customer,
                product=product,
                limit_fen=rng.choice([3000, 5000, 10000, 20000, 50000]) * 100,
                opened_on=today - datetime.timedelta(days=rng.randint(200, 900)),
            )
        )
        behaviour = rng.choices([b for b, _w in BEHAVIOURS], weights=[w for _b, w in BEHAVIOURS])[0]
        due_day = rng.randint(1, 28)
        bills = []
        for due in _due_dates(today, due_day):
            principal = rng.randint(200, 3000) * 100
            bills.append(_Bill(due, principal, principal * rng.randint(5, 15) // 1000, rng.choice([0, 0, 500, 1500])))
        plans.append((bills, _simulate(bills, _payments_for(bills, behaviour, rng, today))))
    CreditLine.objects.bulk_create(lines)
    _write_bills_and_payments(lines, plans, rng)


def _write_bills_and_payments(lines: list[CreditLine], plans: list, rng: random.Random) -> None:
    bill_rows = []
    for line, (bills, _applied) in zip(lines, plans, strict=True):
        for bill in bills:
            bill_rows.append(
                Bill(
                    credit_line=line,
                    due_date=bill.due,
                    principal_due_fen=bill.principal,
                    interest_due_fen=bill.interest,
                    fees_due_fen=bill.fees,
                    principal_paid_fen=bill.paid["principal"],
                    interest_paid_fen=bill.paid["interest"],
                    fees_paid_fen=bill.paid["fees"],
                    last_paid_on=bill.last_paid_on,
                )
            )
    created_bills = iter(Bill.objects.bulk_create(bill_rows))
    payments, shares_per_payment = [], []
    for line, (bills, applied) in zip(lines, plans, strict=True):
        for bill in bills:
            bill.pk = next(created_bills).pk
        for index, (when, amount, shares, credit) in enumerate(applied):
            received_at = timezone.make_aware(
                datetime.datetime.combine(when, datetime.time(rng.randint(8, 21), rng.randint(0, 59)))
            )
            payments.append(
                Payment(
                    credit_line=line,
                    external_reference=f"DEMO-{line.number}-{index + 1:02d}",
                    amount_fen=amount,
                    unallocated_fen=credit,
                    channel=rng.choice(_CHANNELS),
                    received_at=received_at,
                    received_on=when,
                )
            )
            shares_per_payment.append([share._replace(bill_id=bills[share.bill_id].pk) for share in shares])
    Payment.objects.bulk_create(payments)
    PaymentAllocation.objects.bulk_create(
        row
        for payment, shares in zip(payments, shares_per_payment, strict=True)
        for row in allocation_rows(payment, shares)
    )


def reset_demo_data() -> None:
    """Delete every letter, case, run, report aggregate, payment, bill, credit line, customer and product (policies,
    users, templates stay)."""

    for letter in Letter.objects.exclude(pdf=""):
        letter.pdf.delete(save=False)
    casework = (
        cases.Message,
        cases.ComplianceIncident,
        cases.ContactRefusal,
        cases.Contact,
        cases.Promise,
        cases.Proposal,
        cases.Placement,
        cases.CaseAssignment,
        cases.CaseTransition,
        cases.Case,
        cases.DunningRun,
        PersonalDataReveal,
    )
    with transaction.atomic():
        # The demo's changes name its cases; the demo's users and templates stay, and so do changes of them.
        ChangeProposal.objects.filter(kind__in=["case_close", "large_proposal_approve"]).delete()
        Letter.objects.filter(redraft_of__isnull=False).delete()
        for model in (
            Letter,
            LetterCounter,
            *casework,
            LineDay,
            MonthEndPosition,
            FlowCell,
            VintageCell,
            EntryObservation,
            ComplianceDay,
            StageExit,
            StageEntry,
            RecoveryDay,
            LetterDay,
            LetterPaid,
            PeopleDay,
        ):
            model.objects.all().delete()
        for model in (PaymentAllocation, Payment, Bill, CreditLine, Customer):
            model.objects.all().delete()
        for model in (Payment, Bill, Customer):
            model.history.all().delete()
        Product.objects.all().delete()


def demo_casework(*, today: datetime.date) -> None:
    """Give the demo cases owners and a few holds, as agents would have left them."""

    agents = list(User.objects.filter(groups__name=AGENT).order_by("username"))
    open_ids = list(Case.objects.open().order_by("id").values_list("id", flat=True))
    for index, agent in enumerate(agents):
        Case.objects.filter(pk__in=open_ids[index :: len(agents)]).update(assignee=agent)
    for case in Case.objects.open().filter(stage="collection").with_customer().order_by("id")[:3]:
        case_hold(
            case=case,
            actor=case.assignee,
            reason_code="promise_to_pay",
            note="客户承诺本周五前还清逾期款项。",
            until=today + datetime.timedelta(days=7),
            today=today,
        )


def demo_law_firm() -> None:
    """Create the demo law firm with its lawyer (legal1 approves as that lawyer) and activate its templates."""

    firm, _new = LawFirm.objects.update_or_create(
        licence_number="31110000DEMO0001X",
        defaults={
            "name": "北京示例律师事务所 (Beijing Demo Law Firm)",
            "address": "北京市东城区示例大街 8 号 (8 Example Street, Dongcheng, Beijing)",
            "phone": "010-0000-0000",
            "email": "firm@example.com",
            "engagement_reference": "ENG-2026-017",
            "cost_per_letter_fen": 30_000,
        },
    )
    Lawyer.objects.update_or_create(
        licence_number="11101202610000001",
        defaults={"firm": firm, "name": "陈律 (Chen Lü)", "user": User.objects.get(username="legal1")},
    )
    for template in LetterTemplate.objects.filter(kind="lawyer_letter", version=1):
        template.firm = firm
        template.save(update_fields=["firm"])
        template_activate(template=template, actor=None)


def demo_letters(*, count: int = 6) -> None:
    """Give agent1 the first legal cases, so that the letters the night drafted for them are agent1's to follow."""
    agent, supervisor = User.objects.get(username="agent1"), User.objects.get(username="supervisor1")
    for case in Case.objects.filter(stage="legal").exclude(assignee=agent).with_customer().order_by("id")[:count]:
        case_assign(case=case, actor=supervisor, assignee=agent)


def demo_workbench(*, today: datetime.date) -> None:
    """Give the demo stage teams, an agency with a login and a few placed cases, proposals and follow-ups."""

    agent1, agent2 = User.objects.get(username="agent1"), User.objects.get(username="agent2")
    for name, stage, members in [
        ("提醒组 Reminders", Stage.REMINDER, [agent2]),
        ("催收组 Collection", Stage.COLLECTION, [agent1, agent2]),
        ("法务跟进 Legal follow-up", Stage.LEGAL, [agent1]),
    ]:
        team, _new = Team.objects.update_or_create(name=name, defaults={"stage": stage, "workload_cap": 400})
        team.members.set(members)
    agency, _new = Agency.objects.update_or_create(
        name=DEMO_AGENCY,
        defaults={
            "status": AgencyStatus.APPROVED,
            "contract_start": today - datetime.timedelta(days=90),
            "contract_end": today + datetime.timedelta(days=275),
            "commission_rate": "15.00",
            "contact_email": "ops@huaxin.example",
        },
    )
    Agency.objects.update_or_create(
        name="旧约催收服务中心",
        defaults={
            "status": AgencyStatus.TERMINATED,
            "contract_start": today - datetime.timedelta(days=400),
            "contract_end": today - datetime.timedelta(days=35),
            "commission_rate": "18.00",
        },
    )
    AgencyMember.objects.update_or_create(user=User.objects.get(username="agency1"), defaults={"agency": agency})
    supervisor = User.objects.get(username="supervisor1")
    unplaced = Case.objects.open().filter(stage=Stage.COLLECTION, agency__isnull=True, assignee=agent2)
    for case in unplaced.order_by("-days_past_due")[:5]:
        case_place(case=case, agency=agency, actor=supervisor, today=today)
    mine = Case.objects.open().filter(assignee=agent1, stage=Stage.COLLECTION).with_customer().order_by("id")
    picked = list(mine[:4])
    if len(picked) >= 2:
        write_off, settlement = picked[0], picked[1]
        proposal_submit(
            case=write_off, actor=agent1, kind=ProposalKind.WRITE_OFF, reason="客户已身故，家属提供了死亡证明。"
        )
        proposal_submit(
            case=settlement,
            actor=agent1,
            kind=ProposalKind.SETTLEMENT,
            amount=Decimal(settlement.balance_fen * 7 // 10) / 100,
            reason="客户失业，愿一次性偿还七成。",
        )
    Case.objects.filter(pk__in=[case.pk for case in picked[2:]]).update(follow_up_on=today)
    refresh_queue_ranks(today=today)


DEMO_API_CLIENT = "核心系统 Core lending system (demo)"


def demo_api_client() -> tuple[ApiClient, str]:
    """Return the demo's API client for the lending system, with a token issued now (shown once, demo only)."""
    admin = User.objects.get(username="admin")
    client = ApiClient.objects.filter(name=DEMO_API_CLIENT).first()
    if client is None:
        scopes = [Scope.LEDGER_WRITE, Scope.LEDGER_READ, Scope.CASES_READ]
        return api_client_create(name=DEMO_API_CLIENT, scopes=scopes, actor=admin)
    return client, api_client_rotate(client=client, actor=admin)


# How far back the demo's nights start, so that its cases show weeks of reminders.
HISTORY_DAYS = 21
# Every so many messages one failed at the provider: the list and the timeline show failures too.
_FAILED_EVERY = 19
# What a demo receipt arrives after the message left.
_RECEIPT_DELAY = datetime.timedelta(seconds=40)


def _customers_overdue(*, due_from: datetime.date, due_to: datetime.date, count: int) -> list[int]:
    unpaid = Bill.objects.filter(due_date__range=(due_from, due_to), principal_paid_fen__lt=F("principal_due_fen"))
    ids = unpaid.order_by("credit_line__customer_id").values_list("credit_line__customer_id", flat=True)
    return list(dict.fromkeys(ids))[:count]


def demo_contact_preferences(*, today: datetime.date) -> None:
    """Give a few overdue customers the standings that change their messages.

    Among customers long overdue, one prefers English, one asked not to be contacted, one is
    flagged vulnerable (the shipped policies send them nothing); two who fall overdue during the
    demo's history withdrew SMS consent, so their reminder SMS are stopped: every status shows.
    """
    first = today - datetime.timedelta(days=HISTORY_DAYS)
    long_overdue = _customers_overdue(due_from=first - datetime.timedelta(days=60), due_to=first, count=3)
    newly_overdue = _customers_overdue(due_from=first, due_to=today - datetime.timedelta(days=8), count=2)
    changes = [{"preferred_language": "en", "name": "Li Wei (李伟)"}, {"do_not_contact": True}, {"vulnerable": True}]
    for customer_id, change in zip(long_overdue, changes, strict=False):
        Customer.objects.filter(pk=customer_id).update(**change)
    Customer.objects.filter(pk__in=newly_overdue).update(consents_to_sms=False)


def demo_messages_sent(*, day: datetime.date) -> int:
    """Record the day's planned messages as the sender and the providers' receipts would have left them.

    Each left at its planned time, inside the customer's window; SMS and e-mail were delivered
    seconds later, except a few that failed (an SMS) or bounced (an e-mail); app pushes have no
    receipt. What the planner stopped by a rule stays stopped. Return how many left.
    """
    due = cases.Message.objects.filter(planned_for=day, status="planned")
    left = due.update(
        status="sent",
        sent_at=F("due_at"),
        attempts=1,
        provider="demo",
        provider_message_id=Concat(Value("demo-"), Cast("id", CharField())),
    )
    sent = cases.Message.objects.filter(planned_for=day, status="sent", provider="demo")
    failing = sent.alias(turn=Mod("id", _FAILED_EVERY)).filter(turn=0)
    failing.filter(channel="sms").update(status="failed", last_error="DEMO_UNREACHABLE: the handset was off")
    failing.filter(channel="email").update(status="bounced", last_error="550: mailbox unavailable")
    sent.filter(channel__in=["sms", "email"]).update(status="delivered", delivered_at=F("due_at") + _RECEIPT_DELAY)
    return left


# How many month ends before the demo's nights its reports look back over.
HISTORY_MONTHS = 6


def demo_month_ends(*, today: datetime.date) -> list[datetime.date]:
    """Write the month ends before the demo's nights as the night would have, from the ledger's history.

    The positions of each (``positions_from_history``: what each bill had received by then), then the
    flow from the one before and the vintage cohorts, oldest first: the reports' past.
    """
    month_end = (today - datetime.timedelta(days=HISTORY_DAYS)).replace(day=1) - datetime.timedelta(days=1)
    month_ends = []
    for _month in range(HISTORY_MONTHS):
        month_ends.insert(0, month_end)
        month_end = previous_month_end(month_end)
    for month_end in month_ends:
        positions_from_history(month_end=month_end)
        flow_write(month_end=month_end)
        vintage_write(month_end=month_end)
    return month_ends


def demo_nights(*, today: datetime.date, batch_size: int) -> list[cases.DunningRun]:
    """Run the night for each of the past ``HISTORY_DAYS`` days, as the scheduler would have, sending each day's messages.

    The planner is the night's own; only the sending is simulated (``demo_messages_sent``), so
    that the history needs no provider and prints nothing per message. Each day also has its few
    compliance events (``demo_compliance_day``), which the next night counts.
    """
    runs = []
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - datetime.timedelta(days=back)
        runs.append(dunning_run(as_of=day, batch_size=batch_size))
        demo_messages_sent(day=day)
        demo_compliance_day(day=day)
    return runs


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def demo_compliance_day(*, day: datetime.date) -> None:
    """Leave the day's compliance record as agents and the telephony import would have: on two open cases,
    a late-evening call imported after the fact (an incident of the contact window), a call entered without
    saying who the agent acts for (refused), and a look at the customer's full mobile number.

    The services record at the moment they run; the records are then dated on ``day``, when they happened.
    """
    agents = list(User.objects.filter(username__in=["agent1", "agent2"]).order_by("username"))
    first = day.toordinal() % 7 * 2
    ids = list(Case.objects.open().order_by("id").values_list("id", flat=True)[first : first + 2])
    picked = list(Case.objects.filter(pk__in=ids).with_customer().order_by("id"))
    for agent, case in zip(agents, picked, strict=False):
        contact = contact_log(
            case=case,
            actor=agent,
            source=ContactSource.IMPORTED,
            channel="call",
            outcome="connected",
            identity_disclosed=True,
            occurred_at=_at(day, 22) + datetime.timedelta(minutes=30),
            refresh_rank=False,
        )
        cases.ComplianceIncident.objects.filter(contact=contact).update(opened_at=_at(day, 23))
        try:
            contact_log(case=case, actor=agent, channel="call", outcome="connected", occurred_at=_at(day, 10))
        except ValidationError:
            cases.ContactRefusal.objects.filter(case=case, refused_at__gt=_at(day, 23)).update(refused_at=_at(day, 10))
        customer_reveal(customer=case.credit_line.customer, actor=agent, field="mobile", reason="客户来电，核实身份。")
        PersonalDataReveal.objects.filter(revealed_by=agent, revealed_at__gt=_at(day, 23)).update(
            revealed_at=_at(day, 11)
        )


# The demo's reviewers' reasons, and the re-check's, for the letters they stopped.
_REJECTIONS = ["金额需复核，请核对逾期利息。", "收件地址不完整，请补充后重新起草。"]
_CANCELLATION = "冻结信函数据后收到客户还款，不再寄出。"
# Letters drafted this many days ago or fewer stay drafts: legal1's queue has letters to review.
_FRESH_DAYS = 4


def _night_time(day: datetime.date, minutes: int) -> datetime.datetime:
    """Return a moment of the night of ``day`` (its run starts at 01:00), ``minutes`` after the start."""
    start = datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=timezone.get_current_timezone())
    return start + datetime.timedelta(minutes=minutes)


def demo_history_dated(runs: list[cases.DunningRun]) -> None:
    """Date the stage changes of the demo's nights, and the letters they drafted, on the nights' own days.

    The nights ran one after the other just now; each changed its cases on its business date, as the
    scheduler would have, so the case history and the letters' drafting read as they would have happened.
    """
    for run in runs:
        cases.CaseTransition.objects.filter(run=run).update(created_at=_night_time(run.as_of, 0))
        legal_cases = cases.CaseTransition.objects.filter(run=run, to_stage=Stage.LEGAL).values("case_id")
        Letter.objects.filter(case__in=legal_cases, requested_by__isnull=True).update(
            requested_at=_night_time(run.as_of, 5)
        )


def demo_letter_history(*, today: datetime.date, runs: list[cases.DunningRun]) -> int:
    """Take the demo's older letters through review and dispatch as legal1 would have; return how many moved.

    Of the letters drafted more than a few days ago, a third still wait; the others are rendered now (as
    ``render_letters`` would have) and, of every six, one is rejected the next morning with a reason, one
    approved then and cancelled at dispatch the day after (a payment came in), two approved the next
    morning and sent by registered post the day after. Then each past night's letters step is written
    again, as the night would have.
    """
    reviewer = User.objects.get(username="legal1")
    older = Letter.objects.filter(
        status=LetterStatus.DRAFT, requested_at__lt=_night_time(today - datetime.timedelta(days=_FRESH_DAYS), 0)
    )
    moved = 0
    for index, letter in enumerate(older.select_related("case__credit_line__customer").order_by("requested_at", "id")):
        if index % 3 == 2:
            continue  # still in legal1's queue
        letter = letter_render(letter=letter)
        drafted_on = timezone.localdate(letter.requested_at)
        reviewed = _night_time(drafted_on + datetime.timedelta(days=1), 600)
        sent = _night_time(drafted_on + datetime.timedelta(days=2), 540)
        if index % 6 == 1:
            changes = {"status": LetterStatus.REJECTED, "rejected_by": reviewer, "rejected_at": reviewed}
            changes["rejection_reason"] = _REJECTIONS[index % len(_REJECTIONS)]
        else:
            changes = {"approved_by": reviewer, "approved_at": reviewed, "approved_sha256": letter.pdf_sha256}
            if index % 6 == 3:
                changes |= {
                    "status": LetterStatus.CANCELLED,
                    "cancelled_at": sent,
                    "cancellation_reason": _CANCELLATION,
                }
            else:
                changes |= _posted(letter, reviewer, sent)
        Letter.objects.filter(pk=letter.pk).update(**changes)
        moved += 1
    for run in runs:
        letters_aggregate(as_of=run.as_of)
    return moved


def _posted(letter: Letter, sender: User, at: datetime.datetime) -> dict:
    return {
        "status": LetterStatus.SENT,
        "sent_at": at,
        "dispatch_channel": DispatchChannel.POST,
        "dispatch_address": letter.case.credit_line.customer.address,
        "carrier": "EMS",
        "tracking_number": f"EMS{letter.pk:09d}CN",
        "dispatch_requested_by": sender,
        "dispatch_requested_at": at,
    }

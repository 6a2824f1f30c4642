"""The morning dashboard: each figure on a small hand-made set, who may read it, where supervisors land."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation

from accounts.choices import PaymentChannel, ReversalReason
from accounts.models import Payment, PersonalDataReveal
from backoffice.reports.dashboard import dashboard
from backoffice.reports.models import Bucket, EntryObservation, LineDay
from backoffice.reports.tables import NOT_RIPE, Money, Share
from cases.choices import PromiseStatus, RunStatus, Stage
from cases.contacts.models import ComplianceIncident, Contact
from cases.dunning.models import DunningRun
from cases.models import Case
from cases.promises.models import Promise
from tests.factories import CreditLineFactory, CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 12, 10)
YESTERDAY = TODAY - datetime.timedelta(days=1)
NOW = datetime.datetime.combine(TODAY, datetime.time(9, 0), tzinfo=SHANGHAI)


@pytest.fixture
def morning():
    with time_machine.travel(NOW, tick=False):
        yield


def cards() -> dict:
    return {card.key: card for card in dashboard()}


def observe(due_on: datetime.date, due_fen: int, unpaid_fen: int, *, product_id: int = 1, days_after: int = 1):
    EntryObservation.objects.create(
        due_on=due_on,
        days_after=days_after,
        product_id=product_id,
        repeat=False,
        bills=1,
        due_fen=due_fen,
        unpaid_fen=unpaid_fen,
    )


def test_the_entry_rate_is_yesterdays_sums_against_the_thirty_days_sums(db, morning):
    observe(YESTERDAY, 60_000, 6_000, product_id=1)
    observe(YESTERDAY, 40_000, 2_000, product_id=2)
    observe(datetime.date(2026, 11, 10), 100_000, 2_000)  # the 30th day back: in the window
    observe(datetime.date(2026, 11, 9), 100_000, 90_000)  # the 31st: out
    observe(datetime.date(2026, 12, 5), 100_000, 50_000, days_after=4)  # a follow-through, not the entry rate
    card = cards()["entry-rate"]
    # Yesterday: (6,000 + 2,000) / (60,000 + 40,000) = 8 %; the window: (8,000 + 2,000) / 200,000 = 5 %.
    assert card.figure == Share(8_000, 100_000)
    assert card.note == "Last 30 days: 5.00%"


def test_the_entry_rate_is_not_yet_ripe_without_yesterdays_observation(db, morning):
    observe(YESTERDAY - datetime.timedelta(days=1), 100_000, 3_000)
    card = cards()["entry-rate"]
    assert card.figure is NOT_RIPE
    assert card.note == "Last 30 days: 3.00%"


def test_the_inventory_card_shows_the_latest_date_by_bucket(db, morning):
    for day, lines in ((YESTERDAY, 1), (YESTERDAY - datetime.timedelta(days=1), 100)):
        for bucket, overdue in ((Bucket.M0, 0), (Bucket.M1, 30_000), (Bucket.M3, 70_000)):
            LineDay.objects.create(
                as_of=day, product_id=1, policy_id=1, bucket=bucket, lines=lines, principal_fen=1, overdue_fen=overdue
            )
    card = cards()["inventory"]
    assert card.figure == Money(100_000)
    assert card.note == f"On {YESTERDAY.isoformat()}: 3 lines"
    assert [row[3] for row in card.table.rows][:4] == [Money(0), Money(30_000), Money(0), Money(70_000)]
    assert card.chart.spec["datasets"][0]["data"][:4] == [0, 300, 0, 700]


def test_the_inventory_card_waits_for_the_first_night(db, morning):
    assert cards()["inventory"].figure is NOT_RIPE


def pay(line, amount_fen: int, recorded_at: datetime.datetime, *, reverses: Payment | None = None) -> Payment:
    payment = Payment.objects.create(
        credit_line=line,
        external_reference=f"ref-{Payment.objects.count()}",
        amount_fen=amount_fen,
        channel=PaymentChannel.BANK_TRANSFER,
        received_at=recorded_at,
        received_on=recorded_at.date(),
        reversal_of=reverses,
        reversal_reason=ReversalReason.BOUNCED if reverses else "",
    )
    Payment.objects.filter(pk=payment.pk).update(recorded_at=recorded_at)
    return payment


def test_collected_today_and_this_month_count_payments_net_of_reversals_by_the_day_they_were_recorded(db, morning):
    line = CreditLineFactory()
    at = datetime.time(8, 0)
    pay(line, 10_000, datetime.datetime.combine(TODAY, at, tzinfo=SHANGHAI))
    yesterdays = pay(line, 5_000, datetime.datetime.combine(YESTERDAY, at, tzinfo=SHANGHAI))
    pay(line, 2_000, datetime.datetime.combine(YESTERDAY, at, tzinfo=SHANGHAI))
    pay(line, 7_000, datetime.datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI))  # last month
    pay(line, -5_000, datetime.datetime.combine(TODAY, datetime.time(8, 30), tzinfo=SHANGHAI), reverses=yesterdays)
    shown = cards()
    assert shown["collected-today"].figure == Money(10_000 - 5_000)
    assert shown["collected-month"].figure == Money(10_000 + 5_000 + 2_000 - 5_000)


def open_case(*, opened_hours_ago: float, stage: str = Stage.REMINDER, contacted: bool = False) -> Case:
    line = CreditLineFactory()
    now = timezone.now()
    return Case.objects.create(
        credit_line=line,
        customer=line.customer,
        stage=stage,
        opened_on=TODAY,
        opened_at=now - datetime.timedelta(hours=opened_hours_ago),
        last_contact_at=now if contacted else None,
    )


def promise(case: Case, due_date: datetime.date, status: str, **fields) -> Promise:
    return Promise.objects.create(
        case=case,
        amount_fen=1_000,
        due_date=due_date,
        grace_until=due_date,
        status=status,
        created_by=_user(),
        created_at=timezone.now(),
        **fields,
    )


def _user() -> User:
    return User.objects.get_or_create(username="recorder")[0]


def test_promises_due_today_and_broken_yesterday(db, morning):
    case = open_case(opened_hours_ago=100, contacted=True)
    promise(case, TODAY, PromiseStatus.PENDING)
    promise(case, TODAY + datetime.timedelta(days=1), PromiseStatus.PENDING)
    promise(case, TODAY, PromiseStatus.KEPT, settled_on=TODAY)
    promise(case, YESTERDAY, PromiseStatus.BROKEN, settled_on=YESTERDAY)
    promise(case, YESTERDAY, PromiseStatus.BROKEN, settled_on=YESTERDAY - datetime.timedelta(days=1))
    promise(case, YESTERDAY, PromiseStatus.KEPT, settled_on=YESTERDAY, unkept_on=YESTERDAY)  # money reversed
    shown = cards()
    assert shown["promises-due"].figure == 1
    assert shown["promises-broken"].figure == 2


def test_an_open_case_never_contacted_counts_after_24_hours_only(db, morning):
    open_case(opened_hours_ago=25)
    open_case(opened_hours_ago=25, stage=Stage.LEGAL)
    open_case(opened_hours_ago=23)
    open_case(opened_hours_ago=25, contacted=True)
    open_case(opened_hours_ago=25, stage=Stage.RESOLVED)
    assert cards()["never-contacted"].figure == 2


def test_compliance_incidents_count_from_the_start_of_yesterday(db, morning):
    case = open_case(opened_hours_ago=50, contacted=True)
    contact = Contact.objects.create(
        case=case, channel="call", outcome="answered", occurred_at=timezone.now(), customer_local_date=TODAY
    )
    for opened_at in (
        datetime.datetime.combine(YESTERDAY, datetime.time(0, 0), tzinfo=SHANGHAI),
        datetime.datetime.combine(YESTERDAY, datetime.time(0, 0), tzinfo=SHANGHAI) - datetime.timedelta(seconds=1),
    ):
        incident = ComplianceIncident.objects.create(contact=contact, rule="NIGHT_CALL", message="22:05")
        ComplianceIncident.objects.filter(pk=incident.pk).update(opened_at=opened_at)
    assert cards()["incidents"].figure == 1


def test_the_last_dunning_run_shows_what_it_changed(db, morning):
    DunningRun.objects.create(as_of=YESTERDAY - datetime.timedelta(days=1), started_at=NOW - datetime.timedelta(days=1))
    DunningRun.objects.create(
        as_of=YESTERDAY, started_at=NOW, status=RunStatus.FINISHED, seconds=12.5, opened=3, escalated_legal=2
    )
    card = cards()["dunning-run"]
    assert card.figure == YESTERDAY.isoformat()
    rows = {str(label): value for label, value in card.table.rows}
    assert rows["Status"] == "Finished"
    assert (rows["Seconds"], rows["Cases opened"], rows["Escalated to Legal recovery"]) == (12.5, 3, 2)


def test_supervisors_read_the_dashboard_and_agents_get_403(client, supervisor, agent, root):
    url = reverse("dashboard")
    client.force_login(agent)
    assert client.get(url).status_code == 403
    client.force_login(root)
    assert client.get(url).status_code == 200
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert 'id="card-entry-rate"' in page
    assert "not yet ripe" in page
    assert "reports/reports.css" in page


def test_a_supervisor_lands_on_the_dashboard_after_login_and_agents_and_superusers_do_not(
    client, supervisor, agent, root
):
    login = reverse("admin:login")  # whose form sends people on to the admin index, as here
    for user, landing in ((supervisor, reverse("dashboard")), (agent, reverse("admin:cases_mycase_changelist"))):
        client.logout()
        response = client.post(login, credentials(user), follow=True)
        assert response.redirect_chain[-1][0] == landing
    client.logout()
    response = client.post(login, credentials(root), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("admin:index"), 302)]


def credentials(user: User) -> dict:
    return {"username": user.username, "password": "pw-123456", "next": reverse("admin:index")}


def test_the_dashboard_takes_a_fixed_number_of_queries(client, supervisor, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        for n in range(5):
            open_case(opened_hours_ago=30 + n)
            observe(YESTERDAY - datetime.timedelta(days=n), 1_000, 100)
            LineDay.objects.create(
                as_of=YESTERDAY, product_id=n, policy_id=1, bucket=Bucket.M1, lines=1, principal_fen=1, overdue_fen=5
            )
        DunningRun.objects.create(as_of=YESTERDAY, started_at=NOW)
        for _n in range(settings.REVEAL_ALERT_PER_DAY + 1):  # one person past the day's limit of full numbers
            PersonalDataReveal.objects.create(
                customer=CustomerFactory(), field="mobile", reason="客户来电，核对号码", revealed_by=supervisor
            )
        client.force_login(supervisor)
        # The session, the user and their permissions, then one query a card (two for the inventory), and
        # one for the alert thresholds of them all, and one for whether the night is late (the lease's row).
        with django_assert_max_num_queries(16):
            page = client.get(reverse("dashboard")).content.decode()
        assert 'id="card-reveals-over-limit"' in page
        assert supervisor.username in page


def test_the_dashboard_speaks_chinese(client, supervisor):
    client.force_login(supervisor)
    with translation.override("en"):  # the request switches this thread to Chinese; later tests read English
        page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "晨间看板" in page
    assert "昨日入催率" in page

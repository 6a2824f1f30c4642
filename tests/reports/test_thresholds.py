"""The dashboard's alert thresholds: a figure strictly above its threshold is marked in words, a figure not yet
ripe never is, supervisors edit the thresholds in the admin and every change is kept."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from backoffice.reports.dashboard import dashboard
from backoffice.reports.models import EntryObservation
from backoffice.reports.threshold_models import DashboardThreshold
from cases.choices import Stage
from cases.models import Case
from letters.choices import LetterStatus
from letters.models import Letter, LetterTemplate
from tests.factories import CreditLineFactory

pytestmark = pytest.mark.django_db

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


def entry_rate_yesterday(due_fen: int, unpaid_fen: int) -> None:
    EntryObservation.objects.create(
        due_on=YESTERDAY, days_after=1, product_id=1, repeat=False, bills=1, due_fen=due_fen, unpaid_fen=unpaid_fen
    )


def test_a_figure_strictly_above_its_threshold_is_marked_and_one_at_it_is_not(morning):
    entry_rate_yesterday(100_000, 8_000)  # 8.00 %
    threshold = DashboardThreshold.objects.create(figure="entry-rate", limit=Decimal("7.99"))
    mark = cards()["entry-rate"].mark
    assert mark.past
    assert mark.text == "alert above 7.99%"
    threshold.limit = Decimal("8.00")
    threshold.save()
    mark = cards()["entry-rate"].mark
    assert not mark.past
    assert mark.text == "alert above 8.00%"


def test_a_figure_without_a_threshold_has_no_mark_and_one_not_yet_ripe_is_never_past(morning):
    DashboardThreshold.objects.create(figure="entry-rate", limit=Decimal("0"))
    shown = cards()
    assert str(shown["entry-rate"].figure.label) == "not yet ripe"
    assert not shown["entry-rate"].mark.past
    assert shown["promises-broken"].mark is None


def test_counts_are_compared_as_counts(morning):
    DashboardThreshold.objects.create(figure="promises-broken", limit=Decimal("0"))
    DashboardThreshold.objects.create(figure="incidents", limit=Decimal("0"))
    shown = cards()
    assert (shown["promises-broken"].figure, shown["promises-broken"].mark.past) == (0, False)
    assert shown["incidents"].mark.text == "alert above 0"


def waiting_letter(requested_at: datetime.datetime, number: str) -> Letter:
    """A letter row awaiting approval (no PDF: the card reads only the status and the request time)."""
    line = CreditLineFactory()
    case = Case.objects.create(
        credit_line=line, customer=line.customer, stage=Stage.LEGAL, opened_on=TODAY, opened_at=requested_at
    )
    return Letter.objects.create(
        number=number,
        verification_code="ABCD1234",
        case=case,
        template=LetterTemplate.objects.order_by("pk").first(),
        kind="lawyer_letter",
        language="zh-hans",
        snapshot={},
        status=LetterStatus.PENDING_APPROVAL,
        requested_at=requested_at,
    )


def test_letters_are_marked_by_how_long_the_oldest_has_waited_not_by_how_many(morning):
    DashboardThreshold.objects.create(figure="letters-pending", limit=Decimal("48"))
    assert not cards()["letters-pending"].mark.past  # none waiting: nothing has waited too long
    waiting_letter(NOW - datetime.timedelta(hours=48), "L-1")
    waiting_letter(NOW - datetime.timedelta(hours=1), "L-2")
    card = cards()["letters-pending"]
    # 48 hours exactly is not over 48; one second more is.
    assert (card.figure, card.mark.past) == (2, False)
    assert card.mark.text == "alert when the oldest has waited over 48 hours"
    Letter.objects.filter(number="L-1").update(requested_at=NOW - datetime.timedelta(hours=48, seconds=1))
    assert cards()["letters-pending"].mark.past


def test_a_supervisor_edits_a_threshold_in_the_admin_and_every_change_is_kept(client, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("admin:backoffice_dashboardthreshold_add"), {"figure": "incidents", "limit": "5"})
    assert response.status_code == 302
    threshold = DashboardThreshold.objects.get(figure="incidents")
    change = reverse("admin:backoffice_dashboardthreshold_change", args=[threshold.pk])
    assert client.post(change, {"limit": "2.5"}).status_code == 302
    history = list(threshold.history.order_by("history_date"))
    assert [(h.limit, h.history_type, h.history_user) for h in history] == [
        (Decimal("5.00"), "+", supervisor),
        (Decimal("2.50"), "~", supervisor),
    ]
    page = client.get(reverse("admin:backoffice_dashboardthreshold_history", args=[threshold.pk]))
    assert page.status_code == 200
    assert client.post(change, {"limit": "-1"}).status_code == 200  # refused: a limit is not negative
    assert DashboardThreshold.objects.get().limit == Decimal("2.50")


def test_agents_neither_see_nor_edit_the_thresholds(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:backoffice_dashboardthreshold_changelist")).status_code == 403
    response = client.post(reverse("admin:backoffice_dashboardthreshold_add"), {"figure": "incidents", "limit": "5"})
    assert response.status_code == 403
    assert not DashboardThreshold.objects.exists()


def test_the_dashboard_marks_a_card_past_its_threshold_in_words_and_links_the_settings(client, supervisor):
    with time_machine.travel(NOW, tick=False):
        entry_rate_yesterday(100_000, 8_000)
        DashboardThreshold.objects.create(figure="entry-rate", limit=Decimal("5"))
        DashboardThreshold.objects.create(figure="incidents", limit=Decimal("3"))
        client.force_login(supervisor)
        page = client.get(reverse("dashboard")).content.decode()
    assert 'class="dashboard-card past-threshold" id="card-entry-rate"' in page
    assert "<strong>Past the alert threshold</strong>: alert above 5.00%" in page
    assert 'class="dashboard-card" id="card-incidents"' in page
    assert "Alert above 3" in page
    assert reverse("admin:backoffice_dashboardthreshold_changelist") in page

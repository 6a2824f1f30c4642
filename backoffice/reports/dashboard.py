"""The morning dashboard: the few figures a supervisor reads first, each from one bounded query.

Every read below filters on an index (or reads a table that stays small), so the page costs the same
at a million lines as at ten; each function says why its query is cheap.
"""

import dataclasses
import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Payment, PersonalDataReveal
from backoffice.reconciliation.report import DayFigures, payments_by_day_add, rows_by_day
from backoffice.reports.entry_rate import ENTRY_DAY
from backoffice.reports.forms import Filters
from backoffice.reports.inventory import inventory_report
from backoffice.reports.models import EntryObservation, LineDay
from backoffice.reports.night_watch import night_alerts
from backoffice.reports.tables import NOT_RIPE, Chart, Linked, Money, Share, Table
from backoffice.reports.thresholds import Mark, threshold_mark, thresholds
from cases.choices import LADDER, PromiseStatus, RunStatus, Stage
from cases.contacts.models import ComplianceIncident
from cases.dunning.models import DunningRun
from cases.models import Case
from cases.promises.models import Promise
from letters.choices import LetterStatus
from letters.models import Letter

ENTRY_WINDOW_DAYS = 30
NEVER_CONTACTED_AFTER = datetime.timedelta(hours=24)
# A card's gauge by default: its alert threshold watches the figure itself.
THE_FIGURE = object()


@dataclasses.dataclass
class Card:
    """One figure on the dashboard, with what it is compared to and, for a breakdown, its table and chart."""

    key: str
    title: str
    figure: object
    note: str = ""
    table: Table | None = None
    chart: Chart | None = None
    # What an alert threshold compares (None: nothing to compare), and the figure's mark.
    gauge: object = THE_FIGURE
    mark: Mark | None = None


def dashboard(now: datetime.datetime | None = None) -> list[Card]:
    """Return the dashboard's cards as of ``now`` (the business date is its local date): eleven queries in all,
    the alert thresholds' one included. A card that marks itself (the reveals' limit is a setting) keeps its mark."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cards = _cards(now, today)
    limits = thresholds()
    for card in cards:
        gauge = card.figure if card.gauge is THE_FIGURE else card.gauge
        card.mark = card.mark or threshold_mark(card.key, gauge, limits.get(card.key))
    return cards


def _cards(now: datetime.datetime, today: datetime.date) -> list[Card]:
    return [
        entry_rate_card(today),
        inventory_card(),
        *collected_cards(today),
        *promise_cards(today),
        never_contacted_card(now),
        letters_card(now),
        incidents_card(today),
        reveals_card(today),
        dunning_run_card(now),
    ]


def entry_rate_card(today: datetime.date) -> Card:
    """Yesterday's entry rate against the 30 days up to yesterday, sums over sums, in one query.

    Cheap: ``due_on`` leads the observations' unique index, and 30 days are a few hundred rows.
    """
    yesterday = today - datetime.timedelta(days=1)
    first = yesterday - datetime.timedelta(days=ENTRY_WINDOW_DAYS - 1)
    on_yesterday = Q(due_on=yesterday)
    sums = EntryObservation.objects.filter(due_on__range=(first, yesterday), days_after=ENTRY_DAY).aggregate(
        rows_yesterday=Count("due_on", filter=on_yesterday),
        due_yesterday=Sum("due_fen", filter=on_yesterday, default=0),
        unpaid_yesterday=Sum("unpaid_fen", filter=on_yesterday, default=0),
        due=Sum("due_fen", default=0),
        unpaid=Sum("unpaid_fen", default=0),
    )
    figure = Share(sums["unpaid_yesterday"], sums["due_yesterday"]) if sums["rows_yesterday"] else NOT_RIPE
    window = Share(sums["unpaid"], sums["due"])
    note = _("Last %(days)d days: %(rate)s") % {"days": ENTRY_WINDOW_DAYS, "rate": _percent(window)}
    return Card(key="entry-rate", title=_("Entry rate yesterday (DPD1)"), figure=figure, note=note)


def _percent(share: Share) -> str:
    return "—" if share.ratio is None else f"{share.ratio * 100:.2f}%"


def inventory_card() -> Card:
    """The inventory report's bucket table and chart on the latest date the night counted: two queries.

    Cheap: ``as_of`` leads the rows' unique index, so the latest date is one index probe and its rows one range.
    """
    latest = LineDay.objects.aggregate(latest=Max("as_of"))["latest"]
    title = _("Inventory by bucket")
    if latest is None:
        return Card(key="inventory", title=title, figure=NOT_RIPE)
    result = inventory_report(Filters(day=latest, names={"product_id": {}}))
    table = next(t for t in result.tables if t.key == "by-bucket")
    chart = next(c for c in result.charts if c.table_key == "by-bucket")
    lines, _share, overdue = table.footer[0][1:4]
    note = _("On %(day)s: %(lines)s lines") % {"day": latest.isoformat(), "lines": f"{lines:,}"}
    return Card(key="inventory", title=title, figure=overdue, note=note, table=table, chart=chart)


def collected_cards(today: datetime.date) -> list[Card]:
    """Money that came in today and this month, net of reversals, as the reconciliation counts it: one query.

    By the time a payment was recorded, the ledger's own day (a reversal recorded today takes its amount off
    today, whenever the payment it undoes came in). Cheap: the (recorded_at, amount_fen) index answers alone.
    """
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    first = today.replace(day=1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    days = {first + datetime.timedelta(days=n): DayFigures(None) for n in range((today - first).days + 1)}
    payments_by_day_add(days, rows_by_day(Payment.objects.all(), "recorded_at", zone, start, end))
    month = DayFigures(None)
    for figures in days.values():
        month.add(figures)
    return [
        Card(key="collected-today", title=_("Collected today"), figure=Money(_net(days[today]))),
        Card(key="collected-month", title=_("Collected this month"), figure=Money(_net(month))),
    ]


def _net(figures: DayFigures) -> int:
    return figures.payments_fen + figures.reversals_fen


def promise_cards(today: datetime.date) -> list[Card]:
    """Promises due today and broken yesterday (judged broken, or kept by money reversed yesterday): one query.

    Cheap: the status index holds few pending promises, and the partial indexes on the broken promises'
    judgement day and on the reversal day find yesterday's directly.
    """
    yesterday = today - datetime.timedelta(days=1)
    due = Q(status=PromiseStatus.PENDING, due_date=today)
    broken = Q(status=PromiseStatus.BROKEN, settled_on=yesterday) | Q(unkept_on=yesterday)
    counts = Promise.objects.filter(due | broken).aggregate(
        due=Count("id", filter=due), broken=Count("id", filter=broken)
    )
    return [
        Card(key="promises-due", title=_("Promises due today"), figure=counts["due"]),
        Card(key="promises-broken", title=_("Promises broken yesterday"), figure=counts["broken"]),
    ]


def never_contacted_card(now: datetime.datetime) -> Card:
    """Open cases nobody has reached, opened more than a day ago.

    Cheap: the partial index ``case_never_contacted`` holds only such cases, so the count reads it alone.
    The case list has no filter for them, so the figure carries no link.
    """
    count = Case.objects.filter(
        last_contact_at__isnull=True, stage__in=LADDER, opened_at__lt=now - NEVER_CONTACTED_AFTER
    ).count()
    return Card(key="never-contacted", title=_("Open cases never contacted after 24 hours"), figure=count)


def letters_card(now: datetime.datetime) -> Card:
    """Letters waiting for a reviewer and how long the oldest has waited: one query.

    Cheap: the status index holds the few letters awaiting approval.
    """
    waiting = Letter.objects.filter(status=LetterStatus.PENDING_APPROVAL).aggregate(
        count=Count("*"), oldest=Min("requested_at")
    )
    note, waited = "", None
    if waiting["oldest"] is not None:
        seconds = int((now - waiting["oldest"]).total_seconds())
        hours, waited = seconds // 3600, Decimal(seconds) / 3600
        note = _("Oldest waiting %(days)d days %(hours)d hours") % {"days": hours // 24, "hours": hours % 24}
    title = _("Letters awaiting approval")
    # The alert watches how long the oldest has waited (to the second), not how many wait.
    return Card(key="letters-pending", title=title, figure=waiting["count"], note=note, gauge=waited)


def incidents_card(today: datetime.date) -> Card:
    """Compliance incidents opened since the start of yesterday.

    Cheap: incidents are rare (a rule an imported contact broke), so the table stays small.
    """
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    since = datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    count = ComplianceIncident.objects.filter(opened_at__gte=since).count()
    return Card(key="incidents", title=_("Compliance incidents since yesterday"), figure=count)


def reveals_card(today: datetime.date) -> Card:
    """The people who saw more full numbers today than ``REVEAL_ALERT_PER_DAY``, reveals and whole-number
    searches alike, each with their count, leading to their reveals: one query.

    Cheap: a range of the ``revealed_at`` index holds one day's reveals, a few per person working.
    """
    limit = settings.REVEAL_ALERT_PER_DAY
    over = list(
        PersonalDataReveal.objects.on_local_day(today)
        .values("revealed_by_id", "revealed_by__username")
        .annotate(count=Count("id"))
        .filter(count__gt=limit)
        .order_by("-count", "revealed_by__username")
    )
    title = _("People past the day's limit of full numbers")
    mark = Mark(text=_("alert above %(limit)s full numbers a person a day") % {"limit": limit}, past=bool(over))
    if not over:
        return Card(key="reveals-over-limit", title=title, figure=0, gauge=None, mark=mark)
    audit = reverse("admin:accounts_personaldatareveal_changelist")
    rows = [
        [row["revealed_by__username"], Linked(row["count"], f"{audit}?revealed_by__id__exact={row['revealed_by_id']}")]
        for row in over
    ]
    table = Table(key="reveals-over-limit", title=title, columns=[_("Who"), _("Full numbers seen today")], rows=rows)
    return Card(key="reveals-over-limit", title=title, figure=len(over), gauge=None, mark=mark, table=table)


def dunning_run_card(now: datetime.datetime | None = None) -> Card:
    """The latest dunning run and what it changed, marked if the night is late or its lease expired.

    Cheap: one row a run, a few a day; the latest is the first by start time. The lateness check
    (``backoffice.reports.night_watch``) reads the lease's one row with the day's finished runs.
    """
    alerts = night_alerts(now)
    mark = Mark(text=" ".join(alerts), past=True) if alerts else None
    run = DunningRun.objects.order_by("-started_at").first()
    title = _("Last dunning run")
    if run is None:
        return Card(key="dunning-run", title=title, figure=_("none yet"), gauge=None, mark=mark)
    summary = run.summary()
    rows = [
        [_("Status"), run.get_status_display()],
        [_("Started"), timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")],
        [_("Seconds"), summary["seconds"]],
        [_("Cases opened"), summary["opened"]],
        *(
            [_("Escalated to %(stage)s") % {"stage": Stage(stage).label}, n]
            for stage, n in summary["escalated"].items()
        ),
        [_("Resolved"), summary["resolved"]],
        [_("Holds ended"), summary["holds_ended"]],
        [_("Promises kept"), summary["promises"]["kept"]],
        [_("Promises broken"), summary["promises"]["broken"]],
        [_("Letters drafted"), summary["letters_drafted"]],
        [_("Lines examined"), summary["lines_examined"]],
    ]
    if run.status == RunStatus.RUNNING:
        rows.insert(1, [_("Current step"), run.get_step_display()])
    table = Table(key="dunning-run", title=title, columns=[_("What"), _("How many")], rows=rows)
    return Card(key="dunning-run", title=title, figure=run.as_of.isoformat(), table=table, gauge=None, mark=mark)

"""Agency commission (佣金结算): what each agency collected in a month under its placements, and what it earned.

Commission is a percentage of what is collected, net of reversals, as the README's *Payment reversals*
says: a payment reversed in the month it came in collected nothing and earns nothing; one reversed in
a later month is taken off that month's statement (the commission already paid on it clawed back), for
the agency that held the case when the payment came in, wherever the case is now.
"""

import calendar
import dataclasses
import datetime
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from backoffice.reports.forms import Filters
from backoffice.reports.models import PeopleDay
from backoffice.reports.people import case_list_url
from backoffice.reports.tables import Linked, Money, ReportResult, Table
from cases.models import Agency

_FEN = Decimal("1")


def month_days(filters: Filters) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of the chosen month."""
    first = filters.month
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def commission_fen(net_fen: int, rate: Decimal) -> int:
    """Return ``rate`` percent of ``net_fen``, to the fen, halves away from zero (a claw-back rounds as a payment)."""
    return int((Decimal(net_fen) * rate / 100).quantize(_FEN, rounding=ROUND_HALF_UP))


def rates_at(moment: datetime.datetime, agency_ids: list[int]) -> dict[int, Decimal]:
    """Return the agencies' commission rates in force at ``moment``, from their history (today's when it has none)."""
    history = Agency.history.filter(id__in=agency_ids, history_date__lt=moment)
    rates = dict(history.order_by("id", "history_date", "history_id").values_list("id", "commission_rate"))
    if missing := [pk for pk in agency_ids if pk not in rates]:
        rates.update(Agency.objects.filter(pk__in=missing).values_list("pk", "commission_rate"))
    return rates


def commission_report(filters: Filters) -> ReportResult:
    """Sum the month's agency rows by day and agency (one query), then apply each agency's rate (one more)."""
    first, last = month_days(filters)
    condition = Q(day__range=(first, last)) & ~Q(agency_id=0)
    if filters.agency is not None:
        condition &= Q(agency_id=filters.agency)
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    sums = {"collected": Sum("collected_fen"), "reversed": Sum("reversed_fen")}
    cells = PeopleDay.objects.filter(condition).values("day", "agency_id").annotate(**sums).order_by()
    by_agency: dict[int, dict[str, int]] = {}
    by_day: dict[datetime.date, dict[str, int]] = {}
    for cell in cells:
        for totals in (by_agency.setdefault(cell["agency_id"], {}), by_day.setdefault(cell["day"], {})):
            for measure in sums:
                totals[measure] = totals.get(measure, 0) + cell[measure]
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    month_end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    rates = rates_at(month_end, list(by_agency)) if by_agency else {}
    statement = _statement_table(by_agency, rates, filters)
    return ReportResult(tables=[statement, _day_table(by_day)])


def _statement_table(by_agency: dict[int, dict], rates: dict[int, Decimal], filters: Filters) -> Table:
    first, last = month_days(filters)
    monthly = dataclasses.replace(filters, first=first, last=last, group_by="agency_id")
    rows, totals = [], [0, 0, 0, 0]
    names = filters.names["agency_id"]
    for agency in sorted(by_agency, key=lambda pk: names.get(pk, "")):
        row = by_agency[agency]
        net, rate = row["collected"] + row["reversed"], rates.get(agency, Decimal(0))
        earned = commission_fen(net, rate)
        link = case_list_url("collected", agency, monthly)
        rows.append(
            [
                names.get(agency, f"#{agency}"),
                Linked(Money(row["collected"]), link),
                Money(row["reversed"]),
                Money(net),
                rate,
                Money(earned),
            ]
        )
        for index, value in enumerate((row["collected"], row["reversed"], net, earned)):
            totals[index] += value
    collected, reversed_, net, earned = totals
    footer = [[_("Total"), Money(collected), Money(reversed_), Money(net), None, Money(earned)]] if rows else []
    columns = [
        _("Agency"),
        _("Collected under its placements"),
        _("Reversed (clawed back)"),
        _("Net collected"),
        _("Commission rate (%)"),
        _("Commission earned"),
    ]
    return Table(key="statement", title=_("Statement by agency"), columns=columns, rows=rows, footer=footer)


def _day_table(by_day: dict[datetime.date, dict]) -> Table:
    rows = [
        [day.isoformat(), Money(row["collected"]), Money(row["reversed"]), Money(row["collected"] + row["reversed"])]
        for day, row in sorted(by_day.items())
    ]
    columns = [_("Date"), _("Collected under its placements"), _("Reversed (clawed back)"), _("Net collected")]
    return Table(key="by-day", title=_("By day"), columns=columns, rows=rows)

"""What a report hands its screen and its exports: tables of typed cells, and charts drawn from them.

A cell keeps its exact value (fen, a numerator over a denominator) so that the screen formats it for people
and the exports write numbers a spreadsheet can add up; neither rounds what the other shows.
"""

import dataclasses
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

_RATE_PLACES = Decimal("0.0001")


@dataclasses.dataclass(frozen=True)
class Money:
    """An amount in fen."""

    fen: int


@dataclasses.dataclass(frozen=True)
class Share:
    """``part`` out of ``whole``: a sum divided by a sum, never an average of ratios."""

    part: int
    whole: int

    @property
    def ratio(self) -> Decimal | None:
        """Return the share as a four-place decimal fraction, or None when there is nothing to divide by."""
        if not self.whole:
            return None
        return (Decimal(self.part) / Decimal(self.whole)).quantize(_RATE_PLACES)

    @property
    def percent(self) -> float | None:
        """Return the share in percent for a chart (display only; exports use ``ratio``)."""
        return None if self.ratio is None else float(self.ratio * 100)


class NotRipe:
    """A figure whose observation has not been written yet: its days have not passed."""

    label = _("not yet ripe")


NOT_RIPE = NotRipe()


@dataclasses.dataclass(frozen=True)
class Linked:
    """A cell that leads to the cases behind it."""

    value: object
    url: str


@dataclasses.dataclass
class Table:
    """A titled table: ``columns`` name every column, the row header's included; ``footer`` holds the totals."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[object]]
    footer: list[list[object]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Chart:
    """A chart drawn in the browser from ``spec`` (plain JSON), next to the table it shows."""

    key: str
    table_key: str
    spec: dict


@dataclasses.dataclass
class ReportResult:
    """A report's tables and charts for one choice of filters."""

    tables: list[Table]
    charts: list[Chart] = dataclasses.field(default_factory=list)

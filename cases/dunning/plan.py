"""Decide what the dunning run does to one credit line. Pure functions, no database.

Both the set-based run and the one-case django-fsm path call ``plan_line``, so they cannot
disagree about which transitions a line gets.
"""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from cases.choices import LADDER, Stage, ladder_edges


@dataclass(frozen=True)
class Thresholds:
    """A dunning policy as the run needs it."""

    policy_id: int
    code: str
    reminder_from_dpd: int
    collection_from_dpd: int
    legal_from_dpd: int
    legal_min_balance_fen: int
    freeze_line_on_collection: bool

    @classmethod
    def of(cls, policy: object) -> "Thresholds":
        """Build from a ``DunningPolicy``."""
        return cls(
            policy.pk,
            policy.code,
            policy.reminder_from_dpd,
            policy.collection_from_dpd,
            policy.legal_from_dpd,
            policy.legal_min_balance_fen,
            policy.freeze_line_on_collection,
        )

    def stage_for(self, days_past_due: int, overdue_fen: int) -> str | None:
        """Return the ladder stage a line at this DPD and balance belongs in, or ``None``."""
        if overdue_fen <= 0 or days_past_due < self.reminder_from_dpd:
            return None
        if days_past_due >= self.legal_from_dpd and overdue_fen >= self.legal_min_balance_fen:
            return Stage.LEGAL
        if days_past_due >= self.collection_from_dpd:
            return Stage.COLLECTION
        return Stage.REMINDER


@dataclass(frozen=True)
class OpenCase:
    """An open case as the run reads it."""

    case_id: int
    stage: str
    days_past_due: int
    balance_fen: int
    hold_until: datetime.date | None
    held_from_stage: str


@dataclass
class LinePlan:
    """What to do to one line: open a case or not, then the stage edges in order."""

    open_case: bool = False
    edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def final_stage(self) -> str | None:
        """Return the stage the case ends in, if any edge is taken."""
        return self.edges[-1][1] if self.edges else None


def _hold_expired(case: OpenCase, as_of: datetime.date) -> bool:
    # ``hold_until`` is the last day of the hold.
    return case.hold_until is None or case.hold_until < as_of


def plan_line(
    *, case: OpenCase | None, thresholds: Thresholds | None, days_past_due: int, overdue_fen: int, as_of: datetime.date
) -> LinePlan:
    """Return the plan for a line: resolve when nothing is overdue, else end expired holds and climb the ladder.

    ``thresholds`` may be None only when nothing is overdue: the plan then needs no policy.
    """
    if overdue_fen <= 0:
        return LinePlan(edges=[(case.stage, Stage.RESOLVED)]) if case is not None else LinePlan()
    target = thresholds.stage_for(days_past_due, overdue_fen)
    if case is None:
        if target is None:
            return LinePlan()
        return LinePlan(open_case=True, edges=ladder_edges(LADDER[0], target))
    edges: list[tuple[str, str]] = []
    stage = case.stage
    if stage == Stage.ON_HOLD:
        if not _hold_expired(case, as_of):
            return LinePlan()
        edges.append((Stage.ON_HOLD, case.held_from_stage))
        stage = case.held_from_stage
    # A case never steps down: a part payment that lowers the DPD leaves it where it is.
    if target is not None and LADDER.index(target) > LADDER.index(stage):
        edges.extend(ladder_edges(stage, target))
    return LinePlan(edges=edges)


def edge_reason(source: str, target: str, *, days_past_due: int, thresholds: Thresholds | None) -> str:
    """Explain a transition the run makes, as the case history shows it."""
    if target == Stage.RESOLVED:
        return _("Overdue balance paid in full.")
    if source == Stage.ON_HOLD:
        return _("Hold expired.")
    return _("DPD %(dpd)s reached the %(stage)s threshold %(threshold)s of policy %(policy)s.") % {
        "dpd": days_past_due,
        "stage": Stage(target).label,
        "threshold": thresholds.legal_from_dpd if target == Stage.LEGAL else thresholds.collection_from_dpd,
        "policy": thresholds.code,
    }

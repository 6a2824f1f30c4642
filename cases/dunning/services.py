"""The one-case path of the dunning run: the same plan as the set-based run, taken through django-fsm; and the
edits of a dunning policy, once a second supervisor approved them."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import CreditLineStatus
from accounts.locks import credit_lines_lock
from accounts.models import CreditLine
from accounts.positions import credit_line_position
from backoffice.kernel.approvals.edits import edit_apply
from backoffice.kernel.events import EventType, event_record
from cases.casework.models import ESCALATION_METHODS, Case
from cases.casework.services import case_move
from cases.choices import Stage
from cases.dunning.models import DunningPolicy, DunningRun
from cases.dunning.plan import OpenCase, Thresholds, edge_reason, plan_line
from cases.promises.judging import promises_judge
from cases.workload.priority import refresh_queue_ranks


def _method_for(source: str, target: str) -> str:
    if target == Stage.RESOLVED:
        return "resolve"
    if source == Stage.ON_HOLD:
        return "resume"
    return ESCALATION_METHODS[(source, target)]


def case_apply_dunning(*, credit_line: CreditLine, as_of: datetime.date, run: DunningRun | None = None) -> Case | None:
    """Apply the dunning plan to one credit line through the django-fsm methods, one case at a time.

    The same plan as the set-based run (``plan_line``), taken edge by edge with ``_move``: the
    path an interactive recalculation uses, and the yardstick the batch run is measured against.
    In one transaction, the line locked before its bills are read, as a night batch locks its own.
    """
    with transaction.atomic():
        credit_lines_lock(line_ids=[credit_line.pk])
        return _apply_dunning(credit_line, as_of, run)


def _apply_dunning(credit_line: CreditLine, as_of: datetime.date, run: DunningRun | None) -> Case | None:
    if (
        credit_line.status == CreditLineStatus.CHARGED_OFF
        and not Case.objects.open().filter(credit_line=credit_line).exists()
    ):
        return None
    position = credit_line_position(credit_line=credit_line, as_of=as_of)
    thresholds = Thresholds.of(credit_line.product.policy)
    for open_case_id in Case.objects.open().filter(credit_line=credit_line).values_list("id", flat=True):
        promises_judge(as_of=as_of, case_id=open_case_id)
    case = Case.objects.open().filter(credit_line=credit_line).select_related("credit_line__product__policy").first()
    snapshot = None
    if case is not None:
        snapshot = OpenCase(
            case.pk, case.stage, case.days_past_due, case.balance_fen, case.hold_until, case.held_from_stage
        )
    dpd, overdue = position.days_past_due, position.overdue_fen
    plan = plan_line(case=snapshot, thresholds=thresholds, days_past_due=dpd, overdue_fen=overdue, as_of=as_of)
    if plan.open_case:
        case = Case.objects.create(
            credit_line=credit_line,
            customer_id=credit_line.customer_id,
            days_past_due=dpd,
            balance_fen=overdue,
            opened_on=as_of,
            opened_at=timezone.now(),
            opened_by_run=run,
            last_run=run,
        )
        event_record(type=EventType.CASE_OPENED, case_id=case.pk, credit_line_id=credit_line.pk)
    if case is None:
        return None
    case.days_past_due, case.balance_fen = dpd, overdue
    for source, target in plan.edges:
        reason = edge_reason(source, target, days_past_due=dpd, thresholds=thresholds)
        case_move(case=case, name=_method_for(source, target), actor=None, reason=reason, run=run)
    if not plan.edges:
        figures = {"days_past_due": dpd, "balance_fen": overdue}
        Case.objects.filter(pk=case.pk).exclude(**figures).update(**figures, changed_at=timezone.now())
    refresh_queue_ranks(today=as_of, case_ids=[case.pk])
    return case


def dunning_policy_update(
    *, policy: DunningPolicy, values: dict, actor: AbstractBaseUser | None, reason: str = ""
) -> DunningPolicy:
    """Save an approved edit of a policy's thresholds and rules, with the reason in its history."""
    if actor is not None and not actor.has_perm("cases.change_dunningpolicy"):
        raise PermissionDenied(_("You are not allowed to change dunning policies."))
    with transaction.atomic():
        return edit_apply(obj=policy, values=values, reason=reason)

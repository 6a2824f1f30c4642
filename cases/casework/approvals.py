"""Closing a case for a stated reason (deceased, fraud, sold) waits for a second supervisor.

The change's target is the case; a stage change or a payment since the proposal makes it stale. The
approval closes the case through ``case_close``, as the approver, with the maker's reason.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from accounts.locks import credit_lines_lock
from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from cases.casework.models import Case
from cases.casework.services import case_close, refuse_unless_open, require_reason
from cases.choices import Stage

CASE_CLOSE = "case_close"


def _current(case: Case | None) -> Values:
    return {"stage": case.stage, "close_reason": case.close_reason or None} if case is not None else {}


def _state(case: Case | None) -> Values:
    """The stage and the balance: a case that moved or was paid since is judged afresh."""
    return {"stage": case.stage, "balance_fen": case.balance_fen} if case is not None else {}


def _show(name: str, value: object) -> object:
    return Stage(value).label if name == "stage" and value in Stage.values else value


def _lock(case_id: int | None) -> Case | None:
    # The line before its case, in the order ``case_move``, a payment and a night batch take them.
    line_id = Case.objects.filter(pk=case_id).values_list("credit_line_id", flat=True).first()
    if line_id is None:
        return None
    credit_lines_lock(line_ids=[line_id])
    rows = Case.objects.select_for_update(no_key=True, of=("self",)).select_related("credit_line")
    return rows.get(pk=case_id)


def _apply(case: Case, proposal: ChangeProposal, actor: AbstractBaseUser) -> Case:
    return case_close(case=case, actor=actor, reason=proposal.proposed["close_reason"])


def case_close_propose(*, case: Case, actor: AbstractBaseUser, reason: str) -> ChangeProposal:
    """Propose closing the case for ``reason``; a second supervisor approves, and the case closes then."""
    refuse_unless_open(case)
    proposed = {"stage": Stage.CLOSED.value, "close_reason": require_reason(reason)}
    return change_propose(kind=CASE_CLOSE, target=case, proposed=proposed, actor=actor)


def closing_waiting(case: Case) -> ChangeProposal | None:
    """Return the proposal to close the case that waits for a second person, if there is one."""
    return ChangeProposal.objects.pending().for_target(CASE_CLOSE, case.pk).select_related("maker").first()


def register_kinds() -> None:
    """Register the cases' kind of change."""
    register(
        ChangeKind(
            code=CASE_CLOSE,
            label=_("Close a case (deceased, fraud, sold…)"),
            model=Case,
            propose_permission="cases.close_case",
            approve_permission="cases.close_case",
            current=_current,
            state=_state,
            lock=_lock,
            apply=_apply,
            labels={"stage": _("stage"), "close_reason": _("closing reason")},
            show=_show,
        )
    )

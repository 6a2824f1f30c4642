"""Promises to pay: recording one holds the case; the nightly run judges them (``judging``)."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import credit_lines_lock
from backoffice.kernel.money import format_yuan, yuan_to_fen
from cases.casework.models import Case
from cases.casework.services import case_move, refuse_unless_open
from cases.choices import LADDER, HoldReason
from cases.promises.models import Promise
from cases.workload.priority import refresh_queue_ranks


def promise_record(
    *,
    case: Case,
    actor: AbstractBaseUser,
    amount: Decimal | str,
    due_date: datetime.date,
    today: datetime.date | None = None,
) -> Promise:
    """Record a promise to pay, and hold escalation until the promised date plus the policy's grace."""
    if not actor.has_perm("cases.add_promise"):
        raise PermissionDenied(_("You are not allowed to record promises."))
    refuse_unless_open(case)
    today = today or timezone.localdate()
    policy = case.credit_line.product.policy
    amount_fen = yuan_to_fen(amount)
    errors = {}
    if amount_fen <= 0:
        errors["amount"] = _("Amount %(value)s must be greater than zero.") % {"value": amount}
    if not isinstance(due_date, datetime.date) or not today <= due_date <= today + datetime.timedelta(
        days=policy.max_hold_days
    ):
        errors["due_date"] = _("Promised date %(value)s must be between today and %(days)s days ahead.") % {
            "value": due_date,
            "days": policy.max_hold_days,
        }
    if errors:
        raise ValidationError(errors)
    grace_until = due_date + datetime.timedelta(days=policy.promise_grace_days)
    with transaction.atomic():
        # The line before its case, as a payment and the hold's stage change take them.
        credit_lines_lock(line_ids=[case.credit_line_id])
        promise = Promise.objects.create(
            case=case,
            amount_fen=amount_fen,
            due_date=due_date,
            grace_until=grace_until,
            created_by=actor,
            created_at=timezone.now(),
        )
        Case.objects.filter(pk=case.pk).update(follow_up_on=due_date)
        if case.stage not in LADDER:
            refresh_queue_ranks(case_ids=[case.pk])
        else:  # the hold's stage change refreshes the rank
            note = _("Promise to pay %(amount)s by %(date)s.") % {"amount": format_yuan(amount_fen), "date": due_date}
            case_move(
                case=case,
                name="hold",
                actor=actor,
                reason=note,
                hold_reason=HoldReason.PROMISE_TO_PAY,
                note=note,
                until=grace_until,
            )
    return promise

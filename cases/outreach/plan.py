"""The night's plan of messages to customers: set-wise, one statement per cadence rule and batch of lines.

Each rule of a policy's cadence (``ReminderRule``) becomes one ``INSERT … SELECT`` over a range of
credit-line ids: the open cases in the rule's stage on one of its days past due, the cases that
entered its stage in a run of that date (a run killed and started again included), or the unpaid bills due in its days. A message is planned with a
due time inside the customer's contact window, in their own time zone, spread over the window by
line so that a million reminders never leave at 08:00 together. What a customer's standing
already forbids (do-not-contact, consent to the medium withdrawn, vulnerable under a policy that
sends them nothing) is written as stopped, with its rule, so the case's timeline says why nothing
went. What time does to a message (the window, the caps, a payment, a promise) the sender checks
again when it is due.

A re-run for the same date plans nothing twice: at most one message per line, day, kind and channel.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Bill, CreditLine, Customer, Product
from backoffice.kernel.bulksql import retried_on_deadlock
from cases.choices import MessageChannel, MessageKind, MessageStatus, PromiseStatus, Stage
from cases.contacts.models import RulePack
from cases.contacts.rules import customer_zone, known_zone
from cases.dunning.batch import id_ranges
from cases.dunning.models import DunningPolicy, DunningRun
from cases.models import Case, CaseTransition, Promise
from cases.outreach.models import Message, ReminderRule

# The consent column each channel reads, as the contact rules do.
CONSENT_COLUMN = {
    MessageChannel.SMS: "consents_to_sms",
    MessageChannel.EMAIL: "consents_to_email",
    MessageChannel.PUSH: "consents_to_push",
}
# The end of the window kept free, so that a message due last still leaves inside it.
_WINDOW_MARGIN_SECONDS = 15 * 60
# Spreads lines over the window: a prime, so consecutive ids land far apart.
_SPREAD = 7919


@dataclass(frozen=True)
class Window:
    """When, on the planned day, messages to customers in each time zone may leave (UTC epoch seconds)."""

    opens_by_zone: dict[str, int]
    default_opens: int
    seconds: int


def window_for(pack: RulePack, day: datetime.date, zones: list[str]) -> Window:
    """Return the contact window of ``pack`` on ``day`` in each of ``zones``."""
    length = (
        datetime.datetime.combine(day, pack.window_end) - datetime.datetime.combine(day, pack.window_start)
    ).seconds

    def opens(zone: str) -> int:
        return int(datetime.datetime.combine(day, pack.window_start, tzinfo=customer_zone(zone)).timestamp())

    return Window(
        opens_by_zone={zone: opens(zone) for zone in zones},
        default_opens=opens("Asia/Shanghai"),
        seconds=max(60, length - _WINDOW_MARGIN_SECONDS),
    )


def _due_at_sql(window: Window, line_column: str, zone_column: str) -> tuple[str, list[object]]:
    """Return SQL for the due time (a timestamp) of each line's message, and its parameters."""
    cases = " ".join("WHEN %s THEN %s" for _zone in window.opens_by_zone)
    params: list[object] = [value for pair in window.opens_by_zone.items() for value in pair]
    opens = f"(CASE {zone_column} {cases} ELSE %s END)" if cases else "%s"
    params.append(window.default_opens)
    seconds = f"({opens} + ({line_column} * {_SPREAD}) %% %s)"
    params.append(window.seconds)
    if connection.vendor == "postgresql":
        return f"to_timestamp({seconds})", params
    return f"datetime({seconds}, 'unixepoch')", params


def _stop_sql(channel: str, vulnerable_allowed: bool) -> str:
    """Return SQL for the rule that stops a message at planning, or '' (customer columns as ``cu``)."""
    consent = CONSENT_COLUMN[channel]
    vulnerable = "" if vulnerable_allowed else "WHEN cu.vulnerable THEN 'VULNERABLE_CUSTOMER' "
    return (
        "CASE WHEN cu.do_not_contact THEN 'DO_NOT_CONTACT' "
        f"WHEN NOT cu.{consent} THEN 'CONSENT_WITHDRAWN' "
        f"{vulnerable}"
        "ELSE '' END"
    )


def _days_sql(rule: ReminderRule, policy: DunningPolicy) -> tuple[str, list[object]]:
    """Return the SQL condition on ``c.days_past_due`` for an overdue rule, and its parameters."""
    conditions, params = [], []
    listed = rule.day_list()
    if listed:
        conditions.append(f"c.days_past_due IN ({', '.join(['%s'] * len(listed))})")
        params.extend(listed)
    if rule.every_days:
        conditions.append("(c.days_past_due >= %s AND (c.days_past_due - %s) %% %s = 0)")
        first = policy.threshold_for(rule.stage)
        params.extend([first, first, rule.every_days])
    return "(" + " OR ".join(conditions) + ")", params


@dataclass(frozen=True)
class _Tables:
    message: str = Message._meta.db_table
    case: str = Case._meta.db_table
    customer: str = Customer._meta.db_table
    line: str = CreditLine._meta.db_table
    product: str = Product._meta.db_table
    bill: str = Bill._meta.db_table
    promise: str = Promise._meta.db_table
    transition: str = CaseTransition._meta.db_table


T = _Tables()
_COLUMNS = (
    "customer_id, credit_line_id, case_id, bill_id, kind, channel, template_code, stage, planned_for, due_at, "
    "status, stop_rule, stop_reason, language, attempts, last_error, provider, provider_message_id, created_at"
)


def _insert(select: str, params: list[object]) -> int:
    conflict = "ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {T.message} ({_COLUMNS}) {select} {conflict}", params)
        return max(cursor.rowcount, 0)


def _values_sql(rule: ReminderRule, policy: DunningPolicy, window: Window, case_column: str, bill_column: str):
    """Return the SELECT list every rule's insert shares, and its parameters."""
    stop = _stop_sql(rule.channel, policy.message_vulnerable)
    due_at, due_params = _due_at_sql(window, "l.id", "cu.time_zone")
    stage = "c.stage" if case_column != "NULL" else "''"
    select = (
        f"SELECT cu.id, l.id, {case_column}, {bill_column}, %s, %s, %s, {stage}, %s, {due_at}, "
        f"CASE WHEN ({stop}) = '' THEN %s ELSE %s END, {stop}, '', cu.preferred_language, 0, '', '', '', %s"
    )
    return select, due_params


def _reachable_sql(channel: str) -> str:
    """Return the condition that the customer (``cu``) has an address for ``channel``: no e-mail, no e-mail planned."""
    return "AND cu.email <> ''" if channel == MessageChannel.EMAIL else ""


def _plan_overdue(rule, policy, window, as_of, first_id, last_id, now) -> int:
    select, due_params = _values_sql(rule, policy, window, "c.id", "NULL")
    days, day_params = _days_sql(rule, policy)
    sql = (
        f"{select} FROM {T.case} c JOIN {T.line} l ON l.id = c.credit_line_id "
        f"JOIN {T.product} p ON p.id = l.product_id JOIN {T.customer} cu ON cu.id = c.customer_id "
        f"WHERE c.credit_line_id BETWEEN %s AND %s AND p.policy_id = %s AND c.stage = %s AND {days} "
        f"{_reachable_sql(rule.channel)} "
        f"AND NOT EXISTS (SELECT 1 FROM {T.promise} pr WHERE pr.case_id = c.id AND pr.status = %s)"
    )
    params = [MessageKind.OVERDUE, rule.channel, rule.template_code, as_of, *due_params]
    params += [MessageStatus.PLANNED, MessageStatus.STOPPED, now, first_id, last_id, policy.pk, rule.stage]
    params += [*day_params, PromiseStatus.PENDING]
    return _insert(sql, params)


def _plan_stage_entry(rule, policy, window, as_of, first_id, last_id, now, run_ids) -> int:
    if not run_ids:
        return 0
    select, due_params = _values_sql(rule, policy, window, "c.id", "NULL")
    runs = ", ".join(["%s"] * len(run_ids))
    sql = (
        f"{select} FROM {T.case} c JOIN {T.line} l ON l.id = c.credit_line_id "
        f"JOIN {T.product} p ON p.id = l.product_id JOIN {T.customer} cu ON cu.id = c.customer_id "
        f"WHERE c.credit_line_id BETWEEN %s AND %s AND p.policy_id = %s AND c.stage = %s "
        f"{_reachable_sql(rule.channel)} AND EXISTS (SELECT 1 FROM {T.transition} t WHERE t.case_id = c.id AND t.to_stage = %s "
        f"AND t.run_id IN ({runs}))"
    )
    params = [MessageKind.STAGE_ENTRY, rule.channel, rule.template_code, as_of, *due_params]
    params += [MessageStatus.PLANNED, MessageStatus.STOPPED, now, first_id, last_id, policy.pk, rule.stage]
    params += [rule.stage, *run_ids]
    return _insert(sql, params)


def _plan_pre_due(rule, policy, window, as_of, first_id, last_id, now) -> int:
    days = rule.day_list()
    if not days:
        return 0
    select, due_params = _values_sql(rule, policy, window, "NULL", "b.id")
    unpaid = (
        "b.principal_due_fen + b.interest_due_fen + b.fees_due_fen "
        "> b.principal_paid_fen + b.interest_paid_fen + b.fees_paid_fen"
    )
    open_stages = ", ".join(["%s"] * 4)
    sql = (
        f"{select} FROM {T.bill} b JOIN {T.line} l ON l.id = b.credit_line_id "
        f"JOIN {T.product} p ON p.id = l.product_id JOIN {T.customer} cu ON cu.id = l.customer_id "
        f"WHERE b.credit_line_id BETWEEN %s AND %s AND p.policy_id = %s "
        f"AND b.due_date IN ({', '.join(['%s'] * len(days))}) AND {unpaid} AND l.status IN (%s, %s) "
        f"{_reachable_sql(rule.channel)} "
        f"AND NOT EXISTS (SELECT 1 FROM {T.case} c WHERE c.credit_line_id = l.id AND c.stage IN ({open_stages}))"
    )
    params = [MessageKind.PRE_DUE, rule.channel, rule.template_code, as_of, *due_params]
    params += [MessageStatus.PLANNED, MessageStatus.STOPPED, now, first_id, last_id, policy.pk]
    params += [as_of + datetime.timedelta(days=d) for d in days]
    params += ["active", "frozen", Stage.REMINDER, Stage.COLLECTION, Stage.LEGAL, Stage.ON_HOLD]
    return _insert(sql, params)


def _zones() -> list[str]:
    zones = Customer.objects.order_by().values_list("time_zone", flat=True).distinct()
    # A customer of an unknown zone is planned at the business's hours; sending refuses it (TIME_ZONE_UNKNOWN).
    return [zone for zone in zones if known_zone(zone) is not None]


@dataclass(frozen=True)
class _PolicyPlan:
    policy: DunningPolicy
    rules: list[ReminderRule]
    window: Window


def _policy_plans(as_of: datetime.date) -> list[_PolicyPlan]:
    zones, default_pack = _zones(), RulePack.objects.filter(code="cn-default").first()
    plans = []
    # A policy no product follows has no line to plan for: no statement at all.
    policies = DunningPolicy.objects.filter(Exists(Product.objects.filter(policy=OuterRef("pk"))))
    for policy in policies.select_related("rule_pack").prefetch_related("reminder_rules"):
        pack = policy.rule_pack or default_pack
        rules = list(policy.reminder_rules.all())
        if rules and pack is not None:
            plans.append(_PolicyPlan(policy, rules, window_for(pack, as_of, zones)))
    return plans


def messages_plan_range(*, plans: list[_PolicyPlan], as_of: datetime.date, first_id: int, last_id: int) -> int:
    """Plan the day's messages for the credit lines ``first_id``–``last_id``, in one transaction; return how many."""
    now = timezone.now()
    # The runs of the date, a killed one and its re-run included: their transitions are the day's stage entries.
    run_ids = list(DunningRun.objects.filter(as_of=as_of, dry_run=False).values_list("pk", flat=True))

    def plan_range() -> int:
        planned = 0
        with transaction.atomic():
            for plan in plans:
                for rule in plan.rules:
                    args = (rule, plan.policy, plan.window, as_of, first_id, last_id, now)
                    if rule.kind == MessageKind.OVERDUE:
                        planned += _plan_overdue(*args)
                    elif rule.kind == MessageKind.STAGE_ENTRY:
                        planned += _plan_stage_entry(*args, run_ids)
                    else:
                        planned += _plan_pre_due(*args)
        return planned

    # Its messages' lines are checked at commit in the order the rules inserted them, not in id order,
    # so a payment locking some of them meanwhile can deadlock with it: the database fails one of the
    # two, and the range, rolled back whole, is planned again.
    return retried_on_deadlock(plan_range, what="message planning of a range of lines")


def messages_plan(*, as_of: datetime.date, batch_size: int, on_batch=None) -> int:
    """Plan every policy's messages for ``as_of`` over every credit line, batch by batch; return how many."""
    plans, planned = _policy_plans(as_of), 0
    if not plans:
        return 0
    for first, last in id_ranges(batch_size):
        planned += messages_plan_range(plans=plans, as_of=as_of, first_id=first, last_id=last)
        if on_batch:
            on_batch(last - first + 1)
    return planned

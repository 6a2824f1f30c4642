"""Named reads of contacts: which rule pack a case follows, who a reported contact may name as its agent, and how
often a customer was reached."""

import datetime
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from cases.agencies.models import agency_id_of
from cases.casework.models import Case
from cases.choices import REACHED_OUTCOMES, ContactDirection, ContactParty, MessageStatus
from cases.contacts.models import Contact, RulePack
from cases.contacts.rules import WRITTEN, days_counted
from cases.outreach.models import Message

# A message counts against the caps from the moment it is handed over.
REACHING_STATUSES = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED)

# Who makes contacts: the collection agent, agency agent and supervisor roles (``backoffice.kernel.roles``).
LOG_CONTACT_PERMISSION = "cases.add_contact"


def rule_pack_for(case: Case) -> RulePack:
    """Return the collection rules the case's product follows (the China pack when its policy names none)."""
    return case.credit_line.product.policy.rule_pack or RulePack.objects.get(code="cn-default")


def contact_agents_by_username(
    usernames: set[str], *, reporter: AbstractBaseUser | None
) -> dict[str, AbstractBaseUser]:
    """Return the users that contacts reported by ``reporter`` (None: the system) may name as their agent, by username.

    The one rule of the contact import and the telephony API: the agent is a back-office (staff)
    user who may log contacts, through a role or their own permissions, or a superuser. Whether
    they are still active is not asked: the agent who made a call may have left since, and the call
    is still theirs. An agency's user reports their own agency's people only.
    """
    user_model = get_user_model()
    field_name = user_model.USERNAME_FIELD
    users = user_model.objects.with_perm(
        LOG_CONTACT_PERMISSION, is_active=None, backend="django.contrib.auth.backends.ModelBackend"
    ).filter(is_staff=True, **{f"{field_name}__in": usernames})
    agency_id = agency_id_of(reporter) if reporter is not None else None
    if agency_id is not None:
        # An agency cannot put its calls on the lender's staff.
        users = users.filter(agency_membership__agency_id=agency_id)
    return {getattr(user, field_name): user for user in users}


def reach_counts(
    customers: dict[int, object], now: datetime.datetime, excluding: list[int] = ()
) -> dict[int, list[int]]:
    """Return, per customer id, [today, last 7 days] of messages sent and contacts started to them, in their local days.

    What the message caps count: the system's messages and every agent's and agency's outbound
    contacts with the customer, across channels (written ones, and calls and visits that reached them).
    ``excluding``: the messages the caller is deciding about. Two queries, whatever the number of customers.
    """
    since = now - datetime.timedelta(days=8)
    times, days = defaultdict(list), defaultdict(list)
    # Messages being sent by another worker count too (at their due time): they are as good as gone.
    sent = Message.objects.filter(
        Q(sent_at__gte=since, status__in=REACHING_STATUSES) | Q(status=MessageStatus.SENDING, due_at__gte=since),
        customer_id__in=customers,
    ).exclude(pk__in=excluding)
    for customer_id, sent_at, due_at in sent.values_list("customer_id", "sent_at", "due_at"):
        times[customer_id].append(sent_at or due_at)
    # Written contacts, and calls and visits that reached the customer; unanswered attempts have their own cap.
    contacts = Contact.objects.filter(
        Q(channel__in=WRITTEN) | Q(outcome__in=REACHED_OUTCOMES),
        case__customer_id__in=customers,
        customer_local_date__gte=since.date(),
        party=ContactParty.CUSTOMER,
        direction=ContactDirection.OUTBOUND,
    )
    for customer_id, day in contacts.values_list("case__customer_id", "customer_local_date"):
        days[customer_id].append(day)
    return {pk: list(days_counted(times[pk], days[pk], customer.time_zone, now)) for pk, customer in customers.items()}

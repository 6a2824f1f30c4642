"""How long personal data is kept (PIPL arts. 19 and 47), what has expired, and the purge that forgets it.

Four periods, each a setting (the README gives the reasons for the defaults):

- a customer whose credit lines are all closed (or charged off) and who has no open case is kept
  ``RETENTION_CUSTOMER_YEARS`` after the last thing that happened to them: a case closed, a bill fell
  due, a payment came in, or they came in. Then their name, numbers, e-mail and address, in their row
  and every past version of it, are replaced by a marker, and so are their letters, their contacts'
  recording references, numbers and notes, and the notes written on their cases;
- a letter of a closed case loses its PDF, its addressee and the address it went to
  ``RETENTION_LETTER_YEARS`` after its case closed;
- a contact of a case no longer open loses its recording reference, the number called and its notes
  ``RETENTION_CONTACT_YEARS`` after it happened;
- an API answer stored with its idempotency key goes after ``API_IDEMPOTENCY_HOURS``.

The ledger keeps every row and every amount: bills, payments and allocations are not touched, so
every sum is the same after the purge as before. A customer's period bounds the others: anonymising
a customer takes their letters and contacts with them.
"""

import dataclasses
import datetime
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.models import ANONYMISED, Bill, CreditLine, Customer, Payment
from accounts.services import customers_anonymise
from backoffice.kernel.api.idempotency import idempotency_keys_expired, idempotency_keys_purge
from backoffice.kernel.serving import security_event
from cases.casework.services import case_notes_forget
from cases.choices import OPEN_STAGES
from cases.contacts.services import contacts_forget
from cases.models import Case, Contact
from letters.models import Letter
from letters.services import letters_anonymise

# Customers anonymised in one transaction, with their letters, contacts and notes.
BATCH_SIZE = 500
_CLOSED_LINE = (CreditLineStatus.CLOSED, CreditLineStatus.CHARGED_OFF)


@dataclasses.dataclass(frozen=True)
class Cutoffs:
    """Whatever ended before these instants has expired, by kind of record."""

    customers: datetime.datetime
    letters: datetime.datetime
    contacts: datetime.datetime


@dataclasses.dataclass
class PurgeCounts:
    """How many records the purge changed (or, in a dry run, would change), by kind."""

    customers: int = 0
    letters: int = 0
    contacts: int = 0
    api_answers: int = 0

    def total(self) -> int:
        """Return every record counted."""
        return self.customers + self.letters + self.contacts + self.api_answers


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """Return the same instant ``years`` earlier (29 February gives 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def cutoffs(now: datetime.datetime) -> Cutoffs:
    """Return the instants before which each kind of record has expired, from the settings read now."""
    return Cutoffs(
        customers=years_before(now, settings.RETENTION_CUSTOMER_YEARS),
        letters=years_before(now, settings.RETENTION_LETTER_YEARS),
        contacts=years_before(now, settings.RETENTION_CONTACT_YEARS),
    )


def expired_customers(cutoff: datetime.datetime) -> QuerySet[Customer]:
    """Customers not yet anonymised, every line closed, no open case, and nothing that happened since ``cutoff``.

    Each condition is a ``NOT EXISTS`` over an index by customer or line, so the scan is of customers only.
    """
    day = timezone.localdate(cutoff)
    customer = OuterRef("pk")
    live_line = CreditLine.objects.filter(customer=customer).exclude(status__in=_CLOSED_LINE)
    # A final case without a closing time is kept: nothing says when it ended.
    recent_case = Case.objects.filter(customer=customer).filter(
        Q(stage__in=OPEN_STAGES) | Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff)
    )
    recent_bill = Bill.objects.filter(credit_line__customer=customer, due_date__gte=day)
    recent_payment = Payment.objects.filter(credit_line__customer=customer, received_on__gte=day)
    return (
        Customer.objects.filter(anonymised_at__isnull=True, created_at__lt=cutoff)
        .exclude(Exists(live_line))
        .exclude(Exists(recent_case))
        .exclude(Exists(recent_bill))
        .exclude(Exists(recent_payment))
    )


def expired_letters(cutoff: datetime.datetime) -> QuerySet[Letter]:
    """Letters not yet anonymised whose case closed before ``cutoff``."""
    return Letter.objects.filter(anonymised_at__isnull=True, case__closed_at__lt=cutoff).exclude(
        case__stage__in=OPEN_STAGES
    )


def expired_contacts(cutoff: datetime.datetime) -> QuerySet[Contact]:
    """Contacts that happened before ``cutoff``, on a case no longer open, with anything left to forget."""
    return (
        Contact.objects.filter(occurred_at__lt=cutoff)
        .exclude(case__stage__in=OPEN_STAGES)
        .exclude(recording_reference="", phone_number="", notes__in=("", ANONYMISED))
    )


def purge_plan(now: datetime.datetime) -> PurgeCounts:
    """Return how many records a purge at ``now`` would change, by kind, changing nothing.

    A record that expires under two rules (a customer's letter past its own period too) is counted once
    a rule: the dry run's counts can exceed what the purge reports.
    """
    limits = cutoffs(now)
    return PurgeCounts(
        customers=expired_customers(limits.customers).count(),
        letters=expired_letters(limits.letters).count(),
        contacts=expired_contacts(limits.contacts).count(),
        api_answers=idempotency_keys_expired().count(),
    )


def personal_data_purge(*, now: datetime.datetime, advance: Callable[[int], object] = lambda n: None) -> PurgeCounts:
    """Anonymise or delete every personal record expired at ``now``, in batches; return how many changed.

    ``advance`` is told how many of the planned records each batch went through (a progress bar).
    Running it again changes nothing: every step skips what an earlier run already did.
    """
    limits, counts = cutoffs(now), PurgeCounts()
    for batch in _batches(expired_customers(limits.customers)):
        with transaction.atomic():
            cases = Case.objects.filter(customer_id__in=batch)
            counts.letters += letters_anonymise(letters=Letter.objects.filter(case__in=cases), now=now)
            counts.contacts += contacts_forget(contacts=Contact.objects.filter(case__in=cases))
            case_notes_forget(cases=cases)
            counts.customers += customers_anonymise(customer_ids=batch, now=now)
        advance(len(batch))
    for batch in _batches(expired_letters(limits.letters)):
        counts.letters += letters_anonymise(letters=Letter.objects.filter(pk__in=batch), now=now)
        advance(len(batch))
    for batch in _batches(expired_contacts(limits.contacts)):
        counts.contacts += contacts_forget(contacts=Contact.objects.filter(pk__in=batch))
        advance(len(batch))
    counts.api_answers = idempotency_keys_purge()
    advance(counts.api_answers)
    security_event("personal_data_purged", **dataclasses.asdict(counts))
    return counts


def _batches(rows: QuerySet) -> Iterator[list[int]]:
    # The ids are read once, before anything changes: each batch's writes take its rows out of the query.
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]

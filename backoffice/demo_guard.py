"""What the demo may delete: only rows it made itself, recognised by its own marks.

The demo marks what it writes: its payments' references start with ``DEMO-``, its credit lines are on
its own products (``demo.PRODUCTS``) numbered ``CL`` and twelve digits, its customers hold such a line,
and its personal-data reveals were made by its own logins. A database holding any other payment, credit
line, customer or reveal holds real data, and ``seed_demo --reset`` deletes nothing there.
"""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import CreditLine, Customer, Payment, PersonalDataReveal
from backoffice import demo

DEMO_REFERENCE_PREFIX = "DEMO-"
DEMO_LINE_NUMBER = r"^CL[0-9]{12}$"


def _demo_lines() -> QuerySet:
    codes = [code for code, _name, _policy in demo.PRODUCTS]
    return CreditLine.objects.filter(product__code__in=codes, number__regex=DEMO_LINE_NUMBER)


def rows_not_the_demos() -> dict[str, int]:
    """Count, by kind, the rows the demo did not write (an empty dict for a database of the demo's own)."""
    logins = [username for username, *_rest in demo.DEMO_USERS]
    counts = {
        "payments": Payment.objects.exclude(external_reference__startswith=DEMO_REFERENCE_PREFIX).count(),
        "credit lines": CreditLine.objects.exclude(pk__in=_demo_lines().values("pk")).count(),
        "customers": Customer.objects.exclude(Exists(_demo_lines().filter(customer=OuterRef("pk")))).count(),
        "personal-data reveals": PersonalDataReveal.objects.exclude(revealed_by__username__in=logins).count(),
    }
    return {kind: count for kind, count in counts.items() if count}

"""The record of a refused contact: one ``ContactRefusal`` row per rule that refused it.

Its own module, not a service of ``cases.contacts.services``, because every path that refuses a contact
records it: an agent's contact, a letter's e-mail at dispatch (``letters`` may not call case services)
and a placement with an agency the rules do not allow. Callers record after their own transaction has
ended (and its locks are released), so that the row stays although what was refused is not stored.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser

from cases.contacts.models import ContactRefusal


def contact_refusals_record(
    *, case_id: int, channel: str, rules: Iterable[str], actor: AbstractBaseUser | None
) -> list[ContactRefusal]:
    """Record that ``actor`` (or the system) was refused reaching case ``case_id``'s customer by each of ``rules``."""
    return ContactRefusal.objects.bulk_create(
        ContactRefusal(case_id=case_id, channel=channel, rule=rule, agent=actor) for rule in rules
    )

"""Guessing codes on the public verification page: failures counted in the shared cache.

A letter number that has had ``VERIFY_NUMBER_FAILURES`` wrong tries answers "try again later" to
everyone for ``VERIFY_COOL_OFF_MINUTES``, and so does an address that has had ``VERIFY_ADDRESS_FAILURES``.
Counting by number stops a guesser who spreads one number's guesses over many addresses; counting by
address stops one who sweeps many numbers. A number is counted and locked the same way whether a letter
has it or not, so the answer never tells a guesser which numbers exist. The counts live in Django's
cache: Redis when ``REDIS_URL`` is set, so every process and machine shares them.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from backoffice.kernel.addresses import client_address

_PREFIX = "letters:verify"


def _keys(request: HttpRequest, number: str) -> dict[str, int]:
    """Return each counter's cache key (a number is hashed: it is the visitor's text) with its limit."""
    digest = hashlib.sha256(number.encode()).hexdigest()
    return {
        f"{_PREFIX}:number:{digest}": settings.VERIFY_NUMBER_FAILURES,
        f"{_PREFIX}:address:{client_address(request)}": settings.VERIFY_ADDRESS_FAILURES,
    }


def _cool_off_seconds() -> int:
    return settings.VERIFY_COOL_OFF_MINUTES * 60


def verification_refused(request: HttpRequest, number: str) -> bool:
    """Return whether this number, or this visitor's address, is cooling off after too many failures."""
    limits = _keys(request, number)
    counts = cache.get_many(list(limits))
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


def verification_failed(request: HttpRequest, number: str) -> None:
    """Count one wrong try against the number and the address.

    Failures are counted over a cool-off from the first; the one that reaches the limit starts a full
    cool-off of its own.
    """
    for key, limit in _keys(request, number).items():
        cache.add(key, 0, _cool_off_seconds())
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: this failure starts a new count
            cache.add(key, 1, _cool_off_seconds())
            continue
        if count >= limit:
            cache.touch(key, _cool_off_seconds())

"""Allocate a payment to bills: oldest bill first, fees then interest then principal.

A pure function, so that the payment service and the bulk demo loader apply one rule.
"""

from dataclasses import dataclass
from typing import NamedTuple

# The order components are paid in, within one bill.
COMPONENTS = ("fees", "interest", "principal")


@dataclass(frozen=True)
class Owed:
    """What one bill still owes, per component."""

    bill_id: int
    fees_fen: int
    interest_fen: int
    principal_fen: int


class Share(NamedTuple):
    """The part of a payment that goes to one bill (a tuple: a bulk request makes one per payment, and fast)."""

    bill_id: int
    fees_fen: int
    interest_fen: int
    principal_fen: int

    @property
    def total_fen(self) -> int:
        """Return the whole share."""
        return self.fees_fen + self.interest_fen + self.principal_fen


def allocate(amount_fen: int, owed: list[Owed]) -> tuple[list[Share], int]:
    """Split ``amount_fen`` over ``owed`` (already oldest first); return the shares and the credit left."""
    return take(amount_fen, [[bill.bill_id, bill.fees_fen, bill.interest_fen, bill.principal_fen] for bill in owed])


def take(amount_fen: int, owing: list[list[int]]) -> tuple[list[Share], int]:
    """Split ``amount_fen`` over ``owing``, each ``[bill_id, fees, interest, principal]`` still owed, oldest first.

    The one rule, in place: what each share takes comes off ``owing``, so that the next payment of
    the same line, in the order received, is allocated to what this one left. Returns the shares
    and the credit left.
    """
    shares: list[Share] = []
    left = amount_fen
    for bill in owing:
        if left == 0:
            break
        bill_id, fees, interest, principal = bill
        # COMPONENTS order: fees, then interest, then principal.
        fees = min(left, fees)
        left -= fees
        interest = min(left, interest)
        left -= interest
        principal = min(left, principal)
        left -= principal
        if fees or interest or principal:
            bill[1] -= fees
            bill[2] -= interest
            bill[3] -= principal
            shares.append(Share(bill_id, fees, interest, principal))
    return shares, left

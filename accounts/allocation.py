"""Allocate a payment to bills: oldest bill first, fees then interest then principal.

A pure function, so that the payment service and the bulk demo loader apply one rule.
"""

from dataclasses import dataclass

# The order components are paid in, within one bill.
COMPONENTS = ("fees", "interest", "principal")


@dataclass(frozen=True)
class Owed:
    """What one bill still owes, per component."""

    bill_id: int
    fees_fen: int
    interest_fen: int
    principal_fen: int


@dataclass(frozen=True)
class Share:
    """The part of a payment that goes to one bill."""

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
    shares: list[Share] = []
    left = amount_fen
    for bill in owed:
        if left == 0:
            break
        taken = {}
        for component in COMPONENTS:
            take = min(left, getattr(bill, f"{component}_fen"))
            taken[f"{component}_fen"] = take
            left -= take
        share = Share(bill_id=bill.bill_id, **taken)
        if share.total_fen:
            shares.append(share)
    assert sum(share.total_fen for share in shares) + left == amount_fen
    return shares, left

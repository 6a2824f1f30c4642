"""A message's wording: the template in the customer's language, its placeholders filled from the ledger."""

import re
import string
from dataclasses import dataclass

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from accounts.choices import Language
from backoffice.kernel.money import format_yuan
from cases.outreach.models import MessageTemplate

# What a template may use, and what each holds.
MESSAGE_PLACEHOLDERS = {
    "name": _("the customer's name"),
    "amount": _("the amount due or overdue, in yuan"),
    "due_date": _("the bill's due date (before the due date)"),
    "days_past_due": _("days past due (overdue)"),
    "contract": _("the credit line's number, all but its last four characters hidden"),
    "pay_to": _("the creditor's official way to pay"),
    "creditor": _("the creditor's name"),
}


@dataclass(frozen=True)
class Rendered:
    """A message's subject and text, the values it used, and the template version."""

    subject: str
    text: str
    params: dict[str, str]
    template: MessageTemplate


def placeholders_in(text: str) -> set[str]:
    """Return the names of the ``{placeholders}`` in ``text``; raise ValueError on a malformed brace."""
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def unknown_placeholders(text: str) -> set[str]:
    """Return the placeholders in ``text`` that no message can fill."""
    return placeholders_in(text) - set(MESSAGE_PLACEHOLDERS)


def masked_contract(number: str) -> str:
    """Return a contract number with all but its last four characters hidden."""
    return re.sub(r".(?=.{4})", "*", number)


def values_for(message: object) -> dict[str, str]:
    """Return every placeholder's value for ``message`` (its customer, line, case or bill), in its language."""
    with translation.override(message.language or Language.CHINESE):
        if message.bill_id:
            amount, due_date = message.bill.outstanding_fen, formats.date_format(message.bill.due_date)
        else:
            amount, due_date = (message.case.balance_fen if message.case else 0), ""
        return {
            "name": message.customer.name,
            "amount": format_yuan(amount),
            "due_date": due_date,
            "days_past_due": str(message.case.days_past_due if message.case else 0),
            "contract": masked_contract(message.credit_line.number),
            "pay_to": settings.CREDITOR["payment_account"],
            "creditor": settings.CREDITOR["name"],
        }


def render(template: MessageTemplate, values: dict[str, str]) -> Rendered:
    """Fill ``template`` with ``values``; the params are the values its texts use."""
    used = placeholders_in(template.body) | placeholders_in(template.subject)
    params = {name: values[name] for name in sorted(used)}
    return Rendered(
        subject=template.subject.format_map(params),
        text=template.body.format_map(params),
        params=params,
        template=template,
    )

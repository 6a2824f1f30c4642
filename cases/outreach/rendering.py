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
    """Return the ``{placeholders}`` in ``text`` as written; raise ValueError on a malformed brace.

    A field with a conversion, a format or an attribute (``{name!r}``, ``{name:d}``, ``{name.x}``)
    comes back whole, so that no known name matches it and the template is refused.
    """
    found = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            found.add(name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return found


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


_FIELD = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


def _filled(text: str, params: dict[str, str]) -> str:
    # Plain substitution of known names (and {{ }} for braces), never str.format: a template is data.
    return _FIELD.sub(lambda match: params[match.group(1)] if match.group(1) else match.group(0)[0], text)


def render(template: MessageTemplate, values: dict[str, str]) -> Rendered:
    """Fill ``template`` with ``values``; the params are the values its texts use.

    Raise ``TemplateUnusable`` for wording no message can fill (saved before a check existed, or
    loaded by hand): the sender stops that one message and goes on.
    """
    try:
        used = placeholders_in(template.body) | placeholders_in(template.subject)
    except ValueError as exc:
        raise TemplateUnusable(str(exc)) from None
    unknown = used - set(values)
    if unknown:
        raise TemplateUnusable(", ".join(sorted(unknown)))
    params = {name: values[name] for name in sorted(used)}
    return Rendered(
        subject=_filled(template.subject, params),
        text=_filled(template.body, params),
        params=params,
        template=template,
    )


class TemplateUnusable(ValueError):
    """A template whose wording names what no message can fill."""

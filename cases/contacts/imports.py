"""Contacts imported after the fact from a CSV file: an agency's upload, a telephony export.

An imported contact already happened, so it is never dropped for breaking a collection rule:
each one is stored through ``contact_log`` and every rule it broke opens a compliance incident.
A malformed file is another matter: every row is checked first, and if any row is wrong the
whole file is refused, each error naming the row, the field and the value, and nothing is written.
A telephony system's API requests (``cases.contacts.api``) go through the same row validator
(``contact_rows_check``) and the same store step (``contacts_store``).

The file: CSV with a header row, in UTF-8 (with or without a byte-order mark) or GB18030 (what
Chinese Excel writes). Columns, in any order, header names case-insensitive:

``case`` (required)
    a case number (``C00000042``) or a credit line's contract number. A contract number means
    the line's open case, or its latest case when none is open. A value that is both a case
    number and another line's contract number is refused as ambiguous.
``occurred_at`` (required)
    ISO 8601 date and time, ``2026-03-02T14:30:00+08:00``; without an offset it is Asia/Shanghai
    time. Not in the future.
``channel``, ``outcome`` (required), ``direction``, ``party`` (default outbound, customer)
    the stored value (``call``, ``no_answer``, ...) or its label in English or Chinese, any case.
``agent``
    the username of the agent who made the contact; empty for nobody known (an agency's dialler).
    Only an uploader who may import for others (``cases.import_contacts_for_others``: supervisors)
    names other people; anyone else's file holds their own contacts, so each row's agent is the
    uploader, and a row naming someone else is refused. It names a back-office user who may log
    contacts: a collection agent, an agency agent or a supervisor (``contact_agents_by_username``). One who has left since (deactivated) is still
    named, the call being theirs; the permission to import is the importer's. An agency's file
    names its own people only.
``identity_disclosed``
    yes/no, true/false, 1/0, 是/否; empty means no.
``phone_number``
    the number called (or that called): a mainland mobile or fixed-line number, with or without
    +86, spaces or hyphens; stored as dialled within the mainland, ``13800138000``,
    ``01062345678`` (``contact_phone_number``). Empty for none.
``notes``, ``recording_reference``
    free text.

Row numbers are those a spreadsheet shows: the header is row 1, the first contact row 2.
A row already stored (same case, time, channel, direction, party, outcome, number and recording
reference), or repeated in the file, refuses the file: importing a file twice records it once.
"""

import csv
import datetime
import io
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.locks import credit_lines_lock
from accounts.models import Customer
from backoffice.kernel.tabular import choice_names, control_character, decode_text, parse_yes_no, row_problem
from cases.agencies.models import agency_id_of
from cases.casework.models import Case
from cases.casework.numbers import case_id_from_number
from cases.choices import ContactChannel, ContactDirection, ContactOutcome, ContactParty, ContactSource
from cases.contacts.models import ComplianceIncident, Contact
from cases.contacts.selectors import contact_agents_by_username
from cases.contacts.services import contact_log, contact_phone_number
from cases.workload.priority import refresh_queue_ranks

IMPORT_PERMISSION = "cases.add_contact"
# Without it, an uploader's file holds their own contacts only: every row is theirs, whatever it names.
FOR_OTHERS_PERMISSION = "cases.import_contacts_for_others"
# One transaction holds a lock on every customer in the file: keep files to a size that commits in seconds.
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
# A file in the wrong format fails on every row; past this many, the rest are counted, not listed.
MAX_ERRORS_SHOWN = 100
FILE_TIME_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

REQUIRED_COLUMNS = ("case", "occurred_at", "channel", "outcome")
OPTIONAL_COLUMNS = (
    "direction",
    "party",
    "phone_number",
    "agent",
    "identity_disclosed",
    "notes",
    "recording_reference",
)
_CHOICES: dict[str, type[models.TextChoices]] = {
    "channel": ContactChannel,
    "direction": ContactDirection,
    "party": ContactParty,
    "outcome": ContactOutcome,
}
_DEFAULTS = {"direction": ContactDirection.OUTBOUND, "party": ContactParty.CUSTOMER}
# What makes two contacts the same record (a row imported twice).
_SAME_RECORD = ("occurred_at", "channel", "direction", "party", "outcome", "phone_number", "recording_reference")


@dataclass(frozen=True)
class RowError:
    """One bad row: its number (the file's row, or the request's index), the field and value, what is wrong."""

    row: int
    field: str | None
    value: str | None
    problem: str

    def in_file(self) -> str:
        """Return the error as a sentence naming the row, as the file import shows it."""
        if self.field is None:
            return _("Row %(row)d %(problem)s") % {"row": self.row, "problem": self.problem}
        return row_problem(row=self.row, field=self.field, value=self.value, problem=self.problem)


@dataclass(frozen=True)
class StoredContact:
    """A contact stored from a row, and the rule codes of the incidents it opened."""

    row: int
    contact: Contact
    rules: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: how many contacts, and the incidents opened, by rule code."""

    rows_stored: int
    incidents: dict[str, int] = field(default_factory=dict)
    stored: tuple[StoredContact, ...] = ()

    @property
    def incidents_opened(self) -> int:
        """Return how many compliance incidents the import opened in all."""
        return sum(self.incidents.values())

    def summary(self) -> str:
        """Return one sentence for people: contacts stored and incidents opened by rule."""
        stored = ngettext("%(n)d contact imported", "%(n)d contacts imported", self.rows_stored) % {
            "n": self.rows_stored
        }
        if not self.incidents:
            return _("%(stored)s; no compliance incident opened.") % {"stored": stored}
        opened = ngettext(
            "%(n)d compliance incident opened", "%(n)d compliance incidents opened", self.incidents_opened
        ) % {"n": self.incidents_opened}
        by_rule = ", ".join(f"{rule} {count}" for rule, count in sorted(self.incidents.items()))
        return _("%(stored)s; %(opened)s: %(rules)s.") % {"stored": stored, "opened": opened, "rules": by_rule}


@dataclass
class ContactRow:
    """A row as checked: its number, what it names, its parsed values, and the case and agent found."""

    number: int
    case_reference: str
    agent_username: str
    values: dict
    case: Case | None = None
    agent: AbstractBaseUser | None = None


class _Bad(Exception):
    """A field's value is wrong; the message says how."""


def may_import_contacts(user: AbstractBaseUser) -> bool:
    """Return whether ``user`` may import contacts (into the cases they can see)."""
    return user.has_perm(IMPORT_PERMISSION)


def contacts_import(*, file: IO[bytes], actor: AbstractBaseUser | None) -> ImportResult:
    """Store every contact of a CSV file as imported, in one transaction, or refuse the whole file.

    ``actor`` is who imports (None: the system); each contact's agent is the one its row names.
    Raise ``ValidationError`` listing every bad row (row, field, value) and write nothing.
    """
    if actor is not None and not may_import_contacts(actor):
        raise PermissionDenied(_("You are not allowed to import contacts."))
    raw_rows, errors = _parse(file.read(MAX_BYTES + 1))
    rows, row_errors = contact_rows_check(raw_rows=raw_rows, actor=actor)
    errors += [error.in_file() for error in row_errors]
    if errors:
        raise ValidationError(_shown(errors))
    return contacts_store(rows=rows, actor=actor)


def contact_rows_check(
    *, raw_rows: list[tuple[int, dict[str, str]]], actor: AbstractBaseUser | None
) -> tuple[list[ContactRow], list[RowError]]:
    """Check contacts made elsewhere (numbered rows of text, by column name): the one row validator.

    Return the rows with their values, case and agent, and every error; the rows may be stored
    only when there is none. ``actor`` is who reports them (None: the system), whose cases they must be.
    """
    parsers = _field_parsers()
    rows, errors = [], []
    for number, raw in raw_rows:
        row, row_errors = _parse_row(number, raw, parsers)
        rows.append(row)
        errors.extend(row_errors)
    errors += _resolve(rows, actor)
    if not errors:
        errors = _repeated(rows)
    return rows, errors


def _shown(errors: list[str]) -> list[ValidationError]:
    shown = [ValidationError(message, code="invalid_row") for message in errors[:MAX_ERRORS_SHOWN]]
    hidden = len(errors) - len(shown)
    if hidden:
        shown.append(
            ValidationError(
                ngettext("… and %(n)d more error.", "… and %(n)d more errors.", hidden) % {"n": hidden},
                code="invalid_row",
            )
        )
    return shown


def contacts_store(
    *, rows: list[ContactRow], actor: AbstractBaseUser | None, scope_checked: bool = False
) -> ImportResult:
    """Store checked rows as imported contacts, in one transaction, each with the incidents it opens.

    ``actor`` is recorded as the importer. ``scope_checked`` says that an API client's scope allowed
    the write, so the importer (its service user) needs no model permission.
    """
    # In the order they happened: within the file, each contact is judged against those made before
    # it, so the fourth connected call of a day is the one that opens the incident.
    rows = sorted(rows, key=lambda row: row.values["occurred_at"])
    with transaction.atomic():
        # Lock every customer of the file up front, in id order: two imports at once cannot deadlock.
        customer_ids = sorted({row.case.credit_line.customer_id for row in rows})
        list(Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk").values_list("pk"))
        # Then their lines, in id order, before any case is written (``contact_log`` takes each one's line).
        credit_lines_lock(line_ids=[row.case.credit_line_id for row in rows])
        stored = {row.number: _store_row(row, actor, scope_checked) for row in rows}
        refresh_queue_ranks(case_ids={row.case.pk for row in rows})
    rules: dict[int, list[str]] = {}
    for contact_id, rule in (
        ComplianceIncident.objects.filter(contact__in=stored.values()).order_by("rule").values_list("contact", "rule")
    ):
        rules.setdefault(contact_id, []).append(rule)
    return ImportResult(
        rows_stored=len(stored),
        incidents=dict(sorted(Counter(rule for found in rules.values() for rule in found).items())),
        stored=tuple(
            StoredContact(number, contact, tuple(rules.get(contact.pk, ())))
            for number, contact in sorted(stored.items())
        ),
    )


def _store_row(row: ContactRow, actor: AbstractBaseUser | None, scope_checked: bool) -> Contact:
    try:
        contact = contact_log(
            case=row.case,
            actor=row.agent,
            imported_by=actor,
            source=ContactSource.IMPORTED,
            refresh_rank=False,
            scope_checked=scope_checked,
            **row.values,
        )
    except ValidationError as exc:
        # Checked beforehand; should the service still refuse, the row is named and all rolls back.
        raise ValidationError(
            _("Row %(row)d: %(errors)s") % {"row": row.number, "errors": " ".join(exc.messages)}
        ) from exc
    return contact


def _parse(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    if len(data) > MAX_BYTES:
        return [], [_("The file is larger than %(mb)d MB; split it.") % {"mb": MAX_BYTES // (1024 * 1024)}]
    try:
        records = list(csv.reader(io.StringIO(decode_text(data), newline="")))
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [_("The file is not a readable CSV file: %(error)s") % {"error": exc}]
    if not records:
        return [], [_("The file is empty: it needs a header row and at least one contact.")]
    header = [name.strip().lower() for name in records[0]]
    if errors := _header_errors(header):
        return [], errors
    rows, errors = [], []
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue
        if len(record) != len(header):
            errors.append(
                _("Row %(row)d has %(found)d values; the header has %(expected)d columns.")
                % {"row": number, "found": len(record), "expected": len(header)}
            )
            continue
        rows.append((number, dict(zip(header, record, strict=True))))
    if not rows and not errors:
        errors.append(_("The file has a header row but no contact."))
    elif len(rows) > MAX_ROWS:
        errors.insert(
            0, _("The file has %(n)d contacts; at most %(max)d per file.") % {"n": len(rows), "max": MAX_ROWS}
        )
    return rows, errors


def _header_errors(header: list[str]) -> list[str]:
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    errors = [_("Column %(column)r is missing.") % {"column": name} for name in REQUIRED_COLUMNS if name not in header]
    errors += [
        _("Column %(column)r is unknown; the columns are: %(known)s.") % {"column": name, "known": ", ".join(known)}
        for name in header
        if name not in known
    ]
    errors += [
        _("Column %(column)r appears twice.") % {"column": name}
        for name, count in Counter(header).items()
        if count > 1 and name in known
    ]
    return errors


def _control_characters(number: int, raw: dict[str, str]) -> list[RowError]:
    """Return an error for every cell holding a control character (a NUL, an escape), whatever its column."""
    errors = []
    for name, text in raw.items():
        if isinstance(text, str) and (character := control_character(text)) is not None:
            problem = _("holds a control character (%(character)r); remove it.") % {"character": character}
            errors.append(RowError(number, name, text, problem))
    return errors


def _parse_row(
    number: int, raw: dict[str, str], parsers: dict[str, Callable[[str], object]]
) -> tuple[ContactRow, list[RowError]]:
    values, errors = {}, _control_characters(number, raw)
    # A cell refused for a control character is read as empty: PostgreSQL refuses NUL in any query.
    raw = {name: "" if any(error.field == name for error in errors) else text for name, text in raw.items()}
    for name, parse in parsers.items():
        text = raw.get(name, "").strip()
        try:
            values[name] = parse(text)
        except _Bad as problem:
            errors.append(RowError(number, name, text, str(problem)))
    row = ContactRow(number, raw.get("case", "").strip(), raw.get("agent", "").strip(), values)
    return row, errors


def _field_parsers() -> dict[str, Callable[[str], object]]:
    parsers: dict[str, Callable[[str], object]] = {"occurred_at": _parse_time(timezone.now())}
    for name, choices in _CHOICES.items():
        parsers[name] = _parse_choice(choices, _DEFAULTS.get(name))
    parsers["identity_disclosed"] = _parse_yes_no
    parsers["phone_number"] = _parse_phone_number
    parsers["recording_reference"] = _parse_text(Contact._meta.get_field("recording_reference").max_length)
    parsers["notes"] = _parse_text(None)
    return parsers


def _parse_time(now: datetime.datetime) -> Callable[[str], datetime.datetime]:
    def parse(text: str) -> datetime.datetime:
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            raise _Bad(_("a time of day is needed, not only a date."))
        try:
            when = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(_("not a date and time such as 2026-03-02T14:30:00+08:00.")) from None
        when = when if when.tzinfo else when.replace(tzinfo=FILE_TIME_ZONE)
        try:
            when.astimezone(datetime.UTC)  # as stored: year 1 in Shanghai is before the calendar's first day
        except OverflowError:
            raise _Bad(_("not a date and time such as 2026-03-02T14:30:00+08:00.")) from None
        if when > now:
            raise _Bad(_("in the future; only contacts that already happened are imported."))
        return when

    return parse


def _parse_choice(choices: type[models.TextChoices], default: str | None) -> Callable[[str], str]:
    names = choice_names(choices)

    def parse(text: str) -> str:
        if not text and default is not None:
            return default
        if not text:
            raise _Bad(_("a value is required."))
        try:
            return names[text.lower()]
        except KeyError:
            raise _Bad(_("unknown; expected one of %(values)s.") % {"values": ", ".join(choices.values)}) from None

    return parse


def _parse_yes_no(text: str) -> bool:
    try:
        return parse_yes_no(text)
    except ValueError as problem:
        raise _Bad(str(problem)) from None


def _parse_phone_number(text: str) -> str:
    try:
        return contact_phone_number(text)
    except ValidationError as exc:
        raise _Bad(" ".join(exc.messages)) from None


def _parse_text(max_length: int | None) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if max_length is not None and len(text) > max_length:
            raise _Bad(_("longer than %(max)d characters.") % {"max": max_length})
        return text

    return parse


def may_import_for_others(user: AbstractBaseUser | None) -> bool:
    """Return whether ``user``'s imports may name other people as the contacts' agents (the system may)."""
    return user is None or user.has_perm(FOR_OTHERS_PERMISSION)


def _others_named(rows: list[ContactRow], actor: AbstractBaseUser) -> list[RowError]:
    """Put every row on the uploader; return the rows that name someone else."""
    own = actor.get_username()
    problem = _("not you: only a user who may import contacts for others names another agent.")
    errors = [
        RowError(row.number, "agent", row.agent_username, problem)
        for row in rows
        if row.agent_username not in ("", own)
    ]
    for row in rows:
        row.agent_username = own
    return errors


def _resolve(rows: list[ContactRow], actor: AbstractBaseUser | None) -> list[RowError]:
    """Find each row's case and agent in a few queries; return the rows that name unknown ones."""
    own_errors = [] if may_import_for_others(actor) else _others_named(rows, actor)
    cases, ambiguous = _cases_by_reference({row.case_reference for row in rows}, actor)
    agents = contact_agents_by_username({row.agent_username for row in rows if row.agent_username}, reporter=actor)
    errors = []
    for row in rows:
        row.case, row.agent = cases.get(row.case_reference), agents.get(row.agent_username)
        if row.case_reference in ambiguous:
            problem = _("both a case number and a contract number; write the case number.")
            errors.append(RowError(row.number, "case", row.case_reference, problem))
        elif row.case is None:
            problem = _("no case with this case or contract number that you can see.")
            errors.append(RowError(row.number, "case", row.case_reference, problem))
        if row.agent_username and row.agent is None:
            errors.append(RowError(row.number, "agent", row.agent_username, _unknown_agent_problem(actor)))
    return own_errors + errors


def _unknown_agent_problem(actor: AbstractBaseUser | None) -> str:
    if actor is not None and agency_id_of(actor) is not None:
        return _("not a user of your agency who may log contacts.")
    return _("not a back-office user who may log contacts (a collection agent, agency agent or supervisor).")


def _cases_by_reference(references: set[str], actor: AbstractBaseUser | None) -> tuple[dict[str, Case], set[str]]:
    cases = Case.objects.all() if actor is None else Case.objects.visible_to(actor)
    cases = cases.select_related("credit_line__product__policy__rule_pack")
    ids = {reference: case_id_from_number(reference) for reference in references}
    by_id = cases.in_bulk([case_id for case_id in ids.values() if case_id is not None])
    by_contract: dict[str, Case] = {}
    # Oldest first, so the latest case of each line (the open one, if any) is the one kept.
    for case in cases.filter(credit_line__number__in=references).order_by("opened_at", "id"):
        by_contract[case.credit_line.number] = case
    found, ambiguous = {}, set()
    for reference, case_id in ids.items():
        by_number = by_id.get(case_id)
        by_line = by_contract.get(reference)
        if by_number and by_line and by_number.pk != by_line.pk:
            ambiguous.add(reference)
        elif by_number or by_line:
            found[reference] = by_number or by_line
    return found, ambiguous


def _record_key(case_id: int, values: dict) -> tuple:
    return (case_id, *(values[name] for name in _SAME_RECORD))


def _repeated(rows: list[ContactRow]) -> list[RowError]:
    stored = Contact.objects.filter(
        case_id__in={row.case.pk for row in rows},
        occurred_at__in={row.values["occurred_at"] for row in rows},
    ).values("case_id", *_SAME_RECORD)
    seen = {_record_key(record["case_id"], record): None for record in stored}
    errors = []
    for row in rows:
        key = _record_key(row.case.pk, row.values)
        if key in seen:
            earlier = seen[key]
            problem = (
                _("repeats row %(earlier)d.") % {"earlier": earlier}
                if earlier is not None
                else _("is already stored: the same contact was imported or logged before.")
            )
            errors.append(RowError(row.number, None, None, problem))
        else:
            seen[key] = row.number
    return errors

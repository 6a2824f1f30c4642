"""Reading tabular files that people upload: text decoding, yes/no cells, choices by value or label, row messages.

Shared by every file import (contacts, the ledger), so that they read files and name bad rows alike.
"""

import re

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

YES = frozenset({"yes", "y", "true", "1", "是"})
NO = frozenset({"no", "n", "false", "0", "否", ""})
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
# What PostgreSQL refuses in text (NUL) and what no one types in a cell: C0 controls but tab and line ends, DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class UnreadableText(UnicodeDecodeError):
    """A file in none of the encodings read, whose message says where and what to do (a ``UnicodeDecodeError``)."""

    def __str__(self) -> str:
        """Return the message for people."""
        return self.reason


def decode_text(data: bytes) -> str:
    """Return the text of a file in UTF-8, GB18030 (what Chinese Excel writes) or UTF-16 with a byte-order mark.

    UTF-16 with its mark is what Excel's "Unicode text" export writes. Raise ``UnreadableText``
    naming the first byte that does not read, by offset and line, for any other file.
    """
    if data.startswith(_UTF16_MARKS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _unreadable(data, exc, "UTF-16") from None
    if _looks_like_utf16(data):
        # UTF-8 and GB18030 both read NUL bytes as text: UTF-16 without its mark would come through as garbage.
        exc = UnicodeDecodeError("utf-16", data, data.index(b"\x00"), data.index(b"\x00") + 1, "NUL")
        raise _unreadable(data, exc, _("UTF-8 or GB18030 (it looks like UTF-16 without a byte-order mark)")) from None
    # GB18030 decodes almost any bytes, so UTF-8 is tried first: a UTF-8 file is never misread.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise _unreadable(data, utf8_error, "UTF-8 / GB18030") from None


def _looks_like_utf16(data: bytes) -> bool:
    start = data[:4096]
    return start.count(b"\x00") * 4 > len(start)


def _unreadable(data: bytes, exc: UnicodeDecodeError, encodings: str) -> UnreadableText:
    message = _(
        "The file is not text in %(encodings)s: byte %(offset)d (line %(line)d) is 0x%(byte)s. "
        "Save it as CSV in UTF-8 (Excel: “CSV UTF-8”) and upload it again."
    ) % {
        "encodings": encodings,
        "offset": exc.start,
        "line": data.count(b"\n", 0, exc.start) + 1,
        "byte": data[exc.start : exc.start + 1].hex(),
    }
    return UnreadableText(exc.encoding, data, exc.start, exc.end, message)


def control_character(text: str) -> str | None:
    """Return the first control character in ``text`` (a NUL byte, an escape...), or None; tabs and line ends are text."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def parse_yes_no(text: str) -> bool:
    """Return the boolean a cell says (yes/no, true/false, 1/0, 是/否; empty is no); raise ``ValueError`` otherwise."""
    if text.strip().lower() in YES:
        return True
    if text.strip().lower() in NO:
        return False
    raise ValueError(_("expected yes or no (true/false, 1/0, 是/否)."))


def choice_names(choices: type[models.TextChoices]) -> dict[str, str]:
    """Map each stored value and its label in English and Chinese, lower-cased, to the stored value."""
    names = {}
    for value, label in choices.choices:
        names[value.lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names[str(label).lower()] = value
    return names


def row_problem(*, row: int, field: str, value: str, problem: str) -> str:
    """Return the message naming a bad cell: its row as a spreadsheet numbers it, its column and its value."""
    return _("Row %(row)d, %(field)s %(value)r: %(problem)s") % {
        "row": row,
        "field": field,
        "value": value,
        "problem": problem,
    }

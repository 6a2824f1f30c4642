"""Reading tabular files that people upload: text decoding, yes/no cells, choices by value or label, row messages.

Shared by every file import (contacts, the ledger), so that they read files and name bad rows alike.
"""

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

YES = frozenset({"yes", "y", "true", "1", "是"})
NO = frozenset({"no", "n", "false", "0", "否", ""})


def decode_text(data: bytes) -> str:
    """Return the text of a file in UTF-8 (with or without a byte-order mark) or GB18030 (what Chinese Excel writes)."""
    # GB18030 decodes almost any bytes, so UTF-8 is tried first: a UTF-8 file is never misread.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030").removeprefix("\ufeff")


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

"""What an error answer may echo of what was sent: values cut to ``ECHO_MAX`` characters, and personal
numbers masked for callers who may not see them.

Applied to every error answer as it is rendered (``backoffice.kernel.api.renderers``), so that every
endpoint, and the answer an ``Idempotency-Key`` keeps, gets it.
"""

import json
import re

ECHO_MAX = 200
MESSAGE_MAX = 500
# Fields that hold a personal number (ID card, mobile or any phone number), by their name.
_PERSONAL_NUMBER = re.compile(r"national_id|mobile|phone")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


def _masked(text: str) -> str:
    return "*" * len(text) if len(text) < 8 else f"{'*' * (len(text) - 4)}{text[-4:]}"


def _echoed(value: object, personal: bool) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if personal:
        return _masked(_cut(text, ECHO_MAX))
    return value if len(text) <= ECHO_MAX else _cut(text, ECHO_MAX)


def _cleaned(error: dict, full_numbers: bool) -> dict:
    value, message = error.get("value"), str(error.get("message", ""))
    personal = not full_numbers and bool(_PERSONAL_NUMBER.search(str(error.get("field") or "")))
    echoed = _echoed(value, personal)
    if isinstance(value, str) and value and echoed != value:
        message = message.replace(value, str(echoed))
    return {**error, "value": echoed, "message": _cut(message, MESSAGE_MAX)}


def errors_cleaned(data: object, *, full_numbers: bool) -> object:
    """Return an answer's body with its error rows fit to echo: long values cut, personal numbers masked.

    Personal numbers (ID card, mobile, phone fields) stay whole only for callers who may see full
    numbers; any other body is returned as it is.
    """
    if not (isinstance(data, dict) and isinstance(data.get("errors"), list)):
        return data
    errors = [_cleaned(error, full_numbers) if isinstance(error, dict) else error for error in data["errors"]]
    return {**data, "errors": errors}

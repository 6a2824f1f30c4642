"""Case numbers as people quote them (``C00000042``)."""


def case_number(pk: int | None) -> str:
    """Format a case id as its number."""
    return f"C{pk:08d}" if pk else "—"


def case_id_from_number(text: str) -> int | None:
    """Return the id in a case number such as ``C00000042`` (or ``c42``), or ``None``."""
    text = text.strip().upper()
    if len(text) > 1 and text[0] == "C" and text[1:].isdigit():
        return int(text[1:])
    return None

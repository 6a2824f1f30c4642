"""Check a whole ledger file, then apply it in committed batches through the ledger's services.

Every row is checked before anything is written: its cells, then against the database in batches
(unknown lines, references used for another payment, amendments without a reason). One bad row
refuses the whole file, every bad row named by row, column and value. A good file is applied in
batches of ``BATCH_SIZE`` rows, one transaction each, so a million rows never hold one long
transaction; a batch of payments then brings its lines' cases up to date. Payments are read once,
into a staging table as they are checked, and applied from it sorted by line and time received
(``staged_rows``), so each line's cases are refreshed once. Applying the same file again changes
nothing: upserts skip unchanged rows and payments are recorded once per reference.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice.kernel.bulksql import retried_on_deadlock
from backoffice.kernel.streams import run_in_streams, streams_possible
from backoffice.ledger_import.kinds import KINDS, OMITTED, Column, Problem, Row
from backoffice.ledger_import.reading import is_xlsx, records
from backoffice.ledger_import.staged_rows import staging_table
from backoffice.sameday import lines_refresh

BATCH_SIZE = 5000
# Connections a staged file's batches are applied on (PostgreSQL, outside a transaction): while one
# batch's statements run on the server the next is prepared in Python (``backoffice.kernel.streams``).
STREAMS = 2
PREVIEW_ROWS = 20
# A file in the wrong layout fails on every row; past this many problems the rest are only counted.
MAX_PROBLEMS_LISTED = 10_000
# The readings of distinct cells a column remembers while a file is parsed (``_RowParser``).
_KNOWN_CELLS = 50_000

Progress = Callable[[int], None]


def may_import_ledger(user: AbstractBaseUser) -> bool:
    """Return whether ``user`` may import ledger files: superusers only, as the lending system's data is at stake."""
    return bool(user.is_active and user.is_superuser)


def columns_of(kind: str) -> tuple[Column, ...]:
    """Return the columns of a kind of file, for its documentation."""
    return KINDS[kind].columns


@dataclass
class Check:
    """What checking a file found: its rows, a preview of the first ones, and every problem."""

    kind: str
    header: list[str] = field(default_factory=list)
    preview: list[tuple[int, list[str]]] = field(default_factory=list)
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the file may be imported."""
        return self.problem_count == 0

    def add(self, problems: list[str]) -> None:
        """Count problems, listing the first ``MAX_PROBLEMS_LISTED``."""
        self.problems += problems[: max(MAX_PROBLEMS_LISTED - len(self.problems), 0)]
        self.problem_count += len(problems)

    def messages(self) -> list[str]:
        """Return every listed problem, and how many more there were."""
        hidden = self.problem_count - len(self.problems)
        more = ngettext("… and %(n)d more problem.", "… and %(n)d more problems.", hidden) % {"n": hidden}
        return self.problems + ([more] if hidden else [])


@dataclass
class Outcome:
    """What an import did, by count: created, updated, unchanged, or payments recorded and replayed."""

    kind: str
    rows: int
    counts: Counter

    def summary(self) -> str:
        """Return one sentence for people."""
        numbers = {name: self.counts[name] for name in ("created", "updated", "unchanged", "recorded", "replayed")}
        rows = ngettext("%(rows)d row", "%(rows)d rows", self.rows) % {"rows": self.rows}
        if self.kind == "payments":
            recorded = (
                ngettext("%(recorded)d payment recorded", "%(recorded)d payments recorded", numbers["recorded"])
                % numbers
            )
            resolved = self.counts["cases_resolved"]
            cases = ngettext("%(resolved)d case resolved", "%(resolved)d cases resolved", resolved) % {
                "resolved": resolved
            }
            return _("%(rows)s: %(recorded)s, %(replayed)d replayed (recorded before); %(cases)s.") % {
                "rows": rows,
                "recorded": recorded,
                "replayed": numbers["replayed"],
                "cases": cases,
            }
        return _("%(rows)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "rows": rows,
            **numbers,
        }


def ledger_file_check(
    *,
    data: bytes,
    kind: str,
    batch_size: int = BATCH_SIZE,
    on_rows: Progress | None = None,
    on_good: Callable[[list[Row]], None] | None = None,
) -> Check:
    """Check every row of a file of ``kind`` without writing anything; return the preview and every problem.

    ``on_good`` is given each batch of rows as long as no problem was found, so that a caller can
    keep the rows of a good file (a staging table) without reading it twice.
    """
    check = Check(kind=kind)
    try:
        source = records(data)
        _number, header = next(source, (1, []))
        index, problems = _header_index(KINDS[kind].columns, header)
        check.header = [column.name for column in KINDS[kind].columns if column.name in index]
        check.add(problems)
        if problems:
            return check
        seen: dict[object, int] = {}
        for parsed, consumed in _batches(source, kind, index, batch_size, strict_width=not is_xlsx(data)):
            _preview(check, [row for row, _problems in parsed])
            check.rows += len(parsed)
            good = [row for row, problems in parsed if not problems]
            problems = [problem for _row, problems in parsed for problem in problems]
            problems += _repeated(good, kind, seen) + KINDS[kind].check(good)
            check.add(sorted(problems, key=lambda problem: getattr(problem, "row", 0)))
            if on_good and check.ok:
                on_good(good)
            if on_rows:
                on_rows(consumed)
    except ValidationError as exc:
        check.add(exc.messages)
    if check.ok and not check.rows:
        check.add([_("The file has a header row but no row below it.")])
    return check


def ledger_file_import(
    *,
    data: bytes,
    kind: str,
    actor: AbstractBaseUser | None,
    batch_size: int = BATCH_SIZE,
    on_checked: Progress | None = None,
    on_applied: Progress | None = None,
    checked: bool = False,
    streams: int = STREAMS,
) -> Outcome:
    """Check a whole file, then apply it in committed batches; raise ``ValidationError`` naming every bad row.

    ``actor`` is who imports (None: the system, no permission check); the services record it.
    ``checked`` says the file passed ``ledger_file_check`` as ``kind`` already (the admin's preview):
    it is not read twice, each batch is only checked again against the ledger just before it is applied.
    A kind with ``staged_columns`` (payments) is read once into a staging table, checked whole
    (again, if ``checked``) before anything is applied, and applied from there a line at a time, on
    ``streams`` connections at once where it can (PostgreSQL, called outside a transaction).
    """
    if actor is not None and not may_import_ledger(actor):
        raise PermissionDenied(_("Only superusers may import ledger files."))
    if KINDS[kind].staged_columns:
        return _import_staged(data, kind, actor, batch_size, on_checked, on_applied, checked=checked, streams=streams)
    if not checked:
        check = ledger_file_check(data=data, kind=kind, batch_size=batch_size, on_rows=on_checked)
        if not check.ok:
            raise ValidationError(check.messages())
    counts: Counter = Counter()
    rows = 0
    for parsed, consumed in _parsed(data, kind, batch_size):
        if checked:
            _recheck(parsed, kind, imported=rows)
        rows += len(parsed)
        try:
            counts += _apply_batch([row for row, _problems in parsed], kind, actor)
        except _Refused as refused:
            raise refused.error(done=counts) from refused.cause
        if on_applied:
            on_applied(consumed)
    return Outcome(kind=kind, rows=rows, counts=counts)


def _parsed(data: bytes, kind: str, batch_size: int) -> Iterator[tuple[list[tuple[Row, list[str]]], int]]:
    source = records(data)
    _number, header = next(source)
    index, _problems = _header_index(KINDS[kind].columns, header)
    yield from _batches(source, kind, index, batch_size, strict_width=not is_xlsx(data))


def _import_staged(
    data: bytes,
    kind: str,
    actor: AbstractBaseUser | None,
    batch_size: int,
    on_checked: Progress | None,
    on_applied: Progress | None,
    *,
    checked: bool,
    streams: int,
) -> Outcome:
    """Read the file once into a staging table, checking it whole, then apply it from there a line at a time."""
    spec = KINDS[kind]
    with staging_table(spec.staged_columns) as table:

        def stage(rows: list[Row]) -> None:
            table.add([(row.number, *spec.staged(row)) for row in rows])

        if checked:
            # The preview checked the file; the ledger may have changed since: check each batch against it again.
            problems: list[str] = []
            for parsed, consumed in _parsed(data, kind, batch_size):
                batch_problems = [problem for _row, row_problems in parsed for problem in row_problems]
                batch_problems = batch_problems or spec.check([row for row, _problems in parsed])
                problems += batch_problems
                if not problems:
                    stage([row for row, _problems in parsed])
                if on_checked:
                    on_checked(consumed)
            if problems:
                stopped = _("The ledger changed since the preview; nothing was imported.")
                raise ValidationError([ValidationError(message, code="changed") for message in (stopped, *problems)])
        else:
            check = ledger_file_check(data=data, kind=kind, batch_size=batch_size, on_rows=on_checked, on_good=stage)
            if not check.ok:
                raise ValidationError(check.messages())
        counts: Counter = Counter()
        group = [name for name, _type in table.columns].index(spec.staged_group)

        def jobs() -> Iterator[tuple[Callable[[], tuple[int, Counter]], bool]]:
            last = None
            for values in table.batches(order=spec.staged_order, group=spec.staged_group, size=batch_size):
                rows = spec.unstaged(values)
                # A line split over two batches (its rows fill one alone): the second waits for the first.
                yield partial(_apply_counted, rows, kind, actor), values[0][group] == last
                last = values[-1][group]

        def applied(result: tuple[int, Counter]) -> None:
            nonlocal counts
            counts += result[1]
            if on_applied:
                on_applied(result[0])

        try:
            run_in_streams(jobs(), streams=streams_possible(streams), on_result=applied)
        except _Refused as refused:
            raise refused.error(done=counts) from refused.cause
        return Outcome(kind=kind, rows=table.rows, counts=counts)


def _recheck(parsed: list[tuple[Row, list[str]]], kind: str, *, imported: int) -> None:
    problems = [problem for _row, problems in parsed for problem in problems]
    if not problems:
        problems = KINDS[kind].check([row for row, _problems in parsed])
    if problems:
        # The ledger changed since the preview (a line closed, a reference used): stop before this batch.
        stopped = (
            _("The ledger changed since the preview; the rows imported before are kept.")
            + " "
            + ngettext("%(done)d row was imported.", "%(done)d rows were imported.", imported) % {"done": imported}
        )
        raise ValidationError([ValidationError(message, code="interrupted") for message in (stopped, *problems)])


class _Refused(Exception):
    """A batch the ledger refused when it was applied: its rows, and why."""

    def __init__(self, rows: list[Row], cause: ValidationError) -> None:
        super().__init__(cause.messages)
        self.numbers, self.cause = sorted(row.number for row in rows), cause

    def error(self, *, done: Counter) -> ValidationError:
        """Return the error for people, with the rows imported (and kept) by the batches that committed.

        Those are the batches before it, and on two streams perhaps the one applied beside it.
        """
        shown = ", ".join(str(number) for number in self.numbers[:10]) + (", …" if len(self.numbers) > 10 else "")
        kept = _rows_applied(done)
        return ValidationError(
            ngettext(
                "A batch of rows was refused (%(error)s): rows %(rows)s. The %(done)d row imported by the batches "
                "that committed is kept.",
                "A batch of rows was refused (%(error)s): rows %(rows)s. The %(done)d rows imported by the batches "
                "that committed are kept.",
                kept,
            )
            % {"rows": shown, "error": " ".join(self.cause.messages), "done": kept},
            code="interrupted",
        )


def _apply_batch(rows: list[Row], kind: str, actor: AbstractBaseUser | None) -> Counter:
    """Apply one batch in its own transaction; raise ``_Refused`` if the ledger refuses it."""
    if not rows:
        return Counter()

    def apply() -> Counter:
        with transaction.atomic():
            counts, paid_lines = KINDS[kind].apply(rows, actor)
            if paid_lines:
                # In the batch's transaction, which holds the lines' locks since it changed their
                # bills: a night batch on them waits for it, or it for the night (``accounts.locks``).
                counts["cases_resolved"] += lines_refresh(line_ids=sorted(paid_lines))
            return counts

    try:
        # The night's message planning checks its rows' lines at commit, not in id order: the database
        # may break a deadlock with it by failing the batch, which then simply runs again.
        return retried_on_deadlock(apply, what="ledger import batch")
    except ValidationError as exc:
        # Only a change made by someone else since the check gets here; the batches before are kept.
        raise _Refused(rows, exc) from exc


def _apply_counted(rows: list[Row], kind: str, actor: AbstractBaseUser | None) -> tuple[int, Counter]:
    return len(rows), _apply_batch(rows, kind, actor)


def _rows_applied(counts: Counter) -> int:
    # Rows, not every count: cases resolved are counted beside the rows that resolved them.
    return sum(counts[name] for name in ("created", "updated", "unchanged", "recorded", "replayed"))


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _header_index(columns: tuple[Column, ...], header: list[str]) -> tuple[dict[str, int], list[str]]:
    names = {_normal(column.name): column.name for column in columns} | {
        column.alias: column.name for column in columns
    }
    index, problems = {}, []
    for position, cell in enumerate(header):
        name = names.get(_normal(cell)) or names.get(cell.strip())
        if not cell.strip():
            continue
        if name is None:
            known = ", ".join(f"{column.name} ({column.alias})" for column in columns)
            problems.append(
                _("Column %(column)r is unknown; the columns are: %(known)s.") % {"column": cell, "known": known}
            )
        elif name in index:
            problems.append(_("Column %(column)r appears twice.") % {"column": name})
        else:
            index[name] = position
    problems += [
        _("Column %(column)r is missing.") % {"column": column.name}
        for column in columns
        if column.required and column.name not in index
    ]
    return index, problems


def _batches(
    source: Iterator[tuple[int, list[str]]], kind: str, index: dict[str, int], size: int, *, strict_width: bool
) -> Iterator[tuple[list[tuple[Row, list[str]]], int]]:
    """Yield each batch's non-blank rows with their problems, and how many records (blank ones too) it took."""
    parse = _RowParser(KINDS[kind].columns, index, strict_width=strict_width)
    parsed, consumed = [], 0
    for number, cells in source:
        consumed += 1
        if "".join(cells).strip():  # not a blank row (one test per row, not per cell)
            parsed.append(parse(number, cells))
        if consumed == size:
            yield parsed, consumed
            parsed, consumed = [], 0
    if consumed:
        yield parsed, consumed


class _RowParser:
    """Parse the rows of one file into their values and problems.

    A file repeats itself: the same lines, amounts, channels and times come back row after row. A
    cell whose text its column has read before takes that reading again (a value, or the problem
    with it) rather than parsing it anew; every parser is a pure function of the text, and the
    values are immutable. ``_KNOWN_CELLS`` bounds what a column remembers.
    """

    def __init__(self, columns: tuple[Column, ...], index: dict[str, int], *, strict_width: bool) -> None:
        """Read cells by ``index`` (column name to position) for ``columns``."""
        self.columns, self.index, self.strict_width = columns, index, strict_width
        self.width = max(index.values()) + 1
        self.positions = list(index.items())
        self.known: dict[str, dict[str, tuple[bool, object]]] = {column.name: {} for column in columns}

    def __call__(self, number: int, cells: list[str]) -> tuple[Row, list[str]]:
        """Return the row numbered ``number`` and its problems."""
        width, count = self.width, len(cells)
        raw = {name: cells[position].strip() for name, position in self.positions if position < count}
        if (self.strict_width and count != width) or any(cell.strip() for cell in cells[width:]):
            message = _("Row %(row)d has %(found)d values; the header has %(expected)d columns.") % {
                "row": number,
                "found": count,
                "expected": width,
            }
            return Row(number, raw), [Problem(message, number)]
        row = Row(number, raw)
        values, problems = row.values, []
        for column in self.columns:
            name = column.name
            text = raw.get(name, "")
            if not text:
                if column.default is not OMITTED:
                    values[name] = column.default
                elif column.required:
                    problems.append(row.problem(name, _("a value is required.")))
                continue
            known = self.known[name]
            reading = known.get(text)
            if reading is None:
                try:
                    reading = (True, column.parse(text))
                except ValueError as problem:
                    reading = (False, str(problem))
                if len(known) >= _KNOWN_CELLS:
                    known.clear()
                known[text] = reading
            parsed, value = reading
            if parsed:
                values[name] = value
            else:
                problems.append(row.problem(name, value))
        return row, problems


def _repeated(rows: list[Row], kind: str, seen: dict[object, int]) -> list[str]:
    problems = []
    for row in rows:
        key = KINDS[kind].key(row)
        if key in seen:
            problems.append(
                _("Row %(row)d repeats row %(earlier)d of the file.") % {"row": row.number, "earlier": seen[key]}
            )
        else:
            seen[key] = row.number
    return problems


def _preview(check: Check, rows: list[Row]) -> None:
    for row in rows[: max(PREVIEW_ROWS - len(check.preview), 0)]:
        check.preview.append((row.number, [row.raw.get(name, "") for name in check.header]))

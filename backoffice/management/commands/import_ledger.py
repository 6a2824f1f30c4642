"""``manage.py import_ledger FILE --kind KIND``: check a ledger file whole, then apply it in committed batches."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from backoffice.kernel.progress import progress_bar
from backoffice.ledger_import.importing import BATCH_SIZE, STREAMS, ledger_file_check, ledger_file_import
from backoffice.ledger_import.kinds import KINDS
from backoffice.ledger_import.reading import ledger_file_read, record_count


class Command(BaseCommand):
    """Import customers, credit lines, bills or payments from a CSV (UTF-8 or GB18030) or XLSX file."""

    help = (
        "Import a ledger file (CSV in UTF-8 or GB18030, or XLSX; header row; columns in the README). "
        "Every row is checked first: one bad row refuses the whole file and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare FILE, --kind, --dry-run, --batch-size and --streams."""
        parser.add_argument("file", help="Path of the CSV or XLSX file.")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS), help="What the file holds.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file only; write nothing.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument(
            "--streams",
            type=int,
            default=STREAMS,
            help=f"Connections a payments file's batches are applied on at once (PostgreSQL; 1-8, default {STREAMS}).",
        )

    def handle(self, *args: object, **options: object) -> None:
        """Check the file, then import it (unless --dry-run); print the counts, or every bad row."""
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not 1 <= options["streams"] <= 8:
            raise CommandError(f"--streams {options['streams']}: must be between 1 and 8.")
        try:
            with open(options["file"], "rb") as file:
                data = ledger_file_read(file)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}.") from None
        except ValidationError as exc:
            raise CommandError("\n".join(["File refused; nothing was imported.", *exc.messages])) from None
        try:
            total = record_count(data) if sys.stderr.isatty() else 0
        except ValidationError as exc:
            raise CommandError("\n".join(["File refused; nothing was imported.", *exc.messages])) from None
        if options["dry_run"]:
            self._dry_run(data, options["kind"], options["batch_size"], total)
            return
        with (
            progress_bar(total=total, description="Checking", unit="rows") as checking,
            progress_bar(total=total, description="Importing", unit="rows") as importing,
        ):
            try:
                outcome = ledger_file_import(
                    data=data,
                    kind=options["kind"],
                    actor=None,
                    batch_size=options["batch_size"],
                    streams=options["streams"],
                    on_checked=checking.update,
                    on_applied=importing.update,
                )
            except ValidationError as exc:
                stopped = any(error.code == "interrupted" for error in exc.error_list)
                first = "Import stopped." if stopped else "File refused; nothing was imported."
                raise CommandError("\n".join([first, *exc.messages])) from None
            except DatabaseError as exc:
                # Each batch commits on its own: those before the failing one are kept, and importing again resumes.
                raise CommandError(
                    f"Import stopped by the database ({exc}); batches already committed are kept."
                ) from None
        self.stdout.write(outcome.summary())

    def _dry_run(self, data: bytes, kind: str, batch_size: int, total: int) -> None:
        with progress_bar(total=total, description="Checking", unit="rows") as checking:
            check = ledger_file_check(data=data, kind=kind, batch_size=batch_size, on_rows=checking.update)
        if not check.ok:
            raise CommandError("\n".join(["File refused (dry run).", *check.messages()]))
        rows = f"{check.rows} row" if check.rows == 1 else f"{check.rows} rows"
        self.stdout.write(f"{rows} checked; the file can be imported (dry run: nothing was written).")

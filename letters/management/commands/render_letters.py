"""``manage.py render_letters``: render every letter waiting for its PDF, on every core."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.kernel.progress import progress_bar
from letters.batch import render_waiting
from letters.choices import LetterStatus
from letters.models import Letter


class Command(BaseCommand):
    """Render waiting drafts; each then awaits approval."""

    help = "Render every draft letter that has no PDF yet, using all cores."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --processes."""
        parser.add_argument("--processes", type=int, default=None, help="Worker processes (default: every core).")

    def handle(self, *args: object, **options: object) -> None:
        """Render, with a progress bar on a terminal."""
        if options["processes"] is not None and options["processes"] < 1:
            raise CommandError(f"--processes {options['processes']} must be at least 1.")
        waiting = Letter.objects.filter(status=LetterStatus.DRAFT).count()
        with progress_bar(total=waiting, description="Rendering", unit="letters") as bar:
            done = render_waiting(processes=options["processes"], on_progress=bar.update)
        self.stdout.write(f"Rendered {done} letter(s); they now await approval.")

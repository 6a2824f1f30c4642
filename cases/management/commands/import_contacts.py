"""``manage.py import_contacts FILE``: store the contacts of a CSV file, or refuse the whole file."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.contacts.imports import contacts_import


class Command(BaseCommand):
    """Import contacts made outside the back office (an agency's upload, a telephony export)."""

    help = (
        "Import contacts from a CSV file (UTF-8 or GB18030, header row; see cases/imports.py for the columns). "
        "Every row is checked first: one bad row refuses the whole file and nothing is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare FILE and --user."""
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument(
            "--user", default=None, help="Username of the person importing (default: the system, no permission check)."
        )

    def handle(self, *args: object, **options: object) -> None:
        """Import the file and print what was stored, or the rows that refused it."""
        actor = self._user(options["user"]) if options["user"] else None
        try:
            with open(options["file"], "rb") as file:
                result = contacts_import(file=file, actor=actor)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}.") from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("\n".join(["File refused; nothing was imported.", *exc.messages])) from None
        self.stdout.write(result.summary())

    def _user(self, username: str) -> object:
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user {username!r}: no user with this username.") from None

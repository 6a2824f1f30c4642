"""``DatabaseStorage``: Django's storage API over the ``StoredFile`` table.

Why the database: the web, worker and scheduler machines of a deployment all reach it already, so a PDF
a worker renders is read by the web machine that shows it for approval and by the one that e-mails it,
with no other service, mount or credential to run. A letter's row and its PDF are written in one
transaction (a draft rolled back leaves no file behind) and backed up together, so the hash a legal
reviewer approved and the bytes it names can never come from two different backups. Letters are tens of
kilobytes; the price is a database that grows with them, which the retention command bounds.

Files are written once: a name taken gets another (``get_available_name``), as on a file system, and
nothing is opened for writing in place.
"""

import io
from urllib.parse import urljoin

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri

from backoffice.kernel.files.models import StoredFile


def _content(name: str) -> bytes:
    content = StoredFile.objects.filter(name=name).values_list("content", flat=True).first()
    if content is None:
        raise FileNotFoundError(f"No stored file is named {name!r}.")
    return bytes(content)


class StoredContent(File):
    """A stored file opened for reading; opened again after it was closed, it is read again from the database."""

    def open(self, mode: str | None = None) -> "StoredContent":
        """Rewind, or read the file again if it was closed (as a file on disk is reopened)."""
        if self.closed:
            self.file = io.BytesIO(_content(self.name))
        else:
            self.seek(0)
        return self


@deconstructible
class DatabaseStorage(Storage):
    """Files kept in the database (``StoredFile``), read and written through Django's storage API."""

    def _open(self, name: str, mode: str = "rb") -> File:
        if any(flag in mode for flag in "wa+"):
            raise ValueError(f"Stored files are written once through save(), not opened with mode {mode!r}.")
        return StoredContent(io.BytesIO(_content(name)), name=name)

    def _save(self, name: str, content: File) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        data = b"".join(content.chunks()) if hasattr(content, "chunks") else content.read()
        StoredFile.objects.create(name=name, content=data, size=len(data))
        return name

    def exists(self, name: str) -> bool:
        """Say whether a file of that name is stored."""
        return StoredFile.objects.filter(name=name).exists()

    def delete(self, name: str) -> None:
        """Delete the file of that name, if there is one."""
        StoredFile.objects.filter(name=name).delete()

    def size(self, name: str) -> int:
        """Return the stored file's size in bytes."""
        size = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"No stored file is named {name!r}.")
        return size

    def get_created_time(self, name: str) -> object:
        """Return when the file was stored."""
        stored_at = StoredFile.objects.filter(name=name).values_list("stored_at", flat=True).first()
        if stored_at is None:
            raise FileNotFoundError(f"No stored file is named {name!r}.")
        return stored_at

    get_modified_time = get_created_time
    get_accessed_time = get_created_time

    def url(self, name: str) -> str:
        """The file's address under MEDIA_URL, as the file system storage gives (served by the views that check access)."""
        return urljoin(settings.MEDIA_URL, filepath_to_uri(name))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """List the files directly under ``path`` and the folders below it."""
        prefix = f"{path.rstrip('/')}/" if path else ""
        names = StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        folders, files = set(), []
        for name in names:
            rest = name[len(prefix) :]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(folders), sorted(files)

"""Stored files in the database every machine shares: Django's storage API over ``StoredFile``."""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from backoffice.kernel.files.models import StoredFile
from backoffice.kernel.files.storage import DatabaseStorage


def test_a_file_is_saved_read_listed_and_deleted_through_the_storage_api(db):
    storage = DatabaseStorage()
    name = storage.save("letters/2026/LF-1.pdf", ContentFile(b"%PDF-1.7 one"))
    again = storage.save("letters/2026/LF-1.pdf", ContentFile(b"%PDF-1.7 two"))
    assert name == "letters/2026/LF-1.pdf"
    # A name taken gets another; nothing is overwritten.
    assert again != name
    assert again.startswith("letters/2026/LF-1_")
    with storage.open(name) as handle:
        assert handle.read() == b"%PDF-1.7 one"
    assert (storage.exists(name), storage.size(again)) == (True, len(b"%PDF-1.7 two"))
    assert storage.listdir("letters") == (["2026"], [])
    assert storage.listdir("letters/2026") == ([], sorted([name.split("/")[-1], again.split("/")[-1]]))
    storage.delete(name)
    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_a_stored_file_is_never_opened_for_writing_in_place(db):
    storage = DatabaseStorage()
    name = storage.save("seal.png", ContentFile(b"\x89PNG"))
    for mode in ("wb", "ab", "r+b"):
        with pytest.raises(ValueError, match="written once"):
            storage.open(name, mode)


def test_a_file_saved_in_a_transaction_that_rolls_back_is_not_kept(db):
    class Rollback(Exception):
        pass

    def draft_then_fail() -> None:
        with transaction.atomic():
            DatabaseStorage().save("letters/draft.pdf", ContentFile(b"%PDF"))
            raise Rollback

    with pytest.raises(Rollback):
        draft_then_fail()
    assert not StoredFile.objects.exists()

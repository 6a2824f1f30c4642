"""A letter rendered on one machine is shown, approved and re-hashed on another, each with its own local folder:
the PDF is in the storage every machine shares (FILE_STORAGE=database)."""

import hashlib
import subprocess
import sys

import pytest
from django.test import override_settings
from django.urls import reverse

from backoffice.kernel.files.models import StoredFile
from letters.choices import LetterStatus
from letters.models import Letter
from letters.services import letter_approve, letter_draft
from tests.worker import ROOT, worker_environment

LOCAL = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _render_on_another_machine(tmp_path, **extra: str) -> subprocess.CompletedProcess:
    """Run ``render_letters`` as a worker machine does: its own process, its own local folder."""
    environment = worker_environment(MEDIA_ROOT=str(tmp_path / "worker-media"), **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "render_letters", "--processes", "1"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _draft(legal_case, lawyer_template, agent):
    return letter_draft(case=legal_case, template=lawyer_template, actor=agent, render=False)


@pytest.mark.django_db(transaction=True)
def test_a_letter_a_worker_renders_is_shown_and_approved_on_the_web_machine(
    on_postgres,
    shipped_data,
    tmp_path,
    settings,
    client,
    legal_case,
    lawyer_template,
    agent,
    legal,
):
    settings.MEDIA_ROOT = tmp_path / "web-media"
    drafted = _draft(legal_case, lawyer_template, agent)
    rendered = _render_on_another_machine(tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    letter = Letter.objects.get(pk=drafted.pk)
    assert letter.status == LetterStatus.PENDING_APPROVAL

    client.force_login(legal)
    response = client.get(reverse("admin:letters_letter_pdf", args=[letter.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == letter.pdf_sha256
    assert letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256).status == LetterStatus.APPROVED
    # Neither machine's own folder holds the letter: it is where both read it.
    for folder in (tmp_path / "web-media", tmp_path / "worker-media"):
        assert not folder.exists() or not any(path.is_file() for path in folder.rglob("*"))
    assert StoredFile.objects.filter(name=letter.pdf.name).exists()


@pytest.mark.django_db(transaction=True)
def test_with_local_folders_the_web_machine_cannot_read_what_the_worker_rendered(
    on_postgres,
    shipped_data,
    tmp_path,
    settings,
    client,
    legal_case,
    lawyer_template,
    agent,
    legal,
):
    # What the shared storage prevents: each machine's own folder, and a review page that cannot show the letter.
    settings.MEDIA_ROOT = tmp_path / "web-media"
    with override_settings(STORAGES=LOCAL):
        drafted = _draft(legal_case, lawyer_template, agent)
        rendered = _render_on_another_machine(tmp_path, FILE_STORAGE="local")
        assert rendered.returncode == 0, rendered.stderr
        letter = Letter.objects.get(pk=drafted.pk)
        client.force_login(legal)
        response = client.get(reverse("admin:letters_letter_pdf", args=[letter.pk]))
    assert response.status_code == 409
    assert any(path.is_file() for path in (tmp_path / "worker-media").rglob("*.pdf"))

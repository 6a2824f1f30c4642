"""Rendering tries are counted in the database; a letter failing its last try waits for a person, who retries it.

Without a broker, letters render in-process (``render_letters``, the drafting process); with one, the drafts
go to the ``letters`` queue of the local Redis in chunks, and the sweep queues again only after a lease.
"""

import base64
import datetime
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from backoffice import celery_app
from backoffice.worker_shape import consumes_letters, letters_worker_limits
from letters.choices import IN_FLIGHT_STATUSES, LetterStatus
from letters.models import Letter
from letters.render_queue import letters_render_sweep
from letters.services import letter_draft, letter_render_retry, letters_render
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 3, 20)


def break_snapshot(letter):
    """Freeze a snapshot the template cannot render: the verification address it prints is missing."""
    snapshot = dict(letter.snapshot)
    snapshot["letter"] = {key: value for key, value in snapshot["letter"].items() if key != "verify_url"}
    Letter.objects.filter(pk=letter.pk).update(snapshot=snapshot)


@pytest.fixture
def draft(legal_case, lawyer_template, agent):
    """A letter drafted and left for ``render_letters`` (as the night drafts)."""
    return letter_draft(case=legal_case, template=lawyer_template, actor=agent, render=False, as_of=AS_OF)


@pytest.fixture
def failed(draft, settings):
    break_snapshot(draft)
    for _try in range(settings.LETTERS_RENDER_MAX_ATTEMPTS):
        letters_render(letter_ids=[draft.pk])
    draft.refresh_from_db()
    return draft


def test_a_drafted_letter_rendered_in_process_counts_one_try_and_a_repeat_renders_nothing(draft):
    assert letters_render(letter_ids=[draft.pk]) == 1
    assert letters_render(letter_ids=[draft.pk]) == 0
    draft.refresh_from_db()
    assert (draft.status, draft.render_attempts, draft.render_error) == (LetterStatus.PENDING_APPROVAL, 1, "")


def test_a_letter_failing_to_render_stays_a_draft_with_its_error_until_its_third_try_fails(draft, capsys):
    break_snapshot(draft)
    for attempt in (1, 2):
        call_command("render_letters", "--processes", "1")
        draft.refresh_from_db()
        assert (draft.status, draft.render_attempts) == (LetterStatus.DRAFT, attempt)
        assert draft.render_error == "KeyError: 'verify_url'"
    call_command("render_letters", "--processes", "1")
    draft.refresh_from_db()
    assert (draft.status, draft.render_attempts) == (LetterStatus.RENDER_FAILED, 3)
    assert draft.render_error == "KeyError: 'verify_url'"
    assert not draft.pdf
    call_command("render_letters", "--processes", "1")  # a failed letter waits for a person, not for the command
    draft.refresh_from_db()
    assert (draft.status, draft.render_attempts) == (LetterStatus.RENDER_FAILED, 3)
    assert "Rendered 0 letter(s)" in capsys.readouterr().out


def test_tries_count_across_the_drafting_process_and_render_letters(draft):
    break_snapshot(draft)
    letters_render(letter_ids=[draft.pk])  # as the drafting process does after its commit
    call_command("render_letters", "--processes", "1")
    draft.refresh_from_db()
    assert draft.render_attempts == 2


def test_a_letter_whose_rendering_failed_still_holds_its_case(failed, lawyer_template, agent):
    assert LetterStatus.RENDER_FAILED in IN_FLIGHT_STATUSES
    with pytest.raises(ValidationError, match=r"already has letter .* \(rendering failed\)"):
        letter_draft(case=failed.case, template=lawyer_template, actor=agent, as_of=AS_OF)


def test_the_letters_list_filters_waiting_and_failed_renderings_and_counts_them(client, legal, failed):
    client.force_login(legal)
    url = reverse("admin:letters_letter_changelist")
    page = client.get(url).content.decode()
    assert "Waiting to render (0)" in page
    assert "Rendering failed (1)" in page
    assert failed.number in client.get(url, {"rendering": "failed"}).content.decode()
    assert failed.number not in client.get(url, {"rendering": "waiting"}).content.decode()
    refused = client.get(url, {"rendering": "lost"})
    assert refused.status_code == 302
    assert "e=1" in refused["Location"]
    queue = client.get(reverse("admin:letters_letterawaitingapproval_changelist")).content.decode()
    assert "0 letters wait to be rendered" in queue
    assert "1 letter failed rendering" in queue
    review = client.get(reverse("admin:letters_letter_change", args=[failed.pk])).content.decode()
    assert "KeyError: &#x27;verify_url&#x27;" in review


def test_the_retry_action_confirms_then_renders_the_letter_again_and_leaves_who_did_it(
    client, legal, failed, lawyer_template, django_capture_on_commit_callbacks
):
    client.force_login(legal)
    url = reverse("admin:letters_letter_changelist")
    selected = {"action": "retry_rendering", "_selected_action": [str(failed.pk)]}
    confirmation = client.post(url, selected)
    assert confirmation.status_code == 200
    assert failed.number in confirmation.content.decode()
    assert "verify_url" in confirmation.content.decode()
    assert Letter.objects.get(pk=failed.pk).status == LetterStatus.RENDER_FAILED
    # The person fixed what failed (here: the address the letter prints is put back) before retrying.
    fixed = dict(failed.snapshot)
    fixed["letter"] = {**fixed["letter"], "verify_url": f"http://127.0.0.1/verify/{failed.number}/X/"}
    Letter.objects.filter(pk=failed.pk).update(snapshot=fixed)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**selected, "confirm": "yes"})
    failed.refresh_from_db()
    assert (failed.status, failed.render_attempts, failed.render_error) == (LetterStatus.PENDING_APPROVAL, 1, "")
    assert (failed.render_retried_by, failed.render_retried_at is not None) == (legal, True)
    assert LogEntry.objects.get(object_id=str(failed.pk)).get_change_message() == "Rendering retried after it failed."


def test_retrying_needs_the_permission_and_a_letter_whose_rendering_failed(client, agent, legal, failed):
    with pytest.raises(PermissionDenied):
        letter_render_retry(letter=failed, actor=agent)
    client.force_login(agent)
    assert "retry_rendering" not in client.get(reverse("admin:letters_letter_changelist")).content.decode()
    Letter.objects.filter(pk=failed.pk).update(status=LetterStatus.DRAFT)
    with pytest.raises(ValidationError, match="is Draft: only a letter whose rendering failed is retried"):
        letter_render_retry(letter=failed, actor=legal)


def test_a_letters_worker_is_recycled_every_thousand_letters_or_past_its_memory_ceiling():
    assert consumes_letters("celery,letters,dispatch")
    assert consumes_letters(["letters"])
    assert not consumes_letters("celery,dispatch,messages")
    assert not consumes_letters(None)
    limits = letters_worker_limits(chunk=25, max_memory_mb=400)
    assert limits == {"worker_max_tasks_per_child": 40, "worker_max_memory_per_child": 400 * 1024}


def test_the_queues_are_routed_by_task_name():
    celery_app.loader.import_default_modules()
    route = celery_app.amqp.router.route
    queues = {name: route({}, name)["queue"].name for name in celery_app.conf.task_routes}
    assert queues == {
        "letters.render": "letters",
        "letters.render_sweep": "letters",
        "letters.send_due": "dispatch",
        "cases.outreach.poll": "messages",
        "cases.outreach.send": "messages",
    }
    assert route({}, "backoffice.webhooks.poll")["queue"].name == "celery"
    assert {"letters.render", "letters.render_sweep"} <= set(celery_app.tasks)
    assert celery_app.conf.beat_schedule["letters-render-sweep"]["task"] == "letters.render_sweep"


def queued_ids(client) -> list[list[int]]:
    """Return the letter ids of each rendering task waiting on the letters queue (kombu's Redis messages)."""
    messages = [json.loads(raw) for raw in client.lrange("letters", 0, -1)]
    assert all(message["headers"]["task"] == "letters.render" for message in messages)
    return sorted(json.loads(base64.b64decode(message["body"]))[0][0] for message in messages)


def test_with_a_broker_the_nights_drafts_go_to_the_letters_queue_in_chunks_once_committed(
    broker, firm, run_dunning, django_capture_on_commit_callbacks, settings
):
    settings.LETTERS_RENDER_CHUNK = 2
    for _line in range(3):
        overdue_line(due=datetime.date(2026, 1, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_dunning(AS_OF).letters_drafted == 3
    drafted = list(Letter.objects.order_by("id").values_list("id", flat=True))
    assert queued_ids(broker) == [drafted[:2], drafted[2:]]
    # Queued, not rendered here: this process only published the tasks.
    assert set(Letter.objects.values_list("status", "render_attempts")) == {(LetterStatus.DRAFT, 0)}
    assert Letter.objects.filter(render_queued_at__isnull=True).count() == 0


def test_with_a_broker_a_person_s_draft_is_queued_once_it_commits(
    broker, legal_case, lawyer_template, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letter = letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=AS_OF)
    assert broker.llen("letters") == 0  # nothing before the commit
    for callback in callbacks:
        callback()
    assert queued_ids(broker) == [[letter.pk]]


def test_the_sweep_queues_drafts_left_waiting_and_queues_them_again_only_after_a_lease(broker, draft, settings):
    assert letters_render_sweep(limit=100) == 1
    assert queued_ids(broker) == [[draft.pk]]
    assert letters_render_sweep(limit=100) == 0  # within its lease: no duplicate
    draft.refresh_from_db()
    after_the_lease = draft.render_queued_at + datetime.timedelta(seconds=settings.LETTERS_RENDER_LEASE_SECONDS + 1)
    assert letters_render_sweep(limit=100, now=after_the_lease) == 1
    assert queued_ids(broker) == [[draft.pk], [draft.pk]]
    letters_render(letter_ids=[draft.pk])
    assert letters_render_sweep(limit=100, now=after_the_lease + datetime.timedelta(days=1)) == 0

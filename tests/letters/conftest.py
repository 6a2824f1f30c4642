import datetime

import pytest

from backoffice import celery_app
from cases.models import Case
from letters.models import LetterTemplate
from letters.services import letter_approve, letter_draft
from tests.factories import law_firm_with_lawyer, overdue_line
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture of these tests
from tests.worker import BROKER, redis_or_skip

DUE = datetime.date(2026, 1, 10)


@pytest.fixture
def firm(db, legal):
    return law_firm_with_lawyer(legal)


@pytest.fixture
def lawyer_template(firm):
    return LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans", is_active=True)


@pytest.fixture
def legal_case(run_dunning):
    line = overdue_line(due=DUE, principal_fen=654_321)
    customer = line.customer
    customer.name, customer.address, customer.email = (
        "欧阳娜娜",
        "广东省深圳市南山区科技园路 88 号 3 栋 1201",
        "nana@example.com",
    )
    customer.save()
    run_dunning(datetime.date(2026, 3, 20))
    return Case.objects.with_customer().get(credit_line=line)


@pytest.fixture
def draft_rendered(django_capture_on_commit_callbacks):
    """Draft a letter as a person does: it is rendered once the drafting transaction has committed."""

    def draft(**options):
        with django_capture_on_commit_callbacks(execute=True):
            letter = letter_draft(**options)
        letter.refresh_from_db()
        return letter

    return draft


@pytest.fixture
def letter(legal_case, lawyer_template, agent, draft_rendered):
    return draft_rendered(case=legal_case, template=lawyer_template, actor=agent, as_of=datetime.date(2026, 3, 20))


@pytest.fixture
def approved(letter, legal):
    """The letter, approved by a lawyer of its firm."""
    return letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)


def _broker_connections_dropped() -> None:
    """Drop the app's cached broker connections, so its next message goes to the broker its settings now name.

    The app keeps the connection pool it made on its first message; an earlier test whose eager tasks
    made one (to the default broker) would otherwise receive this test's messages.
    """
    celery_app._pool = None  # not closed: kombu's registry of producer pools may hand it out again
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


def publish_to_the_tests_redis(settings, monkeypatch) -> None:
    """Make this process publish its tasks to the tests' Redis, as a back office with a broker does."""
    settings.CELERY_BROKER_URL = BROKER
    monkeypatch.setitem(celery_app.conf, "broker_url", BROKER)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    _broker_connections_dropped()


@pytest.fixture
def broker(settings, monkeypatch):
    """This process publishes to the tests' Redis (emptied first); yield the Redis client."""
    client = redis_or_skip()
    publish_to_the_tests_redis(settings, monkeypatch)
    yield client
    client.flushdb()
    _broker_connections_dropped()  # the next test's messages go where its own settings say

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.client import RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR, apply_roles
from backoffice.night import dunning_run
from tests.factories import user_in
from tests.kernel.aliyun_fake import FakeAliyunSms
from tests.kernel.push_fake import FakePushService


@pytest.fixture
def agent(db):
    return user_in(AGENT, "agent-t")


@pytest.fixture
def legal(db):
    return user_in(LEGAL, "legal-t")


@pytest.fixture
def supervisor(db):
    return user_in(SUPERVISOR, "supervisor-t")


@pytest.fixture
def run_dunning(db):
    """Run the set-based dunning run for a date, in small batches so that batching is exercised."""

    def run(as_of: datetime.date, **options):
        options.setdefault("batch_size", 3)
        return dunning_run(as_of=as_of, **options)

    return run


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"


def pytest_configure(config):
    """The tests' client talks to the back office as the TLS proxy in front of it does.

    With DEBUG off, plain HTTP is redirected to HTTPS and cookies are Secure: the proxy ends TLS and says
    so in ``X-Forwarded-Proto``. A test that means to arrive by plain HTTP sends ``http`` itself.
    """
    plain = RequestFactory._base_environ

    def behind_the_proxy(self, **request):
        environ = plain(self, **request)
        environ.setdefault("HTTP_X_FORWARDED_PROTO", "https")
        return environ

    RequestFactory._base_environ = behind_the_proxy


@pytest.fixture(autouse=True)
def _static_files_uncollected(settings):
    """Templates name static files as they are in the apps; ``make serve`` collects them (tested on its own)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_delivery_thread(settings):
    """Commits wake no webhook delivery thread; the webhook tests that test that thread turn it back on."""
    settings.EVENTS_ON_COMMIT = None


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def shipped_data(transactional_db):
    """Put back what the data migrations ship, which a previous transactional test flushed."""
    if Group.objects.exists():
        return
    # The letters' data migration names the phrase lists where they were then (letters, not cases):
    # it runs against the models as they stood before they moved; the others against today's.
    before_the_move = MigrationLoader(connection).project_state(("letters", "0003_letter_approval_queue"), at_end=True)
    for module, function, models in [
        ("cases.migrations.0002_shipped_policies", "create_policies", django_apps),
        ("letters.migrations.0002_shipped_templates_and_phrases", "load", before_the_move.apps),
        ("cases.migrations.0004_shipped_policy_letters", "name_letters", django_apps),
        ("letters.migrations.0006_template_codes_shared_by_their_languages", "share_codes", django_apps),
        ("cases.migrations.0006_shipped_rule_packs", "create", django_apps),
        ("cases.migrations.0014_us_rolling_rule", "set_rolling_rule", django_apps),
        ("cases.migrations.0026_shipped_reminders", "create", django_apps),
        ("backoffice.migrations.0031_nightly_dunning_run_entry", "create", django_apps),
    ]:
        getattr(importlib.import_module(module), function)(models, None)
    apply_roles(django_apps)


@pytest.fixture(autouse=True)
def _language_of_the_settings():
    """Each test starts in the settings' language: a request's LocaleMiddleware leaves its own active in the thread."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _throttles_counted_afresh():
    """Each test starts with no request counted by the API's throttles (they count in the cache)."""
    cache.clear()


@pytest.fixture
def root(db):
    """A superuser: who creates the API clients and subscriptions of a test."""
    return User.objects.create_superuser("root", password="pw-123456")


@pytest.fixture
def machine(root):
    """A client of the lending system holding ``scopes``, authenticated by its bearer token."""

    def make(*scopes: str) -> APIClient:
        name = f"core-{len(scopes)}-{'-'.join(scopes)}"[:100]  # the name's column holds 100
        _client, token = api_client_create(name=name, scopes=list(scopes), actor=root)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api

    return make


@pytest.fixture
def aliyun(settings):
    """Send SMS through Alibaba Cloud's SendSms, faked on 127.0.0.1 (it checks our signature)."""
    fake = FakeAliyunSms().start()
    settings.SMS_PROVIDER = "aliyun"
    settings.OUTBOUND_PROVIDERS = {
        **settings.OUTBOUND_PROVIDERS,
        "sms": "backoffice.kernel.outbound.aliyun.AliyunSmsProvider",
    }
    settings.ALIYUN_SMS_ACCESS_KEY_ID = fake.access_key_id
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = fake.secret
    settings.ALIYUN_SMS_SIGN_NAME = "示例消费金融"
    settings.ALIYUN_SMS_ENDPOINT = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def push_service(settings):
    """Send app pushes to the lender's push service, faked on 127.0.0.1 (it checks our signature)."""
    service = FakePushService().start()
    settings.OUTBOUND_PROVIDERS = {
        **settings.OUTBOUND_PROVIDERS,
        "push": "backoffice.kernel.outbound.push.PushProvider",
    }
    settings.PUSH_SERVICE_URL = service.url
    settings.PUSH_SIGNING_SECRET = service.secret
    settings.WEBHOOK_HTTPS_ONLY = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    yield service
    service.stop()

"""Settings for the collections back office, read from the environment.

Variables: DATABASE_URL, REDIS_URL, CACHE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, TIME_ZONE, LANGUAGE_CODE, CELERY_BROKER_URL
the WEBHOOK_*, EMAIL_*, SMS_*, ALIYUN_SMS_* and PUSH_* ones below.
A bad value stops start-up with a message naming the variable.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.envconfig import (
    env_bool,
    env_choice,
    env_clock,
    env_int,
    env_list,
    env_networks,
    env_require,
    env_secret,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)

# The demo's own key (make run, DEBUG on): never accepted with DEBUG off.
DEMO_SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 - refused unless DEBUG is on
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = DEMO_SECRET_KEY
elif not DEBUG and (len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or SECRET_KEY == DEMO_SECRET_KEY):
    raise ImproperlyConfigured(
        f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters and not the demo's own when DEBUG is off "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )

# The previous key(s) while a rotation is under way: signatures made with them are still accepted.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    # Sign-in: failed logins counted per username and address (lockouts), and the optional second factor.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Beat's schedule in the database (its screens are replaced by backoffice.schedule.admin).
    "django_celery_beat",
    "backoffice",
    "accounts",
    "cases",
    "letters",
]

MIDDLEWARE = [
    # First: a load balancer's probe is answered before host checks, redirects and sessions.
    "backoffice.kernel.serving.HealthCheckMiddleware",
    "backoffice.kernel.serving.RequestLogMiddleware",
    "backoffice.kernel.serving.BodyCeilingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "backoffice.kernel.api.middleware.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "backoffice.kernel.signin.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a refused (locked out) login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# A change's reason is kept whole: an amendment's reason (up to 500 characters) or a reversal's, not cut at 100.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

ROOT_URLCONF = "backoffice.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "backoffice.wsgi.application"


def _database_from_url() -> dict:
    url = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'backoffice.sqlite3'}"
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not a database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue
        # instead of failing half-way; WAL lets readers go on while the dunning run writes.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    elif engine.endswith("postgresql"):
        config.setdefault("CONN_MAX_AGE", 60)
        config.setdefault("CONN_HEALTH_CHECKS", True)
    else:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r}: only sqlite:// and postgres:// are supported.")
    return config


DATABASES = {"default": _database_from_url()}


REDIS_URL = env_str("REDIS_URL") or None


def _cache_from_url() -> dict:
    if REDIS_URL:
        url = env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss"))
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "backoffice"}
    url = env_str("CACHE_URL") or "locmemcache://"
    try:
        return environ.Env.cache_url_config(url)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"CACHE_URL={url!r} is not a cache URL: {exc}") from None


# The API's throttles, the verification page's rate limit and the locks count in this cache: with several
# processes or machines it must be shared, so production sets REDIS_URL (redis://host:6379/1); without
# it each process keeps its own in memory, which is right for one process only (make run, the tests).
CACHES = {"default": _cache_from_url()}

# Sessions end after SESSION_IDLE_MINUTES without a request, and when the browser closes. They live in the
# shared cache when there is one (no query a page); otherwise in the database, which every process reads.
SESSION_ENGINE = "django.contrib.sessions.backends.cache" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session's idle clock is pushed on at most this often, so a page costs no session write in between.
SESSION_TOUCH_SECONDS = 60

# Secure by default with DEBUG off: TLS is ended by the proxy in front, which says so in X-Forwarded-Proto
# (tools that talk plain HTTP on 127.0.0.1, such as the tests, send that header too).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's probe speaks plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, maximum=2 * 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # security.W021 asks for HSTS preload. Being on the browsers' preload list cannot be undone for months,
    # and binds every subdomain of the lender's domain: the lender's decision (SECURE_HSTS_PRELOAD=true).
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# Browser features no screen uses are switched off.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# Content Security Policy: every script, style, image and frame comes from the back office itself; no inline
# script, no inline style, no plugin, no other site framing it. Inline data reaches scripts as json_script.
# QR codes are shown as inline PNGs (data:); the letter review page frames its own PDF.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in. Failed logins are counted per username and client address together: after AXES_FAILURE_LIMIT in a
# row, that username from that address is refused for AXES_COOLOFF_MINUTES or until a supervisor unlocks it
# (Sign-in lockouts in the admin). Locking by address alone would lock out a whole call centre behind one
# proxy, and by username alone would let anyone lock anyone out; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=3, maximum=100)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1, maximum=24 * 60)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: trying again while locked out does not push it further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Logins are logged by the security log (by user id); axes keeps no second log of them with addresses.
AXES_DISABLE_ACCESS_LOG = True
# A failure's record keeps the form as posted, these fields masked.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token", "csrfmiddlewaretoken"]
AXES_LOCKOUT_CALLABLE = "backoffice.kernel.signin.lockout.lockout_response"
# The address is the client's as the proxies in front saw it (backoffice.kernel.addresses, TRUSTED_PROXY_HOPS).
AXES_CLIENT_IP_CALLABLE = "backoffice.kernel.addresses.client_address"
# Supervisors unlock from the admin's own screen (backoffice.kernel.signin.admin), not axes' one.
AXES_ENABLE_ADMIN = False
# axes logs through its own logger with the username as typed: the security log has the events by ids.
AXES_VERBOSE = False
# A second factor (TOTP) is offered to everyone; these roles cannot reach any screen without one
# (comma-separated: agent, agency, legal, supervisor, superuser; none by default).
OTP_REQUIRED_FOR_ROLES = env_list("OTP_REQUIRED_FOR_ROLES", [])
_OTP_ROLE_NAMES = ("agent", "agency", "legal", "supervisor", "superuser")
if unknown_roles := sorted(set(OTP_REQUIRED_FOR_ROLES) - set(_OTP_ROLE_NAMES)):
    raise ImproperlyConfigured(
        f"OTP_REQUIRED_FOR_ROLES: {', '.join(unknown_roles)} is not one of {', '.join(_OTP_ROLE_NAMES)}."
    )
# The devices' admin never shows a secret key, its QR code or its configuration URL: whoever reads one can
# make the holder's codes. A person enrols (and sees their own secret once) on the second-factor page.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# The issuer an authenticator app shows beside the login.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or "Collections back office"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_time_zone("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT") or BASE_DIR / "staticfiles"
# With DEBUG off, static files are served by whitenoise from STATIC_ROOT (collectstatic), under hashed
# names with compressed copies, so they can be cached for ever.
# Stored files (letters' PDFs, seals): FILE_STORAGE=database keeps them in the database every machine
# shares (the default with DEBUG off: web, worker and scheduler may run on different machines);
# FILE_STORAGE=local keeps them under MEDIA_ROOT on this machine (the demo's default).
FILE_STORAGE = env_choice("FILE_STORAGE", "local" if DEBUG else "database", ["local", "database"])
STORAGES = {
    "default": {
        "BACKEND": {
            "local": "django.core.files.storage.FileSystemStorage",
            "database": "backoffice.kernel.files.storage.DatabaseStorage",
        }[FILE_STORAGE]
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "backoffice.kernel.staticstorage.StaticStorage"
    },
}

# Everything sent to a customer goes through backoffice.kernel.outbound, one provider per channel.
# EMAIL_PROVIDER=smtp sends through EMAIL_HOST; the default prints headers only (the demo).
EMAIL_PROVIDER = env_choice("EMAIL_PROVIDER", "console", ["console", "smtp"])
EMAIL_BACKEND = {
    "console": "backoffice.kernel.outbound.email.HeadersOnlyConsoleBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}[EMAIL_PROVIDER]
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=120)
# The right-hand side of the Message-IDs we give e-mails (a name of ours, not the machine's).
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN") or "backoffice.invalid"
# SMS_PROVIDER=aliyun sends through Alibaba Cloud SMS (templates only); the default prints headers only.
SMS_PROVIDER = env_choice("SMS_PROVIDER", "console", ["console", "aliyun"])
if SMS_PROVIDER == "aliyun":
    env_require(
        ["ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"],
        because="when SMS_PROVIDER=aliyun",
    )
ALIYUN_SMS_ACCESS_KEY_ID = (env_str("ALIYUN_SMS_ACCESS_KEY_ID") or "").strip()
ALIYUN_SMS_ACCESS_KEY_SECRET = (env_str("ALIYUN_SMS_ACCESS_KEY_SECRET") or "").strip()
# The sign (签名) Alibaba approved, printed as 【…】 at the head of every SMS.
ALIYUN_SMS_SIGN_NAME = (env_str("ALIYUN_SMS_SIGN_NAME") or "").strip()
ALIYUN_SMS_ENDPOINT = env_url("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_CONNECT_TIMEOUT = env_int("ALIYUN_SMS_CONNECT_TIMEOUT", 3, minimum=1, maximum=30)
ALIYUN_SMS_READ_TIMEOUT = env_int("ALIYUN_SMS_READ_TIMEOUT", 5, minimum=1, maximum=60)
# Alibaba's receipt and reply pushes are not signed: the URLs given to it carry this secret instead.
# Blank closes both endpoints.
SMS_RECEIPT_SECRET = env_secret("SMS_RECEIPT_SECRET", minimum_length=32)
# PUSH_PROVIDER=http posts app pushes, signed, to the lender's push service; the default prints headers only.
PUSH_PROVIDER = env_choice("PUSH_PROVIDER", "console", ["console", "http"])
if PUSH_PROVIDER == "http":
    env_require(["PUSH_SERVICE_URL", "PUSH_SIGNING_SECRET"], because="when PUSH_PROVIDER=http")
PUSH_SERVICE_URL = env_url("PUSH_SERVICE_URL", "https://push.invalid/")
PUSH_SIGNING_SECRET = (env_str("PUSH_SIGNING_SECRET") or "").strip()
OUTBOUND_PROVIDERS = {
    "email": "backoffice.kernel.outbound.email.EmailProvider",
    "sms": {
        "console": "backoffice.kernel.outbound.console.ConsoleProvider",
        "aliyun": "backoffice.kernel.outbound.aliyun.AliyunSmsProvider",
    }[SMS_PROVIDER],
    "push": {
        "console": "backoffice.kernel.outbound.console.ConsoleProvider",
        "http": "backoffice.kernel.outbound.push.PushProvider",
    }[PUSH_PROVIDER],
}

LOGIN_URL = "admin:login"

PORT = env_int("PORT", 8000, minimum=1)

# How many credit lines the dunning run takes per transaction. Bigger batches mean fewer
# round trips; smaller ones mean a killed run loses less work and holds locks for less time.
DUNNING_BATCH_SIZE = env_int("DUNNING_BATCH_SIZE", 50000, minimum=1, maximum=1_000_000)
# The night's lease: how long a run holds it without renewing before another start may take it over;
# how often a failing batch is tried before the run stops, and the pause before the second try (doubling).
DUNNING_LEASE_SECONDS = env_int("DUNNING_LEASE_SECONDS", 900, minimum=10, maximum=86_400)
DUNNING_BATCH_ATTEMPTS = env_int("DUNNING_BATCH_ATTEMPTS", 3, minimum=1, maximum=10)
DUNNING_BATCH_RETRY_SECONDS = env_int("DUNNING_BATCH_RETRY_SECONDS", 2, minimum=0, maximum=300)
# By when (business time) the night of the day must have finished; later, the dashboard and the log say so.
NIGHT_DEADLINE = env_clock("NIGHT_DEADLINE", "06:00")
# How often beat looks for a night late or a lease expired (seconds).
NIGHT_WATCH_SECONDS = env_int("NIGHT_WATCH_SECONDS", 300, minimum=30, maximum=3600)

# The largest ledger file (CSV or XLSX) one import takes, from the admin or import_ledger.
LEDGER_IMPORT_MAX_BYTES = env_int("LEDGER_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024, maximum=2**31)
# The largest request body any screen takes (the largest upload, a ledger file, and a form's other fields),
# refused before it is read; the API has its own ceiling below.
REQUEST_MAX_BYTES = LEDGER_IMPORT_MAX_BYTES + 1024 * 1024

# Settlements and write-offs above this amount (fen: the amount settled, or the balance written off) take a
# second approval, by a collections manager, after a supervisor's.
SECOND_APPROVAL_ABOVE_FEN = env_int("SECOND_APPROVAL_ABOVE_FEN", 5_000_000, minimum=0, maximum=2**62)

# The lending system's API: bearer tokens of API clients (no HTTP Basic), or a person's admin session.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backoffice.kernel.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["backoffice.kernel.api.auth.ScopeOrModelPermission"],
    # JSON only: no browsable HTML pages (they would show what the JSON masks), no forms; no endpoint takes files.
    "DEFAULT_RENDERER_CLASSES": ["backoffice.kernel.api.renderers.ApiJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["backoffice.kernel.api.parsers.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["backoffice.kernel.api.auth.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "client": env_str("API_THROTTLE_RATE", "6000/minute"),
        "anonymous": env_str("API_ANONYMOUS_THROTTLE_RATE", "120/minute"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "backoffice.kernel.api.schema.DocumentedErrorsSchema",
    "EXCEPTION_HANDLER": "backoffice.kernel.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

# The largest request body the API takes. The largest request it documents is 1,000 contacts, each
# with every text at its longest (5,798 characters, 5,000 of them notes), each character written as
# a JSON escape (6 bytes, as a client that escapes all non-ASCII text sends it), plus ~500 bytes of
# names and punctuation a row: 1,000 x (5,798 x 6 + 500) = 35.3 MB, so 36 MiB by default. Django's
# own ceiling for a body read into memory is the same.
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 36 * 1024 * 1024, minimum=1024 * 1024, maximum=2**30)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_REQUEST_BYTES

# How long an API client's Idempotency-Key and the answer stored with it are kept: answers carry personal
# data, so they go when a retry is no longer plausible (``purge_idempotency_keys`` deletes them).
API_IDEMPOTENCY_HOURS = env_int("API_IDEMPOTENCY_HOURS", 24, minimum=24, maximum=24 * 30)

# Personal data (PIPL). Everyone sees ID and mobile numbers masked; a person who sees more than
# REVEAL_ALERT_PER_DAY full numbers in a day (reveals and searches by the whole number alike) is shown to
# the supervisors on the dashboard and reported as a security event.
REVEAL_ALERT_PER_DAY = env_int("REVEAL_ALERT_PER_DAY", 20, minimum=1, maximum=100_000)
# How long personal data is kept once collecting is over; ``purge_personal_data`` replaces what expired by
# a marker, leaving the ledger's amounts (the README gives the reasons for each default). In years:
# a customer whose lines and cases are all closed, after the last case closed, bill fell due or payment came;
RETENTION_CUSTOMER_YEARS = env_int("RETENTION_CUSTOMER_YEARS", 5, minimum=3, maximum=30)
# a letter's PDF, addressee and the address it went to, after its case closed;
RETENTION_LETTER_YEARS = env_int("RETENTION_LETTER_YEARS", 5, minimum=3, maximum=30)
# a contact's recording reference, number called and notes, after the contact, once its case is closed.
RETENTION_CONTACT_YEARS = env_int("RETENTION_CONTACT_YEARS", 5, minimum=2, maximum=30)

SPECTACULAR_SETTINGS = {
    "TITLE": "Collections back office API",
    "DESCRIPTION": "How the lender's core system feeds the ledger and reads cases. Amounts are yuan as decimal strings.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"StageEnum": "cases.choices.Stage", "LanguageEnum": "accounts.choices.Language"},
}

# The task engine. With CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) a worker and one beat deliver
# webhooks; without it (the embedded default) a commit wakes a delivery thread of the process and
# ``deliver_events`` (cron) retries. Every task keeps this baseline: acknowledged only when done,
# re-queued if its worker dies, one message at a time, redelivered by Redis after minutes, not an hour;
# no countdowns or ETAs (a due time in a column that a periodic task polls); keyed by ids, idempotent.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=5, maximum=3600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so nothing for ``celery.backend_cleanup`` to clean: beat schedules no entry for it.
CELERY_RESULT_EXPIRES = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How often beat asks for due webhook deliveries (seconds); a poll not run by then expires.
WEBHOOK_POLL_SECONDS = env_int("WEBHOOK_POLL_SECONDS", 30, minimum=1, maximum=300)
# Messages to customers: how often beat asks for due ones, how many one sending task takes, how many
# one poll queues, how long a claim lasts before another worker may take the message, how often a
# refused message is tried.
MESSAGE_POLL_SECONDS = env_int("MESSAGE_POLL_SECONDS", 30, minimum=1, maximum=300)
MESSAGE_CHUNK = env_int("MESSAGE_CHUNK", 100, minimum=1, maximum=10_000)
MESSAGE_POLL_BATCH = env_int("MESSAGE_POLL_BATCH", 20_000, minimum=1, maximum=1_000_000)
MESSAGE_LEASE_SECONDS = env_int("MESSAGE_LEASE_SECONDS", 300, minimum=30, maximum=3600)
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
# How often beat asks for letters due to be e-mailed (seconds); ``send_letters`` (cron) does the same without beat.
LETTERS_POLL_SECONDS = env_int("LETTERS_POLL_SECONDS", 60, minimum=5, maximum=3600)
# Rendering letters with a broker: each drafted letter is queued once its draft commits, LETTERS_RENDER_CHUNK
# letter ids a task. Beat's sweep, every LETTERS_RENDER_SWEEP_SECONDS, queues at most LETTERS_RENDER_SWEEP_BATCH
# drafts still waiting (drafted while no worker ran, or a failed try) whose last queueing is older than
# LETTERS_RENDER_LEASE_SECONDS. A letter whose rendering fails LETTERS_RENDER_MAX_ATTEMPTS times waits for a
# person (rendering failed). A letters worker's processes are replaced after 1,000 letters or once they hold
# more than LETTERS_WORKER_MAX_MEMORY_MB (measured: ~166 MB after 100 letters, ~168 MB after 1,000).
LETTERS_RENDER_CHUNK = env_int("LETTERS_RENDER_CHUNK", 25, minimum=1, maximum=1000)
LETTERS_RENDER_SWEEP_SECONDS = env_int("LETTERS_RENDER_SWEEP_SECONDS", 60, minimum=1, maximum=3600)
LETTERS_RENDER_SWEEP_BATCH = env_int("LETTERS_RENDER_SWEEP_BATCH", 10_000, minimum=1, maximum=1_000_000)
LETTERS_RENDER_LEASE_SECONDS = env_int("LETTERS_RENDER_LEASE_SECONDS", 600, minimum=1, maximum=24 * 3600)
LETTERS_RENDER_MAX_ATTEMPTS = env_int("LETTERS_RENDER_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
LETTERS_WORKER_MAX_MEMORY_MB = env_int("LETTERS_WORKER_MAX_MEMORY_MB", 400, minimum=200, maximum=16_000)
# The queues, which workers consume by name (``-Q``): ``celery`` the night and webhooks (the default),
# ``letters`` rendering, ``dispatch`` letters' e-mail, ``messages`` the customers' messages.
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Imported by every worker at start: it gives a worker of the letters queue its recycling and warm fonts.
CELERY_IMPORTS = ["backoffice.worker_shape"]
CELERY_TASK_ROUTES = {
    "letters.render": {"queue": "letters"},
    "letters.render_sweep": {"queue": "letters"},
    "letters.send_due": {"queue": "dispatch"},
    "cases.outreach.poll": {"queue": "messages"},
    "cases.outreach.send": {"queue": "messages"},
}
# Beat reads its schedule from the database (django-celery-beat): the night's entry is made by a data
# migration and changed in the admin, a supervisor's change approved by a second one. The polls below are
# written into it at each start of beat (their interval and expiry come from this environment).
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "webhooks-poll": {
        "task": "backoffice.webhooks.poll",
        "schedule": float(WEBHOOK_POLL_SECONDS),
        "options": {"expire_seconds": WEBHOOK_POLL_SECONDS},
    },
    "messages-poll": {
        "task": "cases.outreach.poll",
        "schedule": float(MESSAGE_POLL_SECONDS),
        "options": {"expire_seconds": MESSAGE_POLL_SECONDS},
    },
    "night-watch": {
        "task": "backoffice.night.watch",
        "schedule": float(NIGHT_WATCH_SECONDS),
        "options": {"expire_seconds": NIGHT_WATCH_SECONDS},
    },
    "letters-send-due": {
        "task": "letters.send_due",
        "schedule": float(LETTERS_POLL_SECONDS),
        "options": {"expire_seconds": LETTERS_POLL_SECONDS},
    },
    "letters-render-sweep": {
        "task": "letters.render_sweep",
        "schedule": float(LETTERS_RENDER_SWEEP_SECONDS),
        "options": {"expire_seconds": LETTERS_RENDER_SWEEP_SECONDS},
    },
}

# Webhooks: who is told when events commit, and the body each event is sent as (the pull feed's).
EVENTS_ON_COMMIT = "backoffice.kernel.webhooks.dispatch.webhooks_wake"
EVENT_REPRESENTATION = "backoffice.api.events.events_represent"
# Subscriber URLs must be https unless this is off (a test receiver, a closed network).
WEBHOOK_HTTPS_ONLY = env_bool("WEBHOOK_HTTPS_ONLY", default=not DEBUG)
# App pushes travel by the same transport: refuse at start an http push service it would refuse at each send.
if PUSH_PROVIDER == "http" and WEBHOOK_HTTPS_ONLY and not PUSH_SERVICE_URL.startswith("https://"):
    raise ImproperlyConfigured(f"PUSH_SERVICE_URL={PUSH_SERVICE_URL!r} must be https while WEBHOOK_HTTPS_ONLY is on.")
# Deliveries run inside our network, so they go to public addresses only: never loopback, private,
# link-local (cloud metadata), multicast or reserved ones, unless in one of these networks (CIDR, e.g.
# 10.20.0.0/16 for a lender reached over a private link, 127.0.0.1/32 for a receiver on this machine).
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS", [])
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 3, minimum=1, maximum=30)
WEBHOOK_READ_TIMEOUT = env_int("WEBHOOK_READ_TIMEOUT", 10, minimum=1, maximum=60)
# A delivery failing for this long (from its first attempt) is dead; at least a day.
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24, minimum=24, maximum=24 * 14)
# How long a runner holds a claimed delivery before another may take it (longer than one attempt can last).
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 300, minimum=60, maximum=3600)
# Deliveries one poll queues at most.
WEBHOOK_POLL_BATCH = env_int("WEBHOOK_POLL_BATCH", 500, minimum=1, maximum=100_000)

# Requests (one JSON line each) and security events go out as JSON lines on standard error, for the log
# shipper; neither ever carries personal data or a letter's content.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "cases": {"level": "INFO"},
        "accounts": {"level": "INFO"},
        "letters": {"level": "INFO"},
        "backoffice.webhooks": {"level": "INFO"},
        "backoffice.requests": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "backoffice.security": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
}

MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
# Letters' PDFs and other stored files are readable by the owner only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# The creditor as letters name it, and where customers pay and object.
CREDITOR = {
    "name": env_str("CREDITOR_NAME") or "示例消费金融有限公司 (Demo Consumer Finance Co., Ltd.)",
    "address": env_str("CREDITOR_ADDRESS") or "北京市朝阳区示例路 1 号 (1 Example Road, Chaoyang, Beijing)",
    "payment_account": env_str("CREDITOR_PAYMENT_ACCOUNT")
    or "示例银行北京分行 6222 0000 0000 0001 (Demo Bank Beijing, account 6222 0000 0000 0001)",
    "dispute_contact": env_str("CREDITOR_DISPUTE_CONTACT") or "400-000-0000 / disputes@example.com",
}
# Days a letter gives the customer to pay, counted from its date.
LETTER_DEADLINE_DAYS = env_int("LETTER_DEADLINE_DAYS", 15, minimum=1, maximum=90)
# The public verification page. A letter number answers "try again later" to everyone for
# VERIFY_COOL_OFF_MINUTES after VERIFY_NUMBER_FAILURES wrong tries for it (whether it exists or not), and so
# does one address after VERIFY_ADDRESS_FAILURES wrong tries, counted in the shared cache. The address is the
# client's as the proxy in front says it in X-Forwarded-For, TRUSTED_PROXY_HOPS proxies from the right (0: the
# connection's own address), so that everyone behind a shared proxy is not one address.
VERIFY_NUMBER_FAILURES = env_int("VERIFY_NUMBER_FAILURES", 5, minimum=1, maximum=100)
VERIFY_ADDRESS_FAILURES = env_int("VERIFY_ADDRESS_FAILURES", 20, minimum=1, maximum=100_000)
VERIFY_COOL_OFF_MINUTES = env_int("VERIFY_COOL_OFF_MINUTES", 15, minimum=1, maximum=24 * 60)
# With DEBUG off the back office is served behind one TLS proxy (make serve); make run is reached directly.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0 if DEBUG else 1, minimum=0, maximum=5)
# Where the verification QR code points; the public address of this back office.
LETTER_VERIFY_BASE_URL = (env_str("LETTER_VERIFY_BASE_URL") or f"http://127.0.0.1:{PORT}").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "letters@example.com"
# Who is told by e-mail of a change to users, their roles or permissions (comma-separated addresses).
ADMINS = [(address, address) for address in env_list("SECURITY_ALERT_EMAILS", [])]
SERVER_EMAIL = env_str("SERVER_EMAIL") or DEFAULT_FROM_EMAIL
# An e-mailed letter the mail server refuses is tried again, waiting LETTER_EMAIL_RETRY_SECONDS, then twice as
# long after each refusal, LETTER_EMAIL_MAX_ATTEMPTS tries in all; then it waits for a person (dispatch failed).
LETTER_EMAIL_MAX_ATTEMPTS = env_int("LETTER_EMAIL_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
LETTER_EMAIL_RETRY_SECONDS = env_int("LETTER_EMAIL_RETRY_SECONDS", 300, minimum=1, maximum=24 * 3600)
# How long a runner holds a claimed try before another may take it: longer than one SMTP conversation can last.
LETTER_EMAIL_LEASE_SECONDS = env_int("LETTER_EMAIL_LEASE_SECONDS", 600, minimum=60, maximum=3600)
# Letters one poll (or one ``send_letters``) tries at most.
LETTERS_SEND_BATCH = env_int("LETTERS_SEND_BATCH", 200, minimum=1, maximum=10_000)

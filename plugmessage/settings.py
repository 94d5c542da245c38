"""PlugMessage settings, read from the environment (django-environ).

Every default is the embedded one used by ``make run``: SQLite and the Celery
filesystem broker under ``var/``, console email, local-memory cache. Setting
``DATABASE_URL`` and ``REDIS_URL`` moves the same code onto PostgreSQL and Redis.
DEBUG is off unless the environment turns it on.
"""

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import csp.constants
import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The default key is only good for development: `check --deploy` flags it
# (security.W009) until SECRET_KEY is set in the environment.
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-development-key-do-not-use-in-production",
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")
# The name customers read in emails (greeting, signature, subject prefix).
SITE_NAME = env("SITE_NAME", default="PlugMessage")

INSTALLED_APPS = [
    "accounts",
    "plugmessage",
    "instances",
    "webhooks",
    "billing",
    "support",
    "privacy",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "allauth",
    "allauth.account",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Answers the unchanged QR poll before the rest (see its docstring).
    "instances.middleware.QrPollMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# bench/ serves a constant view beside the real URLs with ROOT_URLCONF=bench.urls.
ROOT_URLCONF = env("ROOT_URLCONF", default="plugmessage.urls")
WSGI_APPLICATION = "plugmessage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "plugmessage.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite under var/ by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
# Connections are kept between requests and tasks (a new PostgreSQL
# connection costs more than the queries of a send). A connection that fails
# (PostgreSQL restarted) is closed at the end of its request or task, and the
# next one opens a new connection; CONN_HEALTH_CHECKS instead tests each one
# before reuse, at the price of a round trip per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "CONN_HEALTH_CHECKS", default=False
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement run a few times on a
    # connection prepared once: PostgreSQL then skips parsing and planning
    # it (a send's two statements, every task's claims). Behind a pooler in
    # transaction mode (PgBouncer) set DATABASE_PREPARE_THRESHOLD=0.
    _prepare = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=_prepare or None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a Celery worker started by a test sees it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# How long plugmessage.locks waits for a row another transaction holds before
# giving up with LockTimeout (PostgreSQL's lock_timeout, per transaction).
LOCK_TIMEOUT_MS = env.int("LOCK_TIMEOUT_MS", default=5000)

# Redis, when given, carries Celery (its own database number) and the cache and
# sessions (the next database number, so flushing the cache never drops tasks).
REDIS_URL = env("REDIS_URL", default="")


def _next_redis_db(url: str) -> str:
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db + 1}"))


if REDIS_URL:
    # Django's Redis cache with one client per process (not one per call)
    # that misses and drops writes while Redis is down instead of raising
    # (plugmessage/cache.py); the timeouts bound what a Redis that stopped
    # answering costs a request before the cache pauses.
    CACHES = {
        "default": {
            "BACKEND": "plugmessage.cache.RedisCache",
            "LOCATION": env("REDIS_CACHE_URL", default=_next_redis_db(REDIS_URL)),
            "KEY_PREFIX": "plugmessage",
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CACHE_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_CACHE_TIMEOUT", default=1.0),
            },
        }
    }
else:
    # Files under var/, so the web, worker and beat processes share one cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Sessions are read from the cache (no query per request) and written
# through to the database, which serves them while Redis is down; the QR
# poll reads its session and its entry in one round trip
# (plugmessage/sessions.py).
SESSION_ENGINE = "plugmessage.sessions"

# Celery: Redis when REDIS_URL is set, else kombu's filesystem transport.
CELERY_FS_DIR = Path(env("CELERY_FS_DIR", default=str(VAR_DIR / "celery")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    for _sub in ("queue", "processed", "control"):
        (CELERY_FS_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_DIR / "queue"),
        "data_folder_out": str(CELERY_FS_DIR / "queue"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
# Tests that start a worker give it a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = "America/Sao_Paulo"
# Celery's Django fixup closes every database connection around every task
# unless this is set; plugmessage/celery.py closes only the unusable or
# older than CONN_MAX_AGE instead, as Django does around a request.
CELERY_DB_REUSE_MAX = 10**9
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Sends accepted while Redis was down asked for no dispatch: this one
    # queues them within seconds of its return (one indexed query when idle).
    "messages-dispatch": {
        "task": "instances.tasks.messages_dispatch_task",
        "schedule": env.float("MESSAGES_DISPATCH_SECONDS", default=5.0),
        "options": {"expires": 10},
    },
    "messages-queued-sweep": {
        "task": "instances.tasks.messages_queued_sweep_task",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    "webhook-deliveries-sweep": {
        "task": "webhooks.tasks.webhook_deliveries_sweep_task",
        "schedule": env.float("WEBHOOKS_SWEEP_SECONDS", default=5.0),
        "options": {"expires": 30},
    },
    "engine-tick": {
        "task": "instances.tasks.engine_tick_task",
        "schedule": env.float("ENGINE_TICK_SECONDS", default=2.0),
        "options": {"expires": 10},
    },
    "engine-inbox-drain": {
        "task": "instances.tasks.engine_inbox_drain_task",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    "engine-logouts-retry": {
        "task": "instances.tasks.engine_logouts_retry_task",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    # Exclusion-list imports whose task was lost (a broker outage at upload).
    "exclusion-imports-resume": {
        "task": "instances.tasks.exclusion_imports_resume_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "instances-trial-expire": {
        "task": "instances.tasks.instances_trial_expire_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Postpaid: on the 1st (CELERY_TIMEZONE is São Paulo), last month's invoices.
    "invoices-issue": {
        "task": "billing.tasks.invoices_issue_task",
        "schedule": crontab(minute=5, hour=0, day_of_month=1),
    },
    "charges-issue-pending": {
        "task": "billing.tasks.charges_issue_pending_task",
        "schedule": crontab(minute=20),
    },
    "invoices-remind": {
        "task": "billing.tasks.invoices_remind_task",
        "schedule": crontab(minute=0, hour=9),
    },
    "retention-sweep": {
        "task": "privacy.tasks.retention_sweep_task",
        "schedule": env.float("RETENTION_SWEEP_SECONDS", default=600.0),
        "options": {"expires": 300},
    },
    "heartbeat-beat": {
        "task": "plugmessage.tasks.heartbeat_record_task",
        "schedule": 60.0,
        "args": ("beat",),
    },
}

# The WhatsApp engine (see instances/engines/): the built-in simulator by
# default, Evolution API v2 with WHATSAPP_ENGINE=evolution.
WHATSAPP_ENGINE = {
    "simulator": "instances.engines.simulator.SimulatorEngine",
    "evolution": "instances.engines.evolution.EvolutionEngine",
}[env("WHATSAPP_ENGINE", default="simulator")]
# Seconds after which a simulated recipient reports a message delivered,
# then read (counted from when it was sent).
SIMULATOR_DELIVERED_AFTER = env.float("SIMULATOR_DELIVERED_AFTER", default=1.0)
SIMULATOR_READ_AFTER = env.float("SIMULATOR_READ_AFTER", default=3.0)
# Numbers the simulator says are not on WhatsApp (digits, with country code).
SIMULATOR_ABSENT_NUMBERS = env.list(
    "SIMULATOR_ABSENT_NUMBERS", default=["5511900000000"]
)
# Media links in webhooks (received media) work without a login for this long.
MEDIA_LINK_SECONDS = env.int("MEDIA_LINK_SECONDS", default=7 * 24 * 3600)
# A JSON body may carry media as a base64 data URI: up to 16 MB of file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 23 * 1024 * 1024
EVOLUTION_API_URL = env("EVOLUTION_API_URL", default="http://127.0.0.1:8080").rstrip(
    "/"
)
EVOLUTION_API_KEY = env("EVOLUTION_API_KEY", default="")
# Shared secret the engine sends with every event it posts to /motor/eventos/.
ENGINE_EVENTS_SECRET = env("ENGINE_EVENTS_SECRET", default="")

# Retention (privacy/services.py, LGPD): days each kind of data is kept,
# then deleted by beat's retention sweep; 0 keeps it forever. The sweep
# deletes at most RETENTION_BATCH_SIZE rows a transaction and
# RETENTION_MAX_BATCHES transactions a kind per run, and resumes next run.
RETENTION_MESSAGES_DAYS = env.int("RETENTION_MESSAGES_DAYS", default=90)
RETENTION_MEDIA_DAYS = env.int("RETENTION_MEDIA_DAYS", default=90)
RETENTION_DELIVERIES_DAYS = env.int("RETENTION_DELIVERIES_DAYS", default=30)
RETENTION_EVENTS_DAYS = env.int("RETENTION_EVENTS_DAYS", default=30)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=500)
RETENTION_MAX_BATCHES = env.int("RETENTION_MAX_BATCHES", default=20)

# Payments (see billing/providers/): the built-in simulated provider by
# default, Asaas v3 with PAYMENT_PROVIDER=asaas.
PAYMENT_PROVIDER = {
    "simulated": "billing.providers.simulated.SimulatedProvider",
    "asaas": "billing.providers.asaas.AsaasProvider",
}[env("PAYMENT_PROVIDER", default="simulated")]
ASAAS_API_URL = env("ASAAS_API_URL", default="https://api-sandbox.asaas.com/v3").rstrip(
    "/"
)
ASAAS_API_KEY = env("ASAAS_API_KEY", default="")
# The token the provider sends with each payment notification.
PAYMENT_WEBHOOK_TOKEN = env("PAYMENT_WEBHOOK_TOKEN", default="")
# Where the simulated provider's PIX charges point.
BILLING_PIX_KEY = env("BILLING_PIX_KEY", default="pix@plugmessage.local")
BILLING_PIX_NAME = env("BILLING_PIX_NAME", default="PlugMessage")
BILLING_PIX_CITY = env("BILLING_PIX_CITY", default="Sao Paulo")
# The smallest amount a boleto is issued for (Asaas's minimum, R$ 5,00): a
# month below it is not charged, its total goes on the next month's invoice.
BILLING_MIN_CHARGE_CENTS = env.int("BILLING_MIN_CHARGE_CENTS", default=500)
# The beneficiário printed on the boleto's recibo do pagador and ficha de
# compensação (demo defaults: set the real company's data in production).
BILLING_BENEFICIARY_NAME = env(
    "BILLING_BENEFICIARY_NAME", default="PlugMessage Tecnologia Ltda"
)
BILLING_BENEFICIARY_CNPJ = env("BILLING_BENEFICIARY_CNPJ", default="34567890000130")
BILLING_BENEFICIARY_ADDRESS = env(
    "BILLING_BENEFICIARY_ADDRESS",
    default="Avenida Paulista, 1578 – Bela Vista, São Paulo/SP – CEP 01310-200",
)
BILLING_BENEFICIARY_AGENCY_CODE = env(
    "BILLING_BENEFICIARY_AGENCY_CODE", default="0001 / 00012345-6"
)
BILLING_BOLETO_WALLET = env("BILLING_BOLETO_WALLET", default="09")
# Espécie do documento: DS, duplicata de serviço (DM for goods).
BILLING_BOLETO_DOCUMENT_KIND = env("BILLING_BOLETO_DOCUMENT_KIND", default="DS")
# Sacador/avalista, when a third party guarantees the boletos; usually none.
BILLING_BOLETO_GUARANTOR = env("BILLING_BOLETO_GUARANTOR", default="")

# Webhooks. Loopback receivers (and plain http) are for `make run` and the
# tests only: off by default, so production never posts inside its network.
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=False)
# How long a worker holds a delivery before the sweeper may hand it to another.
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
# A send claimed this long ago by a worker that never finished it (killed)
# is handed out again by the queued sweep.
MESSAGES_STUCK_SECONDS = env.int("MESSAGES_STUCK_SECONDS", default=120)

# Email: console by default, SMTP (or any backend) through EMAIL_URL.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="PlugMessage <nao-responda@plugmessage.com.br>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="suporte@plugmessage.com.br")

# Accounts (django-allauth): email and password, verified email, no username.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "instances:list"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "accounts.forms.SignupForm",
    "login": "accounts.forms.LoginForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = False
# A duplicate email must get a clear message at sign-up, so allauth's
# anti-enumeration silence is turned off; the password reset keeps quiet on
# its own (accounts.forms.ResetPasswordForm).
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# Subjects start with "[SITE_NAME] " (accounts.adapters.AccountAdapter), and
# a changed, set or reset password is told to the account's email.
ACCOUNT_EMAIL_SUBJECT_PREFIX = None
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "confirm_email": "1/180s/key",
    "reauthenticate": "10/m/user",
}

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Português (Brasil)"))]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by
# WhiteNoise on every page, the admin and the API included.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Media of messages: files under VAR_DIR by default; in production an
# S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, DigitalOcean Spaces).
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("MEDIA_S3_REGION", default="") or None,
            "access_key": env("MEDIA_S3_ACCESS_KEY", default="") or None,
            "secret_key": env("MEDIA_S3_SECRET_KEY", default="") or None,
            # Private objects: customers get media only through signed links.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Security. Production sets SECRET_KEY, ALLOWED_HOSTS, SECURE_SSL_REDIRECT and
# SECURE_HSTS_SECONDS; `manage.py check --deploy` then reports no issues.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# Turning HSTS on covers subdomains and asks for preload unless told otherwise.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: scripts, styles,
# images and requests come from this site only, with no inline code at all,
# so an injected <script> or onclick= does nothing. htmx is configured for it
# in templates/base.html; README.md ("Security headers") says how to add a
# script or a style without breaking it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    },
}
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No secret or personal data in the logs (plugmessage/logs.py): httpx and
# httpcore would log every URL at INFO (webhook URLs' tokens, the CPF or CNPJ
# of Asaas lookups); every record is redacted on its way out.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "plugmessage.logs.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

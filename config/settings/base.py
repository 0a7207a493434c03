"""Settings shared by every environment. Everything that differs comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state of the embedded defaults (SQLite file, filesystem broker, beat schedule).
DATA_DIR = Path(os.environ.get("KITSTREET_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-kitstreet-local-only")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config.events",  # the market's event log: the feed and the webhooks of every order, payment, dispute, payout step
    "config.outbox",  # transactional outbox: tasks enqueued by a committed transaction survive a broker outage
    "organizations",
    "marketplace",
    "credit",
    "trials",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.replicas.ReplicaReadsMiddleware",  # GETs read from a replica (DATABASE_REPLICA_URLS); a no-op without
    "config.middleware.BodySizeLimit",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.NullCharacterQueryGuard",
    "config.middleware.OrganizationHeaderGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.timezones.TimeZoneMiddleware",  # the browser's zone (tz cookie) for every page and message
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "organizations.context_processors.acting_organization",
                "config.console.console_menu",
            ],
            # `{% readonly_note %}` on every page without a `{% load %}`.
            "builtins": ["organizations.templatetags.access_tags", "config.timezones"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kitstreet.sqlite3'}"),
        # Persistent connections in every profile: a new PostgreSQL connection per request cost
        # 1.7-5.2x in throughput (docs/benchmarks.md). Health checks drop a connection the server
        # closed (restart, pooler timeout) before a request uses it, instead of failing that request.
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server, worker and beat share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP queries: JIT compilation cost up to 0.3 s on large search plans and never paid
    # off (docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Behind PgBouncer in transaction mode (docs/deploy.md): no server-side cursors, and the
    # ledger's prepared statements only with PgBouncer >= 1.21 and max_prepared_statements set.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
# Read replicas (config/replicas.py, docs/deploy.md): DATABASE_REPLICA_URLS="postgres://…,postgres://…"
# adds one alias per streaming replica; GET requests read from one of them unless the client wrote
# within REPLICA_PIN_SECONDS. Tests mirror them onto the test database (TEST.MIRROR).
REPLICA_DATABASES = []
for _n, _url in enumerate(u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()):
    _alias = f"replica_{_n}"
    DATABASES[_alias] = {
        **dj_database_url.parse(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS", False),
        "TEST": {"MIRROR": "default"},
    }
    REPLICA_DATABASES.append(_alias)
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
REPLICA_READS = env_bool("DB_REPLICA_READS", True)  # off: the aliases stay, every read goes to the primary
REPLICA_PIN_SECONDS = float(os.environ.get("DB_REPLICA_PIN_SECONDS", "5"))
REPLICA_RETRY_SECONDS = float(os.environ.get("DB_REPLICA_RETRY_SECONDS", "30"))
CREDIT_PREPARED_STATEMENTS = env_bool("CREDIT_PREPARED_STATEMENTS", True)  # credit/services/ledger.py
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout first (it refuses a locked username before any password check); ModelBackend stays
# listed for code that logs a user in with it by name (signup).
AUTHENTICATION_BACKENDS = ["config.lockout.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Request bodies: an ordinary body (JSON, a form) over 2.5 MB or an upload over 12 MB is a 413
# (config.middleware.BodySizeLimit); the stock-list import takes files up to 10 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
UPLOAD_MAX_BODY_SIZE = int(os.environ.get("UPLOAD_MAX_BODY_SIZE", str(12 * 1024 * 1024)))
API_MAX_JSON_DEPTH = 32  # config.parsers.JSONParser
# Uploaded XLSX workbooks (BOMs, stock lists; config/spreadsheets.py): refused before parsing when the
# zip's directory says they inflate past this in all, or a large part is compressed more than this ratio.
XLSX_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("XLSX_MAX_UNCOMPRESSED_BYTES", str(100 * 1024 * 1024)))
XLSX_MAX_RATIO = int(os.environ.get("XLSX_MAX_RATIO", "100"))

# Shared between web processes and machines (login lockout counters): Redis when there is one,
# else files under var/ so `make run`'s processes share them too.
if os.environ.get("REDIS_URL"):
    # Short socket timeouts: a Redis that is down or unreachable costs a login one second at most,
    # then config/lockout.py counts in the database for a while (it never answers 500).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"], "KEY_PREFIX": "kitstreet",
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache")}}

# Login lockout (config/lockout.py): the 6th wrong password for one username within the window is
# refused with 429 and Retry-After, on the token endpoint and the login form alike.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", str(15 * 60)))

# Webhooks (trials/services/webhooks.py): https to public addresses only; local settings allow http.
WEBHOOK_ALLOW_HTTP = False
WEBHOOK_ALLOWED_NETWORKS: list[str] = []  # CIDRs trusted despite being private (on-premise receivers)

# --- Money ---------------------------------------------------------------------------------
KITSTREET_CURRENCIES = ["CNY", "USD"]
KITSTREET_DEFAULT_CURRENCY = "CNY"
# Demand-backed credit (docs/ledger.md): the platform's appetite when an operator has set none in
# the DemandAppetite table. `simulated_trials`: also finance trials whose demand was simulated (the
# demo and local runs; production turns it off unless KITSTREET_DEMAND_CREDIT_SIMULATED=1).
KITSTREET_DEMAND_CREDIT = {
    "platform_max_per_line": {"CNY": "200000.00", "USD": "30000.00"},
    "platform_max_total": {"CNY": "5000000.00", "USD": "700000.00"},
    "repayment_share": "0.5",
    "simulated_trials": os.environ.get("KITSTREET_DEMAND_CREDIT_SIMULATED", "1") == "1",
}

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.tokens.ScopedTokenAuthentication",  # `Token kst_…`: integrations' scoped tokens
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "organizations.tokens.TokenScopeRequired",  # a scoped token reaches only what its scopes cover
        "organizations.permissions.ActingRole",  # roles: a viewer never writes (organizations/access.py)
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    # JSON bodies only; an upload view sets `parser_classes = config.parsers.UPLOAD_PARSERS`.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kitstreet API",
    "DESCRIPTION": (
        "The REST API of Kitstreet, the supply-chain marketplace for hardware makers. "
        "Authenticate with `Authorization: Token <key>` from `POST /api/v1/auth/token/`; "
        "pick the acting organisation with `X-Organization: <id>`. Amounts are decimal strings."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # config/schema.py: whole-document fixes after the default enum naming hook.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.postprocess_schema"],
    # Two `payment` choice sets: every way an order is paid, and what the forms (and trials) offer.
    "ENUM_NAME_OVERRIDES": {
        "OrderPaymentEnum": "marketplace.orders.models.ORDER_PAYMENTS",
        "FormPaymentEnum": "marketplace.orders.models.FORM_PAYMENTS",
        "AssemblyModeEnum": "marketplace.sourcing.options.ASSEMBLY_MODES",
        "ProcessChoiceEnum": "marketplace.factories.models.PROCESS_CHOICES",
        "ProcessEnum": "marketplace.factories.models.PROCESSES",
        "TrialModeEnum": "trials.models.TrialMode",
        "CurrencyEnum": "marketplace.catalogue.models.Currency",
    },
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR", DATA_DIR / "broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a real broker between processes that needs no server.
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # default is ./control in the working directory
        "store_processed": False,
        "polling_interval": 0.1,
    }
REDIS_URL = os.environ.get("REDIS_URL", "")
_default_results = REDIS_URL or f"file://{DATA_DIR / 'celery-results'}"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", _default_results)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task is acked after it ran: a killed worker's task is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = TIME_ZONE
# A worker that loses its broker keeps reconnecting (forever, with backoff) instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    # Fail fast on a dead broker: the outbox (config/outbox/services.py) keeps the message and relays it
    # later, so a request never waits 20 s for Redis.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5,
                                       "retry_on_timeout": True, "health_check_interval": 10}
if CELERY_RESULT_BACKEND.startswith(("redis://", "rediss://")):
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
    CELERY_REDIS_SOCKET_TIMEOUT = 5
    # A status poll while Redis is down is a quick 503, not 20 retries.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 1, "interval_start": 0,
                                                                "interval_step": 0.5, "interval_max": 0.5}}
    # Same Redis, without the per-send result subscription that breaks for good on an outage.
    CELERY_RESULT_BACKEND = "config.celery:KitstreetRedisBackend+" + CELERY_RESULT_BACKEND
# Periodic work (django-celery-beat is not used: it pins Django < 6.1). Each task is thin and
# idempotent: it finds what is due and calls a service, so a missed or doubled beat is harmless.
CELERY_BEAT_SCHEDULE = {
    "credit-expire-holds": {"task": "credit.tasks.hold_expire_due_task", "schedule": 60.0},
    "credit-release-reserves": {"task": "credit.tasks.reserve_release_due_task", "schedule": 300.0},
    "credit-mark-overdue": {"task": "credit.tasks.invoice_mark_overdue_task", "schedule": crontab(hour=1, minute=0)},
    "trials-refresh-open": {"task": "trials.tasks.trial_refresh_open_task", "schedule": 300.0},
    "marketplace-close-due-rfqs": {"task": "marketplace.tasks.rfq_close_due_task", "schedule": 60.0},
    "marketplace-deadlines": {"task": "marketplace.tasks.market_deadlines_task", "schedule": 300.0},
    "marketplace-simulated-counterparty": {"task": "marketplace.tasks.simulated_counterparty_task", "schedule": 60.0},
}
# The simulated counterparty of demo stalls without members: confirm, then ship, after these delays.
SIMULATED_CONFIRM_AFTER_MINUTES = int(os.environ.get("SIMULATED_CONFIRM_AFTER_MINUTES", "5"))
SIMULATED_SHIP_AFTER_MINUTES = int(os.environ.get("SIMULATED_SHIP_AFTER_MINUTES", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Invitations are emailed; locally they are printed on the console (the link works in the browser).
MAILERS = {"default": {"BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kitstreet <no-reply@kitstreet.local>")

# Stock lists up to this many rows are applied in the request (bulk, in short chunks); larger ones
# by a worker with progress (marketplace/catalogue/imports.py).
STOCK_LIST_SYNC_MAX_ROWS = int(os.environ.get("STOCK_LIST_SYNC_MAX_ROWS", "20000"))

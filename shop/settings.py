"""Settings for shop, read only from the environment (and a `.env` file when present).

Every variable is documented in `.env.example`. Production secrets have no default: with
DEBUG off, the server refuses to start without SECRET_KEY.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (see .env.example); "
            "only DEBUG=true runs with a random development key."
        )
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop",  # the project's own commands (seed_demo)
    "accounts",
    "inventory",
    "orders",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

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
            ],
        },
    },
]

# Database: DATABASE_URL, or SQLite at db.sqlite3 in the project root when unset.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A waiting writer instead of "database is locked" under the dev server's threads.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Scale (issue 19): Redis cache, read replica -----------------------------------------------
# CACHE_URL=redis://host:6379/0 is served by Django's own RedisCache (redis-py; django-redis is
# not installed, so django-environ picks Django's backend): throttles, login lockouts and the
# cached catalog counts are then shared by every worker and host.
# DATABASE_REPLICA_URL: a streaming replica of DATABASE_URL. Only the analytics reports and the
# dashboard read from it (shop.replica); nothing writes or migrates there; unreachable, they read
# from the primary. Tests mirror it onto the default test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["shop.replica.ReplicaRouter"]
# Connections: one persistent connection per process (CONN_MAX_AGE above, checked before reuse),
# not psycopg's pool: bench/catalog.py in turns measured the pool no faster (list 90 req/s both,
# p99 221-254 ms against 236 ms), and a connection per request at half (49 req/s, p99 449 ms).
# --- end scale ----------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The project's own files (favicon, the start page's and the admin's extra CSS).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# With DEBUG off, `collectstatic` must have run (the Dockerfile does it at build): names are
# hashed from the manifest and files compressed. WhiteNoise also serves from the app finders.
WHITENOISE_USE_FINDERS = True

# Uploads: keep big spreadsheets on disk rather than in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_ENABLED=true.
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSONParser after a size (413) and nesting (400) check: shop/parsers.py
    "DEFAULT_PARSER_CLASSES": ["shop.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "shop.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="300/min"),
        "user": env.str("THROTTLE_USER_RATE", default="1200/min"),
        "auth": env.str("THROTTLE_AUTH_RATE", default="10/min"),
        # A client refreshes every 15 minutes, several tabs or devices at once: looser than login.
        "refresh": env.str("THROTTLE_REFRESH_RATE", default="60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "shop.schema.ShopAutoSchema",
    "EXCEPTION_HANDLER": "shop.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Access tokens carry a hash of the password: a password change kills them too.
    "CHECK_REVOKE_TOKEN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "shop API",
    "DESCRIPTION": (
        "Customer and back-office API of the shop. The contract (URLs, fields, status codes, "
        "commands) is docs/api.md in the repository."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # scale: an import job's status beside the order's and the payment's
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "orders.models.Order.Status",  # the name clients have used all along
        "ImportJobStatusEnum": "inventory.models.ImportJob.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.schema.add_error_responses",
    ],
}

# Catalog
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=10)
# How long a product list's `count` is shared between requests with the same filters (0: off).
CATALOG_COUNT_CACHE_SECONDS = env.int("CATALOG_COUNT_CACHE_SECONDS", default=5)

# Spreadsheet import/export (inventory/spreadsheets/, docs/spreadsheets.md)
IMPORT_MAX_FILE_SIZE = env.int("IMPORT_MAX_FILE_SIZE", default=20 * 1024 * 1024)

# Orders
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="orders.payments.TestGateway")
# Every gateway call (charge, find_charge, void, refund) is abandoned after this many seconds.
PAYMENT_GATEWAY_TIMEOUT = env.float("PAYMENT_GATEWAY_TIMEOUT", default=10.0)
# reconcile_payments settles an unfinished attempt this many seconds after its request's time
# was up (a gateway may still be working on a call the shop gave up on).
PAYMENT_RECONCILE_GRACE = env.float("PAYMENT_RECONCILE_GRACE", default=30.0)
# The built-in test gateway's own records (a file, so that they outlive the shop's rollbacks).
TEST_GATEWAY_LEDGER = env.path(
    "TEST_GATEWAY_LEDGER", default=BASE_DIR / "var" / "test-gateway.sqlite3"
)
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

# --- Scale (issue 19): Celery, background jobs ------------------------------------------------
# Configured as Celery's Django guide says (shop/celery.py reads the CELERY_ names). With no
# CELERY_BROKER_URL a job runs inline in the process that asks for it, so `make run` needs
# nothing more; with one (redis://… or amqp://…), `celery -A shop worker` and `celery -A shop
# beat` run them.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://localhost/"  # never used: every task runs eagerly
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="shop")
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database (ImportJob), not a backend
# A job is acknowledged when it ends, not when it starts: a worker that dies mid-job leaves it
# on the broker for another worker (the job's own rules keep a rerun all-or-nothing).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis as the broker hands an unacknowledged job to another worker only after this many seconds
# (RabbitMQ does at once, when the dead worker's connection drops): longer than any job.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "reconcile-payments": {"task": "orders.tasks.reconcile_payments", "schedule": 60.0},
    "purge-idempotency-keys": {
        "task": "orders.tasks.purge_idempotency_keys",
        "schedule": 24 * 60 * 60.0,
    },
}
# Uploaded files kept for background jobs (Django's storage API): on a volume every web host
# and worker mounts, or point STORAGES["default"] at a shared store.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"  # never served: job files are private and removed when the job ends
# Product imports larger than this many bytes become background jobs (202 and a job resource).
IMPORT_SYNC_MAX_BYTES = env.int("IMPORT_SYNC_MAX_BYTES", default=1024 * 1024)
# How many times a job whose worker died is started again before it is marked failed.
IMPORT_JOB_MAX_ATTEMPTS = env.int("IMPORT_JOB_MAX_ATTEMPTS", default=3)
# --- end scale ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
    },
}


# --- Security and robustness (issue 17; docs/security.md) ---------------------------------------

# How many proxies in front append to X-Forwarded-For. Throttles (DRF's NUM_PROXIES) and the
# admin lockout take the client address that many places from the right; 0 ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# django-axes on /admin/login/: 10 failed attempts in a row for an email from an address lock
# that pair out for 15 minutes, even with the right password. Counts live in the cache (so
# with CACHE_URL=redis every worker and host shares them, as the throttles do) and expire by
# themselves; a login attack writes no database rows.
INSTALLED_APPS += ["axes", "csp"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_ONLY_ADMIN_SITE = True  # auth/login/ is throttled per address instead (API.md)
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True  # "in a row"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the admin login form's field (it holds the email)
AXES_USERNAME_CALLABLE = "shop.security.admin_login_username"
AXES_CLIENT_IP_CALLABLE = "shop.security.client_address"
AXES_LOCKOUT_CALLABLE = "shop.security.admin_lockout_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show
AXES_VERBOSE = False
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # The embedded default (development): counts per process. Production sets CACHE_URL.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

# Content-Security-Policy (django-csp) on every answer: the admin and the Swagger UI load
# scripts only from our own static files (Swagger's start script too: SpectacularSwaggerSplitView),
# never inline or from elsewhere. Styles may be inline (the admin's templates, the dashboard's
# SVG charts, Swagger UI set them); images may be data: URIs (Swagger UI's icons).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Database time limits: a database that is unreachable or too slow is an answer (503
# `service_unavailable`), not a hung worker. Seconds; 0 turns the statement limit off (for a
# long one-off job, e.g. a migration that builds a big index).
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", default=30)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        _pg = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}"
        _options["options"] = f"{_options.get('options', '')} {_pg}".strip()

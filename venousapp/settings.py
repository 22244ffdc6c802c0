"""venousapp settings: one file, every deployment difference comes from the environment.

``make run`` needs no variable at all (SQLite file and a filesystem Celery broker under
``var/``); CI and production set ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from venousapp.env import env_bool, env_int, env_json_object, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY", default="dev-only-insecure-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "venousapp",
    "venousapp.accounts",
    "cases",
    "guidelines",
    "planning",
    "followup",
    "interop",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "venousapp.accounts.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "venousapp.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "venousapp.urls"
WSGI_APPLICATION = "venousapp.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Rendered pages are kept per process while the data is unchanged (venousapp/pagecache.py);
# PAGE_CACHE_ENTRIES=0 keeps none. The age limit only bounds memory: a change to the data
# ends a kept page at once.
_PAGE_CACHE_ENTRIES = env_int("PAGE_CACHE_ENTRIES", 300, minimum=0)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": (
        {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "TIMEOUT": env_int("PAGE_CACHE_SECONDS", 600, minimum=1),
            "OPTIONS": {"MAX_ENTRIES": _PAGE_CACHE_ENTRIES},
        }
        if _PAGE_CACHE_ENTRIES
        else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    ),
}

_env = environ.Env()
DATABASES = {
    "default": _env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'venousapp.sqlite3'}")
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The zero-setup database of `make run` lacks two PostgreSQL features some indexes use
    # (covering columns, NULLS NOT DISTINCT); tests and production run on PostgreSQL.
    SILENCED_SYSTEM_CHECKS = ["models.W040", "models.W047"]
    # The web process, the Celery worker and beat write to one file at once. WAL lets readers
    # and one writer work together; IMMEDIATE transactions take the write lock when they
    # begin, so a transaction never fails upgrading a read lock ("database is locked"); the
    # busy timeout makes a writer wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "venousapp.accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A password reset link works once and for three hours (Django's default is three days).
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Sessions end after inactivity and with the browser. An active session's expiry is moved
# on when it is older than SESSION_REFRESH_MINUTES (venousapp.accounts.middleware), not
# written on every request: an idle session ends between SESSION_COOKIE_AGE less that
# interval and SESSION_COOKIE_AGE after the last request.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8)
SESSION_REFRESH_MINUTES = env_int("SESSION_REFRESH_MINUTES", 5)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Failed-login throttling per user and client address (django-axes). Behind a reverse proxy
# every request comes from the proxy: list its address (or network) in TRUSTED_PROXIES so the
# client's address is read from the X-Forwarded-For entries it appends. Nothing is trusted by
# default, and then the header is ignored (README: "Behind a reverse proxy").
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])
AXES_CLIENT_IP_CALLABLE = "venousapp.accounts.client_ip.client_ip"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = _env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds a mail server may take to answer; a stalled one is given up, never waited for.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "venousapp <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mails (reminders, escalations) point here; mails carry no patient identifiers.
SITE_URL = env_str("SITE_URL", "http://localhost:8000")

# The planner warns when a stent is longer than the lesion plus landing margins needs by more
# than this many millimetres.
PLANNING_EXCESS_LENGTH_MM = env_int("PLANNING_EXCESS_LENGTH_MM", 40)
# The planner's other adjustable numbers (planning.proposal.PlanDefaults, e.g.
# {"heparin_iu_per_kg": 70}), as a JSON object.
PLANNING_DEFAULTS = env_json_object("PLANNING_DEFAULTS")

# Local hour (the centre's time zone) at which the day's follow-up reminders and the staff's
# daily digest are sent.
FOLLOWUP_REMINDER_HOUR = env_int("FOLLOWUP_REMINDER_HOUR", 7, minimum=0, maximum=23)
FOLLOWUP_DIGEST_HOUR = env_int("FOLLOWUP_DIGEST_HOUR", 7, minimum=0, maximum=23)

# Background work: up to this many items it runs inside the request, above it a Celery task
# does it while the page shows its progress.
GUIDELINES_IMPACT_INLINE_MAX = env_int("GUIDELINES_IMPACT_INLINE_MAX", 300, minimum=0)  # cases
GUIDELINES_REEVALUATION_INLINE_MAX = env_int(
    "GUIDELINES_REEVALUATION_INLINE_MAX", 300, minimum=0
)  # stale cases
FOLLOWUP_PATENCY_INLINE_MAX = env_int("FOLLOWUP_PATENCY_INLINE_MAX", 1_000, minimum=0)  # schedules
# A finished patency report is shown again, instead of computing a new one, for this long.
FOLLOWUP_PATENCY_FRESH_SECONDS = env_int("FOLLOWUP_PATENCY_FRESH_SECONDS", 15 * 60, minimum=0)

# CDS Hooks: a call whose token has expired is kept this long (the feedback on its cards
# names them), then removed by the daily interop.calls_prune task.
CDS_HOOKS_CALLS_KEEP_DAYS = env_int("CDS_HOOKS_CALLS_KEEP_DAYS", 90, minimum=1)

# Plausible dates (venousapp/dates.py): what has happened (a case, a procedure, a visit) lies
# at most this many years before the centre's today, what is planned (a rescheduled visit,
# re-imaging) at most this many years after it.
CLINICAL_DATES_YEARS_BACK = env_int("CLINICAL_DATES_YEARS_BACK", 30, minimum=1)
CLINICAL_DATES_YEARS_AHEAD = env_int("CLINICAL_DATES_YEARS_AHEAD", 10, minimum=1)

# Celery: Redis in CI and production; a filesystem broker for the zero-setup `make run`.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A request never waits long on a broker that is down: the work it hands over is a row
    # the sweep enqueues again (followup.notifications, guidelines and patency jobs).
    _BROKER_TIMEOUT = env_int("BROKER_TIMEOUT_SECONDS", 2)
    CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_TIMEOUT
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": _BROKER_TIMEOUT,
        "socket_timeout": max(_BROKER_TIMEOUT, 5),
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = _BROKER_TIMEOUT
    CELERY_REDIS_SOCKET_TIMEOUT = max(_BROKER_TIMEOUT, 5)
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 1}}
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 0.5,
    }
else:
    # The folders are made when the app starts (venousapp/apps.py), not when this is read.
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_URL = "filesystem://localhost//"  # the host is unused; naming it avoids a warning
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = f"file://{_broker_dir / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    # Programs send a token from "My account" (README: "API"); the first class names the
    # scheme in a 401's WWW-Authenticate. Basic auth re-hashes the password on every
    # request (slow by design) and is meant for trying things out.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "venousapp.accounts.authentication.TokenAuthentication",
        "venousapp.accounts.authentication.SessionAuthentication",
        "venousapp.accounts.authentication.BasicAuthentication",
    ],
    # Deny by default: each view names the permissions of each request (venousapp/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["venousapp.permissions.RequiredPerms"],
    # The API speaks JSON only, errors included (venousapp/api.py): no form bodies, which
    # cannot carry the nested rows its writes take, and no browsable HTML pages. Answers are
    # written with orjson (venousapp/renderers.py), in the form DRF's renderer writes.
    "DEFAULT_PARSER_CLASSES": ["venousapp.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["venousapp.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "venousapp.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "venousapp.api.exception_handler",
}
# How deeply arrays and objects may nest in an API request body (a facts document needs 3,
# a rule export about 10); deeper bodies answer 400 before they are parsed.
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)
# Facts documents per POST /api/v1/evaluate: a batch of every rule test case shipped (90)
# fits; a hundred take a worker a few tens of milliseconds.
EVALUATE_MAX_DOCUMENTS = env_int("EVALUATE_MAX_DOCUMENTS", 100)
# API tokens (django-rest-knox, our own model): stored as a SHA-512 digest, sent as
# "Authorization: Token venous_<64 hex digits>"; the prefix lets secret scanners spot one.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 (a model, not a secret)
REST_KNOX = {"TOKEN_PREFIX": "venous_", "AUTH_HEADER_PREFIX": "Token"}
# knox's migrations create its own token table even when KNOX_TOKEN_MODEL replaces it: a
# table nothing uses, with a key to the users that makes Django's flush fail.
MIGRATION_MODULES = {"knox": None}
SPECTACULAR_SETTINGS = {
    "TITLE": "venousapp API",
    "DESCRIPTION": "Cases, guideline evaluation, planning and follow-up for iliocaval "
    "venous recanalization.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RiskLevelEnum": "cases.models.RiskLevel",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "venousapp.api.complete_schema",
    ],
}

# Production hardening; `manage.py check --deploy` passes with DEBUG=false.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Logs carry ids only, never patient identifiers or names.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

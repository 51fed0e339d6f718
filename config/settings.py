"""Lianxin settings: one module, every value from the environment.

The defaults are the *embedded* configuration used by ``make demo`` and the
tests: SQLite, the in-memory channel layer, DEBUG on. Production sets
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "insecure-development-key-never-use-in-production"
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG=0")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "hotline.apps.HotlineAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "hotline",
    "routing",
    "telephony",
    "callback",
    "metrics",
    "web",
    "axes",
    "csp",
    "captcha",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: a session of a role that must use two-factor authentication, opened
    # without a code (before the requirement, or before a promotion), goes back to the login.
    "web.middleware.TwoFactorGate",
    # After authentication: writes one audit entry per request that showed personal data.
    "web.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# --- Login (the consoles) ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# django-axes: after repeated failed logins lock the username (from every address) and the
# address (for every username). The address is REMOTE_ADDR: the TCP peer, or the client a
# proxy in TRUSTED_PROXIES forwarded for (docs/security.md).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
# Off: it would also clear other usernames' failures from the address; web.lockout resets the pair.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
# Reverse proxies whose X-Forwarded-For (and -Proto) `serve` believes: addresses or networks,
# e.g. "127.0.0.1" for an nginx on the same host. Empty: no forwarded header is believed.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
# Two-factor authentication (TOTP, django-otp; docs/security.md): these roles (and superusers, when
# "admin" is listed) log in only with a code from an enrolled authenticator app; anybody may enrol.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", ["admin", "supervisor", "auditor"])
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Lianxin 12345")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'lianxin.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # Under ASGI every database_sync_to_async call ends by closing its connection; without a pool
    # each bridge batch and console render paid a new PostgreSQL connection (most of a screen pop's
    # latency). Django hands connections back to psycopg's pool instead. Per process.
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DB_CONN_MAX_AGE must be 0 with DB_POOL (the pool keeps the connections)")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),  # seconds a request waits for a free connection
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two concurrent
    # transitions queue up instead of failing with "database is locked" on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME", "") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "hotline.User"

# Checked wherever a password is set through a form (the admin, `manage.py changepassword`).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Channels -----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
# No socket timeout on the channel layer's Redis connections, as before redis-py 8 (which made it 5 s):
# - a read timeout as long as channels_redis's blocking 5 s BZPOPMIN makes an idle receive() fail
#   now and then (django/channels_redis#422), which once left the bridge deaf to every console;
# - with any timeout redis-py sends each command under asyncio.wait_for, which on Python 3.11
#   swallows a cancellation that lands as the send completes (CPython gh-86296): a cancelled
#   receive() then never ends (tests/telephony/test_commands.py hung on it).
# A dead Redis peer is found by TCP keepalive instead: about a minute of silence.
# redis-py 8 also caps a pool at 100 connections and fails the 101st command at once: a web process
# whose hundred consoles close together (a shift ends, a proxy restarts) sends 400 group_discards.
REDIS_SOCKET_OPTIONS = {
    "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000),  # per process
    "socket_timeout": None,
    "socket_keepalive": True,
    "socket_keepalive_options": {
        option: value
        for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))
        if (option := getattr(socket, name, None)) is not None
    },
}
if REDIS_URL:
    # CHANNEL_LAYER picks one of channels_redis's two layers (docs/telephony.md "Messages on the channel
    # layer"): "pubsub" has Redis push messages (one PUBLISH per group_send, whatever the group's size;
    # nothing kept for a process that is not subscribed: at most once, which a screen pop and a hint
    # already are); "core" keeps each process's messages in a Redis list it fetches from, four round
    # trips a message, first in, first out: a screen pop waits behind everything queued before it
    # (benchmarks/README.md: pop p99 ~1 s on core, ~0.15 s on pubsub, same run).
    CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
    if CHANNEL_LAYER not in ("core", "pubsub"):
        raise ImproperlyConfigured(f"CHANNEL_LAYER: {CHANNEL_LAYER!r} is neither core nor pubsub")
    _channel_hosts = [{"address": REDIS_URL, **REDIS_SOCKET_OPTIONS}]
    if CHANNEL_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": _channel_hosts, "prefix": env_str("CHANNEL_PREFIX", "lianxin")},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": _channel_hosts,
                    "prefix": env_str("CHANNEL_PREFIX", "lianxin"),
                    # Messages waiting per Redis key before group_send drops new ones (silently). Every
                    # console of one web process shares one key ("specific.<process>!"), so channels_redis's
                    # default of 100 let a process of 100 consoles, a second behind at 20 calls/s, lose pops.
                    "capacity": env_int("CHANNEL_CAPACITY", 1000),
                },
            }
        }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- I18n / time ----------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Nothing under MEDIA_URL is served: attachments go out through /api/v1/attachments/<id>/, which
# checks who may see the ticket (web/api/attachments.py, docs/security.md).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Behind nginx: the internal location that maps onto MEDIA_ROOT (e.g. "/protected-media/"); the
# view then answers with X-Accel-Redirect and nginx sends the file. Empty: Django streams it.
ATTACHMENTS_X_ACCEL_PREFIX = env_str("ATTACHMENTS_X_ACCEL_PREFIX", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (hardened automatically when DEBUG=0) ----------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)  # one shift
# On: every request pushes the expiry SESSION_COOKIE_AGE further, so the age becomes an idle timeout.
# Off (default): the session ends SESSION_COOKIE_AGE after login whatever happens; a wallboard that
# only listens on its socket makes no requests and would otherwise time out while watched.
SESSION_SAVE_EVERY_REQUEST = env_bool("SESSION_SAVE_EVERY_REQUEST", False)
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp; docs/security.md): scripts and styles only from our own static
# files, no inline script, no inline style, no eval. A response that sets its own header keeps it
# (attachments: "sandbox; default-src 'none'").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # data: for the icons Swagger UI inlines
        "font-src": ["'self'"],
        "connect-src": ["'self'"],  # same-origin fetch and the consoles' WebSockets
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- REST API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    # knox first: DRF answers an unauthenticated call with the first class's challenge, so 401 with
    # `WWW-Authenticate: Token` (session authentication has none, and DRF would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "web.api.errors.exception_handler",
}
# API tokens (django-rest-knox, docs/security.md): issued by POST /api/v1/auth/token/, stored hashed,
# expire after API_TOKEN_TTL_HOURS (a shift), revoked at logout, password change and deactivation.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 10)
# Live tokens an account may hold; issuing one more revokes the oldest (a client that logs in again
# replaces its own token instead of being refused until the old one expires).
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,  # web.api.auth rotates instead of refusing
}
# The OpenAPI schema (/api/schema/) and its Swagger UI (/api/docs/) for anybody, or only for logged-in
# users (session or token). Public in development, behind login when DEBUG=0.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "Lianxin 12345 API",
    "DESCRIPTION": "Tickets, dispatch and the three-level network of a 12345 government service hotline.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "hotline.models.tickets.TicketStatus",
        "AssignmentStatusEnum": "hotline.models.tickets.AssignmentStatus",
        "ExtensionStatusEnum": "hotline.models.tickets.ExtensionStatus",
        "DisputeStatusEnum": "hotline.models.tickets.DisputeStatus",
        "TicketChannelEnum": "hotline.models.tickets.Channel",
        "RevisitChannelEnum": "callback.models.RevisitChannel",
        "SupervisionStatusEnum": "hotline.models.supervision.SupervisionStatus",
        "SupervisionOutcomeEnum": "hotline.models.supervision.SupervisionOutcome",
        "SupervisionFormEnum": "hotline.models.supervision.SupervisionForm",
    },
}

# --- Hotline domain ------------------------------------------------------------------
# Office hours used for deadlines counted in working hours (accept-by): one span, or several
# in order to skip a lunch break ("08:30-12:00,14:00-17:30"). Why the default has no break: docs/metrics.md.
HOTLINE_OFFICE_HOURS = env_str("HOTLINE_OFFICE_HOURS", "08:30-17:30")
# Largest attachment accepted, in bytes (images only).
HOTLINE_MAX_ATTACHMENT_BYTES = env_int("HOTLINE_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024)
HOTLINE_MAX_CONTENT_CHARS = env_int("HOTLINE_MAX_CONTENT_CHARS", 5000)
# A ticket repeats an earlier one (same caller, or same address and topic) registered at most
# this many days before it. Marked at registration; `manage.py recompute_repeats` after a change.
HOTLINE_REPEAT_WINDOW_DAYS = env_int("HOTLINE_REPEAT_WINDOW_DAYS", 30)
# Reminders (催办) to a unit before its deadlines (routing.warnings, docs/supervision.md): before
# accept-by this many working hours, before reply-by this many working days (1: due by the end of
# the next working day, the yellow warning). 0 turns that reminder off.
REMINDER_ACCEPT_LEAD_HOURS = env_int("REMINDER_ACCEPT_LEAD_HOURS", 2)
REMINDER_REPLY_LEAD_DAYS = env_int("REMINDER_REPLY_LEAD_DAYS", 1)
# An assignment still open this many working hours past its reply-by is escalated to the unit's
# leader in charge (分管领导), once. 0: at once when it turns overdue.
REMINDER_ESCALATE_AFTER_HOURS = env_int("REMINDER_ESCALATE_AFTER_HOURS", 0)
# Hot spots (热点预警, metrics.hotspots, docs/hotspots.md): tickets of one district alike in topic and
# words, at least HOTSPOT_MIN_TICKETS of them within the last HOTSPOT_WINDOW_HOURS and at least
# HOTSPOT_RATIO times the usual number per window over the HOTSPOT_BASELINE_DAYS before. The scan
# runs every HOTSPOT_SCAN_MINUTES; a case made from a hot spot is due HOTSPOT_CASE_DAYS days later.
HOTSPOT_WINDOW_HOURS = env_int("HOTSPOT_WINDOW_HOURS", 24)
HOTSPOT_BASELINE_DAYS = env_int("HOTSPOT_BASELINE_DAYS", 14)
HOTSPOT_MIN_TICKETS = env_int("HOTSPOT_MIN_TICKETS", 5)
HOTSPOT_RATIO = env_int("HOTSPOT_RATIO", 3)
HOTSPOT_SCAN_MINUTES = env_int("HOTSPOT_SCAN_MINUTES", 10)
HOTSPOT_CASE_DAYS = env_int("HOTSPOT_CASE_DAYS", 5)

DATA_UPLOAD_MAX_MEMORY_SIZE = HOTLINE_MAX_ATTACHMENT_BYTES + 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Telephony (Asterisk AMI) -------------------------------------------------------


def _ami_pbxs(items: list[str]) -> list[dict]:
    """``name=host:port`` items -> one dict per PBX, credentials from the environment; refuses a bad item."""
    pbxs: list[dict] = []
    for item in items:
        name, _, address = item.partition("=")
        host, _, port = address.rpartition(":")
        if not re.fullmatch(r"[a-z0-9_-]{1,32}", name) or not host or not port.isdigit():
            raise ImproperlyConfigured(f"AMI_PBXS: {item!r} is not name=host:port (name: a-z 0-9 _ -)")
        if name in {p["name"] for p in pbxs}:
            raise ImproperlyConfigured(f"AMI_PBXS names the PBX {name!r} twice")
        key = f"AMI_{name.upper().replace('-', '_')}"
        pbxs.append(
            {
                "name": name,
                "host": host,
                "port": int(port),
                "username": env_str(f"{key}_USERNAME", AMI_USERNAME),
                "secret": env_secret(f"{key}_SECRET", AMI_SECRET),
                "queue_log_path": env_str(f"{key}_QUEUE_LOG_PATH", AMI_QUEUE_LOG_PATH),
            }
        )
    return pbxs


AMI_HOST = env_str("AMI_HOST", "127.0.0.1")
AMI_PORT = env_int("AMI_PORT", 15038)
AMI_USERNAME = env_str("AMI_USERNAME", "hotline")
AMI_SECRET = env_secret("AMI_SECRET", "hotline-secret" if DEBUG else "")
# The queues the bridge follows; each is a desk (专席, telephony/desks.py), the general desk first.
AMI_QUEUES = env_list("AMI_QUEUES", ["12345", "12345-business", "12345-dialect"])
# Which of AMI_QUEUES is the business desk (涉企服务专席) and the dialect desk (方言专席); blank = none.
AMI_DESK_BUSINESS = env_str("AMI_DESK_BUSINESS", "12345-business")
AMI_DESK_DIALECT = env_str("AMI_DESK_DIALECT", "12345-dialect")
# Seconds a caller waits at a desk before going on to the general desk (the FastAGI desk script tells the
# dialplan; the simulator waits as long).
AMI_DESK_WAIT_SECONDS = env_int("AMI_DESK_WAIT_SECONDS", 30)
# Topic codes (a code covers its sub-topics) of business matters: a caller whose newest ticket has one is
# routed to the business desk. Empty = route by the IVR key and CallerDesk marks only.
AMI_DESK_BUSINESS_TOPICS = env_list("AMI_DESK_BUSINESS_TOPICS", [])
# Dialplan names the bridge uses (docs/asterisk/extensions.conf).
AMI_AGENT_INTERFACE = env_str("AMI_AGENT_INTERFACE", "Local/{extension}@agents")  # e.g. PJSIP/{extension}
AMI_110_TARGET = tuple(env_list("AMI_110_TARGET", ["emergency", "110"]))  # context, extension
AMI_THREEWAY_CONTEXT = env_str("AMI_THREEWAY_CONTEXT", "threeway")  # the caller waits in the room
AMI_THREEWAY_DIAL_CONTEXT = env_str("AMI_THREEWAY_DIAL_CONTEXT", "threeway-dial")  # the agent's channel dials 110
AMI_THREEWAY_UNIT_CONTEXT = env_str("AMI_THREEWAY_UNIT_CONTEXT", "threeway-unit")  # ... or a unit's duty phone
# Seconds the bridge waits for the PBX to show a command's result: 110 in the three-way room (the
# dialplan rings 110 for 60 s), the caller's channel in the 110 context after a transfer.
AMI_THREEWAY_TIMEOUT = env_int("AMI_THREEWAY_TIMEOUT", 75)
AMI_TRANSFER_TIMEOUT = env_int("AMI_TRANSFER_TIMEOUT", 10)
# Call controls (docs/telephony.md "Call controls"): the context consult and blind transfers dial
# through, and how long a consulted number may ring (features.conf atxfernoanswertimeout, plus margin).
AMI_CALL_TRANSFER_CONTEXT = env_str("AMI_CALL_TRANSFER_CONTEXT", "hotline-transfer")
AMI_CONSULT_TIMEOUT = env_int("AMI_CONSULT_TIMEOUT", 30)
AMI_CALLBACK_CONTEXT = env_str("AMI_CALLBACK_CONTEXT", "callback")
# IVR satisfaction survey: the citizen's leg and the dialplan context that asks for a digit.
AMI_SURVEY_CHANNEL = env_str("AMI_SURVEY_CHANNEL", "Local/{number}@pstn")  # PJSIP/{number}@pstn-trunk on a real PBX
AMI_SURVEY_CONTEXT = env_str("AMI_SURVEY_CONTEXT", "survey")
# Reconnect backoff cap: the bridge is blind while it waits, so a few seconds for a loopback/LAN PBX.
AMI_RECONNECT_MAX_SECONDS = env_int("AMI_RECONNECT_MAX_SECONDS", 3)
# Asterisk's queue_log file (<astlogdir>/queue_log, readable by the bridge, e.g. over a shared mount):
# on reconnect the calls that ended while the bridge was away get the PBX's outcome from it. Empty = off
# (such calls end as "unknown"). See docs/telephony.md "Outages".
AMI_QUEUE_LOG_PATH = env_str("AMI_QUEUE_LOG_PATH", "")
# Several PBXs (docs/telephony.md "Several PBXs"): AMI_PBXS=name=host:port,name=host:port. Each PBX's
# credentials and queue_log come from AMI_<NAME>_USERNAME, AMI_<NAME>_SECRET (or _SECRET_FILE) and
# AMI_<NAME>_QUEUE_LOG_PATH, else from the AMI_* settings above. Empty = one PBX named "main" with the
# AMI_* settings (telephony/pbx.py). The first PBX is where agents without one of their own and IVR surveys go.
AMI_PBXS = _ami_pbxs(env_list("AMI_PBXS", []))
# Active/standby: a bridge is active while it holds its PBX's lease row; a standby takes over when the
# lease's heartbeat has not moved for this many seconds (the active stops itself well before).
AMI_BRIDGE_LEASE_SECONDS = env_int("AMI_BRIDGE_LEASE_SECONDS", 5)
# How long the web side waits for the bridge to answer a command.
BRIDGE_COMMAND_TIMEOUT = env_int("BRIDGE_COMMAND_TIMEOUT", 10)
# 话后处理: seconds after a call before the agent is rung again. The PBX holds the agent (queues.conf
# wrapuptime must say the same; the simulator reads this); the console shows the time left.
AGENT_WRAPUP_SECONDS = env_int("AGENT_WRAPUP_SECONDS", 30)
TELEPHONY_EVENT_RETENTION_DAYS = env_int("TELEPHONY_EVENT_RETENTION_DAYS", 90)
# Call recordings (docs/telephony.md "Recordings"). The PBX writes them with MixMonitor under its
# monitor directory (RECORDINGS_PBX_DIR, as the PBX names it in MIXMONITOR_FILENAME); this host reads
# them from RECORDINGS_DIR: the same directory shared (NFS/SMB mount), or a local one the job fills
# after each call from RECORDINGS_FETCH_URL ("{name}" = the path under the monitor directory, e.g.
# "http://pbx.internal/monitor/{name}"; empty = the directory is shared, nothing is fetched).
RECORDINGS_DIR = Path(env_str("RECORDINGS_DIR", str(BASE_DIR / "var" / "recordings")))
RECORDINGS_PBX_DIR = env_str("RECORDINGS_PBX_DIR", "/var/spool/asterisk/monitor")
RECORDINGS_FETCH_URL = env_str("RECORDINGS_FETCH_URL", "")
# Recordings are deleted (the row stays, marked) this many days after the call; 0 keeps them forever.
RECORDINGS_RETENTION_DAYS = env_int("RECORDINGS_RETENTION_DAYS", 180)
# Behind nginx: the internal location mapped onto RECORDINGS_DIR; empty = Django streams the file.
RECORDINGS_X_ACCEL_PREFIX = env_str("RECORDINGS_X_ACCEL_PREFIX", "")
# Personal data of finished tickets (caller's name, phone, address) is anonymised this many days
# after the ticket closed (ADR 0002: 3 years); 0 turns the job step off. docs/security.md §10.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 3 * 365 + 1)
# The key of the one-way phone tokens (retention, the audit log). Empty: derived from SECRET_KEY.
# Keep it stable: a new key gives the same number a new token, so the audit log could no longer
# be searched by an anonymised number's old entries.
PERSONAL_DATA_TOKEN_KEY = env_secret("PERSONAL_DATA_TOKEN_KEY", "")
# The PBX simulator (embedded in make demo, or `manage.py pbx_simulator`): where it listens and its traffic.
AMI_SIMULATOR_HOST = env_str("AMI_SIMULATOR_HOST", "127.0.0.1")
AMI_SIMULATOR_PORT = env_int("AMI_SIMULATOR_PORT", AMI_PORT)
AMI_SIMULATOR_CALLS_PER_MINUTE = env_int("AMI_SIMULATOR_CALLS_PER_MINUTE", 3)  # mean arrivals per minute
# Seconds, drawn per call: how long an agent talks (a human pace), how long a caller waits before
# hanging up (past the queue's 60 s timeout: waits until the timeout). Empty = the recorded ~3 s / the timeout.
AMI_SIMULATOR_TALK = env_str("AMI_SIMULATOR_TALK", "120-360")
# Share of the simulator's callers routed to a desk (专席): three quarters of it to the business desk, a
# quarter to the dialect desk (when AMI_DESK_BUSINESS / AMI_DESK_DIALECT are configured).
AMI_SIMULATOR_DESK_PERCENT = env_int("AMI_SIMULATOR_DESK_PERCENT", 20)
if not 0 <= AMI_SIMULATOR_DESK_PERCENT <= 100:
    raise ImproperlyConfigured("AMI_SIMULATOR_DESK_PERCENT is a percentage, 0 to 100")
AMI_SIMULATOR_PATIENCE = env_str("AMI_SIMULATOR_PATIENCE", "20-120")
AMI_SIMULATOR_DAY_CURVE = env_bool("AMI_SIMULATOR_DAY_CURVE", False)
# The key a simulated citizen presses in an IVR survey; empty = hangs up without one.
AMI_SIMULATOR_SURVEY_DIGIT = env_str("AMI_SIMULATOR_SURVEY_DIGIT", "1")
# The simulator records its answered calls into RECORDINGS_DIR (as the PBX's shared monitor directory
# would be) when this is on.
AMI_SIMULATOR_RECORD = env_bool("AMI_SIMULATOR_RECORD", True)

# Background services `manage.py serve` runs in-process (the embedded default).
# Each is a dotted path to ``async def run(stop: asyncio.Event)``. In development
# the PBX simulator and the AMI bridge run beside the web server; in production
# (DEBUG=0) nothing runs in-process unless named here.
EMBEDDED_SERVICES = env_list(
    "EMBEDDED_SERVICES",
    ["telephony.simulator.run", "telephony.bridge.run", "telephony.agi.server.run", "web.jobs_loop.run"]
    if DEBUG
    else [],
)
# FastAGI (the IVR's self-service status, telephony/agi): where Asterisk's AGI(agi://…) connects.
AGI_HOST = env_str("AGI_HOST", "127.0.0.1")
AGI_PORT = env_int("AGI_PORT", 4573)

# --- Callbacks, revisits, SMS, jobs, KPIs (docs/jobs.md, docs/callbacks.md, docs/metrics.md) ----------
# The one place these are defaulted; the apps read settings.X and nothing else.
CALLBACK_HOURS = env_str("CALLBACK_HOURS", "08:30-21:00")  # Asia/Shanghai; may wrap midnight
CALLBACK_MAX_ATTEMPTS = env_int("CALLBACK_MAX_ATTEMPTS", 3)
# A missed call not called back within this many hours is closed as too old (0: never).
CALLBACK_EXPIRE_HOURS = env_int("CALLBACK_EXPIRE_HOURS", 48)
CALLBACK_RETRY_MINUTES = env_int("CALLBACK_RETRY_MINUTES", 30)  # doubled after each try
CALLBACK_OFFER_SECONDS = env_int("CALLBACK_OFFER_SECONDS", 60)  # an offer nobody accepts goes back to due
CALLBACK_DIAL_MINUTES = env_int("CALLBACK_DIAL_MINUTES", 30)  # a dial nobody completes goes back to due
CALLBACK_BRIDGE_RETRY_SECONDS = env_int("CALLBACK_BRIDGE_RETRY_SECONDS", 120)  # no bridge answered: due again
# The bridge waits up to 45 s for OriginateResponse (ringing the agent): wait a little longer.
CALLBACK_ORIGINATE_TIMEOUT = env_int("CALLBACK_ORIGINATE_TIMEOUT", 60)
REVISIT_CHANNEL = env_str("REVISIT_CHANNEL", "phone")  # phone | sms | ivr
REVISIT_MAX_ATTEMPTS = env_int("REVISIT_MAX_ATTEMPTS", 3)
REVISIT_CLAIM_MINUTES = env_int("REVISIT_CLAIM_MINUTES", 30)
REVISIT_SMS_WAIT_HOURS = env_int("REVISIT_SMS_WAIT_HOURS", 24)
# An IVR survey call not answered with a key press within this is counted as an attempt.
REVISIT_IVR_WAIT_MINUTES = env_int("REVISIT_IVR_WAIT_MINUTES", 10)
# The SMS backend: the outbox (stored, visible in the admin) or callback.sms.twilio_backend.TwilioBackend.
SMS_BACKEND = env_str("SMS_BACKEND", "callback.sms.outbox.OutboxBackend")
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 5)
SMS_RETRY_SECONDS = env_int("SMS_RETRY_SECONDS", 60)
SMS_LEASE_SECONDS = env_int("SMS_LEASE_SECONDS", 120)
SMS_SURVEY_URL = env_str("SMS_SURVEY_URL", "")
# The registered / reply-available SMS go out for tickets this recent (a worker that was down catches up).
SMS_NOTIFY_WITHIN_HOURS = env_int("SMS_NOTIFY_WITHIN_HOURS", 48)
# Channels whose citizens get the registered SMS; the web, WeChat and app forms show the number on screen.
# An Open311 system gets the ticket number but never the query code, so its citizen gets the SMS.
# The /report/ page (web, photo; wechat and app from WeChat's browser and the city's app's webview) shows the
# number too, but the citizen may close the page before noting it.
SMS_REGISTERED_CHANNELS = env_list("SMS_REGISTERED_CHANNELS", ["phone", "open311", "web", "photo", "wechat", "app"])
SMS_INBOUND_TOKEN = env_secret("SMS_INBOUND_TOKEN", "")
# Replies to one number's inbound SMS (queries, help, survey answers) per clock hour; beyond, stored only.
SMS_REPLIES_PER_SENDER_HOUR = env_int("SMS_REPLIES_PER_SENDER_HOUR", 20)
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "")  # empty = Twilio's own; tests point it at a fake
TWILIO_STATUS_CALLBACK_URL = env_str("TWILIO_STATUS_CALLBACK_URL", "")
TWILIO_TIMEOUT = env_int("TWILIO_TIMEOUT", 10)  # seconds per HTTP request
JOBS_INTERVAL_SECONDS = env_int("JOBS_INTERVAL_SECONDS", 5)
# KPIs (docs/metrics.md)
METRICS_SHORT_ABANDON_SECONDS = env_int("METRICS_SHORT_ABANDON_SECONDS", 0)
METRICS_SERVICE_LEVEL_SECONDS = env_int("METRICS_SERVICE_LEVEL_SECONDS", 20)
METRICS_BASICALLY_SATISFIED_COUNTS = env_bool("METRICS_BASICALLY_SATISFIED_COUNTS", True)
# Where the job loop writes finished weekly/monthly/quarterly/annual reports; empty = not written.
METRICS_REPORT_DIR = env_str("METRICS_REPORT_DIR", "")
# 工单质检 (docs/quality.md): the sampling job's period (week or month), the share of each agent's
# registrations and each unit's replies picked at random (percent, at least one each), and the
# length under which a reply is picked as short (characters, punctuation and spaces not counted).
QUALITY_SAMPLE_PERIOD = env_str("QUALITY_SAMPLE_PERIOD", "week")
QUALITY_SAMPLE_PERCENT = env_int("QUALITY_SAMPLE_PERCENT", 5)
QUALITY_SHORT_REPLY_CHARS = env_int("QUALITY_SHORT_REPLY_CHARS", 30)

# --- Citizens: the public progress page /track/ and API /api/v1/public/ (docs/citizens.md) -------
# This site's public address, for the short link in the SMS (…/t/<number>?c=<code>); empty = no link.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else "")
# Wrong ticket number or query code: refused (429) after this many failures in a clock hour and
# in a day, counted per client address and per ticket number. The client address is REMOTE_ADDR.
PUBLIC_TRACK_FAILURES_PER_ADDRESS = env_int("PUBLIC_TRACK_FAILURES_PER_ADDRESS", 10)
PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY = env_int("PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY", 50)
PUBLIC_TRACK_FAILURES_PER_TICKET = env_int("PUBLIC_TRACK_FAILURES_PER_TICKET", 10)
PUBLIC_TRACK_FAILURES_PER_TICKET_DAY = env_int("PUBLIC_TRACK_FAILURES_PER_TICKET_DAY", 30)
# "Forgot the query code" requests (each counts, matched or not), per hour.
PUBLIC_RESEND_PER_ADDRESS = env_int("PUBLIC_RESEND_PER_ADDRESS", 5)
PUBLIC_RESEND_PER_TICKET = env_int("PUBLIC_RESEND_PER_TICKET", 3)
# A ticket closed (or handed to 110) longer ago than this no longer opens with its code; 0 = never ends.
PUBLIC_TRACK_DAYS_AFTER_CLOSE = env_int("PUBLIC_TRACK_DAYS_AFTER_CLOSE", 180)
# The throttle's counters live in the cache: Redis when REDIS_URL is set (shared by every process),
# else this process's memory (the embedded default is one process).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "lianxin"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Open311 GeoReport v2 at /open311/v2/ (docs/open311.md) --------------------------------------------
# The demand category an Open311 report is registered under (the center may correct it).
OPEN311_CATEGORY = env_str("OPEN311_CATEGORY", "help")
# This server's one jurisdiction: a request naming another gets 404; empty = any is accepted.
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "")
# GET requests answers at most this many (newest first), and over at most 90 days (the spec's).
OPEN311_REQUESTS_LIMIT = env_int("OPEN311_REQUESTS_LIMIT", 1000)
# Who to contact about the API, shown in discovery.
OPEN311_CONTACT = env_str("OPEN311_CONTACT", "12345")

# --- 110 → 12345 referrals at /api/110/v1/ (docs/referrals-110.md) ------------------------------------
# The demand category a 110 referral is registered under (the center may correct it).
REFERRALS_110_CATEGORY = env_str("REFERRALS_110_CATEGORY", "help")
# Outcome webhooks: attempts before a delivery is given up (then the 110 side pulls), and the timeout.
REFERRALS_110_WEBHOOK_ATTEMPTS = env_int("REFERRALS_110_WEBHOOK_ATTEMPTS", 8)
REFERRALS_110_WEBHOOK_TIMEOUT = env_int("REFERRALS_110_WEBHOOK_TIMEOUT", 10)

# --- Bad input, search and idempotency (docs/security.md, issue 11 holes 4, 7, 8) ----------------------
# Searching the ticket list (any filter) per user: "<count>/<second|minute|hour|day>".
API_TICKET_SEARCH_RATE = env_str("API_TICKET_SEARCH_RATE", "30/minute")
# Images with more pixels than this (width × height) are refused, whatever their size in bytes.
ATTACHMENT_MAX_PIXELS = env_int("ATTACHMENT_MAX_PIXELS", 40_000_000)
# JSON bodies nested deeper than this get a 400 (the API's parser).
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)
# The API's parsers bound a body's size (DATA_UPLOAD_MAX_MEMORY_SIZE) and a JSON body's depth.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "web.api.parsers.JSONParser",
    "web.api.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]

# --- Citizens: "my tickets" by SMS code, and the WeChat official account (docs/citizens.md) -------------
# The one-time code: its life, its tries, the wait before another, and how many a number and an
# address may ask for (SMS bombing of someone else's phone is what these bound).
CITIZEN_OTP_SECONDS = env_int("CITIZEN_OTP_SECONDS", 300)
CITIZEN_OTP_TRIES = env_int("CITIZEN_OTP_TRIES", 5)
CITIZEN_OTP_RESEND_SECONDS = env_int("CITIZEN_OTP_RESEND_SECONDS", 60)
CITIZEN_OTP_PER_PHONE_HOUR = env_int("CITIZEN_OTP_PER_PHONE_HOUR", 5)
CITIZEN_OTP_PER_PHONE_DAY = env_int("CITIZEN_OTP_PER_PHONE_DAY", 10)
CITIZEN_OTP_PER_ADDRESS_HOUR = env_int("CITIZEN_OTP_PER_ADDRESS_HOUR", 10)
# Wrong codes from one address, over all numbers, per clock hour (the web's throttle, as for query codes).
CITIZEN_OTP_FAILURES_PER_ADDRESS = env_int("CITIZEN_OTP_FAILURES_PER_ADDRESS", 20)
# Reports filed on /report/ from one client address per clock hour (a family or an office may share one).
CITIZEN_REPORTS_PER_ADDRESS_HOUR = env_int("CITIZEN_REPORTS_PER_ADDRESS_HOUR", 20)
# Reports filed on /report/ by one phone per (UTC) day.
CITIZEN_REPORTS_PER_PHONE_DAY = env_int("CITIZEN_REPORTS_PER_PHONE_DAY", 10)
# One /report/ request's body: above it the photos are not read (the text typed is kept and the page
# says why). Default: the most photos at their largest, plus a megabyte for the text.
REPORT_MAX_BODY_BYTES = env_int("REPORT_MAX_BODY_BYTES", 9 * HOTLINE_MAX_ATTACHMENT_BYTES + 1024 * 1024)
# /report/'s channel: WeChat's in-app browser says "MicroMessenger" in its User-Agent (channel wechat);
# the city's app's webview is told apart by these markers (channel app), comma-separated; empty = none.
REPORT_APP_USER_AGENT_MARKERS = env_list("REPORT_APP_USER_AGENT_MARKERS", [])

# --- Abuse control on the public entries (docs/citizens.md, "Abuse control") -------------------------
# Suspicious volume, per clock hour: reports sent, SMS codes asked for and failed ticket lookups from one
# client address, and reports and codes for one phone. From the Nth on, the forms ask for a CAPTCHA
# (django-simple-captcha, drawn here: no outside service) and a report filed is held for the center's
# review (/center/held/). Below it nobody sees a CAPTCHA.
ABUSE_CAPTCHA_AFTER_PER_ADDRESS = env_int("ABUSE_CAPTCHA_AFTER_PER_ADDRESS", 6)
ABUSE_CAPTCHA_AFTER_PER_PHONE = env_int("ABUSE_CAPTCHA_AFTER_PER_PHONE", 4)
# Held for review as well: the same text from the same phone within this many days, and a text with
# this many web links or more (0 = links are not a reason).
ABUSE_DUPLICATE_DAYS = env_int("ABUSE_DUPLICATE_DAYS", 7)
ABUSE_HOLD_LINKS = env_int("ABUSE_HOLD_LINKS", 2)
# django-simple-captcha: four letters, valid five minutes, each tried once. Audio needs the flite
# binary (CAPTCHA_FLITE_PATH); without it the page offers a new picture and the 12345 line instead.
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 5
# Large enough to read on a phone without scaling the picture up (a 360-px screen shows it whole).
CAPTCHA_FONT_SIZE = 40
CAPTCHA_LETTER_ROTATION = (-25, 25)
CAPTCHA_FLITE_PATH = env_str("CAPTCHA_FLITE_PATH", "") or None
CAPTCHA_2X_IMAGE = False
# After the code: the page's cookie and the API's token end after this long idle, and at the latest after MAX.
CITIZEN_SESSION_IDLE_SECONDS = env_int("CITIZEN_SESSION_IDLE_SECONDS", 1800)
CITIZEN_SESSION_MAX_SECONDS = env_int("CITIZEN_SESSION_MAX_SECONDS", 4 * 3600)
# WeChat official account (公众号). Without APP_ID, SECRET and TOKEN, /wechat/ answers 503 "WeChat is off".
# AES_KEY (EncodingAESKey, 43 characters) turns on the safe (encrypted) mode.
WECHAT_APP_ID = env_str("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = env_secret("WECHAT_APP_SECRET", "")
WECHAT_TOKEN = env_secret("WECHAT_TOKEN", "")
WECHAT_AES_KEY = env_secret("WECHAT_AES_KEY", "")
if WECHAT_AES_KEY and len(WECHAT_AES_KEY) != 43:
    raise ImproperlyConfigured("WECHAT_AES_KEY is the account's EncodingAESKey: 43 characters")
# Template message ids, as set up in the account's back office; an empty one is not sent.
WECHAT_TEMPLATE_REGISTERED = env_str("WECHAT_TEMPLATE_REGISTERED", "")
WECHAT_TEMPLATE_REPLIED = env_str("WECHAT_TEMPLATE_REPLIED", "")
WECHAT_TEMPLATE_REVISIT = env_str("WECHAT_TEMPLATE_REVISIT", "")
# WeChat's API (https://api.weixin.qq.com); tests point it at a local fake.
WECHAT_API_BASE_URL = env_str("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
WECHAT_TIMEOUT = env_int("WECHAT_TIMEOUT", 10)
# A signed request older or newer than this is refused, and a nonce is remembered this long (replays).
WECHAT_MAX_SKEW_SECONDS = env_int("WECHAT_MAX_SKEW_SECONDS", 300)

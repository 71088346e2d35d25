"""Gridline settings. Every value that differs between machines comes from the environment;
README.md lists each variable with its default."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.geolibs import gdal_library_path, geos_library_path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value is None or value == "" else float(value)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not os.environ.get("PYTEST_VERSION"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. ./gridline writes one to .env; see README.md."
        )
    SECRET_KEY = "insecure-development-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

GDAL_LIBRARY_PATH = gdal_library_path()
GEOS_LIBRARY_PATH = geos_library_path()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.forms",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "grids.axes_app.LoginAttemptsConfig",  # django-axes
    "grids",
    "maps",
    "sensors",
    "incidents",
    "reports",
    "notifications",
    "boundaries",
    # The background queue lives in PostgreSQL: no broker to run (decision 9).
    "procrastinate.contrib.django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "grids.csp.GridlineCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # PostgreSQL or Redis away (a restart): 503 with Retry-After, never a 500 (grids/resilience.py).
    "grids.resilience.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "grids.middleware.ChineseFirstLocaleMiddleware",
    # Before anything reads the body or queries with a parameter (grids/limits.py).
    "grids.middleware.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the 429 answer.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Form widgets render with the templates above, so templates/ can override a library's widget
# (templates/leaflet/admin/widget.html gives django-leaflet's map its words in Chinese);
# "django.forms" in INSTALLED_APPS supplies Django's own widget templates.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgis://gridline:gridline@127.0.0.1:5432/gridline"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
        engine="django.contrib.gis.db.backends.postgis",
    )
}
# PostgreSQL's default random_page_cost (4) assumes spinning disks and keeps the planner off
# index-only scans (the roll-ups) on SSDs; measured in bench/. Set per connection, so it also
# holds for a database given by DATABASE_URL.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get(
    "GRIDLINE_PG_OPTIONS", "-c random_page_cost=1.1"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# What a 503 during a restart of PostgreSQL or Redis tells clients to wait (seconds).
GRIDLINE_RETRY_AFTER_SECONDS = int(os.environ.get("GRIDLINE_RETRY_AFTER_SECONDS", "5"))

# The cache: "locmem://" (default; one per process) or "redis://host:port/db", shared by
# every web process and the worker. Only a shared cache may hold what must agree across
# processes (sessions, users, tile versions), so with locmem those come from the database
# on every request: correct with any number of processes, and about 3 ms slower per tile
# (measured in bench/). `./gridline up` starts Debian's redis-server and uses it.
GRIDLINE_CACHE_URL = os.environ.get("GRIDLINE_CACHE_URL", "locmem://")
if GRIDLINE_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedRedisCache",
            "LOCATION": GRIDLINE_CACHE_URL,
            # Two databases on one Redis (demo and production, tests) never share a key.
            "KEY_PREFIX": f"gridline:{DATABASES['default']['NAME']}",
            "TIMEOUT": 24 * 3600,
        }
    }
    GRIDLINE_SHARED_CACHE = True
elif GRIDLINE_CACHE_URL == "locmem://":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
    GRIDLINE_SHARED_CACHE = False
else:
    raise ImproperlyConfigured(
        f"GRIDLINE_CACHE_URL is locmem:// or redis://host:port/db, not {GRIDLINE_CACHE_URL!r}"
    )
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if GRIDLINE_SHARED_CACHE
    else "django.contrib.sessions.backends.db"
)
# Axes first: it refuses a locked-out login before any password is checked (grids/lockout.py).
AUTHENTICATION_BACKENDS = ["grids.lockout.LockoutBackend", "grids.auth.CachedUserBackend"]
# Each web process keeps its most recently served tiles in front of the cache (maps/tiles.py).
GRIDLINE_TILE_MEMORY_MB = int(os.environ.get("GRIDLINE_TILE_MEMORY_MB", "64"))
# Messages in the session: the default cookie fallback builds a cookie signer on every
# request, a third of the time of a cached tile.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

AUTH_USER_MODEL = "grids.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "map"
LOGOUT_REDIRECT_URL = "login"

# Accounts and sessions (issue #15; docs/architecture.md "Accounts"). A production profile:
# GRIDLINE_PRODUCTION=1 behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto and
# appends to X-Forwarded-For; each DJANGO_SECURE_* / *_COOKIE_SECURE variable overrides it.
GRIDLINE_PRODUCTION = env_bool("GRIDLINE_PRODUCTION", False)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", GRIDLINE_PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", GRIDLINE_PRODUCTION)
# Paths (regular expressions, no leading slash) still answered over plain HTTP, e.g. a health
# check the proxy or a container runtime makes from inside.
SECURE_REDIRECT_EXEMPT = env_list("DJANGO_SECURE_REDIRECT_EXEMPT", "")
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if GRIDLINE_PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", GRIDLINE_PRODUCTION
)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", GRIDLINE_PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", GRIDLINE_PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", GRIDLINE_PRODUCTION)
# Reverse proxies in front that append to X-Forwarded-For (the login throttle counts the
# address the outermost one saw); 0 = the socket's address.
GRIDLINE_TRUSTED_PROXIES = int(
    os.environ.get("GRIDLINE_TRUSTED_PROXIES", "1" if GRIDLINE_PRODUCTION else "0")
)
# Sessions: street and community offices share workstations, so a session ends when the
# browser closes and at the latest GRIDLINE_SESSION_HOURS after login.
SESSION_COOKIE_AGE = int(env_float("GRIDLINE_SESSION_HOURS", 8.0) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("GRIDLINE_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# API tokens (grids/tokens.py): each expires this long after it is issued.
GRIDLINE_TOKEN_TTL_DAYS = env_float("GRIDLINE_TOKEN_TTL_DAYS", 30.0)
# Login throttling with django-axes (grids/lockout.py): an account locks after
# GRIDLINE_LOGIN_FAILURE_LIMIT wrong passwords, an address after
# GRIDLINE_LOGIN_ADDRESS_LIMIT, each for GRIDLINE_LOGIN_COOLOFF_MINUTES after its last one.
AXES_ENABLED = env_bool("GRIDLINE_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = int(os.environ.get("GRIDLINE_LOGIN_FAILURE_LIMIT", "5"))
GRIDLINE_LOGIN_ADDRESS_LIMIT = int(os.environ.get("GRIDLINE_LOGIN_ADDRESS_LIMIT", "50"))
if not 0 < AXES_FAILURE_LIMIT <= GRIDLINE_LOGIN_ADDRESS_LIMIT:
    raise ImproperlyConfigured(
        "GRIDLINE_LOGIN_FAILURE_LIMIT must be positive and at most GRIDLINE_LOGIN_ADDRESS_LIMIT"
    )
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_float("GRIDLINE_LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "grids.lockout.LoginLockoutHandler"
AXES_LOCKOUT_CALLABLE = "grids.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "grids.lockout.client_address"
AXES_USERNAME_FORM_FIELD = "username"
# Attempts made while locked do not extend the lock: Retry-After stays true, and someone
# hammering an account cannot keep its owner out beyond one cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False

# Chinese first (decision 10): Simplified Chinese by default, English by choice.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("GRIDLINE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm (package.json); only their built files are served.
NODE_MODULES = BASE_DIR / "node_modules"
for package in ("leaflet", "leaflet.vectorgrid", "@geoman-io/leaflet-geoman-free"):
    if (NODE_MODULES / package / "dist").is_dir():
        STATICFILES_DIRS.append((f"vendor/{package}", NODE_MODULES / package / "dist"))
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
# Uploads are served by the app after the scope check of their record (grids/media.py):
# "none" sends the file itself; "nginx" (X-Accel-Redirect to GRIDLINE_MEDIA_ACCEL_PREFIX, an
# `internal` location aliased to MEDIA_ROOT) or "apache" (X-Sendfile) let the proxy send it.
GRIDLINE_MEDIA_ACCEL = os.environ.get("GRIDLINE_MEDIA_ACCEL", "none").strip().lower()
if GRIDLINE_MEDIA_ACCEL not in {"none", "nginx", "apache"}:
    raise ImproperlyConfigured(
        f"GRIDLINE_MEDIA_ACCEL is none, nginx or apache, not {GRIDLINE_MEDIA_ACCEL!r}"
    )
GRIDLINE_MEDIA_ACCEL_PREFIX = os.environ.get("GRIDLINE_MEDIA_ACCEL_PREFIX", "/protected-media/")
# Seconds a browser keeps a photo without asking again (Cache-Control: private).
GRIDLINE_MEDIA_MAX_AGE = int(os.environ.get("GRIDLINE_MEDIA_MAX_AGE", "0"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": (
        {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        if DEBUG or os.environ.get("PYTEST_VERSION")
        else {"BACKEND": "config.storage.StaticStorage"}
    ),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "grids.api.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "grids.api.pagination.FeaturePagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "grids.api.errors.exception_handler",
    # DRF's parsers with the request limits (grids/api/parsers.py); views name only these.
    "DEFAULT_PARSER_CLASSES": [
        "grids.api.parsers.JSONParser",
        "grids.api.parsers.FormParser",
        "grids.api.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gridline API",
    # Enum names as drf-spectacular makes them, then the API's error statuses and body on every
    # operation (grids/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "grids.api.schema.document_errors",
    ],
    "DESCRIPTION": "Grid-based community governance: jurisdiction tree, grids, households.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the sidecar package: no CDN on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Status",
        "HolderLevelEnum": "incidents.models.Level",
        "UnitLevelEnum": "reports.models.UnitLevel",
        "IndicatorSourceEnum": "reports.models.Source",
        "IncidentSourceEnum": "incidents.models.Source",
        "SensorStatusEnum": "sensors.models.Status",
        "SensorRoleEnum": "sensors.models.Role",
        "DeliveryStateEnum": "sensors.models.DeliveryState",
        "AlertKindEnum": "sensors.models.AlertKind",
        "ChangeSetStatusEnum": "boundaries.models.Status",
        "ChangeSetKindEnum": "boundaries.models.Kind",
        "ApiTokenKindEnum": "grids.tokens.ApiToken.Kind",
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (29.35, 105.93),
    "DEFAULT_ZOOM": 10,
    "TILES": [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
    "FORCE_IMAGE_PATH": True,
}

# The base map under the command-centre map (decision 8): "none" (boundaries only, works on
# any closed network), "xyz" (GRIDLINE_BASEMAP_URL, e.g. an internal tile server) or
# "tianditu" (GRIDLINE_TIANDITU_TOKEN).
GRIDLINE_BASEMAP = os.environ.get("GRIDLINE_BASEMAP", "none")
GRIDLINE_BASEMAP_URL = os.environ.get("GRIDLINE_BASEMAP_URL", "")
GRIDLINE_BASEMAP_ATTRIBUTION = os.environ.get("GRIDLINE_BASEMAP_ATTRIBUTION", "")
GRIDLINE_TIANDITU_TOKEN = os.environ.get("GRIDLINE_TIANDITU_TOKEN", "")


def basemap_origins(kind: str, url: str) -> list[str]:
    """The hosts the base map's tiles come from, for the Content-Security-Policy."""
    if kind == "tianditu":
        return ["https://*.tianditu.gov.cn"]
    parts = urlsplit(url)
    if kind != "xyz" or not parts.netloc:
        return []  # no base map, or tiles from this site
    host = parts.netloc.split(".")
    if "{" in host[0]:  # {s}.tile.example.cn: a subdomain per request
        host[0] = "*"
    return [f"{parts.scheme}://{'.'.join(host)}"]


# Content-Security-Policy (grids/csp.py, django-csp): no inline scripts; images and fetches
# from this site, the base map's host and GRIDLINE_CSP_EXTRA_SOURCES (comma-separated).
GRIDLINE_CSP_EXTRA_SOURCES = env_list("GRIDLINE_CSP_EXTRA_SOURCES", "")
_MAP_SOURCES = [
    *basemap_origins(GRIDLINE_BASEMAP, GRIDLINE_BASEMAP_URL),
    *GRIDLINE_CSP_EXTRA_SOURCES,
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_MAP_SOURCES],
        "connect-src": ["'self'", *_MAP_SOURCES],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Integrity of the jurisdiction tree, in metres (decision 3 and issue #2).
GRIDLINE_OVERLAP_TOLERANCE_M = env_float("GRIDLINE_OVERLAP_TOLERANCE_M", 0.5)
GRIDLINE_CONTAINMENT_TOLERANCE_M = env_float("GRIDLINE_CONTAINMENT_TOLERANCE_M", 0.5)
# Boundary change sets (issue #7): how long a draft stays locked to its author after each
# edit or extension; the smallest area a grid may have; overlaps, gaps and bits outside the
# community smaller than GRIDLINE_SLIVER_M2 are rounding, not problems.
GRIDLINE_CHANGESET_LOCK_HOURS = env_float("GRIDLINE_CHANGESET_LOCK_HOURS", 24.0)
GRIDLINE_GRID_MIN_AREA_M2 = env_float("GRIDLINE_GRID_MIN_AREA_M2", 2000.0)
GRIDLINE_SLIVER_M2 = env_float("GRIDLINE_SLIVER_M2", 1.0)
# Imported points farther than this from the district are reported as far outside.
GRIDLINE_OUTSIDE_DISTRICT_M = env_float("GRIDLINE_OUTSIDE_DISTRICT_M", 2000.0)
# An incident reported this close to another grid's edge asks the reporter to confirm its grid.
GRIDLINE_INCIDENT_EDGE_M = env_float("GRIDLINE_INCIDENT_EDGE_M", 30.0)
# Hours allowed for each step when an incident category names none (its own table wins).
GRIDLINE_STEP_HOURS = {
    "register": 2,
    "dispatch": 4,
    "acknowledge": 4,
    "feed_back": 72,
    "verify": 24,
    "close": 24,
}
# Possible duplicates: the same category this close and this recent.
GRIDLINE_DUPLICATE_M = env_float("GRIDLINE_DUPLICATE_M", 50.0)
GRIDLINE_DUPLICATE_DAYS = env_float("GRIDLINE_DUPLICATE_DAYS", 7.0)
# Photos: images only (checked by decoding them), at most this size each.
GRIDLINE_PHOTO_MAX_MB = env_float("GRIDLINE_PHOTO_MAX_MB", 10.0)
# Request limits (grids/limits.py), checked before a body is parsed: the largest body of a
# JSON or form request and of an upload (multipart: photos, spreadsheets, boundary and sensor
# files), in MB, answered 413 beyond; how deeply JSON may nest, answered 400 beyond (GeoJSON
# needs 7 levels, a FeatureCollection of multipolygons with properties about 10).
GRIDLINE_BODY_MAX_MB = env_float("GRIDLINE_BODY_MAX_MB", 10.0)
GRIDLINE_UPLOAD_MAX_MB = env_float("GRIDLINE_UPLOAD_MAX_MB", 100.0)
GRIDLINE_JSON_MAX_DEPTH = int(os.environ.get("GRIDLINE_JSON_MAX_DEPTH", "32"))
# Django's own limit on the non-file part of a body, kept in line with the one above.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(GRIDLINE_BODY_MAX_MB * 1024 * 1024)
# ... and at most this many megapixels, read from the header before anything is decoded (a
# small PNG can declare 100000 x 100000 px). 50 MP holds every phone's default photo.
GRIDLINE_PHOTO_MAX_MEGAPIXELS = env_float("GRIDLINE_PHOTO_MAX_MEGAPIXELS", 50.0)
# Dates and times a client sends (grids.timestamps): none before this date (nothing on the
# platform is older; reporting periods start in its year), none later than now plus this
# clock skew in seconds (a phone's clock runs a little ahead).
GRIDLINE_EARLIEST_DATE = dt.date.fromisoformat(
    os.environ.get("GRIDLINE_EARLIEST_DATE") or "2000-01-01"
)
GRIDLINE_CLOCK_SKEW_SECONDS = env_float("GRIDLINE_CLOCK_SKEW_SECONDS", 300.0)
# A visit recorded farther than this from the household is flagged.
GRIDLINE_VISIT_DISTANCE_M = env_float("GRIDLINE_VISIT_DISTANCE_M", 200.0)
# The three-colour rule (三色管理) for grids, from their incidents over the last `days`:
# red when any red threshold is crossed, yellow for any yellow one, else blue. Rates are
# shares (0-1); satisfaction is the mean 1-5 score; a grid with fewer than `min_incidents`
# closed keeps blue unless its overdue-open count alone crosses a threshold.
GRIDLINE_COLOUR_RULE = json.loads(
    os.environ.get(
        "GRIDLINE_COLOUR_RULE",
        json.dumps(
            {
                "days": 30,
                "min_incidents": 3,
                "red": {"on_time_rate_below": 0.6, "satisfaction_below": 3.0, "overdue_open": 5},
                "yellow": {
                    "on_time_rate_below": 0.85,
                    "satisfaction_below": 4.0,
                    "overdue_open": 1,
                },
            }
        ),
    )
)

# 一表通 ledgers: without a template saying otherwise, a period's ledger is due on this day of
# the month after it and locks this many days later; Excel forms brought in are at most this
# large.
GRIDLINE_LEDGER_DUE_DAY = int(os.environ.get("GRIDLINE_LEDGER_DUE_DAY", "5"))
GRIDLINE_LEDGER_GRACE_DAYS = int(os.environ.get("GRIDLINE_LEDGER_GRACE_DAYS", "3"))
GRIDLINE_FORM_MAX_MB = env_float("GRIDLINE_FORM_MAX_MB", 5.0)

# Sensors (issue #6). Silence (seconds) after which a device counts as offline, unless its
# type sets its own; how long readings are kept (whole monthly partitions are dropped);
# how far ahead of the server's clock a reading may be stamped; rows per ingest request.
GRIDLINE_SENSOR_OFFLINE_AFTER = int(os.environ.get("GRIDLINE_SENSOR_OFFLINE_AFTER", "900"))
GRIDLINE_READINGS_RETENTION_DAYS = int(os.environ.get("GRIDLINE_READINGS_RETENTION_DAYS", "400"))
GRIDLINE_READINGS_FUTURE_SECONDS = int(os.environ.get("GRIDLINE_READINGS_FUTURE_SECONDS", "300"))
GRIDLINE_INGEST_MAX_ROWS = int(os.environ.get("GRIDLINE_INGEST_MAX_ROWS", "5000"))
# A fire water tank whose reported level (%) falls below this raises a low-level alert.
GRIDLINE_TANK_LOW_PCT = env_float("GRIDLINE_TANK_LOW_PCT", 30.0)
# Camera analytics alerts of one kind within this many minutes and metres are one incident.
GRIDLINE_ALERT_DEDUP_MINUTES = int(os.environ.get("GRIDLINE_ALERT_DEDUP_MINUTES", "10"))
GRIDLINE_ALERT_DEDUP_METRES = env_float("GRIDLINE_ALERT_DEDUP_METRES", 300.0)
# One-key broadcast: "log" (writes to the log, for the demo) or "mqtt" (a real broker; the
# run command starts Debian's Mosquitto on 127.0.0.1 when the URL points there).
GRIDLINE_BROADCAST_GATEWAY = os.environ.get("GRIDLINE_BROADCAST_GATEWAY", "log")
GRIDLINE_MQTT_URL = os.environ.get("GRIDLINE_MQTT_URL", "mqtt://127.0.0.1:1883")
GRIDLINE_MQTT_TOPIC_PREFIX = os.environ.get("GRIDLINE_MQTT_TOPIC_PREFIX", "gridline")
GRIDLINE_BROADCAST_MAX_ATTEMPTS = int(os.environ.get("GRIDLINE_BROADCAST_MAX_ATTEMPTS", "6"))
# The demo's gateways send heartbeats and readings every few minutes (sensors/services/
# simulator.py); `./gridline up` turns it on when it serves the demo.
GRIDLINE_DEMO_SIMULATOR = env_bool("GRIDLINE_DEMO_SIMULATOR", False)

# Mail beside in-app notifications. The console backend prints them until a relay is set.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "gridline@localhost")
# Links in mails point here.
GRIDLINE_SITE_URL = os.environ.get("GRIDLINE_SITE_URL", "http://127.0.0.1:8000")
# The worker finds the apps' jobs in their `jobs.py` (`tasks` would read as incident tasks).
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "jobs"
# `manage.py worker` (grids/services/worker.py) starts the worker again after a database
# outage, waiting 1 s doubling up to this many seconds; a task interrupted by an outage runs
# up to this many times; a worker silent this long is dead and its jobs go back to the queue.
GRIDLINE_WORKER_BACKOFF_MAX = env_float("GRIDLINE_WORKER_BACKOFF_MAX", 10.0)
GRIDLINE_WORKER_OUTAGE_RETRIES = int(os.environ.get("GRIDLINE_WORKER_OUTAGE_RETRIES", "5"))
GRIDLINE_WORKER_STALLED_SECONDS = env_float("GRIDLINE_WORKER_STALLED_SECONDS", 30.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GRIDLINE_LOG_LEVEL", "INFO")},
    # pyogrio reports every file it writes at INFO.
    "loggers": {"pyogrio": {"level": "WARNING"}, "procrastinate": {"level": "WARNING"}},
}

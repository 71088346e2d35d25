"""Gridline settings. Every value that differs between machines comes from the environment;
README.md lists each variable with its default."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_list
from config.geolibs import gdal_library_path, geos_library_path

BASE_DIR = Path(__file__).resolve().parent.parent

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
    "live",
    "maps",
    "sensors",
    "incidents",
    "reports",
    "ogc",
    "notifications",
    "boundaries",
    "screen",
    "field",
    "needs",
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
    # A kiosk session (the wall screen) reads only what the screen shows (screen/middleware.py).
    "screen.middleware.KioskMiddleware",
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
# OGC API - Features (/ogc/, issue #19): HTTP Basic for desktop clients that speak nothing
# else: "tls" (only over HTTPS, the default), "any" (a closed network without TLS) or "off".
GRIDLINE_OGC_BASIC_AUTH = os.environ.get("GRIDLINE_OGC_BASIC_AUTH", "tls").strip().lower()
if GRIDLINE_OGC_BASIC_AUTH not in {"tls", "any", "off"}:
    raise ImproperlyConfigured(
        f"GRIDLINE_OGC_BASIC_AUTH is tls, any or off, not {GRIDLINE_OGC_BASIC_AUTH!r}"
    )
# The largest page of features a client may ask for (`limit`); larger asks are clamped.
GRIDLINE_OGC_MAX_LIMIT = int(os.environ.get("GRIDLINE_OGC_MAX_LIMIT", "10000"))
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
for package in (
    "leaflet",
    "@geoman-io/leaflet-geoman-free",
    "maplibre-gl",
    "pmtiles",
    "echarts",
):
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
        "NeedStatusEnum": "needs.models.NeedStatus",
        "NeedSourceEnum": "needs.models.NeedSource",
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
# any closed network), "pmtiles" (one offline file, below), "xyz" (GRIDLINE_BASEMAP_URL, e.g.
# an internal tile server) or "tianditu" (GRIDLINE_TIANDITU_TOKEN).
GRIDLINE_BASEMAP = os.environ.get("GRIDLINE_BASEMAP", "none")
GRIDLINE_BASEMAP_URL = os.environ.get("GRIDLINE_BASEMAP_URL", "")
GRIDLINE_BASEMAP_ATTRIBUTION = os.environ.get("GRIDLINE_BASEMAP_ATTRIBUTION", "")
# GRIDLINE_BASEMAP=pmtiles: an offline base map as one PMTiles file (raster or vector), served
# by the app at /basemap.pmtiles to logged-in users (HTTP Range).
GRIDLINE_BASEMAP_PMTILES = os.environ.get("GRIDLINE_BASEMAP_PMTILES", "")

# The wall screen (/screen/, issue #16): a kiosk link's session lasts this many days;
# figures are cached per jurisdiction this many seconds (recounted sooner after an
# incident or alert, but at most every MIN seconds); the page refreshes them this often.
GRIDLINE_KIOSK_SESSION_DAYS = env_float("GRIDLINE_KIOSK_SESSION_DAYS", 30.0)
GRIDLINE_SCREEN_FIGURES_SECONDS = int(os.environ.get("GRIDLINE_SCREEN_FIGURES_SECONDS", "30"))
GRIDLINE_SCREEN_FIGURES_MIN_SECONDS = env_float("GRIDLINE_SCREEN_FIGURES_MIN_SECONDS", 5.0)
GRIDLINE_SCREEN_REFRESH_SECONDS = int(os.environ.get("GRIDLINE_SCREEN_REFRESH_SECONDS", "60"))

# Live events (/events/, issue #16): the event log keeps this many hours for browsers that
# reconnect with their last event id (older: a "reset" event, reload the figures); under a
# threaded server (runserver, the tests' live_server) a stream ends after this many seconds
# and the browser reconnects (the ASGI server of `./gridline up` holds streams open).
GRIDLINE_LIVE_KEEP_HOURS = env_float("GRIDLINE_LIVE_KEEP_HOURS", 48.0)
GRIDLINE_LIVE_WSGI_SECONDS = env_float("GRIDLINE_LIVE_WSGI_SECONDS", 300.0)
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

# The domain rules and limits: config/domain.py.
from config.domain import *  # noqa: E402,F403

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

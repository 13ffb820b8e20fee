"""Settings for the billing portal, read from the environment.

Two ways to run (README, docs/operations.md):

* Embedded default (nothing set): SQLite file, Celery tasks run in-process (eager),
  e-mail to the console, media files in ``./media``, DEBUG on.
* Full stack: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (Celery broker and
  result backend, cache), SMTP settings, and ``PORTAL_MODE=production`` with a
  ``SECRET_KEY``. In production mode DEBUG is off and the secure cookie / HSTS /
  SSL-redirect settings are on, so that ``manage.py check --deploy`` is clean.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

PORTAL_MODE = env_str("PORTAL_MODE", "development")
if PORTAL_MODE not in {"development", "production"}:
    raise ImproperlyConfigured("PORTAL_MODE must be 'development' or 'production'")
PRODUCTION = PORTAL_MODE == "production"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production mode")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-4f9c2a7e1b"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute address of the portal, used for links in e-mails and PDFs.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "billing_portal.admin_site.PortalAdminConfig",  # django.contrib.admin for verified users only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "billing_portal",
    "accounts",
    "notifications",
    "payments",
    "invoices",
    "purchase_orders",
    "support",
]

MIDDLEWARE = [
    # First: the request id is in every log line and task of the request, and its
    # latency is measured whole (billing_portal/observability.py).
    "billing_portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "billing_portal.middleware.PrivateNoStoreMiddleware",
    "billing_portal.middleware.DatabaseUnavailableMiddleware",
    "billing_portal.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.two_factor_middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billing_portal.urls"
WSGI_APPLICATION = "billing_portal.wsgi.application"

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
                "billing_portal.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # An unreachable database fails fast (health check, requests) instead of hanging.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Several requests write at once (a web server's threads or workers): each
            # transaction takes the write lock when it begins and waits up to
            # ``timeout`` seconds for it, instead of failing with "database is locked"
            # when a read turns into a write; WAL lets readers go on meanwhile.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions --------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Fails open (billing_portal/cache.py): an unreachable Redis never turns a request into an error.
    CACHES = {
        "default": {
            "BACKEND": "billing_portal.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database so that the web tier stays stateless.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Authentication -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.password_rules.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:overview"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 3600  # seconds a password-reset link works (accounts.self_service)

# Login lock-out (django-axes, billing_portal/lockout.py), 15 minutes: 5 failures per e-mail and address,
# or 20 from one address whatever the e-mails (password spraying).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_IP_FAILURE_LIMIT = env_int("AXES_IP_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "billing_portal.lockout.PortalAxesHandler"
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Two-factor sign-in (django-otp, TOTP; docs/operations.md): after a wrong code the device waits 1, 2, 4 ... s.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Billing portal")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin site never shows a device's secret or QR code

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["billing_portal.formats"]  # day-first dates in both languages, one per kind
USE_TZ = True
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static and media files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# STORAGES: documents (invoice, credit-note and receipt PDFs) under MEDIA_ROOT or in an
# S3-compatible bucket (STORAGE_BACKEND), static files: billing_portal/storage_settings.py.
from .storage_settings import *  # noqa: E402, F403

# --- E-mail ---------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
elif env_str("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Billing portal <billing@portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------
# Broker, queues, routes, the periodic schedule and its one-node-at-a-time scheduler:
# billing_portal/celery_settings.py.
from .celery_settings import *  # noqa: E402, F403

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an anonymous call gets 401 with WWW-Authenticate.
        "accounts.token_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "billing_portal.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "billing_portal.schema.AutoSchema",
    "EXCEPTION_HANDLER": "billing_portal.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["billing_portal.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # API sign-in (accounts.api.views.TokenThrottle), per address whatever the outcome.
    "DEFAULT_THROTTLE_RATES": {"token": "30/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Billing portal API",
    "DESCRIPTION": "Self-service billing: accounts, subscriptions, payment methods, invoices, "
    "PO and VAT numbers. Every error has the shape {code, detail, fields}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public schema validator: the docs page talks to the portal only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field; give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "accounts.models.SubscriptionStatus",
        "InvoiceStatusEnum": "invoices.models.InvoiceStatus",
        "AmendmentStatusEnum": "purchase_orders.models.AmendmentStatus",
        "CardSetupStatusEnum": "payments.models.CardSetupStatus",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
        "CreditNoteKindEnum": "invoices.models.CreditNoteKind",
        # A payment's kind and a receipt's method: one choice set.
        "PaymentKindEnum": "payments.models.PaymentKind",
        # PO-7's edit window, in the PO numbers API and the overview.
        "PoWindowStateEnum": ["not_generated", "awaiting_notification", "open", "closed"],
    },
    # Schema warnings are reported by `manage.py spectacular --validate` (and a test),
    # not by `check --deploy`, which is about the deployment's security settings.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}
# Request bodies above this size are refused (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- Invoices ------------------------------------------------------------------------------
# The invoice e-mail's PDF attachment and the ZIP download's limit:
# billing_portal/invoice_settings.py.
from .invoice_settings import *  # noqa: E402, F403

# --- Payments -----------------------------------------------------------------------------
# PAYMENT_GATEWAY and the Stripe adapter's keys and addresses: billing_portal/payment_settings.py.
from .payment_settings import *  # noqa: E402, F403

# --- The seller printed on invoices ------------------------------------------------------------
# SELLER_NAME, SELLER_IBAN, SELLER_BIC, SELLER_COC_NUMBER and the rest: billing_portal/seller_settings.py.
from .seller_settings import *  # noqa: E402, F403

# --- Security ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No page is framed; a view that must be (same origin) uses @xframe_options_sameorigin.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the portal itself only; no
# inline script or style anywhere (templates keep them in static files). The API docs page (Swagger UI from
# the sidecar under /static/) needs nothing more: its start script is served by SpectacularSwaggerSplitView.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production mode")

# LOGGING (plain or JSON lines, with request ids), METRICS_TOKEN and SENTRY_DSN:
# billing_portal/observability_settings.py.
from .observability_settings import *  # noqa: E402, F403

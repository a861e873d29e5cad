"""Settings shared by every deployment. See config/env.py for the variables that change them."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import anzen_home, env_bool, env_int, env_list, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ANZEN_HOME = anzen_home()
MEDIA_ROOT = ANZEN_HOME / "uploads"
FEEDS_ROOT = ANZEN_HOME / "feeds"

SECRET_KEY = secret_key(ANZEN_HOME)
DEBUG = env_bool("ANZEN_DEBUG", False)
ALLOWED_HOSTS = env_list("ANZEN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ANZEN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "anzen.common",
    "anzen.accounts",
    "anzen.library",
    "anzen.assessments",
    "anzen.assets",
    "anzen.vulns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "anzen.common.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "anzen.accounts.middleware.IdleLogoutMiddleware",
    "anzen.accounts.middleware.ActorMiddleware",
    "anzen.accounts.middleware.AccountGateMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "anzen" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "anzen.accounts.context_processors.actor",
            ],
        },
    },
]

# SQLite by default (one file under ANZEN_HOME); DATABASE_URL switches to PostgreSQL.
# IMMEDIATE transactions make SQLite serialise writers up front, so the audit chain never forks
# and concurrent writers wait (timeout) instead of failing half-way.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{ANZEN_HOME / 'anzen.sqlite3'}", conn_max_age=env_int("ANZEN_DB_CONN_MAX_AGE", 0)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Password rules: GL 6.0 Q&A シQ-54 (13 mixed characters, or 8 with two-factor authentication),
# no reuse of the recent ones. See anzen/accounts/passwords.py.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "anzen.accounts.passwords.GuidelinePasswordValidator"},
    {"NAME": "anzen.accounts.passwords.PasswordHistoryValidator"},
]
ANZEN_PASSWORD_HISTORY = env_int("ANZEN_PASSWORD_HISTORY", 5)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "common:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle logout (GL: 離席時の不正入力防止); minutes, 0 disables.
ANZEN_IDLE_TIMEOUT_MINUTES = env_int("ANZEN_IDLE_TIMEOUT_MINUTES", 15)
SESSION_COOKIE_AGE = env_int("ANZEN_SESSION_MAX_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("ANZEN_HTTPS", False)
CSRF_COOKIE_SECURE = env_bool("ANZEN_HTTPS", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Lockout after repeated failures (django-axes), by user name.
AXES_FAILURE_LIMIT = env_int("ANZEN_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("ANZEN_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "Anzen"
ANZEN_MFA_REQUIRED_ROLES = ("admin", "evaluator")
ANZEN_RECOVERY_CODES = 10

# Content-Security-Policy: everything from this server, nothing inline without a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("英語"))]
LOCALE_PATHS = [BASE_DIR / "anzen" / "locale"]
TIME_ZONE = env_list("ANZEN_TIME_ZONE", ["Asia/Tokyo"])[0]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ANZEN_HOME / "static"
STATICFILES_DIRS = [BASE_DIR / "anzen" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ANZEN_MAX_UPLOAD_BYTES = env_int("ANZEN_MAX_UPLOAD_MB", 20) * 1024 * 1024

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env_list("ANZEN_EMAIL_HOST", [])
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_list("ANZEN_EMAIL_HOST", ["localhost"])[0]
EMAIL_PORT = env_int("ANZEN_EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("ANZEN_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_list("ANZEN_EMAIL_FROM", ["anzen@localhost"])[0]
ANZEN_BASE_URL = env_list("ANZEN_BASE_URL", ["http://127.0.0.1:8000"])[0]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_list("ANZEN_LOG_LEVEL", ["INFO"])[0]},
    "loggers": {"axes": {"level": "WARNING"}},
}
ANZEN_TRUST_X_FORWARDED_FOR = env_bool("ANZEN_TRUST_X_FORWARDED_FOR", False)

# Lockout is by user name on purpose (the guideline's account lockout); IP-based throttling belongs
# to the reverse proxy in front of a multi-user deployment.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

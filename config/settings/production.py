"""Settings for `anzen serve` and gunicorn: the base settings plus HTTPS hardening when asked for."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

if env_bool("ANZEN_HTTPS", False):
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

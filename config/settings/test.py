"""Settings for the test suite: same apps and middleware, faster hashing, no manifest for static files."""

import os
import tempfile

# Tests never touch a real ANZEN_HOME: the secret key and files go to a throwaway folder.
os.environ.setdefault("ANZEN_HOME", tempfile.mkdtemp(prefix="anzen-test-home-"))

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = os.path.join(os.environ["ANZEN_HOME"], "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="anzen-test-media-")
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# A file, not :memory:, so live-server and threaded tests share one real SQLite database with the
# same locking (IMMEDIATE transactions, WAL) as production.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["ANZEN_HOME"], "test.sqlite3")}  # noqa: F405
AXES_FAILURE_LIMIT = 5

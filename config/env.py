"""Reading Anzen's configuration from the environment.

Everything a deployment changes comes from environment variables (12-factor); the defaults give a
single-machine install on SQLite under ``ANZEN_HOME``. Secrets never live in the code: the secret key
comes from ``ANZEN_SECRET_KEY`` or from a file that ``anzen setup`` creates under ``ANZEN_HOME``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_HOME = Path.home() / ".local" / "share" / "anzen"


def anzen_home() -> Path:
    home = Path(os.environ.get("ANZEN_HOME", DEFAULT_HOME)).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key(home: Path) -> str:
    """The key from ANZEN_SECRET_KEY, else from ANZEN_HOME/secret_key (created once, mode 0600)."""
    from_env = os.environ.get("ANZEN_SECRET_KEY")
    if from_env:
        return from_env
    path = home / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return path.read_text().strip()

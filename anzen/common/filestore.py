"""Content-addressed file stores under MEDIA_ROOT (never served by the web server).

Uploads are streamed into a temporary file while their SHA-256 is computed, optionally checked,
then moved into place atomically (mode 0600) under their hash — so a half-written or refused file
never appears in the store, and the same content is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

CHUNK = 64 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(ValueError):
    """The stream went past the size limit; nothing was kept."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class Stored:
    sha256: str
    path: Path
    size: int


@dataclass(frozen=True)
class FileStore:
    folder: str  # below MEDIA_ROOT
    suffix: str = ""  # e.g. ".xlsx"
    fan_out: bool = False  # <sha[:2]>/<sha> for stores that grow large
    stale_seconds: int | None = None  # staging stores forget files older than this

    @property
    def root(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.folder

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256 or ""):
            raise ValueError("not a SHA-256 hex digest")
        name = sha256 + self.suffix
        return self.root / sha256[:2] / name if self.fan_out else self.root / name

    def exists(self, sha256: str) -> bool:
        return bool(_SHA.match(sha256 or "")) and self.path(sha256).is_file()

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None,
            check: Callable[[Path], None] | None = None) -> Stored:
        """Store what `stream` yields; `check(path)` may refuse the complete file by raising."""
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        if self.stale_seconds:
            self._remove_stale()
        digest, size = hashlib.sha256(), 0
        handle, temp_name = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK), b""):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
            if check is not None:
                check(Path(temp_name))
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temp_name, 0o600)
            os.replace(temp_name, target)
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
        return Stored(sha, target, size)

    def discard(self, sha256: str) -> None:
        if _SHA.match(sha256 or ""):
            self.path(sha256).unlink(missing_ok=True)

    def _remove_stale(self) -> None:
        limit = time.time() - (self.stale_seconds or 0)
        for path in self.root.glob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except OSError:
                continue

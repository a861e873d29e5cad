"""`anzen library ...` (placeholder until the loader lands)."""

from typing import Any


def register(subparsers: Any) -> None:
    return None

"""`anzen assets import …` — provided by the import area."""

from typing import Any


def register(commands: Any) -> None:
    """Add the import subcommands to `anzen assets`."""

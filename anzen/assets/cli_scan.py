"""`anzen assets reconcile …` — provided by the scan area."""

from typing import Any


def register(commands: Any) -> None:
    """Add the scan subcommands to `anzen assets`."""

"""`anzen vulns import|fetch|check` (feeds and the CVE store). Stub: the feed commands land here."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    """Add the feed subcommands to `anzen vulns` (none yet)."""

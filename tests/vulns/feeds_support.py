"""Helpers for the feed tests: the fixture folder and importing fixtures by name."""

from __future__ import annotations

from pathlib import Path

from anzen.vulns import services_feeds
from anzen.vulns.models import FeedImport

FIXTURES = Path(__file__).with_name("fixtures")


def fixture(name: str) -> Path:
    return FIXTURES / name


def load(*names: str) -> list[FeedImport]:
    """Import fixture files (paths under fixtures/); every import must succeed."""
    results = services_feeds.import_paths(paths=[fixture(name) for name in names])
    failed = [(item.name, item.error) for item in results if item.status != FeedImport.Status.OK]
    assert not failed, failed
    return results

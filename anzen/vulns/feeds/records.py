"""What every parser yields: one source's view of one CVE (pure)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

NVD, CVE5, JVN = "nvd", "cve5", "jvn"


class FeedError(Exception):
    """A feed that cannot be imported; the message is Japanese and says what to do."""


@dataclass
class SourceRecord:
    """One source's record of one CVE.

    - NVD (1.1 converted or 2.0): `payload` is the NVD API 2.0 `cve` object.
    - CVE 5: `payload` is the compact CVE 5 part (updated, state, metrics, affected, kev, …).
    - JVN: `payload` is one advisory's part for this CVE (`key` = JVNDB id): modified, title, overview,
      metrics, products. One advisory naming three CVEs gives three records.
    """

    source: str
    cve_id: str
    modified: str  # normalised timestamp (see `timestamp`), compared as text
    payload: dict[str, Any]
    fmt: str = ""
    key: str = ""  # JVNDB id for JVN records
    advisory: dict[str, Any] | None = field(default=None, repr=False)  # the whole JVN advisory (JvnAdvisory row)
    data: bytes | None = field(default=None, repr=False)  # `payload` serialised (set by merge.prepare)
    digest: str = field(default="", repr=False)


_CVE_ID = re.compile(r"^(CVE-\d{4}-\d{4,}|JVNDB-\d{4}-\d{6})$")


def valid_id(value: str) -> bool:
    return bool(_CVE_ID.match(value or ""))


def timestamp(value: Any) -> str:
    """A feed timestamp as UTC ``YYYY-MM-DDTHH:MM:SS.fff`` (NVD 2.0's own form), "" when absent.

    Accepts NVD 1.1 (``2019-01-09T23:29Z``), NVD 2.0 (``2023-01-02T09:15:09.490``, UTC without zone),
    CVE 5 (``2024-08-16T18:15:02.675Z``) and JVN (``2024-05-29T17:39:51+09:00``)."""
    if not value:
        return ""
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = dt.datetime.strptime(text[:10], "%Y-%m-%d")
        except ValueError:
            return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def to_datetime(value: str) -> dt.datetime | None:
    """An aware UTC datetime from a normalised timestamp."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def to_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None

"""Fetching feeds from the APIs when the machine is online: NVD CVE API 2.0 and MyJVN (JVN iPedia).

- One run is one `FeedImport` (kind API) whose `cursor` says where it is: the date windows to fetch, the
  current window and the next start index. Every page is imported in its own transaction and the cursor is
  saved after it, so a run cut off (network, rate limit, Ctrl-C) resumes at the next page, and re-importing
  a page that was written but not yet counted changes nothing.
- Incremental: a new run starts from the previous successful run's end date (`lastModStartDate`), in the
  windows of at most 120 days that NVD allows. The first run fetches everything.
- Rate limits: NVD allows 5 requests per 30 s without an API key and 50 with one; the fetcher waits between
  requests accordingly. HTTP 403/429/5xx and network errors are retried with a growing pause (honouring
  Retry-After); when the retries run out the run is left `interrupted` and the next fetch resumes it.
- API key: ``NVD_API_KEY`` (or ``ANZEN_NVD_API_KEY``) in the environment, or the ``ANZEN_NVD_API_KEY`` setting;
  sent as the ``apiKey`` header, never logged.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.common import audit
from anzen.common.models import AuditEntry
from anzen.vulns import services_feeds
from anzen.vulns.feeds.records import FeedError
from anzen.vulns.models import FeedImport

NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
MYJVN_URL = "https://jvndb.jvn.jp/myjvn"
NVD_NAME, JVN_NAME = "NVD CVE API 2.0", "MyJVN getVulnOverviewList"
NVD_PAGE, JVN_PAGE = 2000, 50  # the largest pages each API serves
MAX_WINDOW = dt.timedelta(days=120)  # NVD's limit for a lastModStartDate … lastModEndDate range
RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})  # NVD answers 403 when rate-limited
_COUNT = re.compile(rb'"(totalResults|totalRes|resultsPerPage|totalResRet)"\s*:\s*(\d+)')


class FetchError(Exception):
    """A fetch that could not finish; the message is Japanese. The run is left resumable."""


@dataclass
class Config:
    url: str
    api_key: str = ""
    interval: float = 6.0  # seconds between requests
    page_size: int = NVD_PAGE
    retries: int = 4
    backoff: float = 6.0  # the first pause after a failure, doubled each time
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def nvd_config() -> Config:
    key = os.environ.get("NVD_API_KEY") or os.environ.get("ANZEN_NVD_API_KEY") or getattr(
        settings, "ANZEN_NVD_API_KEY", "")
    return Config(url=getattr(settings, "ANZEN_NVD_API_URL", NVD_URL), api_key=key, interval=0.6 if key else 6.0)


def jvn_config() -> Config:
    return Config(url=getattr(settings, "ANZEN_MYJVN_URL", MYJVN_URL), interval=1.0, page_size=JVN_PAGE)


# --- HTTP --------------------------------------------------------------------------------------------


def _get(config: Config, params: dict[str, str]) -> bytes:
    url = f"{config.url}?{urllib.parse.urlencode(params)}"
    headers = {"User-Agent": "Anzen vulnerability watch", "Accept-Encoding": "identity"}
    if config.api_key:
        headers["apiKey"] = config.api_key
    pause = config.backoff
    last = ""
    for attempt in range(config.retries + 1):
        if attempt:
            config.sleep(pause)
            pause *= 2
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 (https/http URL from settings)
            with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310
                return response.read()
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
            if error.code not in RETRY_STATUSES:
                raise FetchError(_("API が HTTP %(code)s を返しました（%(url)s）。") % {
                    "code": error.code, "url": config.url}) from None
            retry_after = error.headers.get("Retry-After", "") if error.headers else ""
            if retry_after.isdigit():
                pause = max(pause, min(float(retry_after), 600.0))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            last = str(getattr(error, "reason", error))[:120]
    raise FetchError(_("API に接続できません（%(detail)s、%(count)s 回試行）。次の取得は中断した位置から再開します。")
                     % {"detail": last, "count": config.retries + 1})


def _counts(data: bytes) -> dict[str, int]:
    return {key.decode(): int(value) for key, value in _COUNT.findall(data[:4000])}


# --- runs --------------------------------------------------------------------------------------------


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def _windows(since: dt.datetime | None, until: dt.datetime) -> list[list[str]]:
    if since is None:
        return [["", ""]]
    windows = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        windows.append([_stamp(start), _stamp(end)])
        start = end
    return windows or [[_stamp(since), _stamp(until)]]


def _previous_end(name: str) -> dt.datetime | None:
    last = FeedImport.objects.filter(kind=FeedImport.Kind.API, name=name, status=FeedImport.Status.OK).first()
    if last is None or not last.cursor.get("until"):
        return None
    return dt.datetime.fromisoformat(last.cursor["until"])


def _open_run(name: str, source: str, *, since: dt.datetime | None, full: bool, actor_label: str) -> FeedImport:
    """The interrupted run to resume, or a new one from the previous run's end date."""
    resumable = FeedImport.objects.filter(kind=FeedImport.Kind.API, name=name, status__in=[
        FeedImport.Status.RUNNING, FeedImport.Status.INTERRUPTED]).first()
    if resumable is not None and not full and since is None:
        resumable.status = FeedImport.Status.RUNNING
        resumable.error = ""
        resumable.save(update_fields=["status", "error"])
        return resumable
    if resumable is not None:  # a new full or dated run replaces the interrupted one
        resumable.status = FeedImport.Status.FAILED
        resumable.error = _("新しい取得に置き換えられました。")
        resumable.save(update_fields=["status", "error"])
    until = timezone.now()
    start = None if full else (since or _previous_end(name))
    cursor = {"windows": _windows(start, until), "window": 0, "start": 0, "until": until.isoformat(), "pages": 0}
    return FeedImport.objects.create(kind=FeedImport.Kind.API, name=name, source=source, cursor=cursor,
                                     actor_label=actor_label[:200])


def _interrupt(run: FeedImport, message: str) -> None:
    run.status = FeedImport.Status.INTERRUPTED
    run.error = message
    run.save(update_fields=["status", "error"])
    audit.record(AuditEntry.Action.IMPORT, obj=run, message=_("API からの取得を中断: %(error)s") % {"error": message})


def _finish(run: FeedImport) -> None:
    run.status = FeedImport.Status.OK
    run.finished_at = timezone.now()
    run.save()
    audit.record(AuditEntry.Action.IMPORT, obj=run, message=services_feeds.summary(run))


def _run_pages(run: FeedImport, config: Config, params_for: Callable[[list[str], int], dict[str, str]],
               total_key: str, first: int, page_name: str) -> FeedImport:
    cursor = run.cursor
    cursor["start"] = max(cursor["start"], first)  # a new run's cursor starts at 0; MyJVN counts items from 1
    waited = False
    while cursor["window"] < len(cursor["windows"]):
        window = cursor["windows"][cursor["window"]]
        if waited:
            config.sleep(config.interval)
        waited = True
        try:
            data = _get(config, params_for(window, cursor["start"]))
            counts = _counts(data)
            services_feeds.import_bytes(name=page_name % {"start": cursor["start"]}, data=data, source=config.url,
                                        kind=FeedImport.Kind.API, feed_import=run)
        except (FetchError, FeedError) as error:
            _interrupt(run, str(error))
            raise FetchError(str(error)) from None
        got = counts.get("resultsPerPage", counts.get("totalResRet", 0))
        total = counts.get(total_key, 0)
        cursor["pages"] = cursor.get("pages", 0) + 1
        cursor["total"] = total
        if got and cursor["start"] - first + got < total:
            cursor["start"] += got
        else:
            cursor["window"], cursor["start"] = cursor["window"] + 1, first
        run.cursor = cursor
        run.save(update_fields=["cursor"])
    _finish(run)
    return run


def fetch_nvd(*, config: Config | None = None, since: dt.datetime | None = None, full: bool = False,
              actor_label: str = "") -> FeedImport:
    """Fetch CVEs changed since the last run (everything on the first run) from the NVD CVE API 2.0."""
    config = config or nvd_config()
    run = _open_run(NVD_NAME, config.url, since=since, full=full, actor_label=actor_label)

    def params(window: list[str], start: int) -> dict[str, str]:
        values = {"startIndex": str(start), "resultsPerPage": str(config.page_size)}
        if window[0]:
            values.update(lastModStartDate=window[0], lastModEndDate=window[1])
        return values

    return _run_pages(run, config, params, "totalResults", 0, "nvd-api-%(start)s.json")


def fetch_jvn(*, config: Config | None = None, since: dt.datetime | None = None, full: bool = False,
              actor_label: str = "") -> FeedImport:
    """Fetch JVN iPedia advisories (Japanese titles and overviews, JVN CVSS, products) updated since the last
    run from MyJVN getVulnOverviewList (API 4.0 JSON, `feed=oka`)."""
    config = config or jvn_config()
    run = _open_run(JVN_NAME, config.url, since=since, full=full, actor_label=actor_label)

    def params(window: list[str], start: int) -> dict[str, str]:
        values = {"method": "getVulnOverviewList", "feed": "oka", "lang": "ja", "startItem": str(start),
                  "maxCountItem": str(config.page_size)}
        if window[0]:
            low, high = dt.datetime.fromisoformat(window[0]), dt.datetime.fromisoformat(window[1])
            values.update(rangeDateLastUpdated="n", dateLastUpdatedStartY=str(low.year),
                          dateLastUpdatedStartM=str(low.month), dateLastUpdatedStartD=str(low.day),
                          dateLastUpdatedEndY=str(high.year), dateLastUpdatedEndM=str(high.month),
                          dateLastUpdatedEndD=str(high.day))
        return values

    return _run_pages(run, config, params, "totalRes", 1, "myjvn-%(start)s.json")

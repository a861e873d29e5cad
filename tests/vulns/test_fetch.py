"""`anzen vulns fetch` against a local HTTP server serving the real NVD API page and MyJVN response:
paging, API key header, retries on 403/503, interruption and resume, incremental runs."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from anzen.cli.main import main
from anzen.vulns import fetch
from anzen.vulns.models import Cve, FeedImport, JvnAdvisory

from .feeds_support import fixture

pytestmark = pytest.mark.django_db


def nvd_pages(size: int = 20) -> dict[int, bytes]:
    """The real 38-CVE API page cut into pages of `size`, as the API would serve them."""
    document = orjson.loads(fixture("nvd20/cves-api-full-page-38.json").read_bytes())
    items = document["vulnerabilities"]
    pages = {}
    for start in range(0, len(items), size):
        part = items[start:start + size]
        pages[start] = orjson.dumps({"resultsPerPage": len(part), "startIndex": start,
                                     "totalResults": len(items), **{key: document[key] for key in (
                                         "format", "version", "timestamp")}, "vulnerabilities": part})
    return pages


class Api:
    """What the fake server answers: a queue of failures to give first, then the pages."""

    def __init__(self) -> None:
        self.pages: dict[int, bytes] = nvd_pages()
        self.failures: list[int] = []  # HTTP statuses to answer before succeeding
        self.fail_from: int | None = None  # startIndex from which every request fails (rate limit that lasts)
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []

    def answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        if "method" in query:  # MyJVN
            return 200, fixture("jvn/getVulnOverviewList_oka.json").read_bytes()
        start = int(query.get("startIndex", "0"))
        if self.failures:
            return self.failures.pop(0), b"{}"
        if self.fail_from is not None and start >= self.fail_from:
            return 403, b"rate limited"
        return 200, self.pages[start]


@pytest.fixture
def api() -> Iterator[tuple[Api, str]]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            state.requests.append((query, dict(self.headers)))
            status, body = state.answer(query)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/rest/json/cves/2.0"
    finally:
        server.shutdown()
        server.server_close()


def config(url: str, pauses: list[float], **overrides: object) -> fetch.Config:
    values: dict = {"url": url, "api_key": "test-key", "interval": 0.6, "page_size": 20, "retries": 2,
                    "backoff": 6.0, "timeout": 5.0, "sleep": pauses.append}
    values.update(overrides)
    return fetch.Config(**values)


def test_full_fetch_pages_with_key_and_rate_limit(api) -> None:
    state, url = api
    pauses: list[float] = []
    run = fetch.fetch_nvd(config=config(url, pauses))
    assert run.status == FeedImport.Status.OK and run.kind == FeedImport.Kind.API
    assert (run.new, run.updated, run.errors) == (38, 0, 0) and Cve.objects.count() == 38
    assert [query["startIndex"] for query, _headers in state.requests] == ["0", "20"]
    assert all({key.lower(): value for key, value in headers.items()}.get("apikey") == "test-key"
               for _query, headers in state.requests)
    assert "lastModStartDate" not in state.requests[0][0]  # the first run fetches everything
    assert pauses == [0.6]  # one pause between the two requests (50 requests / 30 s with a key)


def test_retry_on_503_and_403(api) -> None:
    state, url = api
    state.failures = [503, 403]
    pauses: list[float] = []
    run = fetch.fetch_nvd(config=config(url, pauses))
    assert run.status == FeedImport.Status.OK and run.new == 38
    assert pauses[:2] == [6.0, 12.0]  # growing pauses before the retries
    assert len(state.requests) == 4


def test_interrupted_then_resumed_then_incremental(api) -> None:
    state, url = api
    state.fail_from = 20
    pauses: list[float] = []
    with pytest.raises(fetch.FetchError, match="HTTP 403"):
        fetch.fetch_nvd(config=config(url, pauses))
    run = FeedImport.objects.get(kind=FeedImport.Kind.API)
    assert run.status == FeedImport.Status.INTERRUPTED and run.cursor["start"] == 20 and run.new == 20
    assert "再開" in run.error
    assert Cve.objects.count() == 20  # the first page is kept; the failed one wrote nothing

    state.fail_from, state.requests = None, []
    resumed = fetch.fetch_nvd(config=config(url, pauses))
    assert resumed.pk == run.pk and resumed.status == FeedImport.Status.OK
    assert [query["startIndex"] for query, _headers in state.requests] == ["20"]  # not from the start
    assert (resumed.new, resumed.unchanged) == (38, 0) and Cve.objects.count() == 38

    state.requests = []
    later = fetch.fetch_nvd(config=config(url, pauses))
    assert later.pk != run.pk and later.unchanged == 38 and later.new == 0
    query = state.requests[0][0]
    assert query["lastModStartDate"] == dt.datetime.fromisoformat(run.cursor["until"]).strftime(
        "%Y-%m-%dT%H:%M:%S.000+00:00")
    assert query["lastModEndDate"] >= query["lastModStartDate"]


def test_since_splits_into_120_day_windows(api) -> None:
    state, url = api
    run = fetch.fetch_nvd(config=config(url, []), since=dt.datetime.now(dt.UTC) - dt.timedelta(days=300))
    assert len(run.cursor["windows"]) == 3
    windows = {(query["lastModStartDate"], query["lastModEndDate"]) for query, _headers in state.requests}
    assert len(windows) == 3
    for low, high in windows:
        span = dt.datetime.fromisoformat(high) - dt.datetime.fromisoformat(low)
        assert span <= dt.timedelta(days=120)


def test_broken_page_interrupts_without_half_import(api) -> None:
    state, url = api
    state.pages[20] = state.pages[20][:5000]  # a truncated response
    with pytest.raises(fetch.FetchError, match="JSON として読めません"):
        fetch.fetch_nvd(config=config(url, []))
    assert Cve.objects.count() == 20


def test_client_error_is_not_retried(api) -> None:
    state, url = api
    state.failures = [404]
    with pytest.raises(fetch.FetchError, match="HTTP 404"):
        fetch.fetch_nvd(config=config(url, []))
    assert len(state.requests) == 1


def test_myjvn_overview_list(api) -> None:
    state, url = api
    run = fetch.fetch_jvn(config=config(url, [], page_size=50))
    assert run.status == FeedImport.Status.OK
    query = state.requests[0][0]
    assert (query["method"], query["feed"], query["startItem"]) == ("getVulnOverviewList", "oka", "1")
    assert JvnAdvisory.objects.filter(title__contains="Rockwell Automation").exists()


def test_fetch_cli(api, capsys, monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")
    _state, url = api
    settings.ANZEN_NVD_API_URL = url
    monkeypatch.setattr(fetch.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("NVD_API_KEY", "cli-key")
    code = main(["vulns", "fetch", "--source", "nvd", "--json"])
    out, _err = capsys.readouterr()
    data = json.loads(out)
    assert code == 0 and data["runs"][0]["new"] == 38 and data["errors"] == []
    code = main(["vulns", "fetch", "--source", "nvd", "--since", "yesterday"])
    _out, err = capsys.readouterr()
    assert code == 1 and "YYYY-MM-DD" in err

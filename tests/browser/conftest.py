"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

`playwright install` cannot download browsers here, so Chromium is Debian's (/usr/bin/chromium,
or ANZEN_CHROMIUM), launched headless with the flags that keep it off the network: without them
its background connections are refused by the closed network and it misbehaves.

Screenshots go to ANZEN_TEST_ARTIFACTS (scripts/test.sh sets test-artifacts/<database>/), else
test-artifacts/.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio event loop in the test thread; Django's guard against ORM
# calls from async code would then refuse the fixtures' and the test database's queries.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("ANZEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we may run as root
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("ANZEN_TEST_ARTIFACTS") or ROOT / "test-artifacts")
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium; or set ANZEN_CHROMIUM")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, chromium_sandbox=False,
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) in Japanese, Tokyo time, with console errors collected."""
    context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "ja-JP,ja;q=0.9"},
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.console_errors = errors  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and errors.append(
        f"{msg.text} ({msg.location.get('url')})"))
    page.on("response", lambda response: response.status >= 400 and errors.append(
        f"HTTP {response.status} {response.request.method} {response.url}"))
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:  # keep a picture of where a failing test stopped
        _save(page, f"FAILED-{request.node.name}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


def _save(page: Any, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """screenshot(page, "name") saves ARTIFACTS/name.png (full page) and returns its path."""
    return _save


@pytest.fixture
def demo_data(live_server: Any, transactional_db: None) -> dict[str, Any]:
    """The demo world and the built-in library, in the database the live server uses."""
    from anzen.demo.loader import load_demo
    from anzen.library.loader import load_builtin_library

    library = load_builtin_library()
    demo = load_demo()
    return {"library": library, **demo}


@dataclass
class Authenticator:
    """A TOTP authenticator app: codes from the secret shown at enrolment, never reusing a time step.

    django-otp rejects a code whose time step is not after the last accepted one (replay
    protection) and accepts one step ahead (tolerance 1), so the next code is the current step's,
    or the next step's when the current one was already used.
    """

    secret: str = ""
    used_steps: set[int] = field(default_factory=set)
    step_seconds: int = 30

    @property
    def key(self) -> bytes:
        raw = re.sub(r"\s+", "", self.secret).upper()
        return base64.b32decode(raw + "=" * (-len(raw) % 8))

    def code(self) -> str:
        from django_otp.oath import totp

        now_step = int(time.time()) // self.step_seconds
        step = max([now_step, *[s + 1 for s in self.used_steps]])
        if step > now_step + 1:  # both usable steps are spent: wait for the next one
            time.sleep((now_step + 1) * self.step_seconds - time.time() + 0.5)
            return self.code()
        self.used_steps.add(step)
        return f"{totp(self.key, step=self.step_seconds, drift=step - now_step):06d}"

    def wrong_code(self) -> str:
        """A code that no step near now produces."""
        from django_otp.oath import totp

        valid = {f"{totp(self.key, step=self.step_seconds, drift=d):06d}" for d in range(-3, 4)}
        return next(c for c in ("000000", "111111", "123456", "999999") if c not in valid)


@pytest.fixture
def authenticator() -> Authenticator:
    return Authenticator()

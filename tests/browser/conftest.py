"""Browser fixtures: one real headless Chromium per test session, driven by Playwright.

We drive Debian's ``/usr/bin/chromium`` (``make browser`` installs it) rather than
Playwright's downloaded browser, which cannot be fetched on locked-down machines.

Playwright's *async* API is used because the suite runs pytest-asyncio in auto mode:
the sync API refuses to start inside a running event loop, and a session-long sync
browser would break every async test that runs after it.  The browser lives in the
session event loop, so every test in this directory is moved to that loop by
:func:`pytest_collection_modifyitems` below; write browser tests as ``async def``.

Fixtures:
- ``browser``: the shared Chromium (session scope).
- ``web_url``: the web app of the shared ``stack`` (demo mode, so ``/?login=demo`` works).
- ``new_page``: ``await new_page("shopper", viewport=...)`` opens a page in a fresh
  context (own cookies); dialogs and page errors are recorded on ``new_page.dialogs`` /
  ``new_page.errors``; every page is screenshotted at teardown, pass or fail.
- ``screenshot``: ``await screenshot(page, "after-reload")`` saves a named shot now.
Screenshots land in ``tests/artifacts/<test>-<name>.png``.
"""

from __future__ import annotations

import inspect
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from assistant.settings import PROJECT_ROOT

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright is not installed (pip install -e '.[test]')")

BROWSER_DIR = Path(__file__).parent
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A chat turn goes through Rasa, the action server and the index: allow for a loaded CI box.
TIMEOUT_MS = 30_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run this directory's async tests in the session loop, where the browser lives."""
    for item in items:
        if BROWSER_DIR in item.path.parents and inspect.iscoroutinefunction(getattr(item, "obj", None)):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


def chromium_path() -> Path | None:
    """Debian's chromium, wherever ``PATH`` has it."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the whole session (contexts keep the tests apart)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (run `make browser` or `apt-get install chromium`)")
    playwright_api.expect.set_options(timeout=TIMEOUT_MS)
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
def web_url(stack: dict[str, Any]) -> str:
    """Base URL of the stack's web app."""
    return f"http://127.0.0.1:{stack['ports'].web}"


def artifact_path(request: pytest.FixtureRequest, name: str) -> Path:
    """``tests/artifacts/<test>-<name>.png`` with characters safe for any file system."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{name}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{stem}.png"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Awaitable[Path]]:
    """Save a full-page screenshot of ``page`` under a name, mid-test."""

    async def take(page: Any, name: str) -> Path:
        path = artifact_path(request, name)
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take


class PageFactory:
    """Opens pages in fresh browser contexts and remembers them for teardown."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.pages: dict[str, Any] = {}
        self.contexts: list[Any] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    async def __call__(self, name: str = "page", **context_options: Any) -> Any:
        """A new page called ``name`` in its own context (``viewport``, ``base_url``... as Playwright takes them)."""
        context = await self.browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        self.pages[name if name not in self.pages else f"{name}-{len(self.pages)}"] = page
        return page

    async def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    async def close(self, request: pytest.FixtureRequest) -> None:
        """Screenshot every open page (pass or fail), then close the contexts."""
        for name, page in self.pages.items():
            if not page.is_closed():
                try:
                    await page.screenshot(path=str(artifact_path(request, name)), full_page=True)
                except playwright_api.Error:
                    pass  # a crashed page has nothing to show; the test result says why
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[PageFactory]:
    """Factory of isolated pages; each is screenshotted to ``tests/artifacts/`` at teardown."""
    factory = PageFactory(browser)
    yield factory
    await factory.close(request)

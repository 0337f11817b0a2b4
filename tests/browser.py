"""Drive Debian's Chromium, headless, through Playwright: for tests that look at real pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import os
from pathlib import Path

from playwright.async_api import ConsoleMessage, Error, Page, async_playwright
import pytest

# Debian's own build (tests/apt-packages.txt), so no `playwright install` download is needed.
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000


@dataclass(kw_only=True)
class BrowserPage:
    """A page in a headless Chromium, with the errors its scripts and console reported."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def _on_console(self, message: ConsoleMessage) -> None:
        """Keep console messages of type error."""
        if message.type == "error":
            self.errors.append(message.text)

    def _on_page_error(self, error: Error) -> None:
        """Keep uncaught script exceptions."""
        self.errors.append(error.message)


def require_chromium() -> Path:
    """Return Debian's Chromium, or skip the test saying how to get it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (tests/apt-packages.txt)")
    return CHROMIUM


@asynccontextmanager
async def chromium_page(
    *, locale: str = "en-US", width: int = 1280, height: int = 800
) -> AsyncIterator[BrowserPage]:
    """Yield a fresh page in headless Chromium; close the browser afterwards."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # Containers give /dev/shm 64 MB, too little for Chromium's renderer.
            args=["--disable-dev-shm-usage"],
        )
        try:
            context = await browser.new_context(
                locale=locale, viewport={"width": width, "height": height}
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = BrowserPage(page=await context.new_page())
            page.page.on("console", page._on_console)
            page.page.on("pageerror", page._on_page_error)
            yield page
        finally:
            await browser.close()

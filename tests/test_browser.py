"""Smoke tests of the browser helper: pages from Home Assistant's HTTP server in real Chromium."""

from __future__ import annotations

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image, ImageChops
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.browser import chromium_page, require_chromium

GREETING = "欢迎使用 Home Guardian"
PAGE = f"""<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>smoke</title><link rel="icon" href="data:,">
<style>.glyph {{ display: inline-block; width: 96px; height: 96px; font-size: 72px; }}</style>
</head><body>
<h1 id="greeting">{GREETING}</h1>
<p id="script"></p>
<span class="glyph" id="ni">你</span><span class="glyph" id="hao">好</span>
<script>document.getElementById("script").textContent = "rendered " + (6 * 7);</script>
</body></html>"""


class SmokePageView(HomeAssistantView):
    """Serve the smoke page without authentication."""

    url = "/api/home_guardian_test/smoke"
    name = "api:home_guardian_test:smoke"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Return the page."""
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8")


@pytest.fixture
async def smoke_url(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> str:
    """Serve the smoke page from Home Assistant's HTTP server and return its address."""
    require_chromium()
    assert await async_setup_component(hass, "http", {})
    hass.http.register_view(SmokePageView())
    client = await hass_client_no_auth()
    return str(client.make_url(SmokePageView.url))


async def test_page_from_home_assistant_renders_in_chromium(smoke_url: str) -> None:
    """Chromium loads the page over HTTP, runs its script and lays out the Chinese text."""
    async with chromium_page(locale="zh-CN") as browser:
        response = await browser.page.goto(smoke_url)
        assert response is not None
        assert response.ok
        assert await browser.page.title() == "smoke"
        assert await browser.page.inner_text("#greeting") == GREETING
        assert await browser.page.inner_text("#script") == "rendered 42"
        assert await browser.page.evaluate("navigator.language") == "zh-CN"
        assert browser.errors == []


async def test_chinese_characters_have_glyphs(smoke_url: str, tmp_path) -> None:
    """Two different Chinese characters look different: a CJK font is installed, not tofu."""
    async with chromium_page() as browser:
        await browser.page.goto(smoke_url)
        await browser.page.locator("#ni").screenshot(path=tmp_path / "ni.png")
        await browser.page.locator("#hao").screenshot(path=tmp_path / "hao.png")
    with Image.open(tmp_path / "ni.png") as ni, Image.open(tmp_path / "hao.png") as hao:
        drawn = ImageChops.difference(ni.convert("L"), Image.new("L", ni.size, 255)).getbbox()
        assert drawn is not None, "nothing was drawn for 你"
        assert ImageChops.difference(ni.convert("RGB"), hao.convert("RGB")).getbbox(), (
            "你 and 好 render as the same box: install fonts-noto-cjk (tests/apt-packages.txt)"
        )


async def test_script_errors_are_reported(smoke_url: str) -> None:
    """The helper collects uncaught exceptions and console errors of the page."""
    async with chromium_page() as browser:
        await browser.page.goto(smoke_url)
        await browser.page.evaluate("console.error('camera card failed')")
        await browser.page.add_script_tag(content="throw new Error('boom')")
        assert "camera card failed" in browser.errors
        assert any("boom" in error for error in browser.errors)

"""Render the ready-to-paste dashboard in Home Assistant's real frontend, in headless Chromium."""

from __future__ import annotations

import json
import os
from pathlib import Path
import time
from typing import Any

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_guardian.const import CONF_KIND, DOMAIN, KIND_GUARDIAN
from tests.browser import chromium_page, require_chromium
from tests.cameras.servers import RtspCamera
from tests.common import camera_entry, wait_for

ROOT = Path(__file__).parents[1]
DASHBOARD = ROOT / "dashboards" / "home_guardian.yaml"
# `scripts/screenshots` sets this to refresh the README's pictures from the real UI.
SCREENSHOTS = os.environ.get("HOME_GUARDIAN_SCREENSHOTS")


@pytest.fixture
async def frontend(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """Set up Home Assistant's frontend with onboarding done and the dashboard as default."""
    pytest.importorskip("hass_frontend", reason="home-assistant-frontend is not installed")
    require_chromium()
    hass_storage["onboarding"] = {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": ["user", "core_config", "analytics", "integration"]},
    }
    config = await hass.async_add_executor_job(load_yaml_dict, str(DASHBOARD))
    hass_storage["lovelace"] = {
        "version": 1,
        "minor_version": 1,
        "key": "lovelace",
        "data": {"config": config},
    }
    assert await async_setup_component(hass, "frontend", {})


REJECTED = "rejected promise: "


async def test_dashboard_cards_load_without_errors(
    hass: HomeAssistant,
    frontend: None,
    rtsp_camera: RtspCamera,
    hass_client_no_auth: ClientSessionGenerator,
    hass_access_token: str,
) -> None:
    """Every card of the dashboard renders with live entities and no error card."""
    camera = camera_entry(rtsp_camera.url)
    camera.add_to_hass(hass)
    guardian = MockConfigEntry(
        domain=DOMAIN,
        title="Grandma",
        data={CONF_KIND: KIND_GUARDIAN, CONF_NAME: "Grandma"},
        options={"sources": ["binary_sensor.living_room_motion"], "learn": True},
    )
    guardian.add_to_hass(hass)
    # Setting up the integration sets up both entries.
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    await wait_for(lambda: hass.states.get("binary_sensor.living_room_motion").state == "on")

    client = await hass_client_no_auth()
    base = str(client.make_url("/")).rstrip("/")
    tokens = {
        "access_token": hass_access_token,
        "token_type": "Bearer",
        "expires_in": 1800,
        "hassUrl": base,
        "clientId": f"{base}/",
        "expires": int(time.time() * 1000) + 10**9,
        "refresh_token": "",
    }
    async with chromium_page(width=1280, height=900) as browser:
        page = browser.page
        # The frontend asks for commands of core integrations this test does not set up; it
        # rejects those promises unhandled. Record each rejection's reason to judge it below.
        rejections: list[str] = []
        page.on(
            "console",
            lambda message: (
                rejections.append(message.text[len(REJECTED) :])
                if message.text.startswith(REJECTED)
                else None
            ),
        )
        await page.add_init_script(
            "window.addEventListener('unhandledrejection', (event) => {"
            " event.preventDefault();"
            f" console.warn('{REJECTED}' + JSON.stringify(event.reason)); }});"
        )
        await page.context.add_init_script(
            f"window.localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});"
        )
        await page.goto(f"{base}/lovelace/home")
        await page.wait_for_selector("hui-entities-card", timeout=60_000)
        await page.wait_for_selector("text=Grandma")
        await page.wait_for_selector("text=Sharing allowed")
        await page.wait_for_selector("text=Inactive for")
        await page.wait_for_selector("hui-picture-entity-card")
        assert await page.locator("hui-error-card").count() == 0
        # The camera card shows a real picture, not a broken image.
        deadline = time.monotonic() + 30
        while not await page.evaluate(
            """() => {
                const walk = (root) => [...root.querySelectorAll('*')].flatMap(
                    (node) => [node, ...(node.shadowRoot ? walk(node.shadowRoot) : [])]);
                return walk(document).some(
                    (node) => node.tagName === 'IMG' && node.naturalWidth > 0);
            }"""
        ):
            assert time.monotonic() < deadline, "the camera card never showed a picture"
            await page.wait_for_timeout(500)
        if SCREENSHOTS:
            await page.wait_for_timeout(1500)
            await page.screenshot(path=Path(SCREENSHOTS) / "dashboard.png")
        # Brand icons come from the internet, out of reach here: only failed loads are allowed.
        assert [error for error in browser.errors if "Failed to load resource" not in error] == []
        assert all('"unknown_command"' in reason for reason in rejections), rejections
    await hass.config_entries.async_unload(camera.entry_id)

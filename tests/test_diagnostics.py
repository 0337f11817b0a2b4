"""Tests for diagnostics: useful for a bug report, with no credential anywhere."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_guardian.const import CONF_SNAPSHOT_URL, CONF_STREAM_URL
from tests.common import CAMERA_PASSWORD, CAMERA_USER


async def test_diagnostics_redact_credentials(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """Passwords, user names and credentials inside URLs never reach diagnostics."""
    hass.config_entries.async_update_entry(
        rtsp_entry,
        data={
            **rtsp_entry.data,
            CONF_SNAPSHOT_URL: "http://127.0.0.1:1/cgi?user=admin&pwd=hunter2&chn=1",
        },
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, rtsp_entry)
    text = json.dumps(diagnostics)
    for secret in (CAMERA_PASSWORD, CAMERA_USER, "hunter2"):
        assert secret not in text
    assert diagnostics["entry"]["data"][CONF_STREAM_URL] == rtsp_entry.data[CONF_STREAM_URL]
    assert diagnostics["entry"]["data"][CONF_SNAPSHOT_URL].endswith(
        "user=**REDACTED**&pwd=**REDACTED**&chn=1"
    )
    assert diagnostics["status"]["state"] == "streaming"
    assert diagnostics["status"]["frames"] > 0
    assert diagnostics["available"] is True

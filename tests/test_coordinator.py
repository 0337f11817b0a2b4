"""Tests for honest availability: real cameras that die, stall, come back and change passwords."""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import DOMAIN
from tests.cameras.servers import RtspCamera
from tests.common import CAMERA_PASSWORD, state_of, wait_for

CAMERA = "camera.living_room"
CONNECTED = "binary_sensor.living_room_connected"


async def test_camera_killed_and_restarted(
    hass: HomeAssistant,
    rtsp_entry: MockConfigEntry,
    rtsp_auth_camera: RtspCamera,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Entities go unavailable when the camera dies, log it once, and recover by themselves."""
    assert state_of(hass, CAMERA) == "streaming"
    assert state_of(hass, CONNECTED) == "on"
    caplog.clear()

    rtsp_auth_camera.stop()
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=15)
    assert state_of(hass, CONNECTED) == "off"

    rtsp_auth_camera.start()
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert state_of(hass, CONNECTED) == "on"

    ours = [r for r in caplog.records if r.name.startswith("custom_components.home_guardian")]
    errors = [r for r in ours if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "sends no pictures" in errors[0].getMessage()
    assert sum("recovered" in r.getMessage() for r in ours) == 1
    assert CAMERA_PASSWORD not in caplog.text


async def test_stalled_camera_goes_unavailable(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, rtsp_auth_camera: RtspCamera
) -> None:
    """A camera that keeps the connection open but sends nothing is not passed off as live."""
    rtsp_auth_camera.pause()
    try:
        await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=15)
    finally:
        rtsp_auth_camera.resume()
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)


async def test_long_outage_raises_repair_issue(
    hass: HomeAssistant,
    rtsp_entry: MockConfigEntry,
    rtsp_auth_camera: RtspCamera,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An outage longer than the limit raises a repair issue, which clears on recovery."""
    monkeypatch.setattr(
        "custom_components.home_guardian.coordinator.REPAIR_AFTER", timedelta(seconds=2)
    )
    issue_id = f"camera_unreachable_{rtsp_entry.entry_id}"
    rtsp_auth_camera.stop()
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=15)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    await wait_for(lambda: issues.async_get_issue(DOMAIN, issue_id) is not None, limit=10)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Living room"}

    rtsp_auth_camera.start()
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_password_changed_at_runtime_starts_reauth(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, rtsp_auth_camera: RtspCamera
) -> None:
    """When the camera starts refusing the password, the user is asked to sign in again."""
    rtsp_auth_camera.stop()
    rtsp_auth_camera.password = "changed on the camera"
    rtsp_auth_camera.start()
    await wait_for(
        lambda: any(
            flow["context"]["source"] == SOURCE_REAUTH
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        ),
        limit=30,
    )
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE

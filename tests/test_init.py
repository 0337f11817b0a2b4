"""Tests for setting up and unloading a camera."""

from __future__ import annotations

import threading
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import DOMAIN
from custom_components.home_guardian.credentials import async_get_cipher, seal
from tests.cameras.servers import RtspCamera, SilentServer
from tests.common import CAMERA_PASSWORD, CAMERA_USER, camera_entry


def reader_threads() -> list[threading.Thread]:
    """Return the frame source threads that are alive."""
    return [t for t in threading.enumerate() if t.name.startswith("home_guardian ")]


async def test_setup_and_unload(hass: HomeAssistant, rtsp_entry: MockConfigEntry) -> None:
    """A reachable camera loads with its entities and stops its reader when unloaded."""
    assert rtsp_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("camera.living_room").state == "streaming"
    assert len(reader_threads()) == 1
    assert await hass.config_entries.async_unload(rtsp_entry.entry_id)
    assert rtsp_entry.state is ConfigEntryState.NOT_LOADED
    assert reader_threads() == []


async def test_unreachable_camera_retries_setup(hass: HomeAssistant, socket_enabled: None) -> None:
    """A camera that is off at start leaves the entry retrying, with no thread left behind."""
    server = SilentServer()
    port = server.port
    server.stop()
    entry = camera_entry(f"rtsp://127.0.0.1:{port}/stream")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # The reason says what is wrong in words, not as a code.
    assert "it cannot be reached" in entry.reason
    assert "cannot_connect" not in entry.reason
    assert reader_threads() == []


async def test_hung_camera_does_not_hold_setup(
    hass: HomeAssistant, silent_server: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A camera that accepts and never answers delays setup only by the bounded wait."""
    monkeypatch.setattr("custom_components.home_guardian.coordinator.SETUP_TIMEOUT", 1.0)
    entry = camera_entry(f"rtsp://127.0.0.1:{silent_server.port}/stream")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_wrong_password_starts_reauth(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """A camera refusing the stored password asks the user to sign in again."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password="changed")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert CAMERA_PASSWORD not in str(entry.reason)


async def test_password_that_cannot_be_opened_starts_reauth(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera, hass_storage: dict[str, Any]
) -> None:
    """A password sealed with a lost key asks the user to sign in again, never crashes."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password="sealed:lost-key")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    # The key lives in its own private store, apart from the config entries.
    assert "home_guardian.key" in hass_storage


async def test_sealed_password_connects(hass: HomeAssistant, rtsp_auth_camera: RtspCamera) -> None:
    """A sealed password is opened to connect to the camera."""
    cipher = await async_get_cipher(hass)
    entry = camera_entry(
        rtsp_auth_camera.url, username=CAMERA_USER, password=seal(cipher, CAMERA_PASSWORD)
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)

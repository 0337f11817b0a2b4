"""Tests for setting up and unloading a camera."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import DOMAIN
from custom_components.home_guardian.credentials import async_get_cipher, seal
from custom_components.home_guardian.engine.frame_source import Problem
from tests.cameras.servers import RtspCamera, SilentServer
from tests.common import CAMERA_PASSWORD, CAMERA_USER, camera_entry, state_of, wait_for

CAMERA = "camera.living_room"


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


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the log records that carry a traceback."""
    return [record for record in caplog.records if record.exc_info or record.exc_text]


async def test_unreachable_camera_loads_and_keeps_trying(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera that is off at start loads unavailable, says so once, and retries quietly."""
    server = SilentServer()
    port = server.port
    server.stop()
    entry = camera_entry(f"rtsp://127.0.0.1:{port}/stream")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE
    # Refused at once, then retried after 1 and 2 seconds: three failures, one line.
    await asyncio.sleep(3.5)
    assert entry.runtime_data.source.status.problem is Problem.CANNOT_CONNECT
    ours = [r for r in caplog.records if r.name.startswith("custom_components.home_guardian")]
    assert [r.getMessage() for r in ours if r.levelno >= logging.WARNING] == [
        "Living room cannot be reached yet (cannot_connect); retrying in the background"
    ]
    assert tracebacks(caplog) == []
    assert len(reader_threads()) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert reader_threads() == []


@pytest.mark.parametrize("host", ["hung", "camera.invalid"])
async def test_setup_never_waits_for_the_camera(
    hass: HomeAssistant,
    silent_server: SilentServer,
    caplog: pytest.LogCaptureFixture,
    host: str,
) -> None:
    """A camera that never answers, or whose name never resolves, does not hold setup."""
    url = (
        f"rtsp://127.0.0.1:{silent_server.port}/stream"
        if host == "hung"
        else "rtsp://camera.invalid/stream"
    )
    entry = camera_entry(url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    if host == "hung":
        # Setup returned while the reader was still on its first attempt.
        assert entry.runtime_data.source.status.problem is None
    await hass.async_block_till_done()
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert tracebacks(caplog) == []


async def test_stopping_while_a_camera_hangs_is_quiet(
    hass: HomeAssistant, silent_server: SilentServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping Home Assistant while a camera hangs logs no traceback and leaves no reader."""
    entry = camera_entry(f"rtsp://127.0.0.1:{silent_server.port}/stream")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_stop()
    assert tracebacks(caplog) == []
    assert "CancelledError" not in caplog.text
    await wait_for(lambda: reader_threads() == [], limit=15)


async def test_wrong_password_starts_reauth(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """A camera refusing the stored password asks the user to sign in again."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password="changed")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE
    assert entry.runtime_data.source.status.problem is Problem.INVALID_AUTH
    assert await hass.config_entries.async_unload(entry.entry_id)


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

"""Tests for honest availability: real cameras that die, stall, come back and change passwords."""

from __future__ import annotations

from datetime import timedelta
import logging
from pathlib import Path

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import DOMAIN
from custom_components.home_guardian.engine import frame_source
from tests.cameras.servers import MjpegCamera, RtspCamera
from tests.common import (
    CAMERA_PASSWORD,
    camera_entry,
    require_rtsp_server,
    set_up_entry,
    shared_clip,
    state_of,
    wait_for,
)

CAMERA = "camera.living_room"
CONNECTED = "binary_sensor.living_room_connected"
MOTION = "binary_sensor.living_room_motion"


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


async def test_camera_dropping_every_session_does_not_flicker(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera that closes its session on a timer (every minute in life) is reconnected quietly.

    Reconnecting takes about a second, well inside the 10 s a picture stays fresh: no entity
    goes unavailable, nothing is logged as an outage, and motion keeps its state.
    """
    require_rtsp_server()
    camera = RtspCamera(clip=shared_clip("vtest.avi"), extra=("--drop-every", "4"))
    camera.start()
    try:
        entry = await set_up_entry(hass, camera_entry(camera.url))
        # Motion settles over a second and a half of one session; sessions of 4 s, nearly
        # half of them spent connecting, may take a few tries (a minute's leaves plenty).
        await wait_for(lambda: state_of(hass, MOTION) in {"on", "off"}, limit=40)
        changes: list[tuple[str, str]] = []

        @callback
        def on_change(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            changes.append((event.data["entity_id"], new.state if new else "removed"))

        unsubscribe = async_track_state_change_event(hass, [CAMERA, CONNECTED, MOTION], on_change)
        caplog.clear()
        await wait_for(lambda: entry.runtime_data.source.status.connections >= 4, limit=30)
        unsubscribe()
        assert (CAMERA, STATE_UNAVAILABLE) not in changes
        assert (CONNECTED, "off") not in changes
        assert (MOTION, STATE_UNAVAILABLE) not in changes
        assert "sends no pictures" not in caplog.text
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        camera.stop()


async def test_frozen_stream_is_blind_until_it_moves_again(
    hass: HomeAssistant,
    socket_enabled: None,
    blind_clips: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stream sending the same picture is not a quiet room: its entities go unavailable."""
    # Five minutes in real use; two seconds here.
    monkeypatch.setattr(frame_source, "SAME_STREAM_SECONDS", 2.0)
    camera = MjpegCamera(clip=blind_clips["frozen"])
    camera.start()
    try:
        entry = await set_up_entry(hass, camera_entry(camera.url))
        await wait_for(lambda: state_of(hass, MOTION) == "off", limit=20)
        caplog.clear()
        await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=20)
        assert state_of(hass, MOTION) == STATE_UNAVAILABLE
        assert state_of(hass, CONNECTED) == "off"

        await hass.async_add_executor_job(camera.stop)
        camera = MjpegCamera(clip=shared_clip("vtest.avi"), port=camera.port)
        await hass.async_add_executor_job(camera.start)
        await wait_for(lambda: state_of(hass, CAMERA) != STATE_UNAVAILABLE, limit=30)
        await wait_for(lambda: state_of(hass, MOTION) != STATE_UNAVAILABLE, limit=20)
    finally:
        await hass.async_add_executor_job(camera.stop)
    ours = [r for r in caplog.records if r.name.startswith("custom_components.home_guardian")]
    errors = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "keeps returning the same one" in errors[0]
    await hass.config_entries.async_unload(entry.entry_id)

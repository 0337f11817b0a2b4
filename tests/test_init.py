"""Tests for setting up and unloading a camera."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
from pathlib import Path
import threading
from typing import Any

from cryptography.fernet import Fernet
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import CONF_KIND, CONF_SOURCES, DOMAIN, KIND_GUARDIAN
from custom_components.home_guardian.credentials import async_get_cipher, seal
from custom_components.home_guardian.engine.frame_source import Problem
from custom_components.home_guardian.engine.shares import PinHasher
from custom_components.home_guardian.sharing import async_get_sharing
from tests.cameras.servers import RtspCamera, SilentServer
from tests.common import (
    CAMERA_PASSWORD,
    CAMERA_USER,
    camera_entry,
    real_store_files,
    set_up_entry,
    state_of,
    wait_for,
)

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
        (
            "Living room: The camera sends no pictures: it cannot be reached."
            " Check that it has power and network; retrying in the background"
        )
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


async def test_key_file_from_a_newer_version_is_read_and_kept(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera, hass_storage: dict[str, Any]
) -> None:
    """A key file written by a newer version still opens passwords, and is never rewritten."""
    key = Fernet.generate_key().decode()
    newer = {
        "version": 2,
        "minor_version": 1,
        "key": "home_guardian.key",
        "data": {"key": key, "rotated_keys": ["from the future"]},
    }
    hass_storage["home_guardian.key"] = copy.deepcopy(newer)
    sealed = seal(Fernet(key.encode()), CAMERA_PASSWORD)
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password=sealed)
    await set_up_entry(hass, entry)
    assert state_of(hass, CAMERA) == "streaming"
    await hass.async_block_till_done()
    assert hass_storage["home_guardian.key"] == newer
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "key_store_newer")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["detail"] == "2"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_key_file_of_a_newer_minor_version_is_used_quietly(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A newer minor version is compatible: its key is used, the file kept, nobody bothered."""
    key = Fernet.generate_key()
    newer = {
        "version": 1,
        "minor_version": 3,
        "key": "home_guardian.key",
        "data": {"key": key.decode()},
    }
    hass_storage["home_guardian.key"] = copy.deepcopy(newer)
    cipher = await async_get_cipher(hass)
    assert Fernet(key).decrypt(seal(cipher, "pw").removeprefix("sealed:").encode()) == b"pw"
    await hass.async_block_till_done()
    assert hass_storage["home_guardian.key"] == newer
    assert ir.async_get(hass).async_get_issue(DOMAIN, "key_store_newer") is None


async def test_damaged_key_file_is_kept_and_only_its_cameras_wait(
    hass: HomeAssistant,
    rtsp_camera: RtspCamera,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged key file is left as it is; cameras without a password load all the same."""
    damaged = {"version": 1, "minor_version": 1, "key": "home_guardian.key", "data": {"kee": 1}}
    hass_storage["home_guardian.key"] = copy.deepcopy(damaged)
    sealed = camera_entry("rtsp://127.0.0.1:1/other", password="sealed:gAAAAA-unknown")
    sealed.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(sealed.entry_id)
    assert sealed.state is ConfigEntryState.SETUP_ERROR
    # Signing in again could not help: the key, not the password, is missing.
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    plain = camera_entry(rtsp_camera.url)
    plain.add_to_hass(hass)
    hass.config_entries.async_update_entry(plain, unique_id="plain")
    assert await hass.config_entries.async_setup(plain.entry_id)
    await wait_for(lambda: plain.runtime_data.last_update_success)
    await hass.async_block_till_done()
    assert hass_storage["home_guardian.key"] == damaged
    assert ir.async_get(hass).async_get_issue(DOMAIN, "key_store_unreadable") is not None
    # Home Assistant logs every ConfigEntryError with its trace; nothing else does.
    assert [r.name for r in tracebacks(caplog)] == ["homeassistant.config_entries"]
    assert await hass.config_entries.async_unload(plain.entry_id)


async def test_entities_become_available_when_the_camera_answers(
    hass: HomeAssistant, rtsp_camera: RtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera off at start is read as soon as it is on, with no setup retry in between."""
    rtsp_camera.stop()
    entry = camera_entry(rtsp_camera.url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: entry.runtime_data.source.status.problem is not None)
    await hass.async_block_till_done()
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE
    rtsp_camera.start()
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert state_of(hass, "binary_sensor.living_room_connected") == "on"
    assert entry.state is ConfigEntryState.LOADED
    ours = [r for r in caplog.records if r.name.startswith("custom_components.home_guardian")]
    assert [r.getMessage() for r in ours if r.levelno >= logging.INFO] == [
        (
            "Living room: The camera sends no pictures: it cannot be reached."
            " Check that it has power and network; retrying in the background"
        ),
        "Living room answered; its entities are available",
    ]
    assert tracebacks(caplog) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


def guardian(title: str) -> MockConfigEntry:
    """Return a guardian entry watching a hall sensor that does not exist."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={CONF_KIND: KIND_GUARDIAN, CONF_NAME: title},
        options={CONF_SOURCES: ["binary_sensor.hall_motion"]},
    )


async def test_removing_entries_leaves_nothing_behind(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A removed guardian's stores and issues go; with the last entry, the key and shares too."""
    await async_get_cipher(hass)
    hass_storage["home_guardian.shares"] = {
        "version": 1,
        "minor_version": 1,
        "key": "home_guardian.shares",
        "data": {"shares": []},
    }
    grandma, grandpa = guardian("Grandma"), guardian("Grandpa")
    for entry in (grandma, grandpa):
        await set_up_entry(hass, entry)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issues = ir.async_get(hass)
    missing = f"guardian_source_missing_{grandma.entry_id}"
    assert issues.async_get_issue(DOMAIN, missing) is not None
    stores = {f"home_guardian.{name}.{grandma.entry_id}" for name in ("guardian", "summary")}
    assert stores <= hass_storage.keys()

    await hass.config_entries.async_remove(grandma.entry_id)
    await hass.async_block_till_done()
    assert not stores & hass_storage.keys()
    assert issues.async_get_issue(DOMAIN, missing) is None
    # Another guardian is still there: its stores and the shared files stay.
    assert f"home_guardian.guardian.{grandpa.entry_id}" in hass_storage
    assert {"home_guardian.key", "home_guardian.shares"} <= hass_storage.keys()

    # A camera never set up in this run: its issues go with it too.
    camera = MockConfigEntry(domain=DOMAIN, title="Hall")
    camera.add_to_hass(hass)
    unreachable = f"camera_unreachable_{camera.entry_id}"
    ir.async_create_issue(
        hass,
        DOMAIN,
        unreachable,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="camera_unreachable",
        translation_placeholders={"name": "Hall"},
    )
    await hass.config_entries.async_remove(camera.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, unreachable) is None
    assert {"home_guardian.key", "home_guardian.shares"} <= hass_storage.keys()

    await hass.config_entries.async_remove(grandpa.entry_id)
    await hass.async_block_till_done()
    assert not [key for key in hass_storage if key.startswith("home_guardian")]


async def test_every_file_home_guardian_writes_is_readable_by_home_assistant_alone(
    hass: HomeAssistant, rtsp_camera: RtspCamera, tmp_path: Path
) -> None:
    """The key, the shares' PIN hashes, a room's picture and a household's days: owner only."""
    previous = os.umask(0o022)  # the usual umask, which leaves plain files readable by all
    try:
        with real_store_files(hass, tmp_path, keys=DOMAIN) as folder:
            await async_get_cipher(hass)  # made for the first camera password
            camera = await set_up_entry(hass, camera_entry(rtsp_camera.url))
            async_get_sharing(hass).registry.hasher = PinHasher(log2_n=10)
            await hass.services.async_call(
                "switch",
                "turn_on",
                {ATTR_ENTITY_ID: "switch.living_room_sharing_allowed"},
                blocking=True,
            )
            await hass.config.async_update(external_url="https://home.example.org")
            await hass.services.async_call(
                DOMAIN,
                "create_share",
                {ATTR_ENTITY_ID: "camera.living_room", "viewer_name": "Anna", "duration": 60},
                blocking=True,
                return_response=True,
            )
            scene = folder / f"{DOMAIN}.scene.{camera.entry_id}"
            room = async_get_sharing(hass).scenes.scene(camera.entry_id)
            await wait_for(lambda: room.last_look is not None)
            await hass.services.async_call(
                "button",
                "press",
                {ATTR_ENTITY_ID: "button.living_room_room_is_empty"},
                blocking=True,
            )
            await wait_for(scene.exists)
            motion = {"device_class": "motion"}
            hass.states.async_set("binary_sensor.hall_motion", "off", motion)
            grandma = await set_up_entry(hass, guardian("Grandma"))
            hass.states.async_set("binary_sensor.hall_motion", "on", motion)
            await hass.async_block_till_done()
            for entry in (camera, grandma):
                assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            written = {path.name: path.stat().st_mode for path in folder.iterdir()}
    finally:
        os.umask(previous)
    assert set(written) >= {
        f"{DOMAIN}.key",
        f"{DOMAIN}.shares",
        f"{DOMAIN}.scene.{camera.entry_id}",
        f"{DOMAIN}.guardian.{grandma.entry_id}",
        f"{DOMAIN}.summary.{grandma.entry_id}",
    }, sorted(written)
    assert {name for name, mode in written.items() if mode & 0o077} == set()

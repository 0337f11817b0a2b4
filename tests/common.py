"""Helpers shared by Home Guardian's tests: real footage, test credentials, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import functools
import io
from pathlib import Path
import shutil
import subprocess
import time
from typing import Any
from unittest.mock import patch

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import numpy as np
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.config_flow import stream_fingerprint
from custom_components.home_guardian.const import CONF_STREAM_URL, DOMAIN
from custom_components.home_guardian.coordinator import CameraCoordinator

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VIDEO = SHARED_DATA / "video"
CAMERA_USER = "admin"
CAMERA_PASSWORD = "s3cret pa$$"
# Home Assistant's own store, before the test harness swaps it for an in-memory one.
REAL_WRITE = Store._async_write_data
REAL_LOAD = Store._async_load
REAL_REMOVE = Store.async_remove


def shared_clip(name: str) -> Path:
    """Return a clip from the shared data folder, or skip the test saying why."""
    path = VIDEO / name
    if not path.exists():
        pytest.skip(f"../shared/data/video/{name} is missing: the real footage these tests need")
    return path


@functools.cache
def turned_clip(folder: Path, degrees: int, seconds: float = 1.0) -> Path:
    """Make a still H.264 clip, a white block in its top left, that players turn by `degrees`.

    As phones store it: the picture on its side, with a note (a display matrix) to turn it.
    Which way FFmpeg's versions turn it differs; tests compare with how FFmpeg shows it.
    """
    plain = folder / "plain.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i"),
            (
                f"color=c=0x303030:s=320x240:r=10:d={seconds},"
                "drawbox=x=0:y=0:w=80:h=40:color=white:t=fill"
            ),
            *("-c:v", "libx264", "-pix_fmt", "yuv420p", str(plain)),
        ],
        check=True,
        timeout=60,
    )
    turned = folder / f"turned{degrees}.mp4"
    copy = ["-c", "copy", str(turned)]
    # FFmpeg 6 and later take the turn as an option; 5 as the stream's old "rotate" tag.
    newer = ["ffmpeg", "-v", "error", "-y", "-display_rotation", str(degrees), "-i", str(plain)]
    if subprocess.run([*newer, *copy], check=False, capture_output=True).returncode != 0:
        older = ["ffmpeg", "-v", "error", "-y", "-i", str(plain)]
        tag = f"rotate={degrees}"
        subprocess.run([*older, "-metadata:s:v:0", tag, *copy], check=True, timeout=60)
    return turned


def as_players_show(path: Path) -> np.ndarray:
    """Return a clip's first picture in grey, as FFmpeg's player path turns it."""
    png = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1"),
            *("-f", "image2pipe", "-c:v", "png", "-pix_fmt", "gray", "-"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with Image.open(io.BytesIO(png)) as picture:
        return np.asarray(picture.convert("L"))


def rtsp_server_installed() -> bool:
    """Return True when the system Python can load gst-rtsp-server."""
    probe = "import gi; gi.require_version('GstRtspServer', '1.0')"
    try:
        result = subprocess.run(
            ["/usr/bin/python3", "-c", probe], capture_output=True, check=False, timeout=30
        )
    except FileNotFoundError:
        return False
    return result.returncode == 0


def require_rtsp_server() -> None:
    """Skip when the Debian packages of the RTSP test camera are not installed."""
    if not rtsp_server_installed() or shutil.which("ffmpeg") is None:
        pytest.skip("gst-rtsp-server or FFmpeg is not installed (see tests/apt-packages.txt)")


def require_vlc() -> None:
    """Skip when VLC, the second RTSP stack of the tests, is not installed."""
    if shutil.which("cvlc") is None or shutil.which("ffmpeg") is None:
        pytest.skip("VLC or FFmpeg is not installed (see tests/apt-packages.txt)")


def camera_entry(
    url: str, *, username: str = "", password: str = "", **extra: str
) -> MockConfigEntry:
    """Return a config entry for a camera at `url`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id=stream_fingerprint(url),
        data={CONF_STREAM_URL: url, CONF_USERNAME: username, CONF_PASSWORD: password, **extra},
    )


async def set_up_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add an entry to Home Assistant, set it up and, for a camera, wait for its first picture.

    Setup itself never waits for a camera; tests that look at a live camera do.
    """
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if isinstance(entry.runtime_data, CameraCoordinator):
        coordinator = entry.runtime_data
        await wait_for(lambda: coordinator.last_update_success, limit=20)
        await hass.async_block_till_done()
    return entry


async def wait_for(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Let real time pass until `condition` holds; real cameras take real seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {limit} s")
        await asyncio.sleep(0.1)


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an entity's state, or None when it does not exist."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state


@contextmanager
def real_store_files(
    hass: HomeAssistant, folder: Path, keys: str = f"{DOMAIN}.scene."
) -> Iterator[Path]:
    """Write, read and delete store files for real under `folder` (the empty rooms' by default).

    With `keys`, every store whose key starts with it. Other stores stay in memory. Stores made
    before this keep the path they had.
    """
    hass.config.config_dir = str(folder)
    mocked = (Store._async_write_data, Store._async_load, Store.async_remove)

    def real(store: Store[Any]) -> bool:
        """Return True for a store kept in a real file."""
        return store.key.startswith(keys)

    async def write(store: Store[Any], *args: Any) -> None:
        """Write for real (HA 2025.4 passes the path and the data, newer versions the data)."""
        await (REAL_WRITE if real(store) else mocked[0])(store, *args)

    async def load(store: Store[Any]) -> Any:
        """Read for real."""
        return await (REAL_LOAD if real(store) else mocked[1])(store)

    async def remove(store: Store[Any]) -> None:
        """Delete for real."""
        await (REAL_REMOVE if real(store) else mocked[2])(store)

    with (
        patch.object(Store, "_async_write_data", write),
        patch.object(Store, "_async_load", load),
        patch.object(Store, "async_remove", remove),
    ):
        yield folder / ".storage"

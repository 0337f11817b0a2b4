"""Fixtures shared by Home Guardian's tests: real camera servers and a set-up integration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
import shutil
import subprocess
import time

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.config_flow import stream_fingerprint
from custom_components.home_guardian.const import CONF_STREAM_URL, DOMAIN

from .cameras.servers import HttpCamera, MjpegCamera, RtspCamera, SilentServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VIDEO = SHARED_DATA / "video"
CAMERA_USER = "admin"
CAMERA_PASSWORD = "s3cret pa$$"


def shared_clip(name: str) -> Path:
    """Return a clip from the shared data folder, or skip the test saying why."""
    path = VIDEO / name
    if not path.exists():
        pytest.skip(f"../shared/data/video/{name} is missing: the real footage these tests need")
    return path


def require_rtsp_server() -> None:
    """Skip when the Debian packages of the RTSP test camera are not installed."""
    if shutil.which("gst-launch-1.0") is None or not Path("/usr/bin/python3").exists():
        pytest.skip("gst-rtsp-server is not installed (see tests/apt-packages.txt)")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture
def rtsp_camera(socket_enabled: None) -> Iterator[RtspCamera]:
    """Start a real RTSP camera without authentication."""
    require_rtsp_server()
    camera = RtspCamera(clip=shared_clip("vtest.avi"))
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def rtsp_auth_camera(socket_enabled: None) -> Iterator[RtspCamera]:
    """Start a real RTSP camera that asks for Basic authentication."""
    require_rtsp_server()
    camera = RtspCamera(
        clip=shared_clip("vtest.avi"), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def mjpeg_camera(socket_enabled: None) -> Iterator[MjpegCamera]:
    """Start FFmpeg serving a real clip as HTTP MJPEG."""
    camera = MjpegCamera(clip=shared_clip("vtest.avi"))
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture(scope="session")
def snapshot_jpeg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Return a real picture from the shared footage, as a camera's snapshot URL sends it."""
    clip = shared_clip("vtest.avi")
    path = tmp_path_factory.mktemp("snapshot") / "snapshot.jpg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "3", "-i", str(clip), "-frames:v", "1", str(path)],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture
def http_camera(socket_enabled: None, snapshot_jpeg: bytes) -> Iterator[HttpCamera]:
    """Serve a real picture as a snapshot URL, with Basic authentication."""
    camera = HttpCamera(snapshot_jpeg, username=CAMERA_USER, password=CAMERA_PASSWORD)
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def silent_server(socket_enabled: None) -> Iterator[SilentServer]:
    """Open a port that accepts connections and never answers."""
    server = SilentServer()
    yield server
    server.stop()


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


@pytest.fixture
async def rtsp_entry(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> AsyncIterator[MockConfigEntry]:
    """Set up a camera entry for the authenticated RTSP camera, and unload it afterwards."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password=CAMERA_PASSWORD)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let real time pass until `condition` holds; real cameras take real seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.1)


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an entity's state, or None when it does not exist."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state

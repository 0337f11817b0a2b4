"""Fixtures shared by Home Guardian's tests: real camera servers and a set-up integration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
import subprocess

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.camera_entities import add_odd_cameras
from tests.cameras.servers import HttpCamera, MjpegCamera, RtspCamera, SilentServer
from tests.common import (
    CAMERA_PASSWORD,
    CAMERA_USER,
    camera_entry,
    require_rtsp_server,
    set_up_entry,
    shared_clip,
)

# A covered lens under an on-screen clock: black, a few pixels changing in every picture.
COVERED_LENS = (
    "color=black:s=640x360:r=5:d=4[bg];color=white:s=8x8:r=5[dot];"
    "[bg][dot]overlay=x='mod(n*9,600)':y=10:shortest=1"
)


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


@pytest.fixture(scope="session")
def clip_jpegs(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Return 20 s of the shared footage as pictures, four a second, as a snapshot camera sends."""
    clip = shared_clip("vtest.avi")
    folder = tmp_path_factory.mktemp("frames")
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-i", str(clip), "-t", "20",
            "-vf", "fps=4,scale=640:-2", "-q:v", "5", str(folder / "%03d.jpg"),
        ],
        check=True,
    )  # fmt: skip
    return [path.read_bytes() for path in sorted(folder.glob("*.jpg"))]


@pytest.fixture(scope="session")
def blind_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return clips of blind cameras: one picture over and over, and black with a moving dot."""
    folder = tmp_path_factory.mktemp("blind")
    still = folder / "still.png"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-ss", "3", "-i", str(shared_clip("vtest.avi")),
            "-frames:v", "1", str(still),
        ],
        check=True,
    )  # fmt: skip
    clips = {"frozen": folder / "frozen.avi", "black": folder / "black.avi"}
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "5", "-i", str(still),
            "-t", "2", "-c:v", "mjpeg", "-q:v", "5", str(clips["frozen"]),
        ],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-filter_complex", COVERED_LENS,
            "-c:v", "mjpeg", "-q:v", "5", str(clips["black"]),
        ],
        check=True,
    )  # fmt: skip
    return clips


@pytest.fixture
def frames_camera(
    socket_enabled: None, snapshot_jpeg: bytes, clip_jpegs: list[bytes]
) -> Iterator[HttpCamera]:
    """Serve the footage as a snapshot camera does: each request gets the next picture."""
    camera = HttpCamera(snapshot_jpeg, frames=clip_jpegs)
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def odd_cameras() -> Iterator[Callable[..., Awaitable[MockConfigEntry]]]:
    """Return the helper that adds odd camera integrations, and forget their flows afterwards."""
    before = set(config_entries.HANDLERS)
    yield add_odd_cameras
    for domain in set(config_entries.HANDLERS) - before:
        config_entries.HANDLERS.pop(domain)


@pytest.fixture
def silent_server(socket_enabled: None) -> Iterator[SilentServer]:
    """Open a port that accepts connections and never answers."""
    server = SilentServer()
    yield server
    server.stop()


@pytest.fixture
async def rtsp_entry(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> AsyncIterator[MockConfigEntry]:
    """Set up a camera entry for the authenticated RTSP camera, and unload it afterwards."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password=CAMERA_PASSWORD)
    await set_up_entry(hass, entry)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

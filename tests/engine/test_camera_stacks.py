"""Tests of the frame source against cameras as they really behave, on two RTSP stacks.

gst-rtsp-server plays the cameras whose behaviour it can be told to have (Digest authentication,
H.265, an audio track, one transport only, timestamps that restart, sessions dropped on a timer);
VLC's RTSP server is a second, unrelated implementation (UDP only, a session that ends when its
clip loops, H.264 with AAC audio or H.265 passed through as encoded).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import shutil
import subprocess
import tempfile
import time

import pytest

from custom_components.home_guardian.engine.frame_source import (
    FrameSource,
    Problem,
    SourceState,
    StreamError,
    grab_frame,
    open_stream,
)
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import RtspCamera, VlcRtspCamera
from tests.common import (
    CAMERA_PASSWORD,
    CAMERA_USER,
    require_rtsp_server,
    require_vlc,
    shared_clip,
)


def wait_until(condition, timeout: float = 20.0) -> None:
    """Wait in real time until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def gst_camera(*extra: str, username: str | None = None) -> RtspCamera:
    """Return a gst-rtsp-server camera with the given behaviour, not yet started."""
    require_rtsp_server()
    return RtspCamera(
        clip=shared_clip("vtest.avi"),
        username=username,
        password=CAMERA_PASSWORD if username else None,
        extra=extra,
    )


@pytest.fixture
def started(socket_enabled: None) -> Iterator[list[RtspCamera | VlcRtspCamera]]:
    """Collect cameras a test starts, and stop them all afterwards."""
    cameras: list[RtspCamera | VlcRtspCamera] = []
    yield cameras
    for camera in cameras:
        camera.stop()


def start(cameras: list[RtspCamera | VlcRtspCamera], camera: RtspCamera | VlcRtspCamera) -> str:
    """Start a camera, remember it for stopping, and return its URL."""
    camera.start()
    cameras.append(camera)
    return camera.url


@pytest.fixture(scope="session")
def vlc_clips() -> Iterator[dict[str, Path]]:
    """Encode 4 s of the shared footage as cameras send it: H.264 with AAC audio, and H.265."""
    require_vlc()
    source = shared_clip("vtest.avi")
    # Not under pytest's own temporary folder: VLC runs as nobody under root, and must read it.
    folder = Path(tempfile.mkdtemp(prefix="home_guardian_vlc_"))
    folder.chmod(0o755)
    clips = {"h264_aac": folder / "h264_aac.mkv", "h265": folder / "h265.mkv"}
    common = ["ffmpeg", "-v", "error", "-y", "-t", "4", "-i", str(source)]
    subprocess.run(
        [
            *common, "-f", "lavfi", "-t", "4", "-i", "sine=frequency=440:sample_rate=48000",
            "-vf", "scale=640:-2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "20",
            "-c:a", "aac", "-shortest", str(clips["h264_aac"]),
        ],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [
            *common, "-vf", "scale=640:-2", "-c:v", "libx265", "-preset", "ultrafast",
            "-x265-params", "log-level=error", "-g", "20", "-an", str(clips["h265"]),
        ],
        check=True,
    )  # fmt: skip
    for clip in clips.values():
        clip.chmod(0o644)
    yield clips
    shutil.rmtree(folder)


def read_for(address: StreamAddress, seconds: float) -> FrameSource:
    """Read a camera for a while with one frame source, then stop it and return it."""
    source = FrameSource(address, name="test", backoff_max=1)
    source.start()
    try:
        assert source.wait_for_first(15).frames, source.status.problem
        time.sleep(seconds)
    finally:
        source.stop()
    return source


def test_digest_authentication(started: list) -> None:
    """A camera asking for Digest gets it; a wrong password is a credentials problem."""
    url = start(started, gst_camera("--auth", "digest", username=CAMERA_USER))
    frame, _ = grab_frame(StreamAddress(url=url, username=CAMERA_USER, password=CAMERA_PASSWORD))
    assert frame.width == 640
    with pytest.raises(StreamError) as err:
        grab_frame(StreamAddress(url=url, username=CAMERA_USER, password="wrong"))
    assert err.value.problem is Problem.INVALID_AUTH
    with pytest.raises(StreamError) as err:
        grab_frame(StreamAddress(url=url))
    assert err.value.problem is Problem.INVALID_AUTH


@pytest.mark.parametrize("stack", ["gst-rtsp-server", "vlc"])
def test_h265_on_both_stacks(started: list, stack: str, request: pytest.FixtureRequest) -> None:
    """H.265 cameras are read on either stack.

    VLC's description of an H.265 stream carries no parameter sets, so an open that catches no
    key frame in time fails as "not video"; the source's next attempt reads it.
    """
    if stack == "vlc":
        camera: RtspCamera | VlcRtspCamera = VlcRtspCamera(
            clip=request.getfixturevalue("vlc_clips")["h265"]
        )
    else:
        camera = gst_camera("--codec", "h265")
    source = FrameSource(StreamAddress(url=start(started, camera)), name="test", backoff_max=1)
    problems: list[Problem | None] = []
    source.add_status_listener(lambda status: problems.append(status.problem))
    source.start()
    try:
        wait_until(lambda: source.status.frames >= 5)
    finally:
        source.stop()
    assert source.status.width == 640
    assert set(problems) <= {None, Problem.NOT_VIDEO, Problem.CANNOT_CONNECT}


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_one_transport_only(started: list, transport: str) -> None:
    """A camera that offers only TCP-interleaved, or only UDP, is read all the same."""
    url = start(started, gst_camera("--transport", transport))
    source = read_for(StreamAddress(url=url), 2)
    assert source.status.frames >= 10
    assert source.status.connections == 1


def frame_gaps(source: FrameSource) -> list[float]:
    """Record the seconds between frames a source delivers, from its next frame on."""
    gaps: list[float] = []
    last: list[float] = []

    def on_frame(_frame: object) -> None:
        now = time.monotonic()
        if last:
            gaps.append(now - last[0])
        last[:] = [now]

    source.add_frame_listener(on_frame)
    return gaps


def test_vlc_udp_only_with_audio_ending_its_session_at_each_loop(
    started: list, vlc_clips: dict[str, Path]
) -> None:
    """VLC's server (UDP only, audio too) ends its session when its clip loops: read on anyway.

    VLC says goodbye (RTCP BYE) at the end of the clip, as some cameras do when their encoder
    restarts; the source reconnects and the pictures go on after a short gap.
    """
    url = start(started, VlcRtspCamera(clip=vlc_clips["h264_aac"]))
    container = open_stream(StreamAddress(url=url))
    try:
        kinds = sorted(stream.type for stream in container.streams)
    finally:
        container.close()
    assert kinds == ["audio", "video"]
    source = FrameSource(StreamAddress(url=url), name="test", backoff_max=1)
    gaps = frame_gaps(source)
    source.start()
    try:
        wait_until(lambda: source.status.frames > 0)
        # The clip lasts 4 s: 10 s cross at least two of its ends.
        time.sleep(10)
    finally:
        source.stop()
    assert source.status.connections >= 2
    assert source.status.frames >= 20
    # Each end of the session costs a reconnect: a gap of a few seconds, never a lasting outage.
    assert max(gaps) < 5.0


def test_audio_track_is_ignored(started: list) -> None:
    """A camera that also sends audio gives the same pictures; the audio is never decoded."""
    url = start(started, gst_camera("--audio"))
    container = open_stream(StreamAddress(url=url))
    try:
        assert {stream.type for stream in container.streams} == {"audio", "video"}
    finally:
        container.close()
    source = read_for(StreamAddress(url=url), 2)
    assert source.status.frames >= 10


def test_timestamps_restarting_keep_the_connection(started: list) -> None:
    """Timestamps that start again from zero every 2 s cost no reconnect and no frames."""
    url = start(started, gst_camera("--restart-timestamps", "20"))
    source = read_for(StreamAddress(url=url), 7)
    assert source.status.connections == 1
    # 10 frames a second for 7 s; allow for start-up.
    assert source.status.frames >= 50


def test_camera_that_drops_every_session(started: list) -> None:
    """A camera closing every session on a timer (a minute in life, 3 s here) is read on.

    A connection that delivered pictures, however short, is followed by the shortest wait,
    so each reconnect costs about a second rather than a growing backoff.
    """
    url = start(started, gst_camera("--drop-every", "3"))
    source = FrameSource(StreamAddress(url=url), name="test")
    gaps = frame_gaps(source)
    source.start()
    try:
        assert source.wait_for_first(15).frames
        wait_until(lambda: source.status.connections >= 4, timeout=30)
    finally:
        source.stop()
    assert source.status.state is SourceState.STOPPED
    # Each drop costs the reconnect (about a second), never a growing backoff.
    assert max(gaps) < 4.0

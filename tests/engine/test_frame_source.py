"""Tests for the frame source against real cameras: reading, sharing, failing and recovering."""

from __future__ import annotations

from pathlib import Path
import threading
import time

import pytest

from custom_components.home_guardian.engine.frame_source import (
    FrameSource,
    Problem,
    SourceState,
    StreamError,
    grab_frame,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import HttpCamera, MjpegCamera, RtspCamera, SilentServer
from tests.common import CAMERA_PASSWORD, CAMERA_USER, shared_clip


def rss_kib() -> int:
    """Return this process's resident memory in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def reader_side_threads() -> int:
    """Count threads other than the test HTTP server's short-lived request handlers."""
    return sum("process_request" not in t.name for t in threading.enumerate())


def wait_until(condition, timeout: float = 15.0) -> None:
    """Wait in real time until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_reads_rtsp_and_paces_listeners(rtsp_auth_camera: RtspCamera) -> None:
    """One connection feeds every listener at its own pace, and stop ends the thread."""
    source = FrameSource(
        StreamAddress(url=rtsp_auth_camera.url, username=CAMERA_USER, password=CAMERA_PASSWORD),
        name="test",
    )
    every: list[Frame] = []
    slow: list[Frame] = []
    source.add_frame_listener(every.append)
    remove = source.add_frame_listener(slow.append, interval=0.5)
    source.start()
    source.start()  # a second start is harmless
    status = source.wait_for_first(10)
    assert status.frames >= 1
    wait_until(lambda: len(every) >= 25)
    remove()
    source.stop()
    assert status.connections == 1 or source.status.connections == 1
    # The camera sends 10 frames a second; the slow listener asked for two.
    assert len(slow) <= len(every) / 3
    assert source.status.state is SourceState.STOPPED
    assert source.latest is every[-1]
    assert source.latest.grey(144).shape == (144, 256)
    assert not any(t.name == "home_guardian test" for t in threading.enumerate())


def test_failing_listener_does_not_stop_reading(
    rtsp_camera: RtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener that raises is logged and the frames keep coming."""
    source = FrameSource(StreamAddress(url=rtsp_camera.url), name="test")
    seen: list[int] = []

    def broken(frame: Frame) -> None:
        seen.append(frame.sequence)
        raise RuntimeError("listener bug")

    def broken_status(_status: object) -> None:
        raise RuntimeError("status listener bug")

    source.add_frame_listener(broken)
    remove_status = source.add_status_listener(broken_status)
    source.start()
    wait_until(lambda: len(seen) >= 5)
    remove_status()
    source.stop()
    assert "frame listener failed" in caplog.text
    assert "status listener failed" in caplog.text


def test_reconnects_after_camera_restart(rtsp_camera: RtspCamera) -> None:
    """A camera that dies and returns is read again without anyone's help."""
    source = FrameSource(StreamAddress(url=rtsp_camera.url), name="test", backoff_max=2)
    problems: list[Problem | None] = []
    source.add_status_listener(lambda status: problems.append(status.problem))
    source.start()
    assert source.wait_for_first(10).frames
    rtsp_camera.stop()
    wait_until(lambda: source.status.state is SourceState.RETRYING)
    rtsp_camera.start()
    wait_until(
        lambda: source.status.state is SourceState.STREAMING and source.status.connections == 2
    )
    source.stop()
    assert Problem.CANNOT_CONNECT in problems


def test_stalled_camera_times_out(rtsp_camera: RtspCamera) -> None:
    """A frozen camera is noticed within the read timeout."""
    source = FrameSource(StreamAddress(url=rtsp_camera.url), name="test", read_timeout=1.0)
    source.start()
    assert source.wait_for_first(10).frames
    rtsp_camera.pause()
    try:
        wait_until(lambda: source.status.state is SourceState.RETRYING, timeout=10)
    finally:
        rtsp_camera.resume()
    source.stop()


def test_hung_port_times_out_and_stops_promptly(silent_server: SilentServer) -> None:
    """A port that never answers gives a timeout, and stopping does not wait for it long."""
    address = StreamAddress(url=f"rtsp://127.0.0.1:{silent_server.port}/s")
    with pytest.raises(StreamError) as err:
        grab_frame(address, timeout=1.0)
    assert err.value.problem is Problem.TIMEOUT
    source = FrameSource(address, name="test", open_timeout=1.0)
    source.start()
    status = source.wait_for_first(5)
    assert status.problem is Problem.TIMEOUT
    started = time.monotonic()
    source.stop()
    assert time.monotonic() - started < 3


def test_snapshot_url_is_polled_without_thread_or_memory_growth(http_camera: HttpCamera) -> None:
    """A still-image URL is polled; many cycles leave no thread or memory behind."""
    address = StreamAddress(
        url=http_camera.url("/snapshot.jpg"), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    frame, still = grab_frame(address)
    assert still
    assert frame.jpeg()[:2] == b"\xff\xd8"
    source = FrameSource(address, name="test", poll_interval=0.0)
    source.start()
    try:
        # The allocator warms up over the first few hundred cycles; growth after that is a leak.
        wait_until(lambda: source.status.connections >= 300, timeout=60)
        threads, memory = reader_side_threads(), rss_kib()
        wait_until(lambda: source.status.connections >= 900, timeout=120)
        assert reader_side_threads() == threads
        assert rss_kib() - memory < 8_000
    finally:
        source.stop()
    assert source.status.problem is None


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/page.html", Problem.NOT_VIDEO),
        ("/missing.jpg", Problem.NOT_FOUND),
    ],
)
def test_http_errors(http_camera: HttpCamera, path: str, problem: Problem) -> None:
    """HTML pages and missing paths are reported as what they are."""
    address = StreamAddress(
        url=http_camera.url(path), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    with pytest.raises(StreamError) as err:
        grab_frame(address)
    assert err.value.problem is problem


def test_wrong_http_password(http_camera: HttpCamera) -> None:
    """An HTTP 401 is a credentials problem."""
    with pytest.raises(StreamError) as err:
        grab_frame(StreamAddress(url=http_camera.url("/snapshot.jpg"), username="x", password="y"))
    assert err.value.problem is Problem.INVALID_AUTH


def test_mjpeg_keeps_the_cameras_jpeg(mjpeg_camera: MjpegCamera) -> None:
    """MJPEG frames keep the camera's own JPEG, so stills need no re-encoding."""
    container = open_stream(StreamAddress(url=mjpeg_camera.url))
    try:
        frame = next(iter_frames(container))
    finally:
        container.close()
    assert frame.jpeg()[:2] == b"\xff\xd8"
    assert frame.width == 640


def test_missing_file_and_audio_only(tmp_path: Path) -> None:
    """Files that are not there, or hold no video, are refused clearly."""
    with pytest.raises(StreamError) as err:
        open_stream(StreamAddress(url=str(tmp_path / "missing.mp4")))
    assert err.value.problem in {Problem.NOT_FOUND, Problem.CANNOT_CONNECT}
    wav = tmp_path / "tone.wav"
    wav.write_bytes(
        b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00"
        b"@\x1f\x00\x00\x01\x00\x08\x00data\x00\x00\x00\x00"
    )
    with pytest.raises(StreamError) as err:
        open_stream(StreamAddress(url=str(wav)))
    assert err.value.problem is Problem.NOT_VIDEO


def test_corrupt_packets_are_skipped(tmp_path: Path) -> None:
    """A clip with damaged bytes still yields pictures rather than failing outright."""
    clip = shared_clip("vtest.avi").read_bytes()
    damaged = bytearray(clip[:2_000_000])
    for offset in range(300_000, len(damaged), 50_000):
        damaged[offset : offset + 2000] = bytes(2000)
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(damaged))
    container = open_stream(StreamAddress(url=str(path)))
    try:
        frames = list(iter_frames(container))
    finally:
        container.close()
    assert len(frames) > 50


def test_address_provider_is_asked_at_every_connection(rtsp_camera: RtspCamera) -> None:
    """Addresses that expire are asked for again at each reconnect; its failures are problems."""
    asked: list[float] = []
    fail = threading.Event()

    def provide() -> StreamAddress:
        asked.append(time.monotonic())
        if fail.is_set():
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "gone")
        return StreamAddress(url=rtsp_camera.url)

    source = FrameSource(
        StreamAddress(url="not yet"), name="test", backoff_max=1, address_provider=provide
    )
    source.start()
    try:
        assert source.wait_for_first(10).frames
        assert len(asked) == 1
        assert source.address.url == rtsp_camera.url
        fail.set()
        rtsp_camera.stop()
        wait_until(lambda: source.status.problem is Problem.SOURCE_UNAVAILABLE)
        fail.clear()
        rtsp_camera.start()
        wait_until(lambda: source.status.connections == 2)
    finally:
        source.stop()
    assert len(asked) >= 3

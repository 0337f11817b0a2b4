"""Tests for the frame source against real cameras: reading, sharing, failing and recovering."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import replace
import gc
import io
import itertools
import logging
from pathlib import Path
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc

import numpy as np
from PIL import Image
import pytest

from custom_components.home_guardian.engine import frame_source, http_camera as http_client, sight
from custom_components.home_guardian.engine.frame_source import (
    FrameSource,
    Problem,
    SourceState,
    StreamError,
    close_container,
    grab_frame,
    grab_jpeg,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import (
    HostileCamera,
    HttpCamera,
    MjpegCamera,
    RtspCamera,
    SilentServer,
    SlowToAcceptServer,
    free_port,
)
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
    """HTML pages and missing paths are reported as what they are, asked for once."""
    address = StreamAddress(
        url=http_camera.url(path), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    with pytest.raises(StreamError) as err:
        grab_frame(address)
    assert err.value.problem is problem
    # One request and its signed repeat: FFmpeg does not ask again for a web page.
    assert http_camera.requests == 2


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


def native_threads() -> int:
    """Count this process's threads, FFmpeg's decoder threads included."""
    return len(list(Path("/proc/self/task").iterdir()))


def test_each_reconnect_frees_its_decoder_at_once(rtsp_camera: RtspCamera) -> None:
    """Decoder threads and buffers go with their connection, with the garbage collector off."""
    before = native_threads()
    source = FrameSource(StreamAddress(url=rtsp_camera.url), name="test")
    gc.disable()
    try:
        source.start()
        assert source.wait_for_first(10).frames
        streaming = native_threads()
        for connection in range(2, 5):
            rtsp_camera.stop()
            wait_until(lambda: source.status.state is SourceState.RETRYING)
            rtsp_camera.start()
            wait_until(
                lambda n=connection: (
                    source.status.connections == n and source.status.state is SourceState.STREAMING
                )
            )
            assert native_threads() == streaming
        source.stop()
        assert native_threads() == before
    finally:
        gc.enable()
        source.stop()


def test_a_camera_that_drops_often_is_back_quickly(rtsp_camera: RtspCamera) -> None:
    """After a short connection that delivered pictures, the next attempt is not held back."""
    source = FrameSource(StreamAddress(url=rtsp_camera.url), name="test")
    source.start()
    recoveries: list[float] = []
    try:
        assert source.wait_for_first(10).frames
        for connection in range(2, 7):
            time.sleep(1.0)  # a few seconds of pictures, far below any "healthy" threshold
            rtsp_camera.stop()
            wait_until(lambda: source.status.state is SourceState.RETRYING)
            started = time.monotonic()
            rtsp_camera.start()
            wait_until(
                lambda n=connection: (
                    source.status.connections == n and source.status.state is SourceState.STREAMING
                ),
                timeout=40,
            )
            recoveries.append(time.monotonic() - started)
    finally:
        source.stop()
    # A doubling wait would reach 8 s and more by the fourth drop.
    assert max(recoveries) < 5.0, recoveries


def big_picture(width: int, height: int, *, noise: bool = False) -> bytes:
    """Return a JPEG of the given size, plain or of random noise (which compresses badly)."""
    rng = np.random.default_rng(7)
    pixels = (
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        if noise
        else np.full((height, width, 3), 128, dtype=np.uint8)
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def huge_snapshot_camera(socket_enabled: None) -> Iterator[HttpCamera]:
    """Serve a 20-megapixel snapshot, beyond any home camera."""
    camera = HttpCamera(big_picture(5000, 4000))
    camera.start()
    yield camera
    camera.stop()


def test_pictures_over_the_pixel_cap_are_refused(
    huge_snapshot_camera: HttpCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """A picture beyond the cap is refused before it is kept, with one clear warning."""
    address = StreamAddress(url=huge_snapshot_camera.url("/snapshot.jpg"))
    with pytest.raises(StreamError) as err:
        grab_frame(address)
    assert err.value.problem is Problem.TOO_LARGE
    source = FrameSource(address, name="test", backoff_max=0.1)
    source.start()
    try:
        wait_until(lambda: huge_snapshot_camera.served >= 4)
    finally:
        source.stop()
    assert source.latest is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        (
            "test: refused too_large: pictures of 5000x4000, over 16777216 pixels;"
            " lower the camera's resolution"
        )
    ]


def test_snapshots_and_mjpeg_parts_over_the_byte_cap_are_refused(
    socket_enabled: None, mjpeg_camera: MjpegCamera, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot or an MJPEG part larger than the cap is refused before it is decoded."""
    camera = HttpCamera(big_picture(1000, 1000, noise=True))
    camera.start()
    try:
        address = StreamAddress(url=camera.url("/snapshot.jpg"))
        frame, _ = grab_frame(address)
        assert frame.width == 1000
        monkeypatch.setattr(frame_source, "MAX_PICTURE_BYTES", 100_000)
        with pytest.raises(StreamError) as err:
            grab_frame(address)
        assert err.value.problem is Problem.TOO_LARGE
        with pytest.raises(StreamError) as err:
            grab_jpeg(address)
        assert err.value.problem is Problem.TOO_LARGE
    finally:
        camera.stop()
    monkeypatch.setattr(frame_source, "MAX_PICTURE_BYTES", 1_000)
    with pytest.raises(StreamError) as err:
        grab_frame(StreamAddress(url=mjpeg_camera.url))
    assert err.value.problem is Problem.TOO_LARGE


def test_a_cut_mjpeg_stream_is_a_lost_connection(mjpeg_camera: MjpegCamera) -> None:
    """A camera that dies mid-picture has lost its connection; its address was right."""
    source = FrameSource(StreamAddress(url=mjpeg_camera.url), name="test")
    problems: list[Problem | None] = []
    source.add_status_listener(lambda status: problems.append(status.problem))
    source.start()
    try:
        assert source.wait_for_first(10).frames
        mjpeg_camera.stop()
        wait_until(lambda: source.status.state is SourceState.RETRYING)
    finally:
        source.stop()
    assert Problem.NOT_VIDEO not in problems
    assert source.status.problem in {Problem.CANNOT_CONNECT, Problem.TIMEOUT}


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


def test_retry_now_ends_the_wait_after_failures(rtsp_camera: RtspCamera) -> None:
    """A source that returns is read at once, not after the reader's grown backoff."""
    asked: list[float] = []
    back = threading.Event()

    def provide() -> StreamAddress:
        asked.append(time.monotonic())
        if not back.is_set():
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "gone")
        return StreamAddress(url=rtsp_camera.url)

    source = FrameSource(StreamAddress(url="not yet"), name="test", address_provider=provide)
    source.start()
    try:
        # Four failures: the reader now waits 8 s before the fifth attempt.
        wait_until(lambda: len(asked) == 4, timeout=20)
        time.sleep(0.5)
        back.set()
        returned = time.monotonic()
        source.retry_now()
        wait_until(lambda: source.status.frames > 0, timeout=30)
        # The fifth attempt came at once, not 7.5 s later: timed from the wake, which needs
        # no network, so a busy machine's slow first picture does not count.
        woke_after = asked[4] - returned
        # A streaming reader is left alone: no new connection.
        source.retry_now()
        time.sleep(1.0)
        assert source.status.connections == 1
    finally:
        source.stop()
    assert woke_after < 2.0, woke_after


def test_stop_ends_a_wait_after_failures() -> None:
    """Stopping a reader that waits between failed attempts ends its thread at once."""

    def provide() -> StreamAddress:
        raise StreamError(Problem.SOURCE_UNAVAILABLE, "gone")

    source = FrameSource(
        StreamAddress(url="not yet"), name="test", backoff_max=60, address_provider=provide
    )
    source.start()
    wait_until(lambda: source.status.problem is Problem.SOURCE_UNAVAILABLE)
    started = time.monotonic()
    source.stop(timeout=5)
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "home_guardian test" for t in threading.enumerate())


def test_a_failing_snapshot_url_is_not_retried_faster_than_it_is_polled(
    http_camera: HttpCamera,
) -> None:
    """A snapshot URL polled every 1.5 s that starts failing is retried 1.5 s, then 3 s later."""
    asked: list[float] = []

    def provide() -> StreamAddress:
        asked.append(time.monotonic())
        path = "/snapshot.jpg" if len(asked) == 1 else "/missing.jpg"
        return StreamAddress(
            url=http_camera.url(path), username=CAMERA_USER, password=CAMERA_PASSWORD
        )

    source = FrameSource(
        StreamAddress(url="not yet"), name="test", poll_interval=1.5, address_provider=provide
    )
    source.start()
    try:
        wait_until(lambda: len(asked) >= 4, timeout=15)
    finally:
        source.stop()
    failures = asked[1:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(failures)]
    assert 1.4 < gaps[0] < 2.5, gaps
    assert 2.9 < gaps[1] < 4.0, gaps


def test_a_jpeg_snapshot_is_handed_on_undecoded(
    http_camera: HttpCamera, snapshot_jpeg: bytes, tmp_path: Path
) -> None:
    """A JPEG snapshot comes back as the camera's own bytes; other pictures are encoded."""
    address = StreamAddress(
        url=http_camera.url("/snapshot.jpg"), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    assert grab_jpeg(address) == snapshot_jpeg
    png = tmp_path / "snapshot.png"
    Image.open(io.BytesIO(snapshot_jpeg)).save(png)
    jpeg = grab_jpeg(StreamAddress(url=str(png)))
    assert jpeg[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(jpeg)).size == Image.open(io.BytesIO(snapshot_jpeg)).size
    for path, problem in (("/page.html", Problem.NOT_VIDEO), ("/missing.jpg", Problem.NOT_FOUND)):
        with pytest.raises(StreamError) as err:
            grab_jpeg(
                StreamAddress(
                    url=http_camera.url(path), username=CAMERA_USER, password=CAMERA_PASSWORD
                )
            )
        assert err.value.problem is problem


def test_a_huge_jpeg_snapshot_is_refused_undecoded(
    huge_snapshot_camera: HttpCamera,
) -> None:
    """A snapshot over the pixel cap is refused from its header, as streams are."""
    with pytest.raises(StreamError) as err:
        grab_jpeg(StreamAddress(url=huge_snapshot_camera.url("/snapshot.jpg")))
    assert err.value.problem is Problem.TOO_LARGE


@pytest.fixture
def hostile_camera(socket_enabled: None, snapshot_jpeg: bytes) -> Iterator[HostileCamera]:
    """Start a snapshot camera that sends what no camera should."""
    camera = HostileCamera(snapshot_jpeg)
    yield camera
    camera.stop()


def test_an_endless_snapshot_stops_at_the_byte_cap(hostile_camera: HostileCamera) -> None:
    """A JPEG that never ends is refused once it passes the cap, holding no more than that."""
    address = StreamAddress(url=hostile_camera.url("/endless"))
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(StreamError) as err:
            grab_jpeg(address)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.problem is Problem.TOO_LARGE
    assert time.monotonic() - started < 5
    wait_until(lambda: hostile_camera.sent)
    # The camera got out the cap and what the sockets buffer (MBs), not the 64 MB it had ready.
    assert hostile_camera.sent[0] < frame_source.MAX_PICTURE_BYTES + 16 * 1024 * 1024
    assert peak < 2.5 * frame_source.MAX_PICTURE_BYTES
    source = FrameSource(address, name="test", poll_interval=0.2)
    source.start()
    try:
        assert source.wait_for_first(10).problem is Problem.TOO_LARGE
    finally:
        source.stop()
    assert source.latest is None


@pytest.mark.parametrize("path", ["/mjpeg-endless", "/mjpeg-huge"])
def test_an_endless_mjpeg_part_is_cut_off(hostile_camera: HostileCamera, path: str) -> None:
    """An MJPEG part that never reaches its boundary ends the stream at the cap, not at memory.

    FFmpeg holds a part whole until its boundary: before the cap, memory grew with every byte
    the camera sent (372 MB for 400 MB sent).
    """
    # Far more than the cap ready to send, so that memory without the cap would grow well past
    # the bound below while FFmpeg's own buffer growth under the cap stays under it.
    hostile_camera.limit = 8 * frame_source.MAX_PICTURE_BYTES
    container = open_stream(StreamAddress(url=hostile_camera.url(path)))
    frames = iter_frames(container)
    peak, stop = [rss_kib()], threading.Event()
    start = peak[0]

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], rss_kib())

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        # The whole picture before the endless part comes through.
        assert next(frames).width == Image.open(io.BytesIO(hostile_camera.jpeg)).width
        with pytest.raises(StreamError) as err:
            next(frames)
    finally:
        stop.set()
        sampler.join()
        close_container(container)
    assert err.value.problem is Problem.TOO_LARGE
    assert time.monotonic() - started < 5
    wait_until(lambda: hostile_camera.sent)
    # The cap and what the sockets buffer, not the 256 MB the camera had ready.
    assert hostile_camera.sent[0] < frame_source.MAX_PICTURE_BYTES + 16 * 1024 * 1024
    # FFmpeg grows its part buffer by reallocation, so the peak may hold the part more than once
    # (up to 52 MB was seen for the 32 MB cap); without the cap it would reach about 256 MB.
    assert (peak[0] - start) * 1024 < 3 * frame_source.MAX_PICTURE_BYTES


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_camera_slow_to_connect_gets_no_more_than_the_request_time(
    socket_enabled: None, scheme: str
) -> None:
    """Connecting, shaking hands and asking share one deadline: none gets the whole time again."""
    camera = SlowToAcceptServer(delay=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(StreamError) as err:
            grab_jpeg(
                StreamAddress(url=f"{scheme}://127.0.0.1:{camera.port}/snapshot.jpg"), timeout=1.5
            )
        elapsed = time.monotonic() - started
    finally:
        camera.stop()
    assert err.value.problem is Problem.TIMEOUT
    assert camera.accepted  # the connection did get through, about a second in
    assert 1.5 <= elapsed < 1.9


def test_a_name_that_resolves_slowly_gets_no_more_than_the_request_time(
    http_camera: HttpCamera, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DNS server that never answers cannot hold a request past its deadline.

    The system resolver cannot be made to hang here, so names under `.hang.test` wait, as an
    unanswered lookup does, until the test lets them go, and `camera.test` is the test camera's
    address (the tests may connect to 127.0.0.1 only, which `localhost` is not always alone).
    """
    real_lookup, released = socket.getaddrinfo, threading.Event()

    def lookup(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".hang.test"):
            released.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host == "camera.test":
            host = "127.0.0.1"
        return real_lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    try:
        started = time.monotonic()
        with pytest.raises(StreamError) as err:
            grab_jpeg(StreamAddress(url="http://camera.hang.test/snapshot.jpg"), timeout=1.5)
        elapsed = time.monotonic() - started
    finally:
        released.set()
    assert err.value.problem is Problem.TIMEOUT
    assert 1.5 <= elapsed < 1.9
    # A name that does resolve still reaches its camera, and a lookup that fails says so.
    url = http_camera.url("/snapshot.jpg").replace("127.0.0.1", "camera.test")
    address = StreamAddress(url=url, username=CAMERA_USER, password=CAMERA_PASSWORD)
    assert grab_jpeg(address, timeout=5) == http_camera.jpeg
    with pytest.raises(StreamError) as err:
        grab_jpeg(StreamAddress(url="http://camera.hang.test/snapshot.jpg"), timeout=5)
    assert err.value.problem is Problem.CANNOT_CONNECT


@pytest.mark.parametrize("path", ["/trickle", "/trickle-head"])
def test_a_trickling_snapshot_gives_up_at_the_deadline(
    hostile_camera: HostileCamera, path: str
) -> None:
    """A camera sending a byte now and then cannot hold a read past the whole request's time."""
    started = time.monotonic()
    with pytest.raises(StreamError) as err:
        grab_jpeg(StreamAddress(url=hostile_camera.url(path)), timeout=1.5)
    assert err.value.problem is Problem.TIMEOUT
    assert time.monotonic() - started < 2.0


def test_a_huge_content_length_is_refused_unread(hostile_camera: HostileCamera) -> None:
    """A Content-Length over the cap is refused at once, and a body cut short is no picture."""
    started = time.monotonic()
    with pytest.raises(StreamError) as err:
        grab_jpeg(StreamAddress(url=hostile_camera.url("/huge")))
    assert err.value.problem is Problem.TOO_LARGE
    assert time.monotonic() - started < 1.0
    with pytest.raises(StreamError) as err:
        grab_frame(StreamAddress(url=hostile_camera.url("/cut")))
    assert err.value.problem is Problem.NOT_VIDEO


def test_a_cut_off_snapshot_keeps_the_last_good_picture(
    http_camera: HttpCamera, snapshot_jpeg: bytes
) -> None:
    """A JPEG without its end marker is refused and retried; the last good picture stays."""
    address = StreamAddress(
        url=http_camera.url("/truncated.jpg"), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    with pytest.raises(StreamError) as err:
        grab_jpeg(address)
    assert err.value.problem is Problem.NOT_VIDEO
    # Padding after the end marker is no cut.
    padded = replace(address, url=http_camera.url("/padded.jpg"))
    assert grab_jpeg(padded).startswith(snapshot_jpeg)
    asked: list[float] = []

    def provide() -> StreamAddress:
        asked.append(time.monotonic())
        return (
            replace(address, url=http_camera.url("/snapshot.jpg")) if len(asked) == 1 else address
        )

    source = FrameSource(
        StreamAddress(url="not yet"), name="test", poll_interval=0.2, address_provider=provide
    )
    source.start()
    try:
        wait_until(lambda: len(asked) >= 4)
    finally:
        source.stop()
    assert source.status.problem is Problem.NOT_VIDEO
    assert source.status.frames == 1
    assert source.latest is not None
    assert source.latest.jpeg() == snapshot_jpeg


def test_digest_sign_in(socket_enabled: None, snapshot_jpeg: bytes) -> None:
    """A camera asking for Digest gets it, though it offers Basic too; wrong ones are refused."""
    camera = HttpCamera(snapshot_jpeg, CAMERA_USER, CAMERA_PASSWORD, digest=True)
    camera.start()
    try:
        address = StreamAddress(
            url=camera.url("/snapshot.jpg?channel=1"),
            username=CAMERA_USER,
            password=CAMERA_PASSWORD,
        )
        assert grab_jpeg(address) == snapshot_jpeg
        frame, still = grab_frame(address)
        assert still
        assert frame.width > 0
        # Asked without credentials first, then with Digest only: the password never travels.
        assert camera.authorizations[0] == ""
        assert camera.authorizations[1].startswith("Digest ")
        assert not any(a.startswith("Basic") for a in camera.authorizations)
        with pytest.raises(StreamError) as err:
            grab_jpeg(replace(address, password="wrong"))
        assert err.value.problem is Problem.INVALID_AUTH
        with pytest.raises(StreamError) as err:
            grab_jpeg(replace(address, username=None, password=None))
        assert err.value.problem is Problem.INVALID_AUTH
    finally:
        camera.stop()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/redirect.jpg", None),
        ("/redirect-ftp.jpg", Problem.NOT_VIDEO),
        ("/redirect-file.jpg", Problem.NOT_VIDEO),
        ("/loop.jpg", Problem.CANNOT_CONNECT),
    ],
)
def test_redirects(http_camera: HttpCamera, path: str, problem: Problem | None) -> None:
    """A few redirects are followed, within http and https only."""
    address = StreamAddress(
        url=http_camera.url(path), username=CAMERA_USER, password=CAMERA_PASSWORD
    )
    if problem is None:
        assert grab_jpeg(address)[:2] == b"\xff\xd8"
        return
    with pytest.raises(StreamError) as err:
        grab_jpeg(address)
    assert err.value.problem is problem
    assert http_camera.requests <= 2 * (http_client.MAX_REDIRECTS + 1)


def test_credentials_never_reach_errors_or_logs(
    http_camera: HttpCamera, hostile_camera: HostileCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever goes wrong, neither the password nor the URL's userinfo is told."""
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-camera"
    urls = [
        http_camera.url("/snapshot.jpg"),
        http_camera.url("/missing.jpg"),
        http_camera.url("/truncated.jpg"),
        http_camera.url("/redirect-ftp.jpg"),
        hostile_camera.url("/huge"),
        hostile_camera.url("/cut"),
        f"http://127.0.0.1:{free_port()}/snapshot.jpg",
    ]
    messages = []
    for url in urls:
        address = StreamAddress(url=url, username=CAMERA_USER, password=secret)
        with pytest.raises(StreamError) as err:
            grab_jpeg(address, timeout=2)
        messages.append(f"{err.value!r} {err.value}")
        source = FrameSource(address, name="test", poll_interval=0.2)
        source.start()
        source.wait_for_first(5)
        source.stop()
    told = "\n".join([*messages, caplog.text])
    assert "cannot_connect" in told
    assert secret not in told
    assert f"{CAMERA_USER}:" not in told


def test_a_stream_joined_long_before_its_next_keyframe_is_read_from_it(tmp_path: Path) -> None:
    """MPEG-TS with its parameter sets only at keyframes, 10 s apart, joined 3 s in.

    Seventy packets cannot be decoded before the next keyframe: that is no broken stream.
    """
    whole = tmp_path / "camera.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10",
         "-t", "20", "-c:v", "libx264", "-g", "100", "-bf", "0",
         "-x264-params", "repeat-headers=1", "-f", "mpegts", str(whole)],
        check=True, capture_output=True,
    )  # fmt: skip
    data = whole.read_bytes()
    packets = len(data) // 188
    joined = tmp_path / "joined.ts"
    joined.write_bytes(data[packets * 3 // 20 * 188 :])
    container = open_stream(StreamAddress(url=str(joined)))
    try:
        frames = list(iter_frames(container))
    finally:
        close_container(container)
    # The 10 s from the second keyframe on.
    assert len(frames) >= 100


def test_a_self_signed_https_camera_is_read(
    http_camera: HttpCamera, snapshot_jpeg: bytes, tmp_path: Path
) -> None:
    """HTTPS cameras with self-signed certificates are read, encrypted, as before."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=camera.local", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    camera = HttpCamera(snapshot_jpeg, CAMERA_USER, CAMERA_PASSWORD, digest=True)
    camera.server.socket = server.wrap_socket(camera.server.socket, server_side=True)
    camera.start()
    try:
        url = camera.url("/snapshot.jpg").replace("http:", "https:")
        address = StreamAddress(url=url, username=CAMERA_USER, password=CAMERA_PASSWORD)
        assert grab_jpeg(address) == snapshot_jpeg
    finally:
        camera.stop()


def mjpeg_pictures(part: bytes, parts: int, preamble: bytes = b"") -> list[bytes]:
    """Serve `parts` times `part` once as an MJPEG camera (after `preamble`); return its JPEGs."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        client, _ = server.accept()
        with client, contextlib.suppress(OSError):
            # A reader that stops reading is not waited for long.
            client.settimeout(5)
            client.recv(65536)
            client.sendall(
                b"HTTP/1.0 200 OK\r\n"
                b"Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n" + preamble
            )
            for _ in range(parts):
                client.sendall(part)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    container = open_stream(StreamAddress(url=f"http://127.0.0.1:{port}/video.mjpg"))
    try:
        return [frame.jpeg() for frame in iter_frames(container)]
    finally:
        close_container(container)
        thread.join()
        server.close()


@pytest.mark.parametrize(
    ("preamble", "head"),
    [
        # A blank line before the first boundary, as some cameras send.
        (b"\r\n", b"--frame\r\nContent-Type: image/jpeg\r\n"),
        # Parts that do not say what they hold.
        (b"", b"--frame\r\nX-Timestamp: 12\r\n"),
        # Parts that say a wrong length: one picture per connection, then an error, before.
        (b"", b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {short}\r\n"),
        (b"", b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {long}\r\n"),
        # Bare line feeds and no length: no picture at all, before.
        (b"", b"--frame\nContent-Type: image/jpeg\n"),
    ],
    ids=["blank line first", "untyped", "length short", "length long", "bare line feeds"],
)
def test_an_mjpeg_camera_with_odd_parts_gives_whole_jpeg_pictures(
    socket_enabled: None, snapshot_jpeg: bytes, preamble: bytes, head: bytes
) -> None:
    """Every picture comes, whole, whatever the camera's part headers say."""
    head = head.replace(b"{short}", b"%d" % (len(snapshot_jpeg) - 2))
    head = head.replace(b"{long}", b"%d" % (len(snapshot_jpeg) + 50))
    eol = b"\n" if head.endswith(b"\n") and not head.endswith(b"\r\n") else b"\r\n"
    part = head + eol + snapshot_jpeg + eol
    assert mjpeg_pictures(part, 8, preamble) == [snapshot_jpeg] * 8


def test_an_mjpeg_picture_comes_before_the_next_part_is_sent(
    socket_enabled: None, snapshot_jpeg: bytes
) -> None:
    """A part without a length is handed on at its picture's end, not when the next part begins.

    Cameras sending a picture a second or slower were shown, and their motion judged, a whole
    picture late.
    """
    server = socket.create_server(("127.0.0.1", 0))
    received = threading.Event()
    waited_in_vain: list[int] = []

    def serve() -> None:
        client, _ = server.accept()
        with client, contextlib.suppress(OSError):
            client.recv(65536)
            client.sendall(
                b"HTTP/1.0 200 OK\r\n"
                b"Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
            )
            for index in range(3):
                client.sendall(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + snapshot_jpeg)
                # The next part only once this picture came through, or after a long wait.
                if not received.wait(5):
                    waited_in_vain.append(index)
                received.clear()
                client.sendall(b"\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    container = open_stream(StreamAddress(url=f"http://127.0.0.1:{port}/video.mjpg"))
    try:
        pictures = []
        for frame in iter_frames(container):
            pictures.append(frame.jpeg())
            received.set()
    finally:
        close_container(container)
        thread.join()
        server.close()
    assert pictures == [snapshot_jpeg] * 3
    assert waited_in_vain == []


@pytest.mark.parametrize("with_length", [True, False])
def test_an_mjpeg_camera_is_read_past_the_part_cap_in_all(
    socket_enabled: None, snapshot_jpeg: bytes, with_length: bool
) -> None:
    """The part cap counts one part's bytes: a camera that sent 40 MB of pictures is not cut.

    Every picture comes whole, and the stream goes on until the camera ends it.
    """
    parts = 40 * 1024 * 1024 // len(snapshot_jpeg) + 1
    head = b"--frame\r\nContent-Type: image/jpeg\r\n"
    if with_length:
        head += f"Content-Length: {len(snapshot_jpeg)}\r\n".encode()
    part = head + b"\r\n" + snapshot_jpeg + b"\r\n"
    frames = len(mjpeg_pictures(part, parts))
    # The last part may be lost with the line's end; none before it.
    assert frames >= parts - 1


@pytest.mark.parametrize(
    ("clip", "problem"), [("frozen", Problem.SAME_PICTURE), ("black", Problem.BLANK_PICTURE)]
)
def test_a_camera_that_stopped_seeing_is_not_fresh_until_it_sees_again(
    socket_enabled: None,
    blind_clips: dict[str, Path],
    clip: str,
    problem: Problem,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pictures that keep coming but show nothing (frozen, a covered lens) are no fresh frames."""
    # Five minutes of the same picture, or a minute of an empty one, in real use.
    monkeypatch.setattr(frame_source, "SAME_STREAM_SECONDS", 2.0)
    monkeypatch.setattr(sight, "BLANK_SECONDS", 2.0)
    camera = MjpegCamera(clip=blind_clips[clip])
    camera.start()
    source = FrameSource(StreamAddress(url=camera.url), name="test")
    problems: list[Problem | None] = []
    source.add_status_listener(lambda status: problems.append(status.problem))
    source.start()
    try:
        assert source.wait_for_first(10).frames
        wait_until(lambda: source.status.problem is problem)
        frames = source.status.frames
        time.sleep(1.0)
        assert source.status.state is SourceState.STREAMING
        assert source.status.frames == frames
        assert source.latest_if_fresh(0.9) is None
        camera.stop()
        camera = MjpegCamera(clip=shared_clip("vtest.avi"), port=camera.port)
        camera.start()
        wait_until(lambda: source.latest_if_fresh(0.5) is not None, timeout=30)
    finally:
        source.stop()
        camera.stop()
    assert problems.count(problem) == 1
    assert source.status.problem is None

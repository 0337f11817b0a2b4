"""Tests for asking HTTP cameras ourselves: sign-in answers and answers that are not HTTP."""

from __future__ import annotations

from collections.abc import Iterator
import functools
import hashlib
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import socket
import subprocess
import threading

import pytest
import pytest_socket

from custom_components.home_guardian.engine.frame_source import (
    Problem,
    StreamError,
    close_container,
    grab_frame,
    grab_jpeg,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.http_camera import (
    digest_authorization,
    is_whole_jpeg,
)
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import HostileCamera
from tests.common import shared_clip

# RFC 7616, section 3.9.1: the example every Digest implementation is checked against.
RFC_USER = StreamAddress(
    url="http://www.example.org/dir/index.html", username="Mufasa", password="Circle of Life"
)
RFC_CHALLENGE = {
    "realm": "http-auth@example.org",
    "qop": "auth, auth-int",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
}
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_digest_answers_the_rfc_example(algorithm: str, response: str) -> None:
    """The Digest answer is RFC 7616's own, for MD5 and SHA-256."""
    header = digest_authorization(
        RFC_USER, RFC_USER.url, {**RFC_CHALLENGE, "algorithm": algorithm}, cnonce=RFC_CNONCE
    )
    assert header is not None
    assert f'response="{response}"' in header
    assert "qop=auth, nc=00000001" in header
    assert f'opaque="{RFC_CHALLENGE["opaque"]}"' in header


def test_digest_without_qop_and_with_sessions() -> None:
    """Old cameras' Digest (no qop) and the -sess variant; unknown algorithms get no answer."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what the camera asks for

    secret = md5("Mufasa:http-auth@example.org:Circle of Life")
    method = md5("GET:/dir/index.html")
    plain = {"realm": RFC_CHALLENGE["realm"], "nonce": "abc"}
    header = digest_authorization(RFC_USER, RFC_USER.url, plain)
    assert header is not None
    assert f'response="{md5(f"{secret}:abc:{method}")}"' in header
    assert "qop" not in header
    session = digest_authorization(
        RFC_USER, RFC_USER.url, {**plain, "qop": "auth", "algorithm": "MD5-sess"}, cnonce="c"
    )
    assert session is not None
    answer = md5(f"{md5(f'{secret}:abc:c')}:abc:00000001:c:auth:{method}")
    assert f'response="{answer}"' in session
    assert (
        digest_authorization(RFC_USER, RFC_USER.url, {**plain, "algorithm": "SHA-512-256"}) is None
    )


def test_a_jpeg_is_whole_only_with_its_end_marker() -> None:
    """What cameras put after the end marker is allowed; other pictures are not judged by it."""
    assert is_whole_jpeg(b"\xff\xd8 data \xff\xd9")
    assert is_whole_jpeg(b"\xff\xd8 data \xff\xd9\r\n\x00")
    # Fill bytes, and a multipart boundary left over by a camera's MJPEG code.
    assert is_whole_jpeg(b"\xff\xd8 data \xff\xd9\xff\xff\xff")
    assert is_whole_jpeg(b"\xff\xd8 data \xff\xd9\r\n--myboundary\r\n")
    assert not is_whole_jpeg(b"\xff\xd8 data")
    # Cut off in a second picture, or coded data after the end: not one whole picture.
    assert not is_whole_jpeg(b"\xff\xd8 data \xff\xd9\xff\xd8\xff\xe0\x00\x10")
    assert not is_whole_jpeg(b"\xff\xd8 data \xff\xd9" + bytes(range(256)))
    # Padding of any length, but an end marker far before other bytes is no end of the whole.
    assert is_whole_jpeg(b"\xff\xd8 data \xff\xd9" + b"\x00" * 4096)
    assert not is_whole_jpeg(b"\xff\xd8 data \xff\xd9" + b"x" * 600)
    assert is_whole_jpeg(b"\x89PNG")


@pytest.fixture
def odd_server(socket_enabled: None) -> Iterator[HostileCamera]:
    """Start a server that answers in ways no camera should."""
    server = HostileCamera(b"\xff\xd8\xff\xd9")
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "problem"),
    [("/ntlm", Problem.INVALID_AUTH), ("/not-http", Problem.NOT_VIDEO)],
)
def test_answers_we_cannot_use(odd_server: HostileCamera, path: str, problem: Problem) -> None:
    """A sign-in we do not speak is a credentials problem; another protocol is no video."""
    address = StreamAddress(url=odd_server.url(path), username="admin", password="secret")
    with pytest.raises(StreamError) as err:
        grab_jpeg(address, timeout=3)
    assert err.value.problem is problem


@pytest.fixture
def video_folder(socket_enabled: None, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a folder over plain HTTP, as NVRs and cameras serve HLS and MPEG-TS; yield its URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()
    thread.join()


def test_hls_and_mpeg_ts_over_http_are_read(video_folder: tuple[str, Path]) -> None:
    """An HLS playlist's segments are addresses of their own: FFmpeg asks for them itself."""
    base, folder = video_folder
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", source, "-t", "4", "-c:v", "libx264"),
            *("-preset", "ultrafast", "-g", "10", "-f", "hls", "-hls_time", "1"),
            *("-hls_list_size", "0", str(folder / "index.m3u8")),
        ],
        check=True,
    )
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", source, "-t", "2", "-c:v", "libx264"),
            *("-preset", "ultrafast", "-f", "mpegts", str(folder / "live.ts")),
        ],
        check=True,
    )
    for name in ("index.m3u8", "live.ts"):
        frame, still = grab_frame(StreamAddress(url=f"{base}/{name}"), timeout=5)
        assert (frame.width, frame.height) == (768, 576)
        assert not still
        container = open_stream(StreamAddress(url=f"{base}/{name}"))
        try:
            frames = sum(1 for _ in iter_frames(container))
        finally:
            close_container(container)
        assert frames >= 20  # read to its end, segment after segment


class _Ipv6Server(ThreadingHTTPServer):
    """A plain HTTP server on an IPv6 address."""

    address_family = socket.AF_INET6


def test_an_ipv6_camera_on_the_default_port_is_reached(
    socket_enabled: None, tmp_path: Path, snapshot_jpeg: bytes
) -> None:
    """http://[::1]/snap.jpg asks ::1 on port 80, not port 1 of a host named ':'."""
    (tmp_path / "snap.jpg").write_bytes(snapshot_jpeg)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_args: None  # type: ignore[method-assign]
    try:
        server = _Ipv6Server(("::1", 80), handler)
    except OSError as err:
        pytest.skip(f"port 80 of ::1 cannot be served here ({err.strerror})")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The test harness allows 127.0.0.1 alone; its IPv6 twin is as local.
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
    try:
        assert grab_jpeg(StreamAddress(url="http://[::1]/snap.jpg"), timeout=3) == snapshot_jpeg
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

"""Start real camera servers on 127.0.0.1: gst-rtsp-server, FFmpeg MJPEG and plain HTTP."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
from pathlib import Path
import signal
import socket
import subprocess
import threading
import time

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_listen(port: int, timeout: float = 10.0) -> None:
    """Wait until a socket listens on the port, without connecting to it.

    FFmpeg's `-listen 1` serves exactly one client, so a test connection would use it up.
    """
    entry = f":{port:04X} 00000000:0000 0A"  # local address, no peer, state LISTEN
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if entry in Path("/proc/net/tcp").read_text():
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass
class RtspCamera:
    """A real RTSP camera: gst-rtsp-server streaming a real clip as H.264, looping."""

    clip: Path
    username: str | None = None
    password: str | None = None
    width: int = 640
    height: int = 360
    fps: int = 10
    # Options of cameras that behave differently: see rtsp_server.py.
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """Return the stream URL without credentials."""
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> None:
        """Start the server and wait until it accepts clients."""
        command = [
            SYSTEM_PYTHON,
            str(RTSP_SERVER),
            "--port",
            str(self.port),
            "--clip",
            str(self.clip),
            "--width",
            str(self.width),
            "--height",
            str(self.height),
            "--fps",
            str(self.fps),
        ]
        if self.username:
            command += ["--user", self.username, "--password", self.password or ""]
        command += self.extra
        # A clean environment: the test venv's variables must not leak into the system Python.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError("the RTSP server did not start")

    def stop(self) -> None:
        """Kill the server, as a camera losing power would."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGCONT)
                self.process.kill()
            self.process.wait()
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open but nothing arrives."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen server go on."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@dataclass
class MjpegCamera:
    """A real HTTP MJPEG camera: FFmpeg serving multipart JPEG to one client."""

    clip: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the stream URL."""
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> None:
        """Start FFmpeg listening for its client."""
        self.process = subprocess.Popen(
            [
                "ffmpeg",
                "-v",
                "error",
                "-nostdin",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                str(self.clip),
                "-vf",
                "scale=640:-2,fps=5",
                "-q:v",
                "5",
                "-f",
                "mpjpeg",
                "-listen",
                "1",
                self.url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_listen(self.port)

    def stop(self) -> None:
        """Stop FFmpeg."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None


DIGEST_NONCE = "5ca1ab1e"
# Where /redirect... paths send their clients.
REDIRECTS = {
    "/redirect.jpg": "/snapshot.jpg",
    "/redirect-ftp.jpg": "ftp://127.0.0.1/snapshot.jpg",
    "/redirect-file.jpg": "file:///etc/passwd",
    "/loop.jpg": "/loop.jpg",
}


def signed_in(
    header: str, basic: str | None, username: str, password: str | None, *, digest: bool
) -> bool:
    """Return True when an Authorization header has the right Basic or Digest answer."""
    if not digest:
        return header == basic
    if not header.startswith("Digest "):
        return False
    fields = dict(part.strip().split("=", 1) for part in header.removeprefix("Digest ").split(","))
    values = {key: value.strip('"') for key, value in fields.items()}

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what cameras use

    secret = md5(f"{username}:camera:{password}")
    method = md5(f"GET:{values.get('uri')}")
    answer = md5(f"{secret}:{DIGEST_NONCE}:{values.get('nc')}:{values.get('cnonce')}:auth:{method}")
    return values.get("username") == username and values.get("response") == answer


class HttpCamera:
    """A plain HTTP server for snapshots and for the faults of bad cameras."""

    def __init__(
        self,
        jpeg: bytes,
        username: str | None = None,
        password: str | None = None,
        frames: list[bytes] | None = None,
        *,
        digest: bool = False,
    ) -> None:
        """Serve `jpeg` at /snapshot.jpg, `frames` in turn at /frames.jpg; others are faults.

        With `digest`, only Digest authentication (MD5, qop=auth) is accepted, though Basic is
        offered too, as many cameras do.
        """
        self.jpeg = jpeg
        self.frames = frames or [jpeg]
        self.requests = 0
        self.served = 0
        self.authorizations: list[str] = []
        self.variants = {
            "/truncated.jpg": jpeg[: len(jpeg) // 3],
            # Some cameras pad their JPEG after its end marker.
            "/padded.jpg": jpeg + b"\r\n\x00\x00",
        }
        basic = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
            if username
            else None
        )
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                header = self.headers.get("Authorization") or ""
                owner.authorizations.append(header)
                if username and not signed_in(header, basic, username, password, digest=digest):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    if digest:
                        self.send_header(
                            "WWW-Authenticate",
                            f'Digest realm="camera", qop="auth", nonce="{DIGEST_NONCE}",'
                            ' algorithm=MD5, opaque="x"',
                        )
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path in REDIRECTS:
                    self.send_response(302)
                    self.send_header("Location", REDIRECTS[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/snapshot.jpg"):
                    body, kind = owner.jpeg, "image/jpeg"
                elif self.path.startswith("/frames.jpg"):
                    # A snapshot camera in a live room: each request sees the next moment.
                    body, kind = owner.frames[owner.served % len(owner.frames)], "image/jpeg"
                elif self.path == "/page.html":
                    body, kind = (
                        b"<!doctype html><html><body><h1>Login</h1></body></html>" * 50,
                        "text/html",
                    )
                elif self.path in owner.variants:
                    body, kind = owner.variants[self.path], "image/jpeg"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                owner.served += 1
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """Return the URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        """Start serving."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class HostileCamera:
    """A compromised or broken snapshot camera, over raw sockets, counting what it sent.

    /endless        a JPEG without its end, then bytes as fast as the link takes them (to `limit`)
    /trickle        a JPEG without its end, then one byte every `trickle` seconds
    /trickle-head   the status line, then header bytes one every `trickle` seconds
    /huge           a Content-Length of 100 GB, a JPEG start, then nothing (the line stays open)
    /cut            the full Content-Length of `jpeg`, a third of it, then the line is closed
    /mjpeg-endless  an MJPEG stream: one whole picture, then a part that never ends
    /mjpeg-huge     an MJPEG stream: one whole picture, then a part of 100 GB by its header
    /ntlm           a sign-in only Windows servers offer
    /not-http       an answer in another protocol
    """

    def __init__(self, jpeg: bytes, *, limit: int = 64 * 1024 * 1024, trickle: float = 0.1) -> None:
        """Listen on a free port; one answer sends `limit` bytes and lasts 10 s at most."""
        self.jpeg = jpeg
        self.limit = limit
        self.trickle = trickle
        self.longest = 10.0
        self.fixed = {
            "/ntlm": b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n\r\n",
            "/not-http": b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n",
        }
        self.sent: list[int] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.answers: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """Return the URL of a path on this camera."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        """Answer each client in a thread of its own."""
        # Accepting in short turns: a socket closed under a waiting accept never wakes it.
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            # Sends that block (a client no longer reading) wake up to see the stop.
            client.settimeout(0.5)
            answer = threading.Thread(target=self._answer, args=(client,), daemon=True)
            self.answers.append(answer)
            answer.start()

    def _answer(self, client: socket.socket) -> None:
        """Answer one request, and record how many body bytes went out before it ended."""
        sent = [0]
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096)
            self._send(client, request.split(b" ", 2)[1].decode(), sent)
        except OSError:
            pass  # the client hung up, as it should
        finally:
            self.sent.append(sent[0])
            client.close()

    def _send(self, client: socket.socket, path: str, sent: list[int]) -> None:
        """Send the answer of a path, counting the endless part's bytes in `sent`."""
        until = time.monotonic() + self.longest
        if path in self.fixed:
            client.sendall(self.fixed[path])
            return
        if path == "/trickle-head":
            client.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self._stop.wait(self.trickle) and time.monotonic() < until:
                client.sendall(b"a")
            return
        if path.startswith("/mjpeg"):
            self._send_mjpeg(client, path, sent, until)
            return
        length = {"/huge": 100 * 1024**3, "/cut": len(self.jpeg)}.get(path)
        # HTTP/1.0: without a length, the body ends when the line closes.
        head = b"HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n"
        if length is not None:
            head += f"Content-Length: {length}\r\n".encode()
        client.sendall(head + b"\r\n")
        if path == "/cut":
            client.sendall(self.jpeg[: len(self.jpeg) // 3])
            return
        if path == "/huge":
            client.sendall(b"\xff\xd8\xff\xe0")
            self._stop.wait(self.longest)
            return
        # A real picture's start, so FFmpeg takes it for one, that never reaches its end.
        client.sendall(self.jpeg[:-2])
        chunk = b"\x00" * (64 * 1024) if path == "/endless" else b"\x00"
        while sent[0] < self.limit and time.monotonic() < until and not self._stop.is_set():
            if path == "/trickle":
                self._stop.wait(self.trickle)
            with contextlib.suppress(TimeoutError):
                sent[0] += client.send(chunk)

    def _send_mjpeg(self, client: socket.socket, path: str, sent: list[int], until: float) -> None:
        """Send one whole MJPEG part, then one that never reaches its next boundary."""
        boundary = b"--frame\r\nContent-Type: image/jpeg\r\n"
        client.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
            + boundary
            + f"Content-Length: {len(self.jpeg)}\r\n\r\n".encode()
            + self.jpeg
            + b"\r\n"
            + boundary
            + (b"Content-Length: 107374182400\r\n" if path == "/mjpeg-huge" else b"")
            + b"\r\n"
            + self.jpeg[:-2]
        )
        chunk = b"\x00" * (64 * 1024)
        while sent[0] < self.limit and time.monotonic() < until and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                sent[0] += client.send(chunk)

    def stop(self) -> None:
        """Stop answering and close the port."""
        self._stop.set()
        self.thread.join()
        for answer in self.answers:
            answer.join()
        self.sock.close()


class SlowToAcceptServer:
    """A camera that takes `delay` seconds to accept a connection, then never says a word.

    Its one-place queue is kept full until then, so a client's connection attempt is dropped
    and retried by the kernel (after 1 s on Linux) before it gets through.
    """

    def __init__(self, delay: float) -> None:
        """Listen on a free port, fill the queue, and accept everything after `delay`."""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(filler)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept_later, args=(delay,), daemon=True)
        self.thread.start()

    def _accept_later(self, delay: float) -> None:
        """Accept every connection once `delay` has passed, and hold them silent."""
        if self._stop.wait(delay):
            return
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                self.accepted.append(self.sock.accept()[0])

    def stop(self) -> None:
        """Close every connection and the port."""
        self._stop.set()
        self.thread.join()
        for sock in [*self.accepted, *self.fillers, self.sock]:
            sock.close()


class SilentServer:
    """A port that accepts connections and never answers, like a hung camera."""

    def __init__(self) -> None:
        """Listen on a free port."""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def stop(self) -> None:
        """Close the port."""
        self.sock.close()


@dataclass
class VlcRtspCamera:
    """A second RTSP stack: VLC's own RTSP server looping a clip as it is (no re-encoding).

    VLC offers RTP over UDP only, as many cheap cameras do, and ends the session (RTCP BYE) when
    its clip loops. It refuses to run as root, so under root it runs as `nobody`.
    """

    clip: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the stream URL."""
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> None:
        """Start VLC and wait until it accepts clients."""
        command = [
            "cvlc", "--quiet", "--intf", "dummy", "--no-audio-time-stretch", "--loop",
            str(self.clip), "--sout", f"#rtp{{sdp={self.url}}}", "--sout-keep",
        ]  # fmt: skip
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.clip.parent)}
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        wait_for_listen(self.port)
        # VLC listens before its clip is open, and answers badly until then: wait for a stream.
        deadline = time.monotonic() + 15
        probe = ["ffprobe", "-v", "quiet", "-rw_timeout", "3000000", "-show_streams", self.url]
        while subprocess.run(probe, capture_output=True, check=False, timeout=10).returncode:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("VLC did not start streaming")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop VLC."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None

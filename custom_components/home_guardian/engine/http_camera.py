"""Ask an HTTP camera for its answer ourselves, so a hostile or broken camera costs little.

FFmpeg reading a snapshot URL keeps whatever the camera sends until the picture ends, and a
camera that starts a JPEG and never ends it (or trickles a byte a second) would hold memory in
proportion to the link's speed, or a reader for ever. Here one request is made per connection,
with the camera's credentials (Basic or Digest, whichever it asks for), and:

- a picture (the answer starts as a JPEG, PNG, WebP or BMP does) is read whole, but never past
  `max_bytes` (a larger Content-Length is refused before a byte of it is read) nor past the
  whole request's deadline, however slowly the bytes come;
- a picture that was cut off (shorter than its Content-Length, or a JPEG without its end
  marker) is not a picture: the last good one is kept and the source retries as after any
  failure;
- an MJPEG stream (a multipart answer) is read over the same connection, each read ending
  after the read timeout: cameras that serve one client at a time never see a second request.
  Its pictures are cut out by their own markers (`mjpeg`), whatever the parts' headers say, and
  handed to FFmpeg as clean parts; a part that never ends (or announces 100 GB) is cut off once
  `max_part_bytes` were read without a picture;
- a web page is no video, told without asking again;
- anything else (an HLS playlist, FLV or MPEG-TS over HTTP) is closed and left to FFmpeg to ask
  for itself.

Redirects are followed three times at most, only to http or https, and credentials go only to
the host they were given for. Certificates are not checked, as FFmpeg did not check them:
cameras on a home network mostly have self-signed ones. Errors name the problem and the kind of
failure only, never the URL or the credentials.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urljoin, urlsplit

from .errors import Problem, StreamError
from .mjpeg import MjpegParts, clean_part

if TYPE_CHECKING:
    from collections.abc import Buffer, Sequence

    from .urls import StreamAddress

MAX_REDIRECTS: Final = 3
# Enough to tell a picture from a stream by its first bytes; WebP (a RIFF file) needs 12.
SNIFF_BYTES: Final = 4
RIFF_SNIFF_BYTES: Final = 12
CHUNK_BYTES: Final = 64 * 1024
# What some cameras put after a JPEG's end marker: padding or fill bytes (any number), then
# perhaps text such as a multipart boundary left over from their MJPEG code, this long at most.
JPEG_PADDING: Final = b"\x00\r\n\t \xff"
JPEG_TAIL: Final = frozenset(JPEG_PADDING + bytes(range(0x20, 0x7F)))
JPEG_TAIL_BYTES: Final = 512
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_STATUS_PROBLEMS: Final = {
    401: Problem.INVALID_AUTH,
    403: Problem.INVALID_AUTH,
    404: Problem.NOT_FOUND,
}
_AUTH_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def is_picture_start(data: bytes) -> bool:
    """Return True when bytes start as a JPEG, PNG, WebP or BMP picture does."""
    return data.startswith((b"\xff\xd8", b"\x89PNG", b"BM")) or (
        data.startswith(b"RIFF") and data[8:12] == b"WEBP"
    )


def is_whole_jpeg(data: bytes) -> bool:
    """Return True when a JPEG ends with its end marker, what cameras add aside; others pass.

    Inside a JPEG's coded picture a 0xFF byte is always followed by 0x00 or a restart marker,
    so an end marker near the end followed by text or padding alone is the picture's end.
    """
    if not data.startswith(b"\xff\xd8"):
        return True
    body = data.rstrip(JPEG_PADDING)
    if body.endswith(b"\xff\xd9"):
        return True
    end = body.rfind(b"\xff\xd9", max(0, len(body) - JPEG_TAIL_BYTES))
    return end > 0 and JPEG_TAIL.issuperset(body[end + 2 :])


class HttpAnswer(io.RawIOBase):
    """A camera's answer to one request: a picture to read whole, or a stream to demux."""

    def __init__(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        deadline: Deadline,
    ) -> None:
        """Keep the open connection; nothing of the body is read yet."""
        super().__init__()
        self._connection = connection
        self._response = response
        self._deadline = deadline
        self._prefix = b""
        # Streams only: the camera's pictures, and what of the clean stream FFmpeg has not read.
        self._parts: MjpegParts | None = None
        self._clean = b""
        self._sent = 0

    def sniff(self) -> bool:
        """Read the first bytes and return True when the answer is a picture."""
        # No more than decides: a camera may send four bytes and then wait.
        while len(self._prefix) < self._sniff_bytes() and (
            chunk := self._read_chunk(RIFF_SNIFF_BYTES)
        ):
            self._prefix += chunk
        return is_picture_start(self._prefix)

    @property
    def multipart(self) -> bool:
        """Return True when the answer is parts one after another, as MJPEG is sent.

        Told by its type, or by its first bytes (a boundary line) for servers that call it a
        plain byte stream, as FFmpeg's own does. Call after `sniff`.
        """
        kind = self._response.getheader("Content-Type", "") or ""
        return kind.strip().lower().startswith("multipart/") or self._prefix.lstrip(
            b"\r\n"
        ).startswith(b"--")

    def refuse_web_page(self) -> None:
        """Raise NOT_VIDEO when the answer is a web page (by its type), as no video is sent."""
        kind = self._response.getheader("Content-Type", "") or ""
        if kind.strip().lower().startswith(("text/html", "application/xhtml")):
            raise StreamError(Problem.NOT_VIDEO, "a web page")

    def _sniff_bytes(self) -> int:
        """Return how many first bytes tell what the answer is."""
        return RIFF_SNIFF_BYTES if self._prefix.startswith(b"RIFF") else SNIFF_BYTES

    def read_picture(self, max_bytes: int) -> bytes:
        """Read the whole picture, refusing one over `max_bytes` or cut off."""
        length = self._response.getheader("Content-Length", "")
        if length.strip().isdigit() and int(length) > max_bytes:
            raise StreamError(Problem.TOO_LARGE, f"a picture of {int(length)} bytes")
        data = bytearray(self._prefix)
        while chunk := self._read_chunk(CHUNK_BYTES):
            data += chunk
            if len(data) > max_bytes:
                raise StreamError(Problem.TOO_LARGE, f"a picture over {max_bytes} bytes")
        if self._response.length or not is_whole_jpeg(bytes(data)):
            raise StreamError(Problem.NOT_VIDEO, "picture cut off")
        return bytes(data)

    def stream(self, read_timeout: float, max_part_bytes: int) -> HttpAnswer:
        """Return this answer as clean MJPEG parts for FFmpeg, a read ending after `read_timeout`.

        The stream ends once `max_part_bytes` came without a whole picture.
        """
        self._deadline.per_read = read_timeout
        self._parts = MjpegParts(
            lambda: self._read_chunk(CHUNK_BYTES), max_part_bytes, first=self._prefix
        )
        self._prefix = b""
        return self

    @property
    def part_too_large(self) -> bool:
        """Return True once a stream's part passed its cap: the stream has ended there."""
        return self._parts is not None and self._parts.too_large

    @property
    def no_pictures(self) -> bool:
        """Return True when a stream ended because its parts were no JPEG pictures."""
        return self._parts is not None and self._parts.no_pictures

    def readable(self) -> bool:
        """Say that the answer can be read."""
        return True

    def readinto(self, buffer: Buffer) -> int:
        """Fill `buffer` with the stream's next clean parts; 0 at its end.

        A stream that ends (or passed its cap) ends for FFmpeg here: an exception raised inside
        its read is not reliably passed on by every PyAV version. The reader asks
        `part_too_large` and `no_pictures` afterwards.
        """
        assert self._parts is not None  # noqa: S101 - only a stream is handed to FFmpeg
        if self._sent >= len(self._clean):
            picture = self._parts.next_picture()
            if picture is None:
                return 0
            self._clean, self._sent = clean_part(picture), 0
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._clean) - self._sent)
        # By offset, not by slicing what is left: a 3 MB picture read 32 KB at a time would
        # be copied a hundred times over.
        view[:count] = memoryview(self._clean)[self._sent : self._sent + count]
        self._sent += count
        return count

    def close(self) -> None:
        """Close the connection now."""
        _close(self._connection, self._response)
        super().close()

    def _read_chunk(self, size: int) -> bytes:
        """Return the next bytes of the body, mapping failures to problems."""
        try:
            return self._response.read1(size)
        except TimeoutError:
            raise StreamError(Problem.TIMEOUT, "read") from None
        except http.client.IncompleteRead:
            # A picture cut off is no picture; a stream cut off is a lost connection.
            problem = Problem.CANNOT_CONNECT if self._deadline.per_read else Problem.NOT_VIDEO
            raise StreamError(problem, "cut off") from None
        except (OSError, ValueError, http.client.HTTPException) as err:
            raise StreamError(Problem.CANNOT_CONNECT, type(err).__name__) from None


# What getaddrinfo gives for each address: family, socket type, protocol, name and address (whose
# shape differs between families and between Python versions' type stubs).
_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


class Deadline:
    """The time a whole request may take; every read of its socket ends by then."""

    def __init__(self, seconds: float) -> None:
        """Start counting."""
        self.at = time.monotonic() + seconds
        # Once a stream is handed on, each read has this long instead and the deadline is gone.
        self.per_read: float | None = None

    @property
    def passed(self) -> bool:
        """Return True once the deadline is past."""
        return self.per_read is None and time.monotonic() >= self.at

    def remaining(self) -> float:
        """Return the seconds left, never less than a millisecond (0 means no timeout)."""
        return max(self.at - time.monotonic(), 0.001)

    def next_read(self) -> float:
        """Return how long the next read may wait; raise TimeoutError once the deadline passed."""
        if self.per_read is not None:
            return self.per_read
        if self.passed:
            raise TimeoutError
        return self.remaining()


class _BoundedResponse(http.client.HTTPResponse):
    """An HTTP response whose every read, headers included, ends by its request's deadline.

    A camera trickling a byte a second would hold a plain response for ever: each byte comes
    within the socket's timeout.
    """

    deadline: ClassVar[Deadline]

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        """Read the socket through a reader that keeps to the deadline."""
        super().__init__(sock, debuglevel, method, url)
        self.fp = io.BufferedReader(_DeadlineReader(self.fp.detach(), sock, self.deadline))


class _DeadlineReader(io.RawIOBase):
    """A socket's reader that gives each read only the time its request has left."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: Deadline) -> None:
        """Wrap the socket's own reader."""
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        """Say that the socket can be read."""
        return True

    def readinto(self, buffer: Buffer) -> int | None:
        """Read what the socket has, waiting no longer than the deadline allows."""
        self._sock.settimeout(self._deadline.next_read())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        """Close the socket's own reader, so the socket can close."""
        self._raw.close()
        super().close()


def request(address: StreamAddress, deadline: Deadline) -> HttpAnswer:
    """Ask the camera for its URL, signing in and following redirects; raise StreamError."""
    url = address.url
    origin = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        connection, response = _get(url, deadline, None)
        if response.status == 401 and address.username and urlsplit(url).hostname == origin:  # noqa: PLR2004
            authorization = _authorization(address, url, response)
            _close(connection, response)
            if authorization is None:
                raise StreamError(Problem.INVALID_AUTH, "unknown sign-in scheme")
            connection, response = _get(url, deadline, authorization)
        if response.status not in _REDIRECTS:
            break
        location = (response.getheader("Location") or "").strip()
        _close(connection, response)
        parts = urlsplit(urljoin(url, location))
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise StreamError(Problem.NOT_VIDEO, "redirect away from http")
        # Userinfo in a redirect is the redirecting server's to give, not ours to send.
        url = parts._replace(netloc=parts.netloc.rpartition("@")[2], fragment="").geturl()
    if not 200 <= response.status < 300:  # noqa: PLR2004
        _close(connection, response)
        raise StreamError(
            _STATUS_PROBLEMS.get(response.status, Problem.CANNOT_CONNECT), f"HTTP {response.status}"
        )
    return HttpAnswer(connection, response, deadline)


def _close(connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
    """Close an answer and its connection: the answer holds the socket open until then."""
    response.close()
    connection.close()


def _get(
    url: str, deadline: Deadline, authorization: str | None
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Send one GET and read the answer's headers before the deadline."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    # Always given: without a port, http.client reads an IPv6 address's last group as one.
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=deadline.remaining(), context=_TLS
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=deadline.remaining())
    headers = {"Accept": "*/*", "Connection": "close", "User-Agent": "Home Guardian"}
    if authorization is not None:
        headers["Authorization"] = authorization
    connection.response_class = type("CameraResponse", (_BoundedResponse,), {"deadline": deadline})
    try:
        _connect(connection, deadline)
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
    except (OSError, ValueError, http.client.HTTPException) as err:
        connection.close()
        if deadline.passed or isinstance(err, TimeoutError):
            raise StreamError(Problem.TIMEOUT, type(err).__name__) from None
        if isinstance(err, http.client.HTTPException):
            # Whatever answered does not speak HTTP: no camera picture there.
            raise StreamError(Problem.NOT_VIDEO, type(err).__name__) from None
        raise StreamError(Problem.CANNOT_CONNECT, type(err).__name__) from None
    return connection, response


def _connect(connection: http.client.HTTPConnection, deadline: Deadline) -> None:
    """Open a connection's socket, every step in the time its request has left.

    http.client gives each address tried and the TLS handshake the whole timeout again: a
    camera slow to accept and then to shake hands could hold a request for several times it.
    """
    error: OSError = ConnectionError("no address")
    for family, kind, protocol, _, address in _addresses(
        connection.host, connection.port, deadline
    ):
        try:
            # A kernel without IPv6 refuses its sockets: the next address may be IPv4.
            sock = socket.socket(family, kind, protocol)
        except OSError as err:
            error = err
            continue
        try:
            sock.settimeout(deadline.next_read())
            sock.connect(address)
        except OSError as err:
            sock.close()
            error = err
            continue
        break
    else:
        raise error
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(connection, http.client.HTTPSConnection):
            # One timeout bounds the whole handshake, however its bytes come.
            sock.settimeout(deadline.next_read())
            sock = _TLS.wrap_socket(sock, server_hostname=connection.host)
    except OSError:
        sock.close()
        raise
    connection.sock = sock


def _addresses(host: str, port: int, deadline: Deadline) -> Sequence[_AddressInfo]:
    """Look a camera's name up in the time its request has left.

    The system resolver takes no timeout: a DNS server that never answers holds getaddrinfo for
    all its retries (tens of seconds). So a name is looked up in a thread of its own, left to
    finish alone once the request has given up; an address needs no lookup and gets none.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    found: list[_AddressInfo] = []
    failed: list[OSError] = []

    def look_up() -> None:
        """Resolve the name, keeping what comes back for the request if it still waits."""
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as err:
            failed.append(err)

    lookup = threading.Thread(target=look_up, name="Home Guardian name lookup", daemon=True)
    lookup.start()
    lookup.join(deadline.next_read())
    if lookup.is_alive():
        raise TimeoutError
    if failed:
        raise failed[0]
    return found


def _authorization(
    address: StreamAddress, url: str, response: http.client.HTTPResponse
) -> str | None:
    """Return the Authorization header the camera's challenge asks for, Digest before Basic."""
    challenges = [c.strip() for c in response.headers.get_all("WWW-Authenticate") or []]
    for challenge in challenges:
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            params = {m[0].lower(): m[1] or m[2] for m in _AUTH_PARAM.findall(rest)}
            if (answer := digest_authorization(address, url, params)) is not None:
                return answer
    if any(c.lower().startswith("basic") for c in challenges):
        token = f"{address.username}:{address.password or ''}".encode()
        return "Basic " + base64.b64encode(token).decode()
    return None


def digest_authorization(
    address: StreamAddress, url: str, params: dict[str, str], cnonce: str | None = None
) -> str | None:
    """Return a Digest answer (RFC 7616: MD5 or SHA-256, with or without qop=auth).

    None when the camera asks for an algorithm we do not know.
    """
    algorithm = params.get("algorithm", "MD5")
    name = algorithm.upper().removesuffix("-SESS")
    if name not in {"MD5", "SHA-256"}:
        return None

    def digest(text: str) -> str:
        return hashlib.new(name.replace("-", ""), text.encode(), usedforsecurity=False).hexdigest()

    parts = urlsplit(url)
    uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    cnonce = cnonce or os.urandom(8).hex()
    secret = digest(f"{address.username}:{realm}:{address.password or ''}")
    if algorithm.upper().endswith("-SESS"):
        secret = digest(f"{secret}:{nonce}:{cnonce}")
    method = digest(f"GET:{uri}")
    qop = "auth" if "auth" in [q.strip() for q in params.get("qop", "").split(",")] else None
    if qop:
        answer = digest(f"{secret}:{nonce}:00000001:{cnonce}:{qop}:{method}")
    else:
        answer = digest(f"{secret}:{nonce}:{method}")
    fields = [
        f'username="{address.username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f'response="{answer}"',
        f"algorithm={algorithm}",
    ]
    if qop:
        fields += [f"qop={qop}", "nc=00000001", f'cnonce="{cnonce}"']
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)


def _tls_context() -> ssl.SSLContext:
    """Return the TLS settings for cameras: encrypted, certificates not checked."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_TLS: Final = _tls_context()

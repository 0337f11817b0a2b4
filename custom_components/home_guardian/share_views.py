"""The viewer's side of a share: page, PIN check, picture stream and report, without an account."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from http import HTTPStatus
import json
import math
from pathlib import Path
import sys
import termios
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
from yarl import URL

from .engine.shares import ENDED, ReportReason, ViewerState
from .sharing import SharingManager, ViewerSession, ViewerSlot, async_get_sharing

if TYPE_CHECKING:
    from collections.abc import Callable

    from .engine.shares import Share

BASE: Final = "/api/home_guardian/share"
PAGE_URL: Final = BASE
COOKIE: Final = "home_guardian_share"
BOUNDARY: Final = "frame"
# Streams look at their share this often: revocation, expiry and suspension close them in time.
CHECK_INTERVAL: Final = 1.0
# A viewer who takes no byte of a picture in this long has stopped reading (a phone asleep with
# its connection open): they are not watching, and their connection is not held for them. A
# slow link that takes longer for a whole picture (a 4K one over a home's upload) is not cut.
STALLED_WRITE_SECONDS: Final = 10.0
# Asks the kernel how much a socket has queued that its peer has not taken (Linux, macOS).
_OUTQ: Final[int | None] = getattr(termios, "TIOCOUTQ", None)
MAX_BODY: Final = 4096
# A PIN or a report is a few dozen bytes: a body still arriving after this is not a viewer's.
BODY_SECONDS: Final = 10.0
_STATIC = Path(__file__).parent / "viewer"
# Nothing of a share may be cached, framed by another site or leak through a Referer.
SECURITY_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


@callback
def async_register_share_views(hass: HomeAssistant) -> None:
    """Register the viewer's views."""
    for view in (SharePageView(), ShareSessionView(), ShareStreamView(), ShareReportView()):
        hass.http.register_view(view)


def _refused(status: HTTPStatus, retry_after: float | None = None) -> web.Response:
    """Answer a refusal the same way whatever its cause; never 401, which bans addresses."""
    headers = dict(SECURITY_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(math.ceil(retry_after))
    return web.json_response({"error": status.phrase}, status=status, headers=headers)


def _same_origin_json(request: web.Request) -> bool:
    """Return True for a JSON request the viewer's own page sent, never another site's.

    Browsers send Origin with every POST; Sec-Fetch-Site, where they send it, must say
    same-origin. A page on the same host but another port (another origin) is refused too,
    and JSON cannot be posted across origins without a preflight we never grant. The page's
    origin is the address the request came to, or one the owner gave Home Assistant (links go
    out with the external one): a reverse proxy that passes on neither the Host header nor
    X-Forwarded-Host hides the first, never the second.
    """
    if request.content_type != "application/json":
        return False
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if not origin:
        return False
    try:
        claimed = URL(origin)
        own = URL(f"{claimed.scheme}://{request.host}")
    except ValueError:
        return False
    return claimed.scheme in {"http", "https"} and (
        (claimed.host, claimed.port) == (own.host, own.port)
        or _origin(claimed) in _configured_origins(request.app[KEY_HASS])
    )


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    """Return a URL's origin: scheme, host and port (its scheme's default when left out)."""
    return (url.scheme, url.host, url.port)


def _configured_origins(hass: HomeAssistant) -> set[tuple[str, str | None, int | None]]:
    """Return the origins of Home Assistant's external and internal URLs, as the owner set."""
    # Home Assistant checks both when they are set: each is an absolute http(s) URL.
    return {
        _origin(URL(address))
        for address in (hass.config.external_url, hass.config.internal_url)
        if address
    }


async def _json_field(request: web.Request, name: str) -> str | None:
    """Return one text field of a small JSON body, or None."""
    try:
        value = json.loads(await _small_body(request))[name]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


async def _small_body(request: web.Request) -> bytes:
    """Return the whole body, however it arrives in pieces; b"" past MAX_BODY or BODY_SECONDS."""
    body = b""
    try:
        async with asyncio.timeout(BODY_SECONDS):
            # One read returns what has arrived so far: a body split by the network comes in two.
            while len(body) <= MAX_BODY and (
                piece := await request.content.read(MAX_BODY + 1 - len(body))
            ):
                body += piece
    except TimeoutError:
        return b""
    return body if len(body) <= MAX_BODY else b""


def _about(hass: HomeAssistant, share: Share, state: ViewerState) -> dict[str, Any]:
    """Return what the viewer's page shows about their share and why it shows no picture."""
    entry = hass.config_entries.async_get_entry(share.camera)
    now = dt_util.utcnow()
    opens_at = share.schedule.next_opening(now) if share.schedule is not None else None
    return {
        "state": str(state),
        "viewer_name": share.viewer_name,
        "camera": entry.title if entry is not None else "",
        "shared_by": hass.config.location_name,
        "until": share.expires_at.isoformat(),
        "privacy": str(share.privacy),
        "opens_at": opens_at.isoformat()
        if state is ViewerState.OUTSIDE_HOURS and opens_at is not None
        else None,
    }


class SharePageView(HomeAssistantView):
    """Serve the viewer's page and its script; the token stays in the URL fragment."""

    url = PAGE_URL
    extra_urls = [f"{BASE}/viewer.js", f"{BASE}/viewer.css"]  # noqa: RUF012 - HA's view API
    name = "api:home_guardian:share"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Return the page, script or style sheet."""
        name = request.path.rsplit("/", 1)[-1]
        files = {"viewer.js": "application/javascript", "viewer.css": "text/css"}
        file, kind = (name, files[name]) if name in files else ("viewer.html", "text/html")
        hass = request.app[KEY_HASS]
        body = await hass.async_add_executor_job((_STATIC / file).read_bytes)
        return web.Response(body=body, content_type=kind, headers=SECURITY_HEADERS)


class ShareSessionView(HomeAssistantView):
    """Check a token and PIN, open a session, and tell the page what it may show."""

    url = f"{BASE}/session"
    name = "api:home_guardian:share:session"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Return the session's share and state; the page asks every second while open.

        A share that has ended (revoked, expired, suspended) is told once, as a bare state,
        to the session that was watching it, and then forgotten: from then on the cookie is
        as unknown as any other. Nobody without that session learns anything.
        """
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        secret = request.cookies.get(COOKIE)
        session = sharing.session(secret)
        if secret is None or session is None:
            # No session yet is the normal first visit, not an error: the page asks for the PIN.
            return web.Response(status=HTTPStatus.NO_CONTENT, headers=SECURITY_HEADERS)
        state, share = sharing.state_of(session)
        if share is None or state in ENDED:
            sharing.forget_session(secret)
            return web.json_response({"state": str(state)}, headers=SECURITY_HEADERS)
        # Whether a stream is open tells the page to open a stream that was cut under it.
        about = {**_about(hass, share, state), "streaming": bool(session.streams)}
        return web.json_response(about, headers=SECURITY_HEADERS)

    async def post(self, request: web.Request) -> web.Response:
        """Check the token and PIN with growing delays after failures; set the session cookie."""
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        if not _same_origin_json(request):
            return _refused(HTTPStatus.FORBIDDEN)
        try:
            body = json.loads(await _small_body(request))
            token, pin = str(body["token"]), str(body["pin"])
        except (ValueError, KeyError, TypeError):
            return _refused(HTTPStatus.BAD_REQUEST)
        attempt = await sharing.async_try_pin(token, pin, request.remote or "")
        share = attempt.share
        if attempt.ended is not None:
            # 410: the right PIN of a share that has expired; only its viewer can be told.
            return web.json_response(
                {"state": str(attempt.ended)}, status=HTTPStatus.GONE, headers=SECURITY_HEADERS
            )
        if share is None:
            # 429: not checked at all. 403: checked and wrong, with how long the next must
            # wait when this one used up the last free attempt.
            if not attempt.checked:
                return _refused(HTTPStatus.TOO_MANY_REQUESTS, attempt.wait)
            return _refused(HTTPStatus.FORBIDDEN, attempt.wait or None)
        secret = sharing.open_session(share)
        state, _ = sharing.state_of(sharing.sessions[secret])
        response = web.json_response(_about(hass, share, state), headers=SECURITY_HEADERS)
        response.set_cookie(
            COOKIE,
            secret,
            path=BASE,
            httponly=True,
            samesite="Strict",
            # Over HTTPS (directly, or through a proxy Home Assistant trusts) the cookie never
            # travels in clear text.
            secure=request.secure,
            # Seconds the session lasts, not a date: a share's end may be in any time zone.
            max_age=max(
                0, int((sharing.sessions[secret].expires - dt_util.utcnow()).total_seconds())
            ),
        )
        return response


class ShareStreamView(HomeAssistantView):
    """Stream the filtered pictures of a session's share as MJPEG, until it must close."""

    url = f"{BASE}/stream"
    name = "api:home_guardian:share:stream"
    requires_auth = False

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Send pictures while the share stays viewable."""
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        session = sharing.session(request.cookies.get(COOKIE))
        if session is None:
            return _refused(HTTPStatus.FORBIDDEN)
        state, share = sharing.state_of(session)
        camera = sharing.camera_of(share) if share is not None else None
        if state is not ViewerState.LIVE or share is None or camera is None:
            return _refused(HTTPStatus.FORBIDDEN)
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            }
        )
        await response.prepare(request)
        broadcast = sharing.broadcast(camera)
        slot = broadcast.add(share, session)
        sharing.attach(slot)
        try:
            await _stream(sharing, session, slot, response, request.transport)
        finally:
            sharing.detach(slot)
            broadcast.remove(slot)
        return response


async def _stream(
    sharing: SharingManager,
    session: ViewerSession,
    slot: ViewerSlot,
    response: web.StreamResponse,
    transport: asyncio.Transport | None,
) -> None:
    """Write pictures until the share ends, leaves its hours, or its camera or switch goes.

    A viewer who takes nothing for STALLED_WRITE_SECONDS ends the stream, and so does the share
    ending while a picture is being written: the connection is cut then, so neither waits on a
    viewer who reads slowly or not at all. Between writes a closed stream ends cleanly.
    """

    def live() -> bool:
        """Return True while the stream may go on."""
        return not slot.closed and sharing.state_of(session)[0] is ViewerState.LIVE

    while live():
        picture = await slot.next(CHECK_INTERVAL)
        # Asked again right before writing: a picture rendered before a revocation (or a
        # switch turned off) but ready after it is never sent.
        if picture is None or not live():
            continue
        header = (
            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(picture)}\r\n\r\n"
        )
        slot.cut = transport.abort if transport is not None else None
        try:
            if not await _written(response, transport, header.encode() + picture + b"\r\n", live):
                slot.close()
                return
        except (ConnectionResetError, RuntimeError):
            return
        finally:
            slot.cut = None
    # The share stopped, not the viewer: they are told gone at once, not after a grace.
    slot.close()


async def _written(
    response: web.StreamResponse,
    transport: asyncio.Transport | None,
    data: bytes,
    live: Callable[[], bool],
) -> bool:
    """Write to a viewer; return False once they took nothing for STALLED_WRITE_SECONDS.

    Progress is what leaves the connection's buffer, not the whole picture: a viewer reading
    on, however slowly, keeps watching, but only while `live()` holds, asked every
    CHECK_INTERVAL, so a share that ends mid-write ends the stream in time. The write is cut
    short when the viewer stalled or the share ended.
    """
    write = asyncio.ensure_future(response.write(data))
    loop = asyncio.get_running_loop()
    try:
        # The write hands its bytes to the connection as soon as it runs: see what is left.
        await asyncio.sleep(0)
        left, progressed_at = _unsent(transport), loop.time()
        while True:
            done, _ = await asyncio.wait([write], timeout=CHECK_INTERVAL)
            if done:
                write.result()
                return True
            if not live():
                return False
            if (pending := _unsent(transport)) < left:
                left, progressed_at = pending, loop.time()
            elif loop.time() - progressed_at >= STALLED_WRITE_SECONDS:
                return False
    finally:
        write.cancel()
        if write.done() and not write.cancelled():
            # Ended by itself just now: its error (a connection gone) is no news.
            write.exception()


def _unsent(transport: asyncio.Transport | None) -> float:
    """Return the bytes written to a connection that the viewer has not taken yet."""
    if transport is None:
        return math.inf
    queued = 0
    # The kernel's queue too: it takes bytes from ours only in large steps (half its size).
    if (sock := transport.get_extra_info("socket")) is not None and _OUTQ is not None:
        with contextlib.suppress(OSError, ValueError):
            answer = fcntl.ioctl(sock.fileno(), _OUTQ, bytes(4))
            queued = int.from_bytes(answer, sys.byteorder, signed=True)
    return transport.get_write_buffer_size() + queued


class ShareReportView(HomeAssistantView):
    """Take a viewer's report: the share is suspended at once and the owner asked to decide."""

    url = f"{BASE}/report"
    name = "api:home_guardian:share:report"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """Suspend the session's share for one of the fixed reasons."""
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        secret = request.cookies.get(COOKIE)
        session = sharing.session(secret)
        if secret is None or session is None or sharing.state_of(session)[0] in ENDED:
            return _refused(HTTPStatus.FORBIDDEN)
        if not _same_origin_json(request):
            return _refused(HTTPStatus.FORBIDDEN)
        reason = await _json_field(request, "reason")
        if reason not in set(ReportReason):
            return _refused(HTTPStatus.BAD_REQUEST)
        # Asked again once the body is in: a session that ended while it arrived (its share
        # suspended and resumed, or its device logged out by a newer one) reports nothing.
        if sharing.session(secret) is not session or sharing.state_of(session)[0] in ENDED:
            return _refused(HTTPStatus.FORBIDDEN)
        if not await sharing.async_suspend(session.share_id, ReportReason(reason)):
            return _refused(HTTPStatus.FORBIDDEN)
        sharing.forget_session(secret)
        return web.json_response({"suspended": True}, headers=SECURITY_HEADERS)

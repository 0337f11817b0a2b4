"""The viewer's side of a share: page, PIN check, picture stream and report, without an account."""

from __future__ import annotations

from http import HTTPStatus
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .engine.shares import ShareError, ShareState
from .sharing import SharingManager, ViewerSlot, async_get_sharing

if TYPE_CHECKING:
    from .coordinator import CameraCoordinator
    from .engine.shares import Share

BASE: Final = "/api/home_guardian/share"
PAGE_URL: Final = BASE
COOKIE: Final = "home_guardian_share"
BOUNDARY: Final = "frame"
# Streams look at their share this often: revocation, expiry and suspension close them in time.
CHECK_INTERVAL: Final = 1.0
MAX_BODY: Final = 4096
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


def _camera_of(hass: HomeAssistant, share: Share) -> CameraCoordinator | None:
    """Return the running camera a share shows, if it is loaded."""
    from .coordinator import CameraCoordinator  # noqa: PLC0415 - avoids an import cycle

    entry = hass.config_entries.async_get_entry(share.camera)
    runtime = getattr(entry, "runtime_data", None) if entry is not None else None
    return runtime if isinstance(runtime, CameraCoordinator) else None


def _about(hass: HomeAssistant, share: Share) -> dict[str, Any]:
    """Return what the viewer's page shows about their share."""
    entry = hass.config_entries.async_get_entry(share.camera)
    return {
        "viewer_name": share.viewer_name,
        "camera": entry.title if entry is not None else "",
        "shared_by": hass.config.location_name,
        "until": share.expires_at.isoformat(),
        "privacy": str(share.privacy),
        "suspended": share.state is ShareState.SUSPENDED,
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
    """Check a token and PIN, and open a session the stream and report use."""

    url = f"{BASE}/session"
    name = "api:home_guardian:share:session"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Return the share of the session cookie, so a reload needs no PIN."""
        hass = request.app[KEY_HASS]
        share = async_get_sharing(hass).session_share(request.cookies.get(COOKIE))
        if share is None:
            # No session yet is the normal first visit, not an error: the page asks for the PIN.
            return web.Response(status=HTTPStatus.NO_CONTENT, headers=SECURITY_HEADERS)
        return web.json_response(_about(hass, share), headers=SECURITY_HEADERS)

    async def post(self, request: web.Request) -> web.Response:
        """Check the token and PIN with growing delays after failures; set the session cookie."""
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        try:
            body = json.loads(await request.content.read(MAX_BODY))
            token, pin = str(body["token"]), str(body["pin"])
        except (ValueError, KeyError, TypeError):
            return _refused(HTTPStatus.BAD_REQUEST)
        attempt = await sharing.async_try_pin(token, pin, request.remote or "")
        share = attempt.share
        if share is None:
            if attempt.wait > 0:
                return _refused(HTTPStatus.TOO_MANY_REQUESTS, attempt.wait)
            return _refused(HTTPStatus.FORBIDDEN)
        response = web.json_response(_about(hass, share), headers=SECURITY_HEADERS)
        response.set_cookie(
            COOKIE,
            sharing.open_session(share),
            path=BASE,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
            # Seconds left, not a date: a share's end may be in any time zone.
            max_age=max(0, int((share.expires_at - dt_util.utcnow()).total_seconds())),
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
        share = sharing.session_share(request.cookies.get(COOKIE))
        camera = _camera_of(hass, share) if share is not None else None
        if share is None or not sharing.viewable(share, camera):
            return _refused(HTTPStatus.FORBIDDEN)
        assert camera is not None  # noqa: S101 - viewable() checked it
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            }
        )
        await response.prepare(request)
        broadcast = sharing.broadcast(camera)
        slot = broadcast.add(share)
        try:
            await _stream(sharing, share.share_id, camera, slot, response)
        finally:
            broadcast.remove(slot)
        return response


async def _stream(
    sharing: SharingManager,
    share_id: str,
    camera: CameraCoordinator,
    slot: ViewerSlot,
    response: web.StreamResponse,
) -> None:
    """Write pictures until the share is revoked, suspended, expired or out of its hours."""
    while not slot.closed:
        share = sharing.registry.get(share_id)
        if share is None or not sharing.viewable(share, camera):
            return
        picture = await slot.next(CHECK_INTERVAL)
        if picture is None or slot.closed:
            continue
        header = (
            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(picture)}\r\n\r\n"
        )
        try:
            await response.write(header.encode() + picture + b"\r\n")
        except (ConnectionResetError, RuntimeError):
            return


class ShareReportView(HomeAssistantView):
    """Take a viewer's report: the share is suspended at once and the owner told."""

    url = f"{BASE}/report"
    name = "api:home_guardian:share:report"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """Suspend the session's share with the viewer's reason."""
        hass = request.app[KEY_HASS]
        sharing = async_get_sharing(hass)
        share = sharing.session_share(request.cookies.get(COOKIE))
        if share is None:
            return _refused(HTTPStatus.FORBIDDEN)
        try:
            body = json.loads(await request.content.read(MAX_BODY))
            reason = str(body["reason"])
        except (ValueError, KeyError, TypeError):
            return _refused(HTTPStatus.BAD_REQUEST)
        entry = hass.config_entries.async_get_entry(share.camera)
        try:
            sharing.report(share, reason, entry.title if entry is not None else DOMAIN)
        except ShareError:
            return _refused(HTTPStatus.BAD_REQUEST)
        return web.json_response({"suspended": True}, headers=SECURITY_HEADERS)

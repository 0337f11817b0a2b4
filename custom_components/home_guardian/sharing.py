"""Sharing cameras with outsiders: the share store, the privacy-filtered broadcast, the viewer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import secrets
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.requirements import RequirementsNotFound, async_process_requirements
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_SHARING, DOMAIN, EVENT_SHARE_REPORTED, EVENT_VIEW, LOGGER
from .engine.privacy import (
    FaceDetector,
    PrivacyFilter,
    PrivacyLevel,
    SharedPicture,
    load_face_detector,
)
from .engine.scene import EmptyScene
from .engine.shares import Lockout, PinHasher, Share, ShareError, ShareRegistry, is_viewable

if TYPE_CHECKING:
    from .coordinator import CameraCoordinator
    from .engine.frames import Frame
    from .engine.geometry import Box

SHARING: HassKey[SharingManager] = HassKey(f"{DOMAIN}_sharing")
STORAGE_VERSION: Final = 1
# Shared pictures go out at this rate: enough to see a room, little CPU per camera.
SHARE_FPS: Final = 5.0
# PIN checks are slow and memory-hard on purpose; this many at once bound the memory they take.
PIN_CHECKS_AT_ONCE: Final = 2
MAX_SESSIONS: Final = 1000
# The vision extra: OpenCV 4 ships the Haar face model (5.0 dropped it). Never a manifest
# requirement: HA OS and the HA container (musl) have no wheel for it.
VISION_REQUIREMENT: Final = "opencv-python-headless>=4.8,<5"
LEARN_MORE_URL: Final = (
    "https://github.com/home-guardian/home-guardian#privacy-levels-and-their-limits"
)


@dataclass(kw_only=True, slots=True)
class ViewerSession:
    """A viewer who entered the right PIN: what their cookie opens, and until when."""

    share_id: str
    expires: datetime


@dataclass(kw_only=True, slots=True, eq=False)
class ViewerSlot:
    """One open stream: the latest picture meant for it, replaced, never queued."""

    share: Share
    picture: bytes | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the camera goes away (unloaded or reloaded): the stream must end.
    closed: bool = False

    def close(self) -> None:
        """End the stream at once, waking its writer."""
        self.closed = True
        self.ready.set()

    def put(self, picture: bytes) -> None:
        """Offer a new picture; a viewer too slow for the last one simply skips it."""
        self.picture = picture
        self.ready.set()

    async def next(self, wait: float) -> bytes | None:
        """Wait at most `wait` seconds for a newer picture."""
        try:
            async with asyncio.timeout(wait):
                await self.ready.wait()
        except TimeoutError:
            return None
        self.ready.clear()
        return self.picture


class CameraBroadcast:
    """Filter each new frame of one camera once per privacy level and fan it out to viewers."""

    def __init__(self, hass: HomeAssistant, coordinator: CameraCoordinator) -> None:
        """Prepare; nothing runs until the first viewer arrives."""
        self.hass = hass
        self.coordinator = coordinator
        self.slots: set[ViewerSlot] = set()
        self._filters: dict[PrivacyLevel, PrivacyFilter] = {}
        # What the empty room looks like outlives each audience: a new viewer's filter need
        # not learn it again, hiding the whole picture meanwhile.
        self._scene = EmptyScene()
        self._task: asyncio.Task[None] | None = None
        self._remove_listener: Callable[[], None] | None = None

    def filter_for(self, level: PrivacyLevel) -> PrivacyFilter:
        """Return the camera's filter for a level, made on first use."""
        if level not in self._filters:
            self._filters[level] = PrivacyFilter(
                level,
                self.coordinator.privacy_zones,
                face_detector=async_get_sharing(self.hass).face_detector,
                scene=self._scene,
            )
        return self._filters[level]

    @callback
    def add(self, share: Share) -> ViewerSlot:
        """Start a viewer's stream; the first viewer starts the broadcast."""
        slot = ViewerSlot(share=share)
        self.slots.add(slot)
        # Stored shares asking for faces need the detector after a restart too.
        async_get_sharing(self.hass).async_ensure_faces()
        if self._remove_listener is None:
            self._remove_listener = self.coordinator.motion.add_region_listener(self._motion)
        if self._task is None:
            self._task = self.coordinator.config_entry.async_create_background_task(
                self.hass, self._run(), f"{DOMAIN} broadcast {self.coordinator.name}"
            )
        self._viewers_changed(share, watching=True)
        return slot

    @callback
    def remove(self, slot: ViewerSlot) -> None:
        """End a viewer's stream; the last one stops the broadcast."""
        if slot not in self.slots:
            return
        self.slots.discard(slot)
        self._viewers_changed(slot.share, watching=False)
        if not self.slots:
            self._stop()

    @callback
    def close(self) -> None:
        """End every stream of a camera that is going away."""
        for slot in self.slots:
            slot.close()
        self.slots.clear()
        self._stop()

    @callback
    def faces_changed(self) -> None:
        """Make the filters again, so that they use face detection that has just arrived."""
        # Filters restart blind, hiding everything until motion settles: safe, and brief.
        self._filters.clear()

    @callback
    def _stop(self) -> None:
        """Stop following motion and making pictures."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        # Filters hold history of where people were; a new audience starts from nothing.
        self._filters.clear()

    @callback
    def _motion(self, regions: tuple[Box, ...], at: float, settled: bool) -> None:
        """Hand the detector's regions to every filter."""
        for privacy_filter in self._filters.values():
            privacy_filter.update_motion(regions, at, settled=settled)

    @callback
    def _viewers_changed(self, share: Share, *, watching: bool) -> None:
        """Tell entities and the logbook that a view started or ended."""
        coordinator = self.coordinator
        coordinator.viewers = len(self.slots)
        coordinator.async_update_listeners()
        self.hass.bus.async_fire(
            EVENT_VIEW,
            {
                "entity_id": coordinator.camera_entity_id(),
                "name": coordinator.config_entry.title,
                "viewer_name": share.viewer_name,
                "share_id": share.share_id,
                "watching": watching,
            },
        )

    async def _run(self) -> None:
        """Send every new frame, filtered and watermarked, to every open stream."""
        last_sequence = -1
        interval = 1.0 / SHARE_FPS
        while self.slots:
            started = time.monotonic()
            frame = self.coordinator.fresh_frame()
            if frame is not None and frame.sequence != last_sequence:
                last_sequence = frame.sequence
                shares = {slot.share.share_id: slot.share for slot in self.slots}
                # Resolved here, on the loop: a viewer leaving may clear the filters meanwhile.
                filters = {
                    share.privacy: self.filter_for(share.privacy) for share in shares.values()
                }
                try:
                    pictures = await self.hass.async_add_executor_job(
                        _render, frame, shares, filters
                    )
                except Exception:  # noqa: BLE001 - one bad frame must not end every stream
                    LOGGER.exception(
                        "%s: a shared picture could not be made", self.coordinator.name
                    )
                    pictures = {}
                for slot in list(self.slots):
                    if (picture := pictures.get(slot.share.share_id)) is not None:
                        slot.put(picture)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def _render(
    frame: Frame, shares: dict[str, Share], filters: dict[PrivacyLevel, PrivacyFilter]
) -> dict[str, bytes]:
    """Filter and encode the frame once per level; each share adds only its watermark."""
    pictures = {
        level: SharedPicture(privacy_filter.apply(frame, frame.monotonic))
        for level, privacy_filter in filters.items()
    }
    stamp = dt_util.as_local(dt_util.utc_from_timestamp(frame.wall)).strftime("%H:%M:%S")
    return {
        share_id: pictures[share.privacy].for_viewer(share.viewer_name, stamp)
        for share_id, share in shares.items()
    }


class SharingManager:
    """Every share of this Home Assistant, kept hashed in a store, and the open viewers."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start empty; async_load reads the store."""
        self.hass = hass
        self.registry = ShareRegistry(PinHasher())
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.shares")
        self.share_lockout = Lockout()
        self.client_lockout = Lockout()
        self.pin_checks = asyncio.Semaphore(PIN_CHECKS_AT_ONCE)
        self.sessions: dict[str, ViewerSession] = {}
        self.broadcasts: dict[str, CameraBroadcast] = {}
        self.face_detector: FaceDetector | None = None
        self._faces_task: asyncio.Task[None] | None = None

    @callback
    def async_ensure_faces(self) -> None:
        """Get face detection once, installing the vision extra where it installs."""
        if self._faces_task is None:
            self._faces_task = self.hass.async_create_background_task(
                self._async_load_faces(), f"{DOMAIN} face detection"
            )

    async def _async_load_faces(self) -> None:
        """Install OpenCV through HA's requirements, load its face model, or raise a repair."""
        # Home Assistant started with --skip-pip installs nothing: use OpenCV only if it is there.
        if not self.hass.config.skip_pip:
            try:
                await async_process_requirements(self.hass, DOMAIN, [VISION_REQUIREMENT])
            except RequirementsNotFound:
                LOGGER.info("OpenCV cannot be installed here; faces are hidden as moving people")
        self.face_detector = await self.hass.async_add_executor_job(load_face_detector)
        if self.face_detector is None:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                "face_detection_unavailable",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="face_detection_unavailable",
                learn_more_url=LEARN_MORE_URL,
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, "face_detection_unavailable")
            for broadcast in self.broadcasts.values():
                broadcast.faces_changed()

    async def async_load(self) -> None:
        """Read the stored shares; an unreadable store means no share works, never a guess."""
        stored = await self._store.async_load()
        if stored is None:
            return
        try:
            self.registry = ShareRegistry.from_dict(stored, self.registry.hasher)
        except ShareError:
            LOGGER.warning("The stored shares cannot be read; every share link stops working")
        self.purge()

    @callback
    def save(self) -> None:
        """Write the shares soon; only hashes are written."""
        self._store.async_delay_save(self.registry.to_dict, 1.0)

    @callback
    def purge(self) -> None:
        """Forget expired and revoked shares and their sessions."""
        if self.registry.purge_expired(dt_util.utcnow()):
            self.save()
        now = dt_util.utcnow()
        self.sessions = {
            key: session
            for key, session in self.sessions.items()
            if session.expires > now and self.registry.get(session.share_id) is not None
        }

    @callback
    def close_broadcast(self, entry_id: str) -> None:
        """End the streams of a camera being unloaded; a reloaded camera starts afresh."""
        if (broadcast := self.broadcasts.pop(entry_id, None)) is not None:
            broadcast.close()

    def broadcast(self, coordinator: CameraCoordinator) -> CameraBroadcast:
        """Return a camera's broadcast, made on first use."""
        entry_id = coordinator.config_entry.entry_id
        broadcast = self.broadcasts.get(entry_id)
        if broadcast is None or broadcast.coordinator is not coordinator:
            broadcast = self.broadcasts[entry_id] = CameraBroadcast(self.hass, coordinator)
        return broadcast

    @callback
    def open_session(self, share: Share) -> str:
        """Return a new session secret for a viewer who gave the right PIN."""
        self.purge()
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions, key=lambda key: self.sessions[key].expires)
            del self.sessions[oldest]
        secret = secrets.token_urlsafe(32)
        self.sessions[secret] = ViewerSession(share_id=share.share_id, expires=share.expires_at)
        return secret

    def session_share(self, secret: str | None) -> Share | None:
        """Return the share a session cookie opens, if the session and share still stand."""
        session = self.sessions.get(secret or "")
        if session is None or session.expires <= dt_util.utcnow():
            return None
        return self.registry.get(session.share_id)

    def viewable(self, share: Share, coordinator: CameraCoordinator | None) -> bool:
        """Return True when the share may show pictures now."""
        return (
            coordinator is not None
            and bool(coordinator.config_entry.options.get(CONF_SHARING, False))
            and is_viewable(share, dt_util.utcnow())
        )

    @callback
    def report(self, share: Share, reason: str, camera_name: str) -> None:
        """Suspend a share at a viewer's report and tell the owner at once."""
        share = self.registry.suspend(share.share_id, reason, dt_util.utcnow())
        self.save()
        persistent_notification.async_create(
            self.hass,
            f"{share.viewer_name} reported the share of {camera_name}: “{share.reported_reason}”. "
            "The share is suspended. Revoke it with the action home_guardian.revoke_share, "
            f"or let it work again with home_guardian.resume_share (share id {share.share_id}).",
            title="Home Guardian: a share was reported",
            notification_id=f"{DOMAIN}_report_{share.share_id}",
        )
        self.hass.bus.async_fire(
            EVENT_SHARE_REPORTED,
            {
                "share_id": share.share_id,
                "camera": camera_name,
                "viewer_name": share.viewer_name,
                "reason": share.reported_reason,
            },
        )
        LOGGER.warning("%s: share %s was reported and is suspended", camera_name, share.share_id)


@callback
def async_get_sharing(hass: HomeAssistant) -> SharingManager:
    """Return the sharing manager; it is made when the integration is set up."""
    return hass.data[SHARING]

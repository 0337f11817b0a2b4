"""Sharing cameras with outsiders: the share store, the privacy-filtered broadcast, the viewer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import os
import re
import secrets
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.requirements import RequirementsNotFound, async_process_requirements
from homeassistant.util import dt as dt_util
from homeassistant.util.file import WriteError
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_SHARING,
    DOMAIN,
    EVENT_SHARE_REPORTED,
    EVENT_VIEW,
    LOGGER,
    READ_PICTURES,
    SHARE_FPS,
)
from .engine.attempts import Admission, AttemptGate, Refusal, StandInQueue, client_key
from .engine.privacy import (
    ROOM_LOOK_SECONDS,
    FaceDetector,
    PrivacyFilter,
    PrivacyLevel,
    load_face_detector,
)
from .engine.shares import (
    MAX_REPORT_REASON,
    MAX_SHARES,
    PinHasher,
    ReportReason,
    Share,
    ShareError,
    ShareRegistry,
    ShareState,
    SuspendCause,
    ViewerState,
    hash_token,
    viewer_state,
)
from .engine.text import one_line
from .engine.watermark import SharedPicture, share_code
from .scenes import SceneKeeper
from .stores import READ_ANY_VERSION

if TYPE_CHECKING:
    from .coordinator import CameraCoordinator
    from .engine.frames import Frame
    from .engine.geometry import Box

SHARING: HassKey[SharingManager] = HassKey(f"{DOMAIN}_sharing")
_MARKDOWN_SPECIAL: Final = re.compile(r"([!-/:-@\[-`{-~])")
# The repair issues about the share file, which go when the file does.
SHARE_FILE_ISSUES: Final = (
    "share_store_newer",
    "share_store_unreadable",
    "share_store_damaged",
    "share_store_not_written",
)
# A session outlives its share a little, so that a watching page can be told it has expired.
# The owner's "Room is empty" takes the room as last looked at, if that was this recent.
ROOM_SEEN_SECONDS: Final = 5.0
SESSION_OUTLIVES_SHARE: Final = timedelta(minutes=5)
# Two streams per viewer: a reloaded page opens its new stream before the old one is gone.
# A viewer who hung up is told gone only if they are not back this soon: a reloaded page is
# still one view, and a client reconnecting in a loop cannot flood the logbook, the recorder
# and the automations that tell the room. A stream its share ended is told gone at once.
LEAVE_GRACE_SECONDS: Final = 5.0
STREAMS_PER_SESSION: Final = 2
STORAGE_VERSION: Final = 1
# PIN checks are slow and memory-hard on purpose (128 MiB each). They run one at a time in a
# thread of their own: its one thread is the only slot, held until the hash has finished,
# whatever the client does, so no crowd can take more memory than one check's. The budgets
# (engine.attempts) keep its queue short; 30 a minute take about 15 s of its time.
PIN_CHECKS_AT_ONCE: Final = 1
# The lowest CPU priority: under a flood, a watching viewer's pictures come before strangers'
# guesses, and a guess only waits longer.
PIN_THREAD_NICE: Final = 19
# A viewer's phone, tablet and computer, and a spare: a new session past these ends the
# share's own oldest, never another share's, so one viewer logging in again and again can
# log out nobody else.
SESSIONS_PER_SHARE: Final = 4
# The memory bound: room for every share's sessions, so it never ends one of another share.
MAX_SESSIONS: Final = MAX_SHARES * SESSIONS_PER_SHARE
# The vision extra: OpenCV 4 ships the Haar face model (5.0 dropped it). Never a manifest
# requirement: HA OS and the HA container (musl) have no wheel for it.
VISION_REQUIREMENT: Final = "opencv-python-headless>=4.8,<5"
LEARN_MORE_URL: Final = (
    "https://github.com/home-guardian/home-guardian#privacy-levels-and-their-limits"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PinAttempt:
    """The outcome of a viewer's PIN attempt: the share it opened, or how long to wait."""

    share: Share | None
    # False when the attempt was refused before any check (locked out, or the budget spent).
    checked: bool = True
    # Seconds before the next attempt may be made; 0 for a plain wrong PIN or unknown link.
    wait: float = 0.0
    # Set when the right PIN was given for a share that has expired: its viewer is told so.
    ended: ViewerState | None = None


@dataclass(kw_only=True, slots=True, eq=False)
class ViewerSession:
    """A viewer who entered the right PIN: the share their cookie opens, and their streams."""

    share_id: str
    expires: datetime
    # Names the viewer in counts and events; the cookie's secret is only a key of the sessions.
    viewer_id: str = field(default_factory=lambda: secrets.token_hex(8))
    streams: list[ViewerSlot] = field(default_factory=list)
    # Set when the share stopped (suspended, revoked) while this session was open: it stays
    # ended even if the owner resumes the share, so a reported viewer needs the PIN again.
    ended: ViewerState | None = None


@dataclass(kw_only=True, slots=True, eq=False)
class ViewerSlot:
    """One open stream: the latest picture meant for it, replaced, never queued."""

    share: Share
    session: ViewerSession
    picture: bytes | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the stream must end (camera gone, share ended, a newer stream of the session).
    closed: bool = False
    # Cuts the viewer's connection while a picture is being written: a writer waiting on a
    # viewer who stopped reading never wakes by itself.
    cut: Callable[[], None] | None = None

    def close(self) -> None:
        """End the stream at once, waking its writer and cutting its connection."""
        self.closed = True
        self.ready.set()
        if self.cut is not None:
            self.cut()

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
    """Filter each new frame of one camera once per privacy level and fan it out to viewers.

    While sharing is allowed and nobody watches, it looks at the room now and then instead, so
    that the model of the empty room keeps learning: the first viewer finds someone who came
    in and sat down before they arrived already hidden, not taken for part of the room.
    """

    def __init__(
        self, hass: HomeAssistant, coordinator: CameraCoordinator, scenes: SceneKeeper
    ) -> None:
        """Prepare; nothing runs until the first viewer arrives."""
        self.hass = hass
        self.coordinator = coordinator
        self.slots: set[ViewerSlot] = set()
        self._filters: dict[PrivacyLevel, PrivacyFilter] = {}
        # What the empty room looks like outlives each audience, reloads and restarts: a new
        # viewer's filter need not learn it again, hiding the whole picture meanwhile, and
        # cannot take someone who sits still for the room.
        self._scenes = scenes
        self._entry_id = coordinator.config_entry.entry_id
        self._scene = scenes.scene(self._entry_id)
        self._task: asyncio.Task[None] | None = None
        # Viewers who hung up a moment ago, by viewer id: their share and the pending farewell.
        self._leaving: dict[str, tuple[Share, Callable[[], None]]] = {}
        self._remove_listener: Callable[[], None] | None = None
        # While sharing is allowed: a timer looks at the room when nobody watches, one look
        # at a time, and the frame last looked at.
        self._cancel_looks: Callable[[], None] | None = None
        self._looking: asyncio.Task[None] | None = None
        self._last_looked = -1

    @property
    def learning(self) -> bool:
        """Return True while the room is looked at, watched or not: sharing is allowed."""
        return self._cancel_looks is not None

    @callback
    def learn_room(self, allowed: bool) -> None:
        """Learn the empty room, watched or not, exactly while sharing is allowed."""
        if allowed and self._cancel_looks is None:
            self._follow_motion()
            self._cancel_looks = async_track_time_interval(
                self.hass,
                self._look_soon,
                timedelta(seconds=ROOM_LOOK_SECONDS),
                cancel_on_shutdown=True,
            )
            # Written while looked at, watched or not: the keeper keeps that pace.
            self._scenes.save_periodically(self._entry_id, True)
        elif not allowed and self._cancel_looks is not None:
            self._cancel_looks()
            self._cancel_looks = None
            self._scenes.save_periodically(self._entry_id, False)
            # A look under way is left to end rather than cancelled: its thread cannot be
            # stopped, and a look started beside it, sharing allowed again, would make two.
            if not self.slots:
                self._unfollow_motion()

    async def async_accept_empty_room(self) -> None:
        """Take the room as it looks now as empty, as its owner says after moving furniture.

        Raise ServiceValidationError when the room was not looked at in the last seconds (the
        camera sends no picture, or has only just started): what was last seen of it, maybe
        hours ago, is not what the owner sees now.
        """
        last = self._scene.last_look
        # A camera read at its owner's pace shows the room as of its latest picture.
        source_camera = self.coordinator.source_camera
        paced = source_camera is not None and source_camera.mode == READ_PICTURES
        seen_within = ROOM_SEEN_SECONDS + (self.coordinator.source.poll_interval if paced else 0.0)
        if last is None or time.monotonic() - last > seen_within:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="room_not_seen",
                translation_placeholders={"name": self.coordinator.name},
            )
        # In a thread: a filter looking at the room holds the model meanwhile.
        await self.hass.async_add_executor_job(self._scene.accept)
        # The owner's word is written at once: a crash a minute later must not undo it.
        self._scenes.save_soon(self._entry_id, pressed=True)

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
    def add(self, share: Share, session: ViewerSession) -> ViewerSlot:
        """Start a viewer's stream; the first viewer starts the broadcast."""
        slot = ViewerSlot(share=share, session=session)
        arriving = not self._watching(session)
        if (leaving := self._leaving.pop(session.viewer_id, None)) is not None:
            # Back within the grace: the same view goes on.
            leaving[1]()
            arriving = False
        self.slots.add(slot)
        # Stored shares asking for faces need the detector after a restart too.
        async_get_sharing(self.hass).async_ensure_faces()
        self._follow_motion()
        if self._task is None:
            self._task = self.coordinator.config_entry.async_create_background_task(
                self.hass, self._run(), f"{DOMAIN} broadcast {self.coordinator.name}"
            )
        if arriving:
            self._viewers_changed(share, watching=True)
        return slot

    @callback
    def remove(self, slot: ViewerSlot) -> None:
        """End a viewer's stream; the last one stops the broadcast."""
        if slot not in self.slots:
            return
        self.slots.discard(slot)
        if not self._watching(slot.session):
            if slot.closed:
                self._viewers_changed(slot.share, watching=False)
            else:
                self._leave_later(slot)
        if not self.slots:
            self._stop()

    @callback
    def _leave_later(self, slot: ViewerSlot) -> None:
        """Tell that a viewer who hung up has left, unless they are back within the grace."""
        viewer_id = slot.session.viewer_id

        @callback
        def left(_now: datetime | None = None) -> None:
            """Tell the view ended, once."""
            if self._leaving.pop(viewer_id, None) is not None:
                self._viewers_changed(slot.share, watching=False)

        cancel = async_call_later(self.hass, LEAVE_GRACE_SECONDS, left)
        self._leaving[viewer_id] = (slot.share, cancel)

    @callback
    def _left_now(self, share_id: str) -> None:
        """Tell at once that a share's viewers waiting out their grace have left."""
        for viewer_id, (share, cancel) in list(self._leaving.items()):
            if share.share_id == share_id:
                cancel()
                del self._leaving[viewer_id]
                self._viewers_changed(share, watching=False)

    @callback
    def end_share(self, share_id: str) -> None:
        """Close every stream of a share at once: nothing more is sent to it."""
        for slot in self.slots:
            if slot.share.share_id == share_id:
                slot.close()
        self._left_now(share_id)

    def _watching(self, session: ViewerSession) -> bool:
        """Return True when the session has a stream of this camera open."""
        return any(slot.session is session for slot in self.slots)

    @callback
    def close(self) -> None:
        """End every stream of a camera that is going away."""
        for slot in self.slots:
            slot.close()
        self.slots.clear()
        for _share, cancel in self._leaving.values():
            cancel()
        self._leaving.clear()
        self.learn_room(False)
        self._stop()

    @callback
    def faces_changed(self) -> None:
        """Make the filters again, so that they use face detection that has just arrived."""
        # Filters restart blind, hiding everything until motion settles: safe, and brief.
        self._filters.clear()

    @callback
    def _follow_motion(self) -> None:
        """Hand the detector's regions to the filters (and keep the detector running)."""
        if self._remove_listener is None:
            self._remove_listener = self.coordinator.motion.add_region_listener(self._motion)

    @callback
    def _unfollow_motion(self) -> None:
        """Stop following the detector's regions."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    @callback
    def _stop(self) -> None:
        """Stop making pictures; stop following motion too unless the room is learned."""
        if not self.learning:
            self._unfollow_motion()
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self._scenes.save_soon(self._entry_id)
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
        # Viewers, not connections: a page reloaded or opened twice is still one person.
        coordinator.viewers = len(
            {slot.session.viewer_id for slot in self.slots} | self._leaving.keys()
        )
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
        await self._scenes.async_restore(self._entry_id, self.coordinator.name)
        last_sequence = -1
        interval = 1.0 / SHARE_FPS
        while self.slots:
            started = time.monotonic()
            frame = self.coordinator.fresh_frame()
            if frame is not None and frame.sequence != last_sequence:
                last_sequence = frame.sequence
                await self._send(frame)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def _send(self, frame: Frame) -> None:
        """Filter one frame per privacy level, watermark it per share and hand it out."""
        shares = {slot.share.share_id: slot.share for slot in self.slots}
        # Resolved here, on the loop: a viewer leaving may clear the filters meanwhile.
        filters = {share.privacy: self.filter_for(share.privacy) for share in shares.values()}
        try:
            pictures = await self.hass.async_add_executor_job(_render, frame, shares, filters)
        except Exception:  # noqa: BLE001 - one bad frame must not end every stream
            LOGGER.exception("%s: a shared picture could not be made", self.coordinator.name)
            pictures = {}
        for slot in list(self.slots):
            if not slot.closed and (picture := pictures.get(slot.share.share_id)):
                slot.put(picture)

    @callback
    def _look_soon(self, _now: datetime) -> None:
        """Look at the room unless a viewer's filter looks at every frame meanwhile."""
        if self._filtered_for_viewers() or (self._looking is not None and not self._looking.done()):
            return
        self._looking = self.coordinator.config_entry.async_create_background_task(
            self.hass, self._look_at_room(), f"{DOMAIN} room {self.coordinator.name}"
        )

    def _filtered_for_viewers(self) -> bool:
        """Return True when a viewer's filter looks at the room (one shown everything does not)."""
        return any(slot.share.privacy is not PrivacyLevel.NONE for slot in self.slots)

    async def _look_at_room(self) -> None:
        """Show the model of the empty room the latest picture, which nobody is shown."""
        # The saved room first: a model that looked before would not take it back.
        await self._scenes.async_restore(self._entry_id, self.coordinator.name)
        frame = self.coordinator.fresh_frame()
        # Sharing may have been turned off, or a viewer arrived, while the room was read.
        if (
            frame is None
            or frame.sequence == self._last_looked
            or not self.learning
            or self._filtered_for_viewers()
        ):
            return
        self._last_looked = frame.sequence
        room_filter = self.filter_for(PrivacyLevel.PEOPLE)
        try:
            await self.hass.async_add_executor_job(room_filter.learn, frame, frame.monotonic)
        except Exception:  # noqa: BLE001 - one bad frame must not end the learning
            LOGGER.exception("%s: the room could not be looked at", self.coordinator.name)


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
        share_id: pictures[share.privacy].for_viewer(share.viewer_name, share_code(share_id), stamp)
        for share_id, share in shares.items()
    }


class ShareStoreError(Exception):
    """The shares could not be written: a change lives only until Home Assistant restarts."""


class _NewerStoreError(Exception):
    """The share file was written by a newer version; carries what it holds, unconverted."""

    def __init__(self, version: int, data: dict[str, Any]) -> None:
        """Keep the major version found and the data as read."""
        super().__init__(version)
        self.version = version
        self.data = data


class _ShareStore(Store[dict[str, Any]]):
    """The share file's store: reads a newer file without rewriting it; tells of failed writes."""

    def __init__(self, hass: HomeAssistant, written: Callable[[Exception | None], None]) -> None:
        """Use the shares' key; `written` hears how each write went."""
        # Private: PIN hashes can be guessed offline, a million PINs at most.
        super().__init__(
            hass, STORAGE_VERSION, f"{DOMAIN}.shares", private=True, **READ_ANY_VERSION
        )
        self._written = written

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Refuse to convert a newer major version, before Store would save over it."""
        if old_major_version > self.version:
            raise _NewerStoreError(old_major_version, old_data)
        return old_data

    async def _async_write_data(self, *args: Any) -> None:
        """Write, and report the outcome: Store itself only logs a failure.

        Home Assistant 2025.4 passes the path and the data, newer versions the data alone.
        """
        try:
            await super()._async_write_data(*args)
        except WriteError as err:
            self._written(err)
            raise
        except OSError as err:
            self._written(err)
            raise WriteError(err) from err
        self._written(None)


class SharingManager:
    """Every share of this Home Assistant, kept hashed in a store, and the open viewers."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start empty; async_load reads the store."""
        self.hass = hass
        self.registry = ShareRegistry(PinHasher())
        self._store = _ShareStore(hass, self._written)
        # Records this version cannot read: written back as they were, never dropped.
        self._unread: list[Any] = []
        # Why the share file must be left as it is (newer, unreadable), or None to write it.
        self._kept_as_is: str | None = None
        self._write_error: Exception | None = None
        self.attempts = AttemptGate()
        self._stand_ins = StandInQueue()
        self.pin_checker = ThreadPoolExecutor(
            max_workers=PIN_CHECKS_AT_ONCE,
            thread_name_prefix=f"{DOMAIN}_pin",
            initializer=_yield_the_cpu,
        )
        # The one stand-in hash that learns this machine's hash time after a start, if any.
        self._measuring: asyncio.Future[bool] | None = None
        self.sessions: dict[str, ViewerSession] = {}
        self.broadcasts: dict[str, CameraBroadcast] = {}
        self.scenes = SceneKeeper(hass)
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

    async def _async_stop(self, _event: Event) -> None:
        """Let the PIN thread finish its check and end with Home Assistant."""
        await self.hass.async_add_executor_job(
            partial(self.pin_checker.shutdown, wait=True, cancel_futures=True)
        )

    async def async_load(self) -> None:
        """Read the shares, forget the expired ones and raise the issues of suspended ones."""
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)
        await self.async_read()
        self.purge()
        self.raise_stored_issues()

    async def async_read(self) -> None:
        """Read every share that can be read; whatever cannot be stays on disk as it is.

        A damaged record costs only its own share. A file from a newer version, or one that
        cannot be read at all, is never written while this version runs: shares it holds work,
        but no change is saved. A file that is not even JSON is moved aside by Home Assistant
        itself, with its own repair issue.
        """
        stored: dict[str, Any] | None
        try:
            stored = await self._store.async_load()
        except _NewerStoreError as newer:
            self._keep_as_is("share_store_newer", str(newer.version))
            stored = newer.data
        except (HomeAssistantError, LookupError, TypeError, ValueError) as err:
            self._keep_as_is("share_store_unreadable", type(err.__cause__ or err).__name__)
            return
        if stored is None:
            return
        try:
            self.registry, self._unread = ShareRegistry.from_stored(stored, self.registry.hasher)
        except ShareError as err:
            if self._kept_as_is is None:
                self._keep_as_is("share_store_unreadable", str(err))
            return
        wrong_pins = stored.get("wrong_pins")
        if isinstance(wrong_pins, dict):
            self.attempts.restore_wrong_pins(
                {
                    share_id: count
                    for share_id, count in wrong_pins.items()
                    if self.registry.get(share_id) is not None
                    and isinstance(count, int)
                    and count > 0
                }
            )
        if self._unread:
            LOGGER.warning(
                "%d stored shares cannot be read; they are kept as they are in %s",
                len(self._unread),
                self._store.path,
            )
            self._store_issue("share_store_damaged", str(len(self._unread)))

    @callback
    def _keep_as_is(self, issue: str, detail: str) -> None:
        """Leave the share file untouched from now on and say why."""
        self._kept_as_is = issue
        LOGGER.warning("Share file %s is kept as it is (%s: %s)", self.store_path, issue, detail)
        self._store_issue(issue, detail)

    async def async_remove_file(self) -> None:
        """Delete the share file; records it kept as they were go with it."""
        # Removing through this store also drops a write it has pending, which would bring
        # the file back.
        self._unread.clear()
        self._kept_as_is = None
        await self._store.async_remove()

    @callback
    def _store_issue(self, issue: str, detail: str) -> None:
        """Tell the owner, in Repairs, what is wrong with the share file and what was done."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=issue,
            translation_placeholders={"path": self._store.path, "detail": detail},
        )

    @callback
    def _written(self, error: Exception | None) -> None:
        """Keep how the last write went; a failed one stays in Repairs until one succeeds."""
        self._write_error = error
        if error is None:
            ir.async_delete_issue(self.hass, DOMAIN, "share_store_not_written")
        else:
            self._store_issue("share_store_not_written", str(error))

    def _stored(self) -> dict[str, Any]:
        """Return the file's content: the shares, then the unread records as they were.

        With them, each share's wrong PINs since its last right one: a restart must not hand a
        guesser a fresh count toward suspension. A few writes per share at most: the lockout
        spaces them out, and the twentieth suspends the share.
        """
        stored = self.registry.to_dict()
        wrong_pins = {
            share_id: count
            for share_id, count in self.attempts.wrong_pins().items()
            if self.registry.get(share_id) is not None
        }
        return {**stored, "shares": [*stored["shares"], *self._unread], "wrong_pins": wrong_pins}

    @callback
    def save(self) -> None:
        """Write the shares soon (reports, expiries); only hashes are written."""
        if self._kept_as_is is None:
            self._store.async_delay_save(self._stored, 1.0)

    async def async_save(self) -> None:
        """Write the shares now; raise ShareStoreError when they are not on disk."""
        if self._kept_as_is is not None:
            raise ShareStoreError(self._kept_as_is)
        await self._store.async_save(self._stored())
        if self._write_error is not None:
            raise ShareStoreError(str(self._write_error))

    @property
    def store_path(self) -> str:
        """Return where the shares are kept, for messages to the owner."""
        return str(self._store.path)

    @callback
    def purge(self) -> None:
        """Forget expired shares, their issues and their sessions."""
        if gone := self.registry.purge_expired(dt_util.utcnow()):
            self.save()
            for share_id in gone:
                ir.async_delete_issue(self.hass, DOMAIN, suspended_issue_id(share_id))
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

    async def async_camera_removed(self, entry_id: str) -> None:
        """End and forget every share of a camera its owner removed, and save at once."""
        await self.scenes.async_forget(entry_id)
        gone = [share for share in self.registry.shares() if share.camera == entry_id]
        if not gone:
            return
        for share in gone:
            # Revoked first: open pages are told the share ended, not that it expired.
            self.share_changed(
                share if share.state is ShareState.REVOKED else self.registry.revoke(share.share_id)
            )
            self.registry.remove(share.share_id)
        try:
            await self.async_save()
        except ShareStoreError:
            # The Repairs issue about the file says so. Read back after a restart, the shares
            # still show nothing: their camera is gone, which ends them all the same.
            LOGGER.warning(
                "The shares of a removed camera could not be written to %s", self.store_path
            )

    async def async_accept_empty_room(self, coordinator: CameraCoordinator) -> None:
        """Tell a camera's privacy filter that its room is empty now.

        Raise ServiceValidationError when sharing is off for the camera: its room is not
        looked at then, and what was last seen of it may be hours old.
        """
        broadcast = self.broadcasts.get(coordinator.config_entry.entry_id)
        if broadcast is None or not broadcast.learning:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="room_needs_sharing",
                translation_placeholders={"name": coordinator.name},
            )
        await broadcast.async_accept_empty_room()

    @callback
    def follow_sharing(self, coordinator: CameraCoordinator) -> None:
        """Learn a camera's empty room exactly while sharing is allowed for it."""
        allowed = bool(coordinator.config_entry.options.get(CONF_SHARING, False))
        entry_id = coordinator.config_entry.entry_id
        if allowed or entry_id in self.broadcasts:
            self.broadcast(coordinator).learn_room(allowed)

    def broadcast(self, coordinator: CameraCoordinator) -> CameraBroadcast:
        """Return a camera's broadcast, made on first use."""
        entry_id = coordinator.config_entry.entry_id
        broadcast = self.broadcasts.get(entry_id)
        if broadcast is None or broadcast.coordinator is not coordinator:
            broadcast = self.broadcasts[entry_id] = CameraBroadcast(
                self.hass, coordinator, self.scenes
            )
        return broadcast

    @callback
    def open_session(self, share: Share) -> str:
        """Return a new session secret for a viewer who gave the right PIN."""
        self.purge()
        # Sessions are kept in the order they opened: the first of a share is its oldest.
        own = [key for key, session in self.sessions.items() if session.share_id == share.share_id]
        for key in own[: max(0, len(own) - SESSIONS_PER_SHARE + 1)]:
            self.forget_session(key)
        if len(self.sessions) >= MAX_SESSIONS:
            self.forget_session(next(iter(self.sessions)))
        secret = secrets.token_urlsafe(32)
        self.sessions[secret] = ViewerSession(
            share_id=share.share_id, expires=share.expires_at + SESSION_OUTLIVES_SHARE
        )
        return secret

    def session(self, secret: str | None) -> ViewerSession | None:
        """Return the session a cookie names, while it lasts."""
        session = self.sessions.get(secret or "")
        if session is None or session.expires <= dt_util.utcnow():
            return None
        return session

    @callback
    def forget_session(self, secret: str) -> None:
        """Forget a session and close its streams."""
        if (session := self.sessions.pop(secret, None)) is not None:
            for slot in session.streams:
                slot.close()

    def camera_of(self, share: Share) -> CameraCoordinator | None:
        """Return the running camera a share shows, if it is loaded."""
        from .coordinator import CameraCoordinator  # noqa: PLC0415 - avoids an import cycle

        entry = self.hass.config_entries.async_get_entry(share.camera)
        runtime = getattr(entry, "runtime_data", None) if entry is not None else None
        return runtime if isinstance(runtime, CameraCoordinator) else None

    def state_of(self, session: ViewerSession) -> tuple[ViewerState, Share | None]:
        """Return what the session's viewer sees now, and the share as it stands."""
        share = self.registry.get(session.share_id)
        if session.ended is not None:
            return session.ended, share
        entry = self.hass.config_entries.async_get_entry(share.camera) if share else None
        camera = self.camera_of(share) if share else None
        state = viewer_state(
            share,
            dt_util.utcnow(),
            sharing_allowed=entry is not None and bool(entry.options.get(CONF_SHARING, False)),
            camera_online=camera is not None and camera.fresh_frame() is not None,
            camera_exists=entry is not None,
        )
        return state, share

    @callback
    def attach(self, slot: ViewerSlot) -> None:
        """Count a stream against its session; the session's oldest beyond the cap closes."""
        streams = slot.session.streams
        streams.append(slot)
        # The newest wins: a reloaded page must not wait for its old stream to time out.
        while len(streams) > STREAMS_PER_SESSION:
            streams.pop(0).close()

    @callback
    def detach(self, slot: ViewerSlot) -> None:
        """Forget a stream that has ended."""
        if slot in slot.session.streams:
            slot.session.streams.remove(slot)

    @callback
    def share_changed(self, share: Share) -> None:
        """Close the streams of a share that stopped; withdraw its issue once it is decided."""
        if share.state is not ShareState.ACTIVE:
            for broadcast in self.broadcasts.values():
                broadcast.end_share(share.share_id)
            ended = viewer_state(share, dt_util.utcnow(), sharing_allowed=True, camera_online=True)
            for session in self.sessions.values():
                if session.share_id == share.share_id and session.ended is None:
                    session.ended = ended
        else:
            # The owner decided: wrong PINs from before (which may have suspended it) are past.
            self.attempts.forgive(share.share_id)
        if share.state is not ShareState.SUSPENDED:
            ir.async_delete_issue(self.hass, DOMAIN, suspended_issue_id(share.share_id))

    async def async_try_pin(self, token: str, pin: str, address: str) -> PinAttempt:
        """Check a viewer's token and PIN through the lockouts and the budgets."""
        now = dt_util.utcnow()
        share = self.registry.lookup(token, now)
        # A share's link, live or ended, takes one path: the same keys, budgets, queue and hash,
        # so nothing tells whether it is live, and an ended share's lockout goes on.
        named = share or self.registry.named_by(token)
        # An expired share's PIN is checked against its own hash, at the same cost: only its
        # right PIN tells that it has expired, which opens nothing any more.
        if share is None and named is not None and _expired(named, now):
            share = named
        share_key = named.share_id if named is not None else f"unknown:{hash_token(token)}"
        admitted = self.attempts.admit(
            share_key, client_key(address), time.monotonic(), known=named is not None
        )
        if isinstance(admitted, Refusal):
            return PinAttempt(share=None, checked=False, wait=admitted.wait)
        if named is None:
            return await self._async_pass_for_a_check(admitted)
        check = self.hass.async_create_background_task(
            self._async_check_pin(share, pin, admitted), f"{DOMAIN} PIN check"
        )
        # The check owns its slot and its outcome. A client hanging up cancels this handler
        # (aiohttp's handler cancellation), never the hash: the slot stays taken until the
        # executor's thread has let go of its 128 MiB, and the attempt stays counted.
        return await asyncio.shield(check)

    async def _async_pass_for_a_check(self, admitted: Admission) -> PinAttempt:
        """Answer a link that names no share as late as a wrong PIN's check, without hashing.

        Nothing is behind it to guess, so it costs no hash and no slot: only the wait a check
        would take, queued behind the same link's earlier ones as a share's checks are.
        """
        started = time.monotonic()
        hasher = self.registry.hasher
        if not hasher.measured:
            # Until a hash has run here (after a start, shares are read, never hashed), that
            # time is unknown: one stand-in hash, shared by all who wait, measures it.
            await asyncio.shield(self._measure_hash())
        due = self._stand_ins.due(admitted.share_key, started, hasher.typical_seconds)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        verdict = self.attempts.settle(admitted, correct=False, now=time.monotonic())
        return PinAttempt(share=None, wait=verdict.wait)

    def _measure_hash(self) -> asyncio.Future[bool]:
        """Return the stand-in hash that measures this machine's hash time, started once."""
        if self._measuring is None or self._measuring.done():
            self._measuring = self.hass.loop.run_in_executor(
                self.pin_checker, self.registry.hasher.verify, None, ""
            )
        return self._measuring

    async def _async_check_pin(
        self, share: Share | None, pin: str, admitted: Admission
    ) -> PinAttempt:
        """Hash the PIN in the executor, one slot per check, and settle the attempt.

        With no share (the link of a share that has ended) the hash runs against a stand-in:
        the same time in the same queue, and never a match.
        """
        correct = await self.hass.loop.run_in_executor(
            self.pin_checker, self.registry.verify_pin, share, pin
        )
        # The share may have been revoked or suspended while its PIN waited or was hashed: a
        # right PIN then is answered like a wrong one, and clears neither lockouts nor count.
        now = dt_util.utcnow()
        current = self.registry.get_active(share.share_id, now) if share else None
        # The right PIN of a share that has expired (not revoked or suspended) opens nothing,
        # but it is its viewer's, not a guess: it forgives its own typos as a right PIN does,
        # or a viewer trying an old link would lock themselves out of their new share.
        latest = (self.registry.get(share.share_id) or share) if share else None
        expired = correct and current is None and latest is not None and _expired(latest, now)
        verdict = self.attempts.settle(
            admitted, correct=correct and (current is not None or expired), now=time.monotonic()
        )
        if verdict.suspend and current is not None and self.suspend(current.share_id, None):
            # Written behind the answer: the guess that suspends a share is answered as soon
            # as any other, so its wait does not tell that the link was live.
            self.hass.async_create_background_task(
                self._async_save_suspension(current.share_id), f"{DOMAIN} share suspended"
            )
        elif verdict.recounted:
            self.save()
        if verdict.correct and current is not None:
            return PinAttempt(share=current)
        if expired:
            return PinAttempt(share=None, wait=verdict.wait, ended=ViewerState.EXPIRED)
        return PinAttempt(share=None, wait=verdict.wait)

    async def async_decide(self, share_id: str, *, resume: bool) -> Share:
        """Resume or revoke a share as its owner decided, at once, and write it now.

        The one way every owner's decision goes (the actions, Repairs). Raise ShareError when
        the share cannot take it; raise ShareStoreError when the decision applies but could
        not be written, so lasts only until Home Assistant restarts.
        """
        share = self.registry.resume(share_id) if resume else self.registry.revoke(share_id)
        # Applied at once even if the file cannot take it: the caller tells the owner.
        self.share_changed(share)
        await self.async_save()
        return share

    async def async_suspend(self, share_id: str, reason: ReportReason | None) -> bool:
        """Suspend an active share for a viewer's report (or wrong PINs), write it, tell the owner.

        Return False when the share was not active: a suspended share takes no second report
        until its owner resumes it, and nothing more is raised or fired. The suspension is
        written before this returns: a report must hold across a restart that follows it.
        """
        if not self.suspend(share_id, reason):
            return False
        write = self.hass.async_create_background_task(
            self._async_save_suspension(share_id), f"{DOMAIN} share suspended"
        )
        # A viewer hanging up cancels the handler, never the write: the report still holds.
        await asyncio.shield(write)
        return True

    @callback
    def suspend(self, share_id: str, reason: ReportReason | None) -> bool:
        """Suspend an active share at once and tell the owner; the caller writes it.

        Return False when the share was not active (nothing is raised or fired then).
        """
        current = self.registry.get(share_id)
        if current is None or current.state is not ShareState.ACTIVE:
            return False
        now = dt_util.utcnow()
        share = (
            self.registry.suspend_for_wrong_pins(share_id, now)
            if reason is None
            else self.registry.suspend(share_id, reason, now)
        )
        self.share_changed(share)
        self._raise_issue(share)
        camera = self.camera_names(share)
        if reason is not None:
            self.hass.bus.async_fire(
                EVENT_SHARE_REPORTED,
                {
                    "share_id": share_id,
                    **camera,
                    "viewer_name": share.viewer_name,
                    "reason": str(reason),
                },
            )
        LOGGER.warning(
            "%s: share %s is suspended (%s)",
            camera["camera"],
            share_id,
            reason or "too many wrong PINs",
        )
        return True

    async def _async_save_suspension(self, share_id: str) -> None:
        """Write a suspension now; one the file cannot take holds until a restart, said so."""
        try:
            await self.async_save()
        except ShareStoreError:
            # Suspended all the same; the issue about the share file tells the owner.
            LOGGER.warning("Share %s is suspended until Home Assistant restarts only", share_id)

    @callback
    def raise_stored_issues(self) -> None:
        """Raise the repair issue of every suspended share, as after a restart."""
        for share in self.registry.shares():
            if share.state is ShareState.SUSPENDED:
                self._raise_issue(share)

    @callback
    def _raise_issue(self, share: Share) -> None:
        """Ask the owner, in Repairs, to resume or revoke a suspended share."""
        camera = self.camera_names(share)
        reason = share.reported_reason or ""
        if share.suspended_for is SuspendCause.WRONG_PINS:
            key = "share_wrong_pins"
        elif reason in set(ReportReason):
            key = f"share_{reason}"
        else:
            # Reported before reasons were fixed choices: the viewer's own words, made inert.
            key = "share_reported"
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            suspended_issue_id(share.share_id),
            is_fixable=True,
            # Raised again from the stored shares at every start, so never out of step.
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders=share_issue_placeholders(share.viewer_name, camera, reason),
            data={"share_id": share.share_id},
        )

    def camera_names(self, share: Share) -> dict[str, str | None]:
        """Return the name and camera entity id of a share's camera, as owners know it."""
        entry = self.hass.config_entries.async_get_entry(share.camera)
        entity_id = er.async_get(self.hass).async_get_entity_id(
            "camera", DOMAIN, f"{share.camera}_camera"
        )
        return {"camera": entry.title if entry is not None else None, "entity_id": entity_id}


def _expired(share: Share, now: datetime) -> bool:
    """Return True for a share past its end that was neither revoked nor suspended first."""
    return share.state is ShareState.ACTIVE and now >= share.expires_at


def _yield_the_cpu() -> None:
    """Put the calling thread at the lowest CPU priority, where the system allows it."""
    # On Linux a thread has its own nice value; elsewhere this would touch the whole process.
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PIN_THREAD_NICE)


def suspended_issue_id(share_id: str) -> str:
    """Return the repair issue id of a suspended share."""
    return f"share_suspended_{share_id}"


def markdown_text(text: str, limit: int = MAX_REPORT_REASON) -> str:
    """Return text that markdown shows as it is: one bounded line, punctuation escaped.

    Repair issues and notifications are rendered as markdown; escaping every ASCII punctuation
    mark (all that CommonMark can escape) leaves no link, image, autolink or HTML to make.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text)[:limit])


def share_issue_placeholders(
    viewer: str, camera: dict[str, str | None], reason: str = ""
) -> dict[str, str]:
    """Return a share issue's placeholders: escaped for its markdown text, plain for its titles.

    A title is shown as plain text, where a markdown escape would show as a backslash.
    """
    return {
        "viewer": markdown_text(viewer),
        "camera": markdown_text(camera["camera"] or ""),
        "entity_id": markdown_text(camera["entity_id"] or ""),
        "reason": markdown_text(reason),
        "viewer_name": one_line(viewer)[:MAX_REPORT_REASON],
        "camera_name": one_line(camera["camera"] or "")[:MAX_REPORT_REASON],
    }


async def async_forget_camera_shares(hass: HomeAssistant, entry_id: str) -> None:
    """End and forget the stored shares of a removed camera, whether sharing is loaded or not."""
    sharing = hass.data.get(SHARING)
    if sharing is None:
        # The integration never started in this run (every camera disabled, or removed before
        # it loaded): the shares are read for this alone, so their links still end with it.
        sharing = SharingManager(hass)
        await sharing.async_read()
    await sharing.async_camera_removed(entry_id)


async def async_remove_share_file(hass: HomeAssistant) -> None:
    """Delete the share file and its issues: no camera is left to share."""
    if (sharing := hass.data.get(SHARING)) is not None:
        await sharing.async_remove_file()
    else:
        await _ShareStore(hass, lambda _error: None).async_remove()
    for issue in SHARE_FILE_ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue)


@callback
def async_get_sharing(hass: HomeAssistant) -> SharingManager:
    """Return the sharing manager; it is made when the integration is set up."""
    return hass.data[SHARING]

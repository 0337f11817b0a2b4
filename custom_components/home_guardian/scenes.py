"""Keep each shared camera's model of its empty room across reloads and restarts.

The privacy filter hides whatever differs from the empty room (`engine.scene`). A model that
starts from nothing takes a person who does not stir for its first minute as part of the room,
so the model must not start from nothing more often than it has to: it is kept in memory while
a camera is reloaded (new options), and written to Home Assistant's storage every SAVE_SECONDS
while it looks at the room (sharing allowed, watched or not), when the last viewer leaves (at
most once a minute), when the owner presses "Room is empty" (at once, see `engine.pacing`) and
when Home Assistant stops, to be read back before it first looks after a restart.

What is written is a small greyscale picture of the room (256 x 144 at most) and per-cell
learning state; it is removed with its camera. Removal wins over every write: writes of one
camera never overlap, the removal waits for the one under way and deletes after it, and no
write starts once the camera is removed, so no file outlives its camera.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import time
from typing import Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .engine.pacing import WritePacer
from .engine.scene import EmptyScene

SCENE_STORAGE_VERSION: Final = 1
# While the room is looked at, what was learned is written this often: a power cut loses no
# more. About 125 kB a camera: 12 MB of writes a day, little for a Raspberry Pi's SD card.
SAVE_SECONDS: Final = 900.0


@dataclass(eq=False, kw_only=True, slots=True)
class _Room:
    """All the keeper holds of one camera's room: its model, its file and the writes of it."""

    store: Store[dict[str, Any]]
    # Made on first use; dropped when the camera is removed.
    scene: EmptyScene | None = None
    restored: bool = False
    # Removed with its camera: nothing of it is read, kept or written again.
    removed: bool = False
    # The reading and the write under way, shared by whoever waits for them.
    reading: asyncio.Task[None] | None = None
    writing: asyncio.Task[None] | None = None
    # The write under way must write once more: asked for after it read the model.
    again: bool = False
    pacer: WritePacer = field(default_factory=WritePacer)
    # When the model is next due while looked at, and the timer of that write.
    due: float | None = None
    periodic: Callable[[], None] | None = None
    # The write waiting for its turn: when it comes, and how to call it off.
    later: tuple[float, Callable[[], None]] | None = None

    @property
    def kept(self) -> EmptyScene | None:
        """Return the model to write, or None: never used, or removed (removal wins)."""
        return None if self.removed else self.scene

    def call_off_later(self) -> None:
        """Call off the write waiting for its turn, if any."""
        if self.later is not None:
            self.later[1]()
            self.later = None

    def stop_periodic(self) -> None:
        """Stop the periodic write's timer, if any."""
        if self.periodic is not None:
            self.periodic()
            self.periodic = None


class SceneKeeper:
    """One empty-room model per camera: in memory across reloads, on disk across restarts."""

    def __init__(self, hass: HomeAssistant, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with no model; each is made, or read back, when its camera is first shared."""
        self.hass = hass
        self._clock = clock
        self._rooms: dict[str, _Room] = {}
        self._stop_listener: Callable[[], None] | None = None
        self._stopping = False

    def scene(self, entry_id: str) -> EmptyScene:
        """Return a camera's model, made on first use."""
        room = self._room(entry_id)
        if room.removed:
            # A removed camera: a model of its own for whoever still asks, never kept.
            return EmptyScene()
        if room.scene is None:
            room.scene = EmptyScene()
        if self._stop_listener is None:
            # Only a keeper with models writes at the stop (one that only removes does not).
            self._stop_listener = self.hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_STOP, self._async_stop
            )
        return room.scene

    async def async_restore(self, entry_id: str, name: str) -> None:
        """Read back what was saved of a camera's room, once, before its model first looks."""
        room = self._room(entry_id)
        if room.restored or room.removed:
            return
        if (reading := room.reading) is None:
            reading = room.reading = self.hass.async_create_task(
                self._async_read(entry_id, room, name),
                f"{DOMAIN} read empty room",
                eager_start=False,
            )
        # Shielded: a broadcast cancelled meanwhile (its last viewer gone) leaves the reading
        # going, and the next one waits for it rather than looking at the room first.
        await asyncio.shield(reading)

    async def _async_read(self, entry_id: str, room: _Room, name: str) -> None:
        """Read a camera's saved room into its model."""
        try:
            try:
                saved = await room.store.async_load()
            # NotImplementedError: a file a newer version wrote, which this one cannot convert.
            except (
                HomeAssistantError,
                LookupError,
                NotImplementedError,
                TypeError,
                ValueError,
            ) as err:
                LOGGER.warning(
                    "%s: the saved empty room cannot be read (%s); it is learned again",
                    name,
                    type(err).__name__,
                )
                saved = None
            # A camera removed while its file was read gets no model back.
            if isinstance(saved, dict) and not room.removed:
                try:
                    await self.hass.async_add_executor_job(self.scene(entry_id).restore, saved)
                except ValueError as err:
                    LOGGER.warning("%s: %s; the empty room is learned again", name, err)
            if not room.removed:
                room.restored = True
        finally:
            room.reading = None

    async def async_save(self, entry_id: str) -> None:
        """Write what a camera's model has learned now, and wait until it is written."""
        if (writing := self._write(self._room(entry_id))) is not None:
            await asyncio.shield(writing)

    @callback
    def save_periodically(self, entry_id: str, looking: bool) -> None:
        """Write a camera's model every SAVE_SECONDS while its room is looked at, watched or not.

        The first is due SAVE_SECONDS after the looks first began; a pause (sharing switched
        off and on, a reload) keeps the count, so switching often never puts the write off.
        """
        room = self._room(entry_id)
        room.stop_periodic()
        if not looking or room.removed or self._stopping:
            return
        now = self._clock()
        if room.due is None:
            room.due = now + SAVE_SECONDS

        @callback
        def write_due(_now: datetime) -> None:
            """Write the model, its time come, and wait for the next."""
            room.due = self._clock() + SAVE_SECONDS
            room.periodic = async_call_later(self.hass, SAVE_SECONDS, write_due)
            self._write(room)

        room.periodic = async_call_later(self.hass, max(0.0, room.due - now), write_due)

    @callback
    def save_soon(self, entry_id: str, *, pressed: bool = False) -> None:
        """Write a camera's model in the background when its pace allows: at once if pressed."""
        room = self._room(entry_id)
        # Once Home Assistant stops, every model has been written for the last time.
        if room.kept is None or self._stopping:
            return
        now = self._clock()
        wait = room.pacer.wait(now, pressed=pressed)
        if wait <= 0:
            self._write(room)
            return
        if room.later is not None:
            if room.later[0] <= now + wait:
                return  # the write already waiting comes as soon
            room.call_off_later()

        @callback
        def write_now(_now: datetime) -> None:
            """Write what was learned meanwhile, its turn come."""
            room.later = None
            self._write(room)

        room.later = (now + wait, async_call_later(self.hass, wait, write_now))

    @callback
    def _write(self, room: _Room) -> asyncio.Task[None] | None:
        """Begin writing a camera's model, or have the write under way write once more."""
        if room.kept is None:
            return None
        # This write takes in whatever was waiting for its turn.
        room.call_off_later()
        room.pacer.wrote(self._clock())
        if room.writing is not None:
            room.again = True
            return room.writing
        room.writing = self.hass.async_create_task(
            self._async_write(room), f"{DOMAIN} write empty room", eager_start=False
        )
        return room.writing

    async def _async_write(self, room: _Room) -> None:
        """Write a camera's model, again while asked to; nothing once the camera is removed."""
        try:
            while (scene := room.kept) is not None:
                room.again = False
                saved = await self.hass.async_add_executor_job(scene.saved)
                # Checked again after every wait: a camera removed meanwhile gets no file.
                if saved is not None and room.kept is not None:
                    # At the stop, the store keeps it for its final write.
                    await room.store.async_save(saved)
                if not room.again:
                    return
        finally:
            room.writing = None

    async def async_forget(self, entry_id: str) -> None:
        """Drop a removed camera's model and delete what was saved of it, after any write."""
        # Shielded: the file goes even if whoever removes the camera stops waiting.
        await asyncio.shield(
            self.hass.async_create_task(
                self._async_forget(self._room(entry_id)), f"{DOMAIN} forget room"
            )
        )

    async def _async_forget(self, room: _Room) -> None:
        """Stop every write of a camera, wait for the one under way, then delete its file."""
        room.removed = True
        room.scene = None
        room.call_off_later()
        room.stop_periodic()
        # A write in its thread cannot be stopped: the file is deleted once it has ended.
        if room.writing is not None:
            await asyncio.wait([room.writing])
        await room.store.async_remove()

    def _room(self, entry_id: str) -> _Room:
        """Return what is kept of a camera's room, made on first use."""
        if (room := self._rooms.get(entry_id)) is None:
            # Atomic: a power cut during a write leaves the last file whole, not a torn one
            # that would make the room be learned again. Private: it is a picture of a home.
            # One store a camera: a store keeps its pending write.
            store: Store[dict[str, Any]] = Store(
                self.hass,
                SCENE_STORAGE_VERSION,
                f"{DOMAIN}.scene.{entry_id}",
                private=True,
                atomic_writes=True,
            )
            room = self._rooms[entry_id] = _Room(store=store)
        return room

    async def _async_stop(self, _event: Event) -> None:
        """Write every model before Home Assistant stops (the store writes at its final write)."""
        self._stopping = True
        for room in self._rooms.values():
            room.call_off_later()
            room.stop_periodic()
        writes = [writing for room in self._rooms.values() if (writing := self._write(room))]
        if writes:
            await asyncio.wait(writes)

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


class SceneKeeper:
    """One empty-room model per camera: in memory across reloads, on disk across restarts."""

    def __init__(self, hass: HomeAssistant, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with no model; each is made, or read back, when its camera is first shared."""
        self.hass = hass
        self._clock = clock
        self._scenes: dict[str, EmptyScene] = {}
        self._stores: dict[str, Store[dict[str, Any]]] = {}
        self._restored: set[str] = set()
        # Removed cameras: nothing of them is read, kept or written again.
        self._forgotten: set[str] = set()
        # The reading and the write under way of each camera, shared by whoever waits for them.
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._writing: dict[str, asyncio.Task[None]] = {}
        # Cameras whose write under way must write once more: asked for after it read the model.
        self._again: set[str] = set()
        self._pacers: dict[str, WritePacer] = {}
        # When each model is next due while looked at, the timer of that write, and the write
        # waiting for its turn.
        self._due: dict[str, float] = {}
        self._periodic: dict[str, Callable[[], None]] = {}
        self._later: dict[str, tuple[float, Callable[[], None]]] = {}
        self._stop_listener: Callable[[], None] | None = None
        self._stopping = False

    def scene(self, entry_id: str) -> EmptyScene:
        """Return a camera's model, made on first use."""
        if entry_id in self._forgotten:
            # A removed camera: a model of its own for whoever still asks, never kept.
            return EmptyScene()
        if (scene := self._scenes.get(entry_id)) is None:
            scene = self._scenes[entry_id] = EmptyScene()
        if self._stop_listener is None:
            # Only a keeper with models writes at the stop (one that only removes does not).
            self._stop_listener = self.hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_STOP, self._async_stop
            )
        return scene

    async def async_restore(self, entry_id: str, name: str) -> None:
        """Read back what was saved of a camera's room, once, before its model first looks."""
        if entry_id in self._restored or entry_id in self._forgotten:
            return
        if (reading := self._reading.get(entry_id)) is None:
            reading = self._reading[entry_id] = self.hass.async_create_task(
                self._async_read(entry_id, name), f"{DOMAIN} read empty room", eager_start=False
            )
        # Shielded: a broadcast cancelled meanwhile (its last viewer gone) leaves the reading
        # going, and the next one waits for it rather than looking at the room first.
        await asyncio.shield(reading)

    async def _async_read(self, entry_id: str, name: str) -> None:
        """Read a camera's saved room into its model."""
        try:
            try:
                saved = await self._store(entry_id).async_load()
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
            if isinstance(saved, dict) and entry_id not in self._forgotten:
                try:
                    await self.hass.async_add_executor_job(self.scene(entry_id).restore, saved)
                except ValueError as err:
                    LOGGER.warning("%s: %s; the empty room is learned again", name, err)
            if entry_id not in self._forgotten:
                self._restored.add(entry_id)
        finally:
            self._reading.pop(entry_id, None)

    async def async_save(self, entry_id: str) -> None:
        """Write what a camera's model has learned now, and wait until it is written."""
        if (writing := self._write(entry_id)) is not None:
            await asyncio.shield(writing)

    @callback
    def save_periodically(self, entry_id: str, looking: bool) -> None:
        """Write a camera's model every SAVE_SECONDS while its room is looked at, watched or not.

        The first is due SAVE_SECONDS after the looks first began; a pause (sharing switched
        off and on, a reload) keeps the count, so switching often never puts the write off.
        """
        if (cancel := self._periodic.pop(entry_id, None)) is not None:
            cancel()
        if not looking or entry_id in self._forgotten or self._stopping:
            return
        now = self._clock()
        due = self._due.setdefault(entry_id, now + SAVE_SECONDS)

        @callback
        def write_due(_now: datetime) -> None:
            """Write the model, its time come, and wait for the next."""
            self._due[entry_id] = self._clock() + SAVE_SECONDS
            self._periodic[entry_id] = async_call_later(self.hass, SAVE_SECONDS, write_due)
            self._write(entry_id)

        self._periodic[entry_id] = async_call_later(self.hass, max(0.0, due - now), write_due)

    @callback
    def save_soon(self, entry_id: str, *, pressed: bool = False) -> None:
        """Write a camera's model in the background when its pace allows: at once if pressed."""
        # Once Home Assistant stops, every model has been written for the last time.
        if entry_id not in self._scenes or entry_id in self._forgotten or self._stopping:
            return
        now = self._clock()
        wait = self._pacer(entry_id).wait(now, pressed=pressed)
        if wait <= 0:
            self._write(entry_id)
            return
        if (later := self._later.get(entry_id)) is not None:
            if later[0] <= now + wait:
                return  # the write already waiting comes as soon
            later[1]()

        @callback
        def write_now(_now: datetime) -> None:
            """Write what was learned meanwhile, its turn come."""
            del self._later[entry_id]
            self._write(entry_id)

        self._later[entry_id] = (now + wait, async_call_later(self.hass, wait, write_now))

    @callback
    def _write(self, entry_id: str) -> asyncio.Task[None] | None:
        """Begin writing a camera's model, or have the write under way write once more."""
        if entry_id not in self._scenes or entry_id in self._forgotten:
            return None
        # This write takes in whatever was waiting for its turn.
        if (later := self._later.pop(entry_id, None)) is not None:
            later[1]()
        self._pacer(entry_id).wrote(self._clock())
        if (writing := self._writing.get(entry_id)) is not None:
            self._again.add(entry_id)
            return writing
        writing = self._writing[entry_id] = self.hass.async_create_task(
            self._async_write(entry_id), f"{DOMAIN} write empty room", eager_start=False
        )
        return writing

    async def _async_write(self, entry_id: str) -> None:
        """Write a camera's model, again while asked to; nothing once the camera is removed."""
        try:
            while entry_id in self._scenes and entry_id not in self._forgotten:
                self._again.discard(entry_id)
                saved = await self.hass.async_add_executor_job(self._scenes[entry_id].saved)
                # Checked again after every wait: a camera removed meanwhile gets no file.
                if saved is not None and entry_id not in self._forgotten:
                    # At the stop, the store keeps it for its final write.
                    await self._store(entry_id).async_save(saved)
                if entry_id not in self._again:
                    return
        finally:
            self._writing.pop(entry_id, None)

    async def async_forget(self, entry_id: str) -> None:
        """Drop a removed camera's model and delete what was saved of it, after any write."""
        # Shielded: the file goes even if whoever removes the camera stops waiting.
        await asyncio.shield(
            self.hass.async_create_task(self._async_forget(entry_id), f"{DOMAIN} forget room")
        )

    async def _async_forget(self, entry_id: str) -> None:
        """Stop every write of a camera, wait for the one under way, then delete its file."""
        self._forgotten.add(entry_id)
        if (later := self._later.pop(entry_id, None)) is not None:
            later[1]()
        self._scenes.pop(entry_id, None)
        self._pacers.pop(entry_id, None)
        self.save_periodically(entry_id, False)
        self._due.pop(entry_id, None)
        self._restored.discard(entry_id)
        self._again.discard(entry_id)
        # A write in its thread cannot be stopped: the file is deleted once it has ended.
        if (writing := self._writing.get(entry_id)) is not None:
            await asyncio.wait([writing])
        await self._store(entry_id).async_remove()
        self._stores.pop(entry_id, None)

    def _pacer(self, entry_id: str) -> WritePacer:
        """Return a camera's write pacer, made once."""
        if (pacer := self._pacers.get(entry_id)) is None:
            pacer = self._pacers[entry_id] = WritePacer()
        return pacer

    def _store(self, entry_id: str) -> Store[dict[str, Any]]:
        """Return a camera's store, made once (a store keeps its pending write)."""
        if (store := self._stores.get(entry_id)) is None:
            # Atomic: a power cut during a write leaves the last file whole, not a torn one
            # that would make the room be learned again. Private: it is a picture of a home.
            store = self._stores[entry_id] = Store(
                self.hass,
                SCENE_STORAGE_VERSION,
                f"{DOMAIN}.scene.{entry_id}",
                private=True,
                atomic_writes=True,
            )
        return store

    async def _async_stop(self, _event: Event) -> None:
        """Write every model before Home Assistant stops (the store writes at its final write)."""
        self._stopping = True
        for _when, cancel in self._later.values():
            cancel()
        self._later.clear()
        for entry_id in list(self._periodic):
            self.save_periodically(entry_id, False)
        writes = [writing for entry_id in list(self._scenes) if (writing := self._write(entry_id))]
        if writes:
            await asyncio.wait(writes)

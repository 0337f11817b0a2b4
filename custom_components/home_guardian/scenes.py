"""Keep each shared camera's model of its empty room across reloads and restarts.

The privacy filter hides whatever differs from the empty room (`engine.scene`). A model that
starts from nothing takes a person who does not stir for its first minute as part of the room,
so the model must not start from nothing more often than it has to: it is kept in memory while
a camera is reloaded (new options), and written to Home Assistant's storage while viewers
watch, when the last one leaves (at most once a minute) and when Home Assistant stops, to be
read back before it first looks after a restart.

What is written is a small greyscale picture of the room (256 x 144 at most) and per-cell
learning state; it is removed with its camera.
"""

from __future__ import annotations

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
from .engine.scene import EmptyScene

SCENE_STORAGE_VERSION: Final = 1
# While viewers watch, what was learned is written this often: a power cut loses no more. About
# 125 kB a camera: even watched all day, 12 MB of writes, little for a Raspberry Pi's SD card.
SAVE_SECONDS: Final = 900.0
# Viewers leaving and the owner's button write no more often than this: a viewer opening and
# closing the stream over and over must not wear a flash card out.
SAVE_GAP_SECONDS: Final = 60.0


class SceneKeeper:
    """One empty-room model per camera: in memory across reloads, on disk across restarts."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with no model; each is made, or read back, when its camera is first shared."""
        self.hass = hass
        self._scenes: dict[str, EmptyScene] = {}
        self._stores: dict[str, Store[dict[str, Any]]] = {}
        self._restored: set[str] = set()
        # When each model was last written, and when it is next due while watched.
        self._saved_at: dict[str, float] = {}
        self._due: dict[str, float] = {}
        self._stop_listener: Callable[[], None] | None = None
        self._later: dict[str, Callable[[], None]] = {}
        self._stopping = False

    def scene(self, entry_id: str) -> EmptyScene:
        """Return a camera's model, made on first use."""
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
        if entry_id in self._restored:
            return
        try:
            saved = await self._store(entry_id).async_load()
        # NotImplementedError: a file a newer version wrote, which this one cannot convert.
        except (HomeAssistantError, LookupError, NotImplementedError, TypeError, ValueError) as err:
            LOGGER.warning(
                "%s: the saved empty room cannot be read (%s); it is learned again",
                name,
                type(err).__name__,
            )
            saved = None
        # Marked only once read: a broadcast cancelled while reading (its last viewer gone)
        # leaves the reading to the next one.
        self._restored.add(entry_id)
        if not isinstance(saved, dict):
            return
        try:
            await self.hass.async_add_executor_job(self.scene(entry_id).restore, saved)
        except ValueError as err:
            LOGGER.warning("%s: %s; the empty room is learned again", name, err)

    async def async_save(self, entry_id: str) -> None:
        """Write what a camera's model has learned; nothing if it has looked at nothing."""
        if (scene := self._scenes.get(entry_id)) is None:
            return
        saved = await self.hass.async_add_executor_job(scene.saved)
        # A camera removed meanwhile leaves nothing behind.
        if saved is not None and self._scenes.get(entry_id) is scene:
            self._saved_at[entry_id] = time.monotonic()
            # Written by Home Assistant's store in its own time, or at its final write.
            self._store(entry_id).async_delay_save(lambda: saved, 0)

    async def async_save_if_due(self, entry_id: str) -> None:
        """Write a watched camera's model every SAVE_SECONDS, the first after it began."""
        now = time.monotonic()
        if now >= self._due.setdefault(entry_id, now + SAVE_SECONDS):
            self._due[entry_id] = now + SAVE_SECONDS
            await self.async_save(entry_id)

    @callback
    def save_soon(self, entry_id: str) -> None:
        """Write a camera's model in the background, or once SAVE_GAP_SECONDS have passed."""
        # Once Home Assistant stops, every model has been written for the last time.
        if entry_id not in self._scenes or entry_id in self._later or self._stopping:
            return
        wait = self._saved_at.get(entry_id, -SAVE_GAP_SECONDS) + SAVE_GAP_SECONDS
        wait -= time.monotonic()
        if wait <= 0:
            # Counted from now: a second call before this write ends waits its turn too.
            self._saved_at[entry_id] = time.monotonic()
            self._save_in_background(entry_id)
            return

        @callback
        def save_now(_now: datetime) -> None:
            """Write what was learned meanwhile, the gap over."""
            del self._later[entry_id]
            self._save_in_background(entry_id)

        self._later[entry_id] = async_call_later(self.hass, wait, save_now)

    @callback
    def _save_in_background(self, entry_id: str) -> None:
        """Write a camera's model in a task of its own."""
        self.hass.async_create_task(
            self.async_save(entry_id), f"{DOMAIN} save empty room", eager_start=False
        )

    async def async_forget(self, entry_id: str) -> None:
        """Drop a removed camera's model and delete what was saved of it."""
        if (cancel := self._later.pop(entry_id, None)) is not None:
            cancel()
        self._scenes.pop(entry_id, None)
        self._saved_at.pop(entry_id, None)
        self._due.pop(entry_id, None)
        self._restored.discard(entry_id)
        await self._store(entry_id).async_remove()
        self._stores.pop(entry_id, None)

    def _store(self, entry_id: str) -> Store[dict[str, Any]]:
        """Return a camera's store, made once (a store keeps its pending write)."""
        if (store := self._stores.get(entry_id)) is None:
            store = self._stores[entry_id] = Store(
                self.hass, SCENE_STORAGE_VERSION, f"{DOMAIN}.scene.{entry_id}"
            )
        return store

    async def _async_stop(self, _event: Event) -> None:
        """Write every model before Home Assistant stops (the store writes at its final write)."""
        self._stopping = True
        for cancel in self._later.values():
            cancel()
        self._later.clear()
        for entry_id in list(self._scenes):
            await self.async_save(entry_id)

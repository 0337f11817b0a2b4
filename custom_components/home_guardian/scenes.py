"""Keep each shared camera's model of its empty room across reloads and restarts.

The privacy filter hides whatever differs from the empty room (`engine.scene`). A model that
starts from nothing takes a person who does not stir for its first minute as part of the room,
so the model must not start from nothing more often than it has to: it is kept in memory while
a camera is reloaded (new options), and written to Home Assistant's storage while viewers
watch, when the last one leaves and when Home Assistant stops, to be read back before it first
looks after a restart.

What is written is a small greyscale picture of the room (256 x 144 at most) and per-cell
learning state; it is removed with its camera.
"""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .engine.scene import EmptyScene

SCENE_STORAGE_VERSION: Final = 1
# While viewers watch, what was learned is written this often: a power cut loses no more.
SAVE_SECONDS: Final = 300.0


class SceneKeeper:
    """One empty-room model per camera: in memory across reloads, on disk across restarts."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with no model; each is made, or read back, when its camera is first shared."""
        self.hass = hass
        self._scenes: dict[str, EmptyScene] = {}
        self._stores: dict[str, Store[dict[str, Any]]] = {}
        self._restored: set[str] = set()
        self._saved_at: dict[str, float] = {}
        self._stop_listener: Callable[[], None] | None = None

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
        except (HomeAssistantError, LookupError, TypeError, ValueError) as err:
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
        self._saved_at[entry_id] = time.monotonic()
        saved = await self.hass.async_add_executor_job(scene.saved)
        # A camera removed meanwhile leaves nothing behind.
        if saved is not None and self._scenes.get(entry_id) is scene:
            # Written by Home Assistant's store in its own time, or at its final write.
            self._store(entry_id).async_delay_save(lambda: saved, 0)

    async def async_save_if_due(self, entry_id: str) -> None:
        """Write a watched camera's model when SAVE_SECONDS have passed since it last was."""
        if time.monotonic() - self._saved_at.get(entry_id, 0.0) >= SAVE_SECONDS:
            await self.async_save(entry_id)

    @callback
    def save_soon(self, entry_id: str) -> None:
        """Write a camera's model in the background: its viewers have gone, or it reloads."""
        if entry_id in self._scenes:
            self.hass.async_create_task(
                self.async_save(entry_id), f"{DOMAIN} save empty room", eager_start=False
            )

    async def async_forget(self, entry_id: str) -> None:
        """Drop a removed camera's model and delete what was saved of it."""
        self._scenes.pop(entry_id, None)
        self._saved_at.pop(entry_id, None)
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
        for entry_id in list(self._scenes):
            await self.async_save(entry_id)

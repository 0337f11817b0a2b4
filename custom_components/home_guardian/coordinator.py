"""The per-camera runtime: one frame source, its health, and what entities read from it."""

from __future__ import annotations

import asyncio
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_USERNAME, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.translation import async_get_exception_message
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .camera_source import SourceCamera, picture_interval
from .const import (
    CONF_CAMERA_ENTITY,
    CONF_PRIVACY_ZONES,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    CONF_SUBSTREAM_URL,
    DOMAIN,
    LOGGER,
    READ_PICTURES,
    REPAIR_AFTER,
    SHARE_FPS,
    SNAPSHOT_POLL_INTERVAL,
    STALE_AFTER,
    STATUS_INTERVAL,
)
from .engine.frame_source import FrameSource, Problem, SourceState, SourceStatus, grab_jpeg
from .engine.urls import StreamAddress
from .guardian import GuardianCoordinator
from .motion import CameraMotion, parse_zones

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .engine.frames import Frame

type CameraConfigEntry = ConfigEntry[CameraCoordinator]
# Every entry is a camera or a guardian; platforms set up what fits the runtime they find.
type HomeGuardianConfigEntry = ConfigEntry[CameraCoordinator | GuardianCoordinator]

# Stills fetched from a snapshot URL are shared for this long, so a dashboard of many viewers
# costs the camera one request.
SNAPSHOT_CACHE_SECONDS = 1.0
# A camera's repair issues, each named with its entry id after this.
CAMERA_ISSUES: Final = ("camera_unreachable", "source_camera_removed")


def camera_addresses(data: Mapping[str, object], password: str) -> dict[str, StreamAddress]:
    """Return the configured URLs of a camera entry as addresses with its credentials."""
    username = str(data.get(CONF_USERNAME) or "") or None
    return {
        key: StreamAddress(url=str(url), username=username, password=password or None)
        for key in (CONF_STREAM_URL, CONF_SUBSTREAM_URL, CONF_SNAPSHOT_URL)
        if (url := data.get(key))
    }


class CameraCoordinator(DataUpdateCoordinator[SourceStatus]):
    """Own a camera's frame source and turn its health into honest availability."""

    config_entry: CameraConfigEntry

    def __init__(self, hass: HomeAssistant, entry: CameraConfigEntry, password: str) -> None:
        """Prepare the frame source for the analysis stream (the substream when there is one)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=STATUS_INTERVAL,
            always_update=False,
        )
        self.addresses = camera_addresses(entry.data, password)
        # A camera Home Assistant already has is read through its entity, not by URL.
        self.source_camera: SourceCamera | None = None
        self.stream_address: StreamAddress | None = None
        if CONF_CAMERA_ENTITY in entry.data:
            self.source_camera = SourceCamera(hass, entry.data)
            self.source = self.source_camera.frame_source(entry.title, entry.options)
        else:
            self.stream_address = self.addresses[CONF_STREAM_URL]
            self.source = FrameSource(
                self.addresses.get(CONF_SUBSTREAM_URL, self.stream_address),
                name=entry.title,
                poll_interval=SNAPSHOT_POLL_INTERVAL,
            )
        self.motion = CameraMotion(
            hass,
            self.source,
            entry.options,
            name=entry.title,
            on_change=self.async_update_listeners,
            event_data=self._event_data,
        )
        self._set_frames_needed()
        # Viewers of this camera's shares right now, kept by the sharing broadcast.
        self.viewers = 0
        self.privacy_zones = parse_zones(entry.options.get(CONF_PRIVACY_ZONES))
        # Options this runtime was built with: a change of any other option needs a reload.
        self.loaded_options = dict(entry.options)
        self._unavailable_since: datetime | None = None
        # The repair issue (its translation key) raised for the outage now, if any: one at most.
        self._issue: str | None = None
        # Whether the camera has answered since start (a picture or a failure), whether that
        # first answer was a failure, and whether it has sent pictures since.
        self._answered = False
        self._waited = False
        self._streamed = False
        self._snapshot: tuple[float, bytes] | None = None
        self._snapshot_lock = asyncio.Lock()

    @callback
    def apply_options(self, options: Mapping[str, Any]) -> None:
        """Apply options that need no new connection: motion settings and the picture pace."""
        self.motion.apply(options)
        self._set_frames_needed()
        if self.source_camera is not None and self.source_camera.mode == READ_PICTURES:
            self.source.poll_interval = picture_interval(options)

    @callback
    def _set_frames_needed(self) -> None:
        """Tell the reader how many frames a second analysis and shared pictures take."""
        self.source.needed_fps = max(self.motion.fps, SHARE_FPS)

    @property
    def stale_after(self) -> float:
        """Return how old the latest frame may be before the camera counts as gone."""
        return max(STALE_AFTER, 3 * self.source.poll_interval)

    @callback
    def async_start(self) -> None:
        """Start reading without waiting: entities stay unavailable until the camera answers.

        Home Assistant's start never waits for a camera, whether it is off, hung or unknown
        to DNS; setup is not retried either, since the reader reconnects by itself.
        """
        # Unavailable until the first picture, and the first failure is not an outage to log.
        self.data = self.source.status
        self.last_update_success = False

        def on_status(status: SourceStatus) -> None:
            # Called from the reader thread: hand over to the event loop.
            self.hass.loop.call_soon_threadsafe(self._async_status_changed, status)

        entry = self.config_entry
        entry.async_on_unload(self.source.add_status_listener(on_status))
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_hass_stopping)
        )
        self._async_follow_source_camera()
        self.motion.start()
        self.source.start()

    async def _async_hass_stopping(self, _event: Event) -> None:
        """Let the reader go when Home Assistant stops; entries are not unloaded then."""
        await self.async_shutdown()

    @callback
    def _async_follow_source_camera(self) -> None:
        """Look again at once when the camera entity this one reads from changes state."""
        if self.source_camera is None or (entity_id := self.source_camera.entity_id) is None:
            return

        @callback
        def on_change(_event: object) -> None:
            if self._shutdown_requested:
                return
            # A source that is back is read now, not after the reader's grown backoff.
            self.source.retry_now()
            if self.data is not None:
                self.config_entry.async_create_background_task(
                    self.hass, self.async_refresh(), f"{DOMAIN} source {self.name}"
                )

        self.config_entry.async_on_unload(
            async_track_state_change_event(self.hass, entity_id, on_change)
        )

    @callback
    def _async_status_changed(self, status: SourceStatus) -> None:
        """Refresh at once when the stream starts or fails, rather than at the next poll."""
        if self._shutdown_requested:
            return
        if not self._answered and (status.frames or status.problem is not None):
            self._answered = True
            if not status.frames:
                # One line while the camera stays away; the reader keeps trying in the background.
                self._waited = True
                LOGGER.warning(
                    "%s: %s; retrying in the background",
                    self.name,
                    async_get_exception_message(
                        DOMAIN, f"no_pictures_{status.problem or Problem.TIMEOUT}"
                    ),
                )
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), f"{DOMAIN} status {self.name}"
        )

    async def _async_update_data(self) -> SourceStatus:
        """Return the source's health, failing when frames have stopped."""
        status = self.source.status
        fresh = self.source.latest_if_fresh(self.stale_after) is not None
        # A source entity that is unavailable makes this camera blind, whatever still streams.
        blind = self.source_camera.async_problem() if self.source_camera else None
        # A camera that closed its session and is being reconnected, while its last picture is
        # still fresh, is not an outage: cameras that drop every session each minute would
        # otherwise blink unavailable, and fill the log and the logbook, every minute. A camera
        # that stopped answering (a timeout) is not given that grace: it is frozen or gone.
        reconnecting = (
            status.state in {SourceState.CONNECTING, SourceState.RETRYING}
            and status.problem is Problem.CANNOT_CONNECT
        )
        if (status.state is SourceState.STREAMING or reconnecting) and fresh and blind is None:
            if not self._streamed:
                # The first pictures since start are no recovery for the coordinator to log.
                self._streamed = True
                self.last_update_success = True
                if self._waited:
                    LOGGER.info("%s answered; its entities are available", self.name)
            self._mark_available()
            return status
        self._mark_unavailable()
        # Credentials of a camera read through an entity belong to the other integration.
        if status.problem is Problem.INVALID_AUTH and self.source_camera is None:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth")
        problem = blind or status.problem or Problem.TIMEOUT
        # The log line says what is wrong in words, from the problem's own message.
        raise UpdateFailed(translation_domain=DOMAIN, translation_key=f"no_pictures_{problem}")

    def _mark_available(self) -> None:
        """Forget an outage and withdraw its repair issue."""
        self._unavailable_since = None
        self._set_issue(None)

    def _mark_unavailable(self) -> None:
        """Remember when the outage began and raise the one repair issue that explains it.

        A removed source camera is reported at once, since only its owner can fix it; any other
        outage once it has lasted. One cause is one issue, whatever its length.
        """
        now = dt_util.utcnow()
        if self._unavailable_since is None:
            self._unavailable_since = now
            # After an outage, motion is shown again only once a new picture has been judged.
            self.motion.forget_analysis()
        if self.source_camera is not None and self.source_camera.removed:
            self._set_issue("source_camera_removed")
        elif now - self._unavailable_since >= REPAIR_AFTER:
            self._set_issue("camera_unreachable")
        else:
            # A source camera back in Home Assistant is no longer removed, though not yet read.
            self._set_issue(None)

    def _set_issue(self, key: str | None) -> None:
        """Make `key` the camera's one standing repair issue (None: no issue), changing once."""
        if key == self._issue:
            return
        entry = self.config_entry
        if self._issue is not None:
            ir.async_delete_issue(self.hass, DOMAIN, f"{self._issue}_{entry.entry_id}")
        self._issue = key
        if key is None:
            return
        if key == "source_camera_removed":
            LOGGER.warning(
                "%s: the camera it reads from was removed from Home Assistant", self.name
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{key}_{entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"name": entry.title},
        )

    @callback
    def camera_entity_id(self) -> str | None:
        """Return the entity id of this camera's camera entity."""
        return er.async_get(self.hass).async_get_entity_id(
            "camera", DOMAIN, f"{self.config_entry.entry_id}_camera"
        )

    @callback
    def _event_data(self) -> dict[str, str | None]:
        """Return what identifies this camera in the events it fires."""
        entry = self.config_entry
        return {
            "config_entry_id": entry.entry_id,
            "entity_id": self.camera_entity_id(),
            "name": entry.title,
        }

    def fresh_frame(self) -> Frame | None:
        """Return the latest frame if the camera is up and the frame recent enough to show."""
        if not self.last_update_success:
            return None
        return self.source.latest_if_fresh(self.stale_after)

    async def async_still(self) -> bytes | None:
        """Return a JPEG of what the camera sees now, or None when it cannot be seen."""
        if (snapshot_address := self.addresses.get(CONF_SNAPSHOT_URL)) is not None:
            async with self._snapshot_lock:
                if self._snapshot and time.monotonic() - self._snapshot[0] < SNAPSHOT_CACHE_SECONDS:
                    return self._snapshot[1]
                try:
                    # A JPEG snapshot is handed on as the camera sent it, never decoded.
                    jpeg = await self.hass.async_add_executor_job(
                        lambda: grab_jpeg(snapshot_address)
                    )
                except Exception:  # noqa: BLE001 - a broken snapshot URL falls back to the stream
                    LOGGER.debug("%s: snapshot failed, using the stream's frame", self.name)
                else:
                    self._snapshot = (time.monotonic(), jpeg)
                    return jpeg
        if (frame := self.fresh_frame()) is None:
            return None
        return await self.hass.async_add_executor_job(frame.jpeg)

    async def async_shutdown(self) -> None:
        """Stop the reader thread without blocking the event loop."""
        await super().async_shutdown()
        self.motion.stop()
        if self.hass.is_stopping:
            # A reader stuck on a hung camera must not hold Home Assistant's stop: it is told
            # to end, and ends by itself within its timeout or with the process.
            self.source.stop(timeout=0)
        else:
            await self.hass.async_add_executor_job(self.source.stop)

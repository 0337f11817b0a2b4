"""Read a camera Home Assistant already has, through the camera component's public helpers.

A camera of another integration (Tapo, ONVIF, Reolink, a generic camera, a cloud camera) is read
like one of ours: its stream source, when it has one, goes to our own frame source, which asks
for it again at every connection because cloud integrations hand out addresses that expire.
Without a stream source (WebRTC-only and snapshot-only cameras), its pictures are fetched at the
pace the owner sets. The reader threads reach the event loop only through `_on_loop`.

The source entity being unavailable, switched off or removed makes our camera blind, exactly as
an unreachable URL camera is; the camera's runtime raises the repair issue a removed source needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import concurrent.futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.camera import async_get_image, async_get_stream_source
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.loader import IntegrationNotFound, async_get_integration

from .const import (
    CONF_CAMERA_ENTITY,
    CONF_PICTURES_PER_SECOND,
    CONF_READ_MODE,
    DEFAULT_PICTURES_PER_SECOND,
    DOMAIN,
    PROBE_TIMEOUT,
    READ_PICTURES,
    READ_STREAM,
)
from .engine.frame_source import FrameSource, Problem, StreamError, grab_frame
from .engine.picture_source import PictureSource, decode_picture
from .engine.urls import InvalidUrlError, StreamAddress, parse_camera_url

if TYPE_CHECKING:
    from collections.abc import Mapping

# How long a reader thread waits for the event loop to hand over an address or a picture.
LOOP_CALL_TIMEOUT: Final = 15.0
# Home Assistant's own image helper gives a camera this long to answer.
IMAGE_TIMEOUT: Final = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceProbe:
    """What the flow learnt from a camera entity: how it is read, and what it sees."""

    mode: str
    preview: bytes
    cloud: bool


@callback
def async_source_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return why a camera entity cannot be a source (a translation key), or None."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is not None and entry.platform == DOMAIN:
        # Reading our own camera would read its frames back into itself.
        return "own_camera"
    if (state := hass.states.get(entity_id)) is None:  # removed, disabled or not loaded
        return "source_not_found"
    if state.state == STATE_UNAVAILABLE:
        return str(Problem.SOURCE_UNAVAILABLE)
    return None


@callback
def async_stored_source(hass: HomeAssistant, entity_id: str) -> str:
    """Return what to store for a source: its registry id, which survives renames."""
    entry = er.async_get(hass).async_get(entity_id)
    return entity_id if entry is None else entry.id


async def async_is_cloud(hass: HomeAssistant, entity_id: str) -> bool:
    """Return True when the entity's integration reaches its camera through a cloud."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is None:
        return False
    try:
        integration = await async_get_integration(hass, entry.platform)
    except IntegrationNotFound:
        return False
    return (integration.iot_class or "").startswith("cloud")


async def async_stream_source(
    hass: HomeAssistant, entity_id: str
) -> tuple[str, StreamAddress] | None:
    """Return the entity's stream URL as given and as we read it, None when it has none.

    Raise StreamError when the entity is unavailable or its answer is not an address we read.
    """
    try:
        url: Any = await async_get_stream_source(hass, entity_id)
    except HomeAssistantError:
        raise StreamError(Problem.SOURCE_UNAVAILABLE, "camera not available") from None
    except Exception as err:  # noqa: BLE001 - another integration's bug must not reach us
        raise StreamError(Problem.UNSUPPORTED_STREAM, type(err).__name__) from None
    if url is None:
        return None
    if not isinstance(url, str):
        raise StreamError(Problem.UNSUPPORTED_STREAM, "not a URL")
    try:
        return url, parse_camera_url(url)
    except InvalidUrlError as err:
        raise StreamError(Problem.UNSUPPORTED_STREAM, err.reason) from None


async def async_picture(hass: HomeAssistant, entity_id: str) -> bytes:
    """Return one picture of the entity; raise StreamError saying why there is none."""
    try:
        image = await async_get_image(hass, entity_id, timeout=IMAGE_TIMEOUT)
    except HomeAssistantError:
        state = hass.states.get(entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "camera not available") from None
        raise StreamError(Problem.NO_PICTURE, "no image") from None
    except Exception as err:  # noqa: BLE001 - another integration's bug must not reach us
        raise StreamError(Problem.NO_PICTURE, type(err).__name__) from None
    return image.content


async def async_probe_source(hass: HomeAssistant, entity_id: str) -> SourceProbe:
    """Read the entity as the camera will: its stream when it has one, else a picture."""
    source = await async_stream_source(hass, entity_id)
    if source is not None:
        address = source[1]
        frame, _ = await hass.async_add_executor_job(
            lambda: grab_frame(address, timeout=PROBE_TIMEOUT)
        )
        mode = READ_STREAM
    else:
        data = await async_picture(hass, entity_id)
        frame = await hass.async_add_executor_job(lambda: decode_picture(data, sequence=1))
        mode = READ_PICTURES
    preview = await hass.async_add_executor_job(frame.jpeg)
    return SourceProbe(mode=mode, preview=preview, cloud=await async_is_cloud(hass, entity_id))


class SourceCamera:
    """A camera entity of another integration that one of our cameras reads."""

    def __init__(self, hass: HomeAssistant, data: Mapping[str, Any]) -> None:
        """Remember which entity to read and how; nothing is read before the source starts."""
        self.hass = hass
        self._stored = str(data[CONF_CAMERA_ENTITY])
        self.mode = str(data.get(CONF_READ_MODE, READ_STREAM))

    @property
    def entity_id(self) -> str | None:
        """Return the source's entity id now; None once it has been removed."""
        return er.async_resolve_entity_id(er.async_get(self.hass), self._stored)

    def frame_source(self, name: str, options: Mapping[str, Any]) -> FrameSource:
        """Return the frame source that reads this entity, by stream or by pictures."""
        if self.mode == READ_PICTURES:
            return PictureSource(
                lambda: self._on_loop(self._async_picture()),
                name=name,
                interval=picture_interval(options),
                description=f"pictures of {self._stored}",
            )
        return FrameSource(
            StreamAddress(url=f"stream of {self._stored}"),
            name=name,
            address_provider=lambda: self._on_loop(self._async_address()),
        )

    async def async_stream_url(self) -> str | None:
        """Return the source's stream URL for live view, or None when it has none now."""
        if self.mode != READ_STREAM or (entity_id := self.entity_id) is None:
            return None
        try:
            source = await async_stream_source(self.hass, entity_id)
        except StreamError:
            return None
        # The other integration's own URL, exactly as it gives it to its own live view.
        return None if source is None else source[0]

    @property
    def removed(self) -> bool:
        """Return True when the source camera is no longer in Home Assistant."""
        return self.entity_id is None

    @callback
    def async_problem(self) -> Problem | None:
        """Return why the source cannot be seen now: removed, unavailable or switched off."""
        if (entity_id := self.entity_id) is None:
            return Problem.SOURCE_UNAVAILABLE
        state = self.hass.states.get(entity_id)
        if state is None or state.state in {STATE_UNAVAILABLE, "off"}:
            return Problem.SOURCE_UNAVAILABLE
        return None

    async def _async_address(self) -> StreamAddress:
        """Return the address to connect to now; a camera that lost its stream is blind."""
        if (entity_id := self.entity_id) is None:
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "camera removed")
        source = await async_stream_source(self.hass, entity_id)
        if source is None:
            raise StreamError(Problem.UNSUPPORTED_STREAM, "no stream source")
        return source[1]

    async def _async_picture(self) -> bytes:
        """Return one picture of the source now."""
        if (entity_id := self.entity_id) is None:
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "camera removed")
        return await async_picture(self.hass, entity_id)

    def _on_loop[T](self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the event loop from a reader thread and wait for its result."""
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.hass.loop)
        except RuntimeError:  # the loop has closed: Home Assistant is stopping
            coro.close()
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "stopping") from None
        try:
            return future.result(LOOP_CALL_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise StreamError(Problem.TIMEOUT, "camera entity") from None
        except concurrent.futures.CancelledError:
            raise StreamError(Problem.SOURCE_UNAVAILABLE, "stopping") from None


def picture_interval(options: Mapping[str, Any]) -> float:
    """Return the seconds between pictures of a picture-read source."""
    rate = float(options.get(CONF_PICTURES_PER_SECOND, DEFAULT_PICTURES_PER_SECOND))
    return 1.0 / max(rate, 0.01)

"""The camera entity: live view through Home Assistant's stream, stills from the latest frame."""

from __future__ import annotations

from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    CameraEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    CONF_LIVE_VIEW,
    CONF_MOTION_DETECTION,
    DEFAULT_LIVE_VIEW,
    LIVE_VIEW_STREAM,
    READ_PICTURES,
)
from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import HomeGuardianEntity

PARALLEL_UPDATES = 0

CAMERA = CameraEntityDescription(key="camera", name=None)
# Frames-mode live view sends at most this many pictures a second to each browser.
FRAMES_LIVE_VIEW_INTERVAL = 0.2


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera entity."""
    if isinstance(entry.runtime_data, CameraCoordinator):
        async_add_entities([HomeGuardianCamera(entry.runtime_data)])


class HomeGuardianCamera(HomeGuardianEntity, Camera):
    """A home camera whose pictures all come through one shared connection."""

    def __init__(self, coordinator: CameraCoordinator) -> None:
        """Set up the entity; live view uses HA's stream unless the camera allows one session."""
        HomeGuardianEntity.__init__(self, coordinator, CAMERA)
        Camera.__init__(self)
        entry = coordinator.config_entry
        self._uses_stream = entry.options.get(CONF_LIVE_VIEW, DEFAULT_LIVE_VIEW) == LIVE_VIEW_STREAM
        source_camera = coordinator.source_camera
        if source_camera is not None and source_camera.mode == READ_PICTURES:
            # A camera read by pictures has no stream to give: live view is its pictures.
            self._uses_stream = False
        if self._uses_stream:
            self._attr_supported_features = CameraEntityFeature.STREAM
        self._attr_frame_interval = FRAMES_LIVE_VIEW_INTERVAL

    @property
    def is_streaming(self) -> bool:
        """Return True while frames are arriving."""
        return self.available

    async def stream_source(self) -> str | None:
        """Return the main stream for HLS and WebRTC, credentials included, never logged."""
        if not self._uses_stream:
            return None
        if (source_camera := self.coordinator.source_camera) is not None:
            # Asked afresh each time: the other integration's address may have expired.
            return await source_camera.async_stream_url()
        assert self.coordinator.stream_address is not None  # noqa: S101 - URL cameras have one
        return self.coordinator.stream_address.url_with_credentials()

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a still of what the camera sees now; None rather than an old picture."""
        return await self.coordinator.async_still()

    @property
    def motion_detection_enabled(self) -> bool:
        """Return whether the camera's motion detection runs."""
        return self.coordinator.motion.state.enabled

    async def async_enable_motion_detection(self) -> None:
        """Turn motion detection on and keep it on across restarts."""
        self._store_motion_detection(enabled=True)

    async def async_disable_motion_detection(self) -> None:
        """Turn motion detection off and keep it off across restarts."""
        self._store_motion_detection(enabled=False)

    def _store_motion_detection(self, *, enabled: bool) -> None:
        """Save the choice in the entry's options; the runtime applies it without reconnecting."""
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_MOTION_DETECTION: enabled}
        )

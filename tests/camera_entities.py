"""Camera entities of other integrations for tests: Home Assistant's generic camera, and odd ones.

The generic camera integration is real and points at our real test servers. Integrations whose
cameras misbehave in ways no real test server can make the generic camera misbehave (a stream
source that raises, returns something that is not a URL, or a cloud integration) are small
camera platforms registered the way Home Assistant's own tests register them.
"""

from __future__ import annotations

from typing import Any

from homeassistant import config_entries
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)


async def add_generic_camera(
    hass: HomeAssistant,
    title: str,
    *,
    stream: str | None = None,
    still: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> tuple[MockConfigEntry, str]:
    """Set up Home Assistant's generic camera and return its entry and entity id."""
    entry = MockConfigEntry(
        domain="generic",
        title=title,
        options={
            "still_image_url": still,
            "stream_source": stream,
            "authentication": "basic",
            "username": username,
            "password": password,
            "limit_refetch_to_url_change": False,
            "framerate": 2,
            "verify_ssl": False,
            "content_type": "image/jpeg",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    entity_id = er.async_get(hass).async_get_entity_id("camera", "generic", entry.entry_id)
    assert entity_id is not None
    return entry, entity_id


class OddCamera(Camera):
    """A camera of another integration whose answers a test chooses."""

    def __init__(
        self,
        name: str,
        *,
        stream: Any = None,
        image: bytes | None = None,
        images: list[bytes] | None = None,
    ) -> None:
        """Answer `stream` (raised when an exception) and `image` or `images` in turn."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = name
        self.stream_answer = stream
        self.images = images or ([image] if image is not None else [])
        self.served = 0
        if stream is not None:
            self._attr_supported_features = CameraEntityFeature.STREAM

    async def stream_source(self) -> str | None:
        """Return, or raise, the chosen answer."""
        if isinstance(self.stream_answer, Exception):
            raise self.stream_answer
        return self.stream_answer  # type: ignore[no-any-return]

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the next chosen picture, or None when there is none."""
        if not self.images:
            return None
        self.served += 1
        return self.images[self.served % len(self.images)]


class OddFlow(ConfigFlow):
    """The config flow an odd camera integration must have, never started."""


async def add_odd_cameras(
    hass: HomeAssistant, domain: str, cameras: list[Camera], *, iot_class: str = "local_polling"
) -> MockConfigEntry:
    """Register an integration `domain` whose config entry adds `cameras`, and set it up.

    The `odd_cameras` fixture forgets the integration's flow afterwards.
    """

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, [Platform.CAMERA])
        return True

    async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(entry, [Platform.CAMERA])

    async def setup_platform(
        hass: HomeAssistant, entry: ConfigEntry, add: AddConfigEntryEntitiesCallback
    ) -> None:
        add(cameras)

    mock_integration(
        hass,
        MockModule(
            domain,
            async_setup_entry=setup_entry,
            async_unload_entry=unload_entry,
            partial_manifest={"iot_class": iot_class},
        ),
    )
    mock_platform(hass, f"{domain}.camera", MockPlatform(async_setup_entry=setup_platform))
    # Config entries need a flow to exist; this integration is never configured by hand.
    mock_platform(hass, f"{domain}.config_flow")
    config_entries.HANDLERS[domain] = OddFlow
    entry = MockConfigEntry(domain=domain)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry

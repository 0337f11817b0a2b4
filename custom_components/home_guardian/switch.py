"""A camera's "sharing allowed" switch: off until its owner turns it on."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_SHARING
from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import HomeGuardianEntity

PARALLEL_UPDATES = 0

SHARING_ALLOWED = SwitchEntityDescription(
    key="sharing", translation_key="sharing", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera's sharing switch."""
    if isinstance(entry.runtime_data, CameraCoordinator):
        async_add_entities([HomeGuardianSharingSwitch(entry.runtime_data, SHARING_ALLOWED)])


class HomeGuardianSharingSwitch(HomeGuardianEntity, SwitchEntity):
    """Allow shares of this camera to show pictures; off closes every open share stream."""

    @property
    def available(self) -> bool:
        """Stay available while the camera is away: the owner's choice is always theirs."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether sharing is allowed; it is kept in the camera's options."""
        return bool(self.coordinator.config_entry.options.get(CONF_SHARING, False))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow sharing."""
        self._store(allowed=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Forbid sharing; open streams close within seconds."""
        self._store(allowed=False)

    def _store(self, *, allowed: bool) -> None:
        """Keep the choice in the options, which survive restarts, without reconnecting."""
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_SHARING: allowed}
        )

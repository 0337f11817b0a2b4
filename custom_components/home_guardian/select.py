"""The guardian's mode: home, away (paused) or visitors (relaxed)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HomeGuardianConfigEntry
from .engine.alerts import Mode
from .entity import GuardianEntity
from .guardian import GuardianCoordinator

PARALLEL_UPDATES = 0

MODE = SelectEntityDescription(
    key="mode", translation_key="mode", options=[mode.value for mode in Mode]
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the guardian's mode."""
    if isinstance(entry.runtime_data, GuardianCoordinator):
        async_add_entities([GuardianModeSelect(entry.runtime_data, MODE)])


class GuardianModeSelect(GuardianEntity, SelectEntity):
    """Choose how the household is living, which sets how strict the guardian is."""

    @property
    def current_option(self) -> str:
        """Return the mode; it is kept in the guardian's saved state across restarts."""
        return self.coordinator.data.mode.value

    async def async_select_option(self, option: str) -> None:
        """Switch the mode."""
        self.coordinator.async_set_mode(Mode(option))

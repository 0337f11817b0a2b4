"""The guardian's buttons: "I'm OK" and a test alert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HomeGuardianConfigEntry
from .entity import GuardianEntity
from .guardian import GuardianCoordinator

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class GuardianButtonDescription(ButtonEntityDescription):
    """Describe a guardian button."""

    press_fn: Callable[[GuardianCoordinator], None]


BUTTONS: tuple[GuardianButtonDescription, ...] = (
    GuardianButtonDescription(
        key="acknowledge",
        translation_key="acknowledge",
        press_fn=lambda guardian: guardian.async_acknowledge(),
    ),
    GuardianButtonDescription(
        key="test_alert",
        translation_key="test_alert",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda guardian: guardian.async_test_alert(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the guardian's buttons."""
    if isinstance(entry.runtime_data, GuardianCoordinator):
        runtime = entry.runtime_data
        async_add_entities(GuardianButton(runtime, description) for description in BUTTONS)


class GuardianButton(GuardianEntity, ButtonEntity):
    """A button of a guardian."""

    entity_description: GuardianButtonDescription

    async def async_press(self) -> None:
        """Do what the button says."""
        self.entity_description.press_fn(self.coordinator)

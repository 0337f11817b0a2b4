"""Buttons: the guardian's "I'm OK" and test alert, and a camera's "Room is empty"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import GuardianEntity, HomeGuardianEntity
from .guardian import GuardianCoordinator
from .sharing import async_get_sharing

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

ROOM_IS_EMPTY = ButtonEntityDescription(
    key="room_is_empty",
    translation_key="room_is_empty",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the guardian's buttons, or a camera's."""
    if isinstance(entry.runtime_data, GuardianCoordinator):
        runtime = entry.runtime_data
        async_add_entities(GuardianButton(runtime, description) for description in BUTTONS)
    elif isinstance(entry.runtime_data, CameraCoordinator):
        async_add_entities([RoomIsEmptyButton(entry.runtime_data)])


class GuardianButton(GuardianEntity, ButtonEntity):
    """A button of a guardian."""

    entity_description: GuardianButtonDescription

    async def async_press(self) -> None:
        """Do what the button says."""
        self.entity_description.press_fn(self.coordinator)


class RoomIsEmptyButton(HomeGuardianEntity, ButtonEntity):
    """Tell the privacy filter that the room as it looks now is empty, after furniture moved.

    What differs from the learned empty room stays hidden for hours, so that a person who
    sits or lies still is never shown; a moved chair too, until the owner presses this.
    """

    def __init__(self, coordinator: CameraCoordinator) -> None:
        """Attach to the camera's device."""
        super().__init__(coordinator, ROOM_IS_EMPTY)

    async def async_press(self) -> None:
        """Take the room as it looks now as empty."""
        await async_get_sharing(self.hass).async_accept_empty_room(self.coordinator)

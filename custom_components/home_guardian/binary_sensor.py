"""Binary sensors of a camera: whether it is connected and whether something moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import HomeGuardianEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HomeGuardianBinarySensorDescription(BinarySensorEntityDescription):
    """Describe a camera binary sensor."""

    is_on_fn: Callable[[CameraCoordinator], bool]
    # Sensors that report the camera's health stay available while the camera is not.
    always_available: bool = False
    # A further condition for availability, on top of a working camera.
    available_fn: Callable[[CameraCoordinator], bool] = lambda _: True
    attributes_fn: Callable[[CameraCoordinator], dict[str, Any]] | None = None


BINARY_SENSORS: tuple[HomeGuardianBinarySensorDescription, ...] = (
    HomeGuardianBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda coordinator: coordinator.last_update_success,
        always_available=True,
    ),
    HomeGuardianBinarySensorDescription(
        key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        is_on_fn=lambda coordinator: coordinator.motion.state.active,
        # With detection off, "no motion" would be a lie: nothing is looking.
        available_fn=lambda coordinator: coordinator.motion.state.enabled,
        attributes_fn=lambda coordinator: {
            "regions": [box.as_list() for box in coordinator.motion.state.regions]
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera's binary sensors."""
    async_add_entities(
        HomeGuardianBinarySensor(entry.runtime_data, description) for description in BINARY_SENSORS
    )


class HomeGuardianBinarySensor(HomeGuardianEntity, BinarySensorEntity):
    """A binary sensor of a camera."""

    entity_description: HomeGuardianBinarySensorDescription

    @property
    def available(self) -> bool:
        """Return False only for sensors that need a working camera."""
        description = self.entity_description
        return description.always_available or (
            super().available and description.available_fn(self.coordinator)
        )

    @property
    def is_on(self) -> bool:
        """Return the sensor's value."""
        return self.entity_description.is_on_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the sensor's attributes, kept small."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator)

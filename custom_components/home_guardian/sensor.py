"""Sensors of a camera: when its last frame arrived."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import HomeGuardianEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HomeGuardianSensorDescription(SensorEntityDescription):
    """Describe a camera sensor."""

    value_fn: Callable[[CameraCoordinator], datetime | None]
    always_available: bool = False


def _last_frame(coordinator: CameraCoordinator) -> datetime | None:
    """Return when the last frame arrived."""
    wall = coordinator.source.status.last_frame_wall
    return None if wall is None else dt_util.utc_from_timestamp(wall).replace(microsecond=0)


SENSORS: tuple[HomeGuardianSensorDescription, ...] = (
    HomeGuardianSensorDescription(
        key="last_frame",
        translation_key="last_frame",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_last_frame,
        # When the camera goes silent, the time of its last frame is exactly what users want.
        always_available=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera's sensors."""
    async_add_entities(
        HomeGuardianSensor(entry.runtime_data, description) for description in SENSORS
    )


class HomeGuardianSensor(HomeGuardianEntity, SensorEntity):
    """A sensor of a camera."""

    entity_description: HomeGuardianSensorDescription

    @property
    def available(self) -> bool:
        """Return False only for sensors that need a working camera."""
        return self.entity_description.always_available or super().available

    @property
    def native_value(self) -> datetime | None:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.coordinator)

"""Sensors: a camera's last frame and last motion; a guardian's activity and alert level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .entity import GuardianEntity, HomeGuardianEntity
from .guardian import GuardianCoordinator, GuardianSnapshot

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HomeGuardianSensorDescription(SensorEntityDescription):
    """Describe a camera sensor."""

    value_fn: Callable[[CameraCoordinator], datetime | int | None]
    always_available: bool = False
    # Hands a value restored after a restart back to the runtime, which forgot it.
    restore_fn: Callable[[CameraCoordinator, datetime], None] | None = None


def _last_frame(coordinator: CameraCoordinator) -> datetime | None:
    """Return when the last frame arrived."""
    wall = coordinator.source.status.last_frame_wall
    return None if wall is None else dt_util.utc_from_timestamp(wall).replace(microsecond=0)


def _restore_last_motion(coordinator: CameraCoordinator, value: datetime) -> None:
    """Keep the last motion from before a restart unless newer motion was seen since."""
    state = coordinator.motion.state
    if state.last_motion is None:
        state.last_motion = value


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
    HomeGuardianSensorDescription(
        key="last_motion",
        translation_key="last_motion",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda coordinator: coordinator.motion.state.last_motion,
        # When motion was last seen stays true while the camera is away.
        always_available=True,
        restore_fn=_restore_last_motion,
    ),
    HomeGuardianSensorDescription(
        key="viewers",
        translation_key="viewers",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda coordinator: coordinator.viewers,
        always_available=True,
    ),
)


@dataclass(frozen=True, kw_only=True)
class GuardianSensorDescription(SensorEntityDescription):
    """Describe a guardian sensor."""

    value_fn: Callable[[GuardianSnapshot], datetime | float | int | None]
    attributes_fn: Callable[[GuardianSnapshot], dict[str, Any]] | None = None


GUARDIAN_SENSORS: tuple[GuardianSensorDescription, ...] = (
    GuardianSensorDescription(
        key="last_activity",
        translation_key="last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda snapshot: snapshot.last_activity,
    ),
    GuardianSensorDescription(
        key="inactive_for",
        translation_key="inactive_for",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda snapshot: int(snapshot.inactive_for.total_seconds() // 60),
    ),
    GuardianSensorDescription(
        key="alert_level",
        translation_key="alert_level",
        value_fn=lambda snapshot: snapshot.level,
    ),
    GuardianSensorDescription(
        key="wake_up",
        translation_key="wake_up",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda snapshot: snapshot.wake_up,
    ),
    GuardianSensorDescription(
        key="activity_today",
        translation_key="activity_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda snapshot: snapshot.activity_today,
        attributes_fn=lambda snapshot: {
            "usual": round(snapshot.usual_activity, 1)
            if snapshot.usual_activity is not None
            else None
        },
    ),
    GuardianSensorDescription(
        key="night_activity",
        translation_key="night_activity",
        value_fn=lambda snapshot: snapshot.night_activity,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a camera or of a guardian."""
    runtime = entry.runtime_data
    if isinstance(runtime, GuardianCoordinator):
        async_add_entities(GuardianSensor(runtime, description) for description in GUARDIAN_SENSORS)
        return
    async_add_entities(HomeGuardianSensor(runtime, description) for description in SENSORS)


class HomeGuardianSensor(HomeGuardianEntity, RestoreSensor):
    """A sensor of a camera."""

    entity_description: HomeGuardianSensorDescription

    async def async_added_to_hass(self) -> None:
        """Restore the value the sensor had before a restart, where it keeps one."""
        await super().async_added_to_hass()
        restore_fn = self.entity_description.restore_fn
        if restore_fn is None or (last := await self.async_get_last_sensor_data()) is None:
            return
        if isinstance(last.native_value, datetime):
            restore_fn(self.coordinator, last.native_value)

    @property
    def available(self) -> bool:
        """Return False only for sensors that need a working camera."""
        return self.entity_description.always_available or super().available

    @property
    def native_value(self) -> datetime | int | None:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.coordinator)


class GuardianSensor(GuardianEntity, SensorEntity):
    """A sensor of a guardian."""

    entity_description: GuardianSensorDescription

    @property
    def native_value(self) -> datetime | float | int | None:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the sensor's attributes, where it has any."""
        attributes_fn = self.entity_description.attributes_fn
        return attributes_fn(self.coordinator.data) if attributes_fn else None

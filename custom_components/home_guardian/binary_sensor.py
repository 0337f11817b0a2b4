"""Binary sensors: a camera's connection and motion, a guardian's alerts."""

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

from .const import READ_PICTURES
from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .engine.alerts import Alert
from .entity import GuardianEntity, HomeGuardianEntity
from .guardian import GuardianCoordinator, GuardianSnapshot

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HomeGuardianBinarySensorDescription(BinarySensorEntityDescription):
    """Describe a camera binary sensor."""

    is_on_fn: Callable[[CameraCoordinator], bool]
    # Sensors that report the camera's health stay available while the camera is not.
    always_available: bool = False
    # A further condition for availability, on top of a working camera.
    available_fn: Callable[[CameraCoordinator], bool] = lambda _: True
    attributes_fn: Callable[[CameraCoordinator], dict[str, Any] | None] | None = None


def _source_camera_attributes(coordinator: CameraCoordinator) -> dict[str, Any] | None:
    """Say which camera entity this camera reads, and whether by video or by pictures."""
    if (source_camera := coordinator.source_camera) is None:
        return None
    attributes: dict[str, Any] = {
        "source_entity": source_camera.entity_id,
        "read_by": source_camera.mode,
    }
    if source_camera.mode == READ_PICTURES:
        attributes["pictures_per_second"] = round(1 / coordinator.source.poll_interval, 2)
    return attributes


BINARY_SENSORS: tuple[HomeGuardianBinarySensorDescription, ...] = (
    HomeGuardianBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda coordinator: coordinator.last_update_success,
        always_available=True,
        attributes_fn=_source_camera_attributes,
    ),
    HomeGuardianBinarySensorDescription(
        key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        is_on_fn=lambda coordinator: coordinator.motion.state.active,
        # With detection off, or before it has looked at the camera's pictures since they
        # (re)started, "no motion" would be a lie: nothing has looked.
        available_fn=lambda coordinator: (
            coordinator.motion.state.enabled and coordinator.motion.state.analysed
        ),
        attributes_fn=lambda coordinator: {
            "regions": [box.as_list() for box in coordinator.motion.state.regions]
        },
    ),
    HomeGuardianBinarySensorDescription(
        key="being_watched",
        translation_key="being_watched",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        is_on_fn=lambda coordinator: coordinator.viewers > 0,
        # People in the room must be told even while the camera reconnects.
        always_available=True,
    ),
)


@dataclass(frozen=True, kw_only=True)
class GuardianBinarySensorDescription(BinarySensorEntityDescription):
    """Describe a guardian binary sensor."""

    is_on_fn: Callable[[GuardianSnapshot], bool]
    attributes_fn: Callable[[GuardianSnapshot], dict[str, Any]] | None = None


GUARDIAN_BINARY_SENSORS: tuple[GuardianBinarySensorDescription, ...] = (
    GuardianBinarySensorDescription(
        key="inactivity",
        translation_key="inactivity",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda snapshot: snapshot.alert is Alert.INACTIVITY,
        attributes_fn=lambda snapshot: {
            "level": snapshot.level if snapshot.alert is Alert.INACTIVITY else 0,
            "reason": snapshot.reason.value
            if snapshot.reason and snapshot.alert is Alert.INACTIVITY
            else None,
            "since": snapshot.alert_since.isoformat()
            if snapshot.alert_since and snapshot.alert is Alert.INACTIVITY
            else None,
            # The area of a presence alert in one room: where to look first.
            "room": snapshot.alert_room_name if snapshot.alert is Alert.INACTIVITY else None,
            "area_id": snapshot.alert_room if snapshot.alert is Alert.INACTIVITY else None,
        },
    ),
    GuardianBinarySensorDescription(
        key="cannot_monitor",
        translation_key="cannot_monitor",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda snapshot: snapshot.alert is Alert.CANNOT_MONITOR,
        attributes_fn=lambda snapshot: {
            "blind_sources": sorted(
                source for source, seeing in snapshot.sources.items() if not seeing
            )
        },
    ),
    GuardianBinarySensorDescription(
        key="alarm",
        translation_key="alarm",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda snapshot: snapshot.alert is Alert.ALARM,
        attributes_fn=lambda snapshot: {
            "level": snapshot.level if snapshot.alert is Alert.ALARM else 0,
            "since": snapshot.alert_since.isoformat()
            if snapshot.alert_since and snapshot.alert is Alert.ALARM
            else None,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeGuardianConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of a camera or of a guardian."""
    runtime = entry.runtime_data
    if isinstance(runtime, GuardianCoordinator):
        async_add_entities(
            GuardianBinarySensor(runtime, description) for description in GUARDIAN_BINARY_SENSORS
        )
        return
    async_add_entities(
        HomeGuardianBinarySensor(runtime, description) for description in BINARY_SENSORS
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


class GuardianBinarySensor(GuardianEntity, BinarySensorEntity):
    """An alert of a guardian."""

    entity_description: GuardianBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return whether the alert is open."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the alert's details."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)

"""The base entities of Home Guardian's devices: a camera, or a guardian watching over a home."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CameraCoordinator
from .guardian import GuardianCoordinator


class HomeGuardianEntity(CoordinatorEntity[CameraCoordinator]):
    """An entity of one camera device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CameraCoordinator, description: EntityDescription) -> None:
        """Tie the entity to its camera's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Home Guardian",
            model="Network camera",
        )


class GuardianEntity(CoordinatorEntity[GuardianCoordinator]):
    """An entity of one guardian, shown as a service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: GuardianCoordinator, description: EntityDescription) -> None:
        """Tie the entity to its guardian's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Home Guardian",
            model="Inactivity guardian",
            entry_type=DeviceEntryType.SERVICE,
        )

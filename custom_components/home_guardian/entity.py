"""The base entities of Home Guardian's devices: a camera, or a guardian watching over a home."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CameraCoordinator
from .guardian import GuardianCoordinator


class _DeviceEntity[CoordinatorT: CameraCoordinator | GuardianCoordinator](
    CoordinatorEntity[CoordinatorT]
):
    """An entity of the one device that its config entry stands for."""

    _attr_has_entity_name = True
    _model: str
    _entry_type: DeviceEntryType | None = None

    def __init__(self, coordinator: CoordinatorT, description: EntityDescription) -> None:
        """Tie the entity to its entry's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Home Guardian",
            model=self._model,
            entry_type=self._entry_type,
        )


class HomeGuardianEntity(_DeviceEntity[CameraCoordinator]):
    """An entity of one camera device."""

    _model = "Network camera"


class GuardianEntity(_DeviceEntity[GuardianCoordinator]):
    """An entity of one guardian, shown as a service device."""

    _model = "Inactivity guardian"
    _entry_type = DeviceEntryType.SERVICE

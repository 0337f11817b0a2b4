"""Tests for the camera's sensors."""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import state_of, wait_for

LAST_FRAME = "sensor.living_room_last_frame"


async def test_last_frame_disabled_by_default_and_recent(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The last frame sensor is off by default; enabled, it tells when the last picture came."""
    entity = entity_registry.async_get(LAST_FRAME)
    assert entity is not None
    assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    entity_registry.async_update_entity(LAST_FRAME, disabled_by=None)
    await hass.config_entries.async_reload(rtsp_entry.entry_id)
    # Setup does not wait for the camera: the sensor has a value once pictures arrive.
    await wait_for(lambda: state_of(hass, LAST_FRAME) not in {"unknown", "unavailable"})
    value = datetime.fromisoformat(hass.states.get(LAST_FRAME).state)
    assert abs((dt_util.utcnow() - value).total_seconds()) < 10

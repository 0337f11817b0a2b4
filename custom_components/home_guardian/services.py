"""The integration's actions: acknowledging a guardian's alert (and sharing, where enabled)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN, SERVICE_ACKNOWLEDGE
from .guardian import GuardianCoordinator

ACKNOWLEDGE_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_ACKNOWLEDGE, _async_acknowledge, schema=ACKNOWLEDGE_SCHEMA
    )


def guardian_of(hass: HomeAssistant, entry_id: str) -> GuardianCoordinator:
    """Return the running guardian of a config entry, or raise a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="guardian_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED or not isinstance(
        entry.runtime_data, GuardianCoordinator
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="guardian_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry.runtime_data


async def _async_acknowledge(call: ServiceCall) -> None:
    """Take "I'm OK / handled" for a guardian's alert."""
    guardian_of(call.hass, call.data[ATTR_CONFIG_ENTRY_ID]).async_acknowledge()

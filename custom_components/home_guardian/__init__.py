"""Home Guardian: home cameras, local motion, an inactivity guardian and privacy-first sharing."""

from __future__ import annotations

from homeassistant.const import CONF_PASSWORD, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed

from .const import CONF_MOTION_DETECTION, DEFAULT_MOTION_DETECTION, DOMAIN, LIVE_OPTIONS
from .coordinator import CameraCoordinator, HomeGuardianConfigEntry
from .credentials import UnsealError, async_get_cipher, unseal

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.CAMERA, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> bool:
    """Connect to the camera and set up its entities."""
    try:
        password = unseal(await async_get_cipher(hass), entry.data.get(CONF_PASSWORD, ""))
    except UnsealError as err:
        # The key that sealed the password is gone (a partial restore): ask for it again.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    coordinator = CameraCoordinator(hass, entry, password)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> bool:
    """Unload the entities and stop reading the camera."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded


async def _async_options_updated(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> None:
    """Apply switched motion detection at once; reload for any other change of options."""
    runtime = entry.runtime_data
    changed = {
        key
        for key in {*entry.options, *runtime.loaded_options}
        if entry.options.get(key) != runtime.loaded_options.get(key)
    }
    if changed <= LIVE_OPTIONS:
        runtime.loaded_options = dict(entry.options)
        runtime.motion.set_enabled(
            bool(entry.options.get(CONF_MOTION_DETECTION, DEFAULT_MOTION_DETECTION))
        )
        return
    await hass.config_entries.async_reload(entry.entry_id)

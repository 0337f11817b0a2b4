"""Home Guardian: home cameras, local motion, an inactivity guardian and privacy-first sharing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from homeassistant.const import CONF_PASSWORD, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_KIND,
    CONF_LIVE_VIEW,
    DEFAULT_LIVE_VIEW,
    DOMAIN,
    KIND_CAMERA,
    KIND_GUARDIAN,
    LIVE_OPTIONS,
)
from .coordinator import (
    CAMERA_ISSUES,
    CameraConfigEntry,
    CameraCoordinator,
    HomeGuardianConfigEntry,
)
from .credentials import (
    KeyUnavailableError,
    UnsealError,
    async_get_cipher,
    async_remove_key,
    is_sealed,
    unseal,
)
from .guardian import GuardianConfigEntry, GuardianCoordinator, async_remove_guardian_data
from .services import async_setup_services
from .share_views import async_register_share_views
from .sharing import (
    SHARING,
    SharingManager,
    async_forget_camera_shares,
    async_get_sharing,
    async_remove_share_file,
)

PLATFORMS: dict[str, list[Platform]] = {
    KIND_CAMERA: [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.CAMERA,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
    KIND_GUARDIAN: [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SELECT, Platform.SENSOR],
}
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
# Options whose absence means these values, so that saving the defaults does not reload.
OPTION_DEFAULTS: dict[str, Any] = {CONF_LIVE_VIEW: DEFAULT_LIVE_VIEW}
# Expired shares are forgotten this often; they stop working at their expiry regardless.
PURGE_INTERVAL = timedelta(hours=1)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Load the shares, register the viewer's pages and the actions, loaded entries or not."""
    sharing = hass.data[SHARING] = SharingManager(hass)
    await sharing.async_load()
    async_register_share_views(hass)
    async_track_time_interval(
        hass, callback(lambda _: sharing.purge()), PURGE_INTERVAL, cancel_on_shutdown=True
    )
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> bool:
    """Set up a camera or a guardian and its entities."""
    kind = entry.data.get(CONF_KIND, KIND_CAMERA)
    if kind == KIND_GUARDIAN:
        guardian = GuardianCoordinator(hass, entry)  # type: ignore[arg-type]
        entry.runtime_data = guardian
        await guardian.async_start()
    else:
        entry.runtime_data = await _async_start_camera(hass, entry)  # type: ignore[arg-type]
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS[kind])
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_start_camera(hass: HomeAssistant, entry: CameraConfigEntry) -> CameraCoordinator:
    """Connect to the camera with its unsealed password."""
    stored = entry.data.get(CONF_PASSWORD, "")
    try:
        # Only a sealed password needs the key file, so cameras without one never depend on it.
        password = unseal(await async_get_cipher(hass), stored) if is_sealed(stored) else stored
    except KeyUnavailableError as err:
        # The key file is kept for a backup to replace; a new password could not be sealed now.
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="key_store_unreadable"
        ) from err
    except UnsealError as err:
        # The key that sealed the password is gone (a partial restore): ask for it again.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    coordinator = CameraCoordinator(hass, entry, password)
    coordinator.async_start()
    async_get_sharing(hass).follow_sharing(coordinator)
    return coordinator


async def async_unload_entry(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> bool:
    """Unload the entities, then stop reading the camera or save the guardian."""
    kind = entry.data.get(CONF_KIND, KIND_CAMERA)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS[kind])
    if unloaded:
        runtime = entry.runtime_data
        if isinstance(runtime, GuardianCoordinator):
            await runtime.async_save()
        else:
            async_get_sharing(hass).close_broadcast(entry.entry_id)
            await runtime.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> None:
    """Delete what a removed camera or guardian kept; with the last entry, the shared files too."""
    if entry.data.get(CONF_KIND, KIND_CAMERA) == KIND_CAMERA:
        # Its shares end with it: their links must not outlive the camera.
        await async_forget_camera_shares(hass, entry.entry_id)
        for issue in CAMERA_ISSUES:
            ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
    else:
        await async_remove_guardian_data(hass, entry.entry_id)
    # Disabled entries count: a disabled camera's password still needs the key.
    others = [
        other
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.entry_id != entry.entry_id
    ]
    if not others:
        await async_remove_key(hass)
        await async_remove_share_file(hass)


async def _async_options_updated(hass: HomeAssistant, entry: HomeGuardianConfigEntry) -> None:
    """Apply motion options at once; reload for any other change of options."""
    runtime = entry.runtime_data
    if isinstance(runtime, CameraCoordinator):
        changed = {
            key
            for key in {*entry.options, *runtime.loaded_options}
            if _effective(entry.options, key) != _effective(runtime.loaded_options, key)
        }
        if changed <= LIVE_OPTIONS:
            runtime.loaded_options = dict(entry.options)
            runtime.apply_options(entry.options)
            async_get_sharing(hass).follow_sharing(runtime)
            runtime.async_update_listeners()
            return
    await hass.config_entries.async_reload(entry.entry_id)


def _effective(options: Mapping[str, Any], key: str) -> Any:
    """Return an option as it acts: the form's first save writes defaults that change nothing."""
    value = options.get(key)
    return OPTION_DEFAULTS.get(key) if value is None or value == "" else value


__all__ = ["GuardianConfigEntry"]

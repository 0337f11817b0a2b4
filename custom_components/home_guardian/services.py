"""The integration's actions: acknowledging a guardian's alert, and sharing cameras."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_SHARING,
    DOMAIN,
    SERVICE_ACKNOWLEDGE,
    SERVICE_CREATE_SHARE,
    SERVICE_LIST_SHARES,
    SERVICE_RESUME_SHARE,
    SERVICE_REVOKE_SHARE,
)
from .coordinator import CameraCoordinator
from .engine.privacy import PrivacyLevel
from .engine.shares import Share, ShareError
from .engine.watermark import share_code
from .guardian import GuardianCoordinator
from .share_views import PAGE_URL
from .sharing import ShareStoreError, SharingManager, async_get_sharing

ACKNOWLEDGE_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
CREATE_SHARE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_ENTITY_ID): cv.entity_id,
        vol.Required("viewer_name"): cv.string,
        vol.Exclusive("duration", "end"): cv.positive_time_period,
        vol.Exclusive("expires_at", "end"): cv.datetime,
        vol.Optional("schedule"): vol.All(cv.ensure_list, [dict]),
        vol.Optional("privacy", default=PrivacyLevel.PEOPLE.value): vol.In(
            [level.value for level in PrivacyLevel]
        ),
        vol.Optional("home_network", default=False): cv.boolean,
    }
)
SHARE_ID_SCHEMA = vol.Schema({vol.Required("share_id"): cv.string})
LIST_SHARES_SCHEMA = vol.Schema({vol.Optional(ATTR_ENTITY_ID): cv.entity_id})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_ACKNOWLEDGE, _async_acknowledge, schema=ACKNOWLEDGE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_SHARE,
        _async_create_share,
        schema=CREATE_SHARE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REVOKE_SHARE,
        _async_revoke_share,
        schema=SHARE_ID_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_RESUME_SHARE,
        _async_resume_share,
        schema=SHARE_ID_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_SHARES,
        _async_list_shares,
        schema=LIST_SHARES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def guardian_of(hass: HomeAssistant, entry_id: str) -> GuardianCoordinator:
    """Return the running guardian of a config entry, or raise a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("guardian_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED or not isinstance(
        entry.runtime_data, GuardianCoordinator
    ):
        raise _invalid("guardian_not_loaded", name=entry.title)
    return entry.runtime_data


def camera_of(hass: HomeAssistant, entity_id: str) -> CameraCoordinator:
    """Return the running camera behind a Home Guardian camera entity, or raise."""
    registered = er.async_get(hass).async_get(entity_id)
    entry = (
        hass.config_entries.async_get_entry(registered.config_entry_id)
        if registered is not None
        and registered.platform == DOMAIN
        and registered.config_entry_id is not None
        else None
    )
    if entry is None or registered is None or registered.domain != "camera":
        raise _invalid("not_a_camera", entity_id=entity_id)
    runtime = getattr(entry, "runtime_data", None)
    if entry.state is not ConfigEntryState.LOADED or not isinstance(runtime, CameraCoordinator):
        raise _invalid("camera_not_loaded", name=entry.title)
    return runtime


async def _async_acknowledge(call: ServiceCall) -> None:
    """Take "I'm OK / handled" for a guardian's alert."""
    guardian_of(call.hass, call.data[ATTR_CONFIG_ENTRY_ID]).async_acknowledge()


async def _async_create_share(call: ServiceCall) -> ServiceResponse:
    """Create a share of a camera whose owner allowed sharing; return its link and PIN once."""
    hass = call.hass
    camera = camera_of(hass, call.data[ATTR_ENTITY_ID])
    entry = camera.config_entry
    if not entry.options.get(CONF_SHARING, False):
        raise _invalid("sharing_not_allowed", name=entry.title)
    if "duration" not in call.data and "expires_at" not in call.data:
        raise _invalid("share_needs_end")
    expires_at: datetime | None = call.data.get("expires_at")
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt_util.get_default_time_zone())
    duration: timedelta | None = call.data.get("duration")
    # Before anything is made: a share without a link the viewer can use is no share.
    base_url = _base_url(hass, home_network=call.data["home_network"])
    sharing = async_get_sharing(hass)
    try:
        share, token, pin = await hass.async_add_executor_job(
            lambda: sharing.registry.create(
                camera=entry.entry_id,
                viewer_name=call.data["viewer_name"],
                now=dt_util.utcnow(),
                expires_at=expires_at,
                duration=duration,
                schedule=call.data.get("schedule"),
                time_zone=hass.config.time_zone,
                privacy=call.data["privacy"],
            )
        )
    except ShareError as err:
        raise _invalid(err.translation_key) from None
    # A link and PIN are handed out only for a share that will still work after a restart.
    try:
        await sharing.async_save()
    except ShareStoreError:
        sharing.registry.remove(share.share_id)
        raise _not_saved(sharing, "share_not_saved") from None
    if share.privacy is not PrivacyLevel.NONE:
        sharing.async_ensure_faces()
    # The response goes to the caller only: Home Assistant records the call, not its answer.
    return {
        "share_id": share.share_id,
        **sharing.camera_names(share),
        "viewer_name": share.viewer_name,
        "url": f"{base_url}{PAGE_URL}#{token}",
        "pin": pin,
        "expires_at": share.expires_at.isoformat(),
        "code": share_code(share.share_id),
    }


def _base_url(hass: HomeAssistant, *, home_network: bool) -> str:
    """Return the HTTPS address outsiders reach Home Assistant at, or the home one if asked.

    A viewer is outside the home by definition: a LAN address would not open for them, and
    plain HTTP would carry their PIN and session in clear text. So without an HTTPS external
    URL (your own, or Home Assistant Cloud's) the owner is told how to set one, unless they
    ask for a link that works only at home.
    """
    try:
        if home_network:
            return get_url(hass, allow_external=False, allow_cloud=False)
        return get_url(hass, allow_internal=False, require_ssl=True, allow_cloud=True)
    except NoURLAvailableError:
        raise _invalid("no_home_url" if home_network else "no_https_url") from None


def _public(hass: HomeAssistant, share: Share) -> dict[str, Any]:
    """Return a share as the owner sees it: its camera by name and entity id, no hashes."""
    sharing = async_get_sharing(hass)
    return {**share.public(), **sharing.camera_names(share)}


async def _async_revoke_share(call: ServiceCall) -> ServiceResponse:
    """Revoke a share for good; its open streams close at once."""
    return await _async_decide(call, resume=False)


async def _async_resume_share(call: ServiceCall) -> ServiceResponse:
    """Let a reported, suspended share work again: the owner's decision."""
    return await _async_decide(call, resume=True)


async def _async_decide(call: ServiceCall, *, resume: bool) -> ServiceResponse:
    """Apply and write the owner's decision; tell them when it lasts only until a restart."""
    sharing = async_get_sharing(call.hass)
    try:
        share = await sharing.async_decide(call.data["share_id"], resume=resume)
    except ShareError as err:
        raise _invalid(err.translation_key) from None
    except ShareStoreError:
        raise _not_saved(sharing, "share_change_not_saved") from None
    return _public(call.hass, share)


def _not_saved(sharing: SharingManager, key: str) -> HomeAssistantError:
    """Return the translated error for shares that could not be written."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"path": sharing.store_path},
    )


async def _async_list_shares(call: ServiceCall) -> ServiceResponse:
    """List shares, never with a token or PIN, for one camera or all."""
    sharing = async_get_sharing(call.hass)
    sharing.purge()
    camera = None
    if ATTR_ENTITY_ID in call.data:
        camera = camera_of(call.hass, call.data[ATTR_ENTITY_ID]).config_entry.entry_id
    shares: list[JsonValueType] = [
        _public(call.hass, share)
        for share in sharing.registry.shares()
        if camera is None or share.camera == camera
    ]
    return {"shares": shares}

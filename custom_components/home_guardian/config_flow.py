"""Set up a camera from the UI: the flow connects for real and shows what the camera sees."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
from typing import Any

from aiohttp import web
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_ANALYSIS_FPS,
    CONF_IGNORE_ZONES,
    CONF_LIVE_VIEW,
    CONF_MIN_OBJECT_SIZE,
    CONF_MOTION_DETECTION,
    CONF_ONLY_ZONES,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    CONF_SUBSTREAM_URL,
    DEFAULT_ANALYSIS_FPS,
    DEFAULT_LIVE_VIEW,
    DEFAULT_MIN_OBJECT_SIZE,
    DEFAULT_MOTION_DETECTION,
    DEFAULT_SENSITIVITY,
    DOMAIN,
    LIVE_VIEW_FRAMES,
    LIVE_VIEW_STREAM,
    PROBE_TIMEOUT,
)
from .credentials import UnsealError, async_get_cipher, seal, unseal
from .engine.frame_source import StreamError, grab_frame
from .engine.frames import encode_jpeg
from .engine.geometry import draw_zones
from .engine.urls import InvalidUrlError, StreamAddress, parse_camera_url
from .motion import parse_zones

URL_FIELDS = (CONF_STREAM_URL, CONF_SUBSTREAM_URL, CONF_SNAPSHOT_URL)
PREVIEWS = f"{DOMAIN}_previews"
PREVIEW_URL = "/api/home_guardian/preview/{flow_id}"

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))

CAMERA_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): _TEXT,
        vol.Required(CONF_STREAM_URL): _URL,
        vol.Optional(CONF_SUBSTREAM_URL): _URL,
        vol.Optional(CONF_SNAPSHOT_URL): _URL,
        vol.Optional(CONF_USERNAME): _TEXT,
        vol.Optional(CONF_PASSWORD): _PASSWORD,
    }
)
_ZONES = TextSelector(TextSelectorConfig(multiline=True))
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_LIVE_VIEW, default=DEFAULT_LIVE_VIEW): SelectSelector(
            SelectSelectorConfig(
                options=[LIVE_VIEW_STREAM, LIVE_VIEW_FRAMES],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_LIVE_VIEW,
            )
        ),
        vol.Required(CONF_MOTION_DETECTION, default=DEFAULT_MOTION_DETECTION): BooleanSelector(),
        vol.Required(CONF_SENSITIVITY, default=DEFAULT_SENSITIVITY): vol.All(
            NumberSelector(
                NumberSelectorConfig(min=0, max=100, step=1, mode=NumberSelectorMode.SLIDER)
            ),
            vol.Coerce(int),
        ),
        vol.Required(CONF_MIN_OBJECT_SIZE, default=DEFAULT_MIN_OBJECT_SIZE): NumberSelector(
            NumberSelectorConfig(
                min=0.01, max=10, step=0.01, unit_of_measurement="%", mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_ANALYSIS_FPS, default=DEFAULT_ANALYSIS_FPS): NumberSelector(
            NumberSelectorConfig(min=0.5, max=10, step=0.5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_IGNORE_ZONES): _ZONES,
        vol.Optional(CONF_ONLY_ZONES): _ZONES,
    }
)
CREDENTIALS_SCHEMA = vol.Schema(
    {vol.Optional(CONF_USERNAME): _TEXT, vol.Optional(CONF_PASSWORD): _PASSWORD}
)


def stream_fingerprint(stream_url: str) -> str:
    """Return a stable id for a camera that does not keep its URL, which may hold secrets."""
    return hashlib.sha256(stream_url.encode()).hexdigest()[:24]


def normalise_camera_input(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the URLs, move credentials typed into them into their own fields."""
    data: dict[str, Any] = {
        CONF_USERNAME: (user_input.get(CONF_USERNAME) or "").strip(),
        CONF_PASSWORD: user_input.get(CONF_PASSWORD) or "",
    }
    errors: dict[str, str] = {}
    for field in URL_FIELDS:
        raw = (user_input.get(field) or "").strip()
        if not raw:
            continue
        try:
            address = parse_camera_url(raw)
        except InvalidUrlError as err:
            errors[field] = err.reason
            continue
        data[field] = address.url
        if address.username and not data[CONF_USERNAME]:
            data[CONF_USERNAME] = address.username
            data[CONF_PASSWORD] = data[CONF_PASSWORD] or address.password or ""
    return data, errors


def probe_camera(data: Mapping[str, Any]) -> bytes:
    """Grab a frame from every configured URL and return the preview JPEG; raise StreamError."""
    username, password = data.get(CONF_USERNAME) or None, data.get(CONF_PASSWORD) or None
    preview: bytes | None = None
    for field in URL_FIELDS:
        if url := data.get(field):
            frame, _ = grab_frame(
                StreamAddress(url=url, username=username, password=password), timeout=PROBE_TIMEOUT
            )
            preview = preview or frame.jpeg()
    assert preview is not None  # noqa: S101 - the stream URL is required
    return preview


class HomeGuardianConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a camera, and later change or re-authenticate it."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing probed."""
        self._data: dict[str, Any] = {}
        self._title = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return HomeGuardianOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the camera's URLs and credentials, and connect to it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = normalise_camera_input(user_input)
            if not errors:
                await self.async_set_unique_id(stream_fingerprint(data[CONF_STREAM_URL]))
                self._abort_if_unique_id_configured()
                errors = await self._async_probe(data)
            if not errors:
                self._data = data
                self._title = user_input[CONF_NAME].strip() or data[CONF_STREAM_URL]
                return await self.async_step_confirm()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(CAMERA_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what the camera sees before adding it."""
        if user_input is not None:
            self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)
            return self.async_create_entry(
                title=self._title, data=await self._async_sealed(self._data)
            )
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "name": self._title,
                "preview": PREVIEW_URL.format(flow_id=self.flow_id),
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a camera's URLs or credentials, keeping its entities and history."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = normalise_camera_input(user_input)
            if not errors:
                unique_id = stream_fingerprint(data[CONF_STREAM_URL])
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                errors = await self._async_probe(data)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    title=user_input[CONF_NAME].strip(),
                    data=await self._async_sealed(data),
                )
        suggested = user_input or {
            CONF_NAME: entry.title,
            **entry.data,
            CONF_PASSWORD: await self._async_stored_password(entry),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(CAMERA_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for new credentials after the camera refused the old ones."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new credentials against the camera."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                **entry.data,
                CONF_USERNAME: (user_input.get(CONF_USERNAME) or "").strip(),
                CONF_PASSWORD: user_input.get(CONF_PASSWORD) or "",
            }
            errors = await self._async_probe(data)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data=await self._async_sealed(data)
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA, {CONF_USERNAME: entry.data.get(CONF_USERNAME)}
            ),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def _async_sealed(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return entry data with the password sealed for storage."""
        cipher = await async_get_cipher(self.hass)
        return {**data, CONF_PASSWORD: seal(cipher, data.get(CONF_PASSWORD, ""))}

    async def _async_stored_password(self, entry: ConfigEntry) -> str:
        """Return an entry's password for its form; one that cannot be opened shows empty."""
        try:
            return unseal(await async_get_cipher(self.hass), entry.data.get(CONF_PASSWORD, ""))
        except UnsealError:
            return ""

    async def _async_probe(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Connect to the camera in a worker thread; keep the preview or return the error."""
        try:
            preview = await self.hass.async_add_executor_job(probe_camera, data)
        except StreamError as err:
            return {"base": str(err.problem)}
        _async_register_preview_view(self.hass)
        self.hass.data.setdefault(PREVIEWS, {})[self.flow_id] = preview
        return {}

    @callback
    def async_remove(self) -> None:
        """Drop the preview when the flow ends in any way."""
        self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)


class HomeGuardianOptionsFlow(OptionsFlow):
    """Change how a camera is shown and how it detects motion."""

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; zones are checked, and shown over the picture before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {**self.config_entry.options, **user_input}
            for field in (CONF_IGNORE_ZONES, CONF_ONLY_ZONES):
                options.setdefault(field, "")
                try:
                    parse_zones(options[field])
                except ValueError:
                    errors[field] = "invalid_zones"
            if not errors:
                self._options = options
                if options[CONF_IGNORE_ZONES].strip() or options[CONF_ONLY_ZONES].strip():
                    return await self.async_step_zones()
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_zones(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the zones over what the camera sees now, and save them when confirmed."""
        if user_input is not None:
            self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)
            return self.async_create_entry(data=self._options)
        preview = await self._async_zone_preview()
        if preview is None:
            # Nothing to draw on while the camera is away; the zones were checked already.
            return self.async_create_entry(data=self._options)
        _async_register_preview_view(self.hass)
        self.hass.data[PREVIEWS][self.flow_id] = preview
        return self.async_show_form(
            step_id="zones",
            description_placeholders={"preview": PREVIEW_URL.format(flow_id=self.flow_id)},
        )

    async def _async_zone_preview(self) -> bytes | None:
        """Return a JPEG of the camera's latest frame with the zones drawn over it."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        frame = entry.runtime_data.fresh_frame()
        if frame is None:
            return None
        ignore = parse_zones(self._options[CONF_IGNORE_ZONES])
        only = parse_zones(self._options[CONF_ONLY_ZONES])
        return await self.hass.async_add_executor_job(
            lambda: encode_jpeg(draw_zones(frame.rgb(), ignore, only))
        )

    @callback
    def async_remove(self) -> None:
        """Drop the preview when the flow ends in any way."""
        self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)


@callback
def _async_register_preview_view(hass: HomeAssistant) -> None:
    """Register the preview view once; it serves only pictures of flows in progress."""
    if PREVIEWS not in hass.data:
        hass.data[PREVIEWS] = {}
        hass.http.register_view(CameraPreviewView())


class CameraPreviewView(HomeAssistantView):
    """Serve the picture a flow grabbed, so the user sees the camera before adding it."""

    url = PREVIEW_URL
    name = "api:home_guardian:preview"
    # An <img> in the flow cannot send a bearer token; the flow id, random and short-lived,
    # is the secret, as in Home Assistant's own generic camera preview.
    requires_auth = False

    async def get(self, request: web.Request, flow_id: str) -> web.Response:
        """Return the preview JPEG of a flow in progress, or 404."""
        preview = request.app[KEY_HASS].data.get(PREVIEWS, {}).get(flow_id)
        if preview is None:
            return web.Response(status=404)
        return web.Response(
            body=preview, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )

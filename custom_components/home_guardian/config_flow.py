"""Set up a camera from the UI: the flow connects for real and shows what the camera sees."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
from typing import Any, Final

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
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
import voluptuous as vol

from .camera_source import async_probe_source, async_source_error, async_stored_source
from .const import (
    CONF_ACTIVE_END,
    CONF_ACTIVE_START,
    CONF_ALARM_LEVEL,
    CONF_ALARM_SOURCES,
    CONF_ANALYSIS_FPS,
    CONF_BLIND_GRACE_MINUTES,
    CONF_CAMERA_ENTITY,
    CONF_ESCALATE_AFTER_MINUTES,
    CONF_EXPECTED_BY,
    CONF_IGNORE_ZONES,
    CONF_INACTIVITY_MINUTES,
    CONF_KIND,
    CONF_LEARN,
    CONF_LIVE_VIEW,
    CONF_MIN_OBJECT_SIZE,
    CONF_MOTION_DETECTION,
    CONF_NIGHT_INACTIVITY_MINUTES,
    CONF_ONLY_ZONES,
    CONF_PICTURES_PER_SECOND,
    CONF_PRESENCE_LIMIT_MINUTES,
    CONF_PRIVACY_ZONES,
    CONF_READ_MODE,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_SOURCE_KINDS,
    CONF_SOURCES,
    CONF_STREAM_URL,
    CONF_SUBSTREAM_URL,
    CONF_VISITORS_FACTOR,
    DEFAULT_ANALYSIS_FPS,
    DEFAULT_LIVE_VIEW,
    DEFAULT_MIN_OBJECT_SIZE,
    DEFAULT_MOTION_DETECTION,
    DEFAULT_PICTURES_PER_SECOND,
    DEFAULT_SENSITIVITY,
    DOMAIN,
    KIND_CAMERA,
    KIND_GUARDIAN,
    LIVE_VIEW_FRAMES,
    LIVE_VIEW_STREAM,
    PROBE_TIMEOUT,
    READ_PICTURES,
)
from .coordinator import HomeGuardianConfigEntry
from .credentials import UnsealError, async_get_cipher, seal, unseal
from .engine.config import GuardianConfigError
from .engine.errors import Problem
from .engine.frame_source import StreamError, grab_frame
from .engine.frames import encode_jpeg
from .engine.geometry import draw_zones
from .engine.sources import Kind
from .engine.urls import InvalidUrlError, StreamAddress, parse_camera_url, stream_identity
from .guardian import derived_kind, guardian_config, source_area
from .motion import parse_zones

URL_FIELDS = (CONF_STREAM_URL, CONF_SUBSTREAM_URL, CONF_SNAPSHOT_URL)
# The optional URLs, each told on its own field with its own words when it cannot be read: the
# main stream then works, so a form-wide error would send the owner looking in the wrong place.
OPTIONAL_URL_ERROR_PREFIXES: Final = {
    CONF_SUBSTREAM_URL: "substream",
    CONF_SNAPSHOT_URL: "snapshot",
}
# The menu's choice of a camera Home Assistant already has, and its step.
CAMERA_ENTITY_STEP = "camera_entity"
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
        vol.Optional(CONF_PRIVACY_ZONES): _ZONES,
    }
)
ZONE_FIELDS = (CONF_IGNORE_ZONES, CONF_ONLY_ZONES, CONF_PRIVACY_ZONES)
# Cameras read by pictures take them at the owner's pace.
PICTURES_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PICTURES_PER_SECOND, default=DEFAULT_PICTURES_PER_SECOND): NumberSelector(
            NumberSelectorConfig(min=0.1, max=5, step=0.1, mode=NumberSelectorMode.BOX)
        )
    }
)
# Sources a guardian can follow: anything whose changes show that someone is up and about.
SOURCE_DOMAINS = [
    "binary_sensor",
    "button",
    "cover",
    "event",
    "input_boolean",
    "light",
    "lock",
    "media_player",
    "sensor",
    "switch",
]
# Sources that can call for help: a fall detector, an SOS button, a helper toggled by a phone.
ALARM_DOMAINS = ["binary_sensor", "event", "input_boolean"]
_MINUTES = NumberSelectorConfig(
    min=1, max=10080, step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX
)
GUARDIAN_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOURCES): EntitySelector(
            EntitySelectorConfig(domain=SOURCE_DOMAINS, multiple=True)
        ),
        vol.Required(CONF_ACTIVE_START, default="07:00:00"): TimeSelector(),
        vol.Required(CONF_ACTIVE_END, default="22:00:00"): TimeSelector(),
        vol.Required(CONF_INACTIVITY_MINUTES, default=180): NumberSelector(_MINUTES),
        vol.Required(CONF_NIGHT_INACTIVITY_MINUTES, default=720): NumberSelector(_MINUTES),
        vol.Optional(CONF_EXPECTED_BY): TextSelector(TextSelectorConfig(multiple=True)),
        vol.Optional(CONF_ESCALATE_AFTER_MINUTES): TextSelector(TextSelectorConfig(multiple=True)),
        vol.Required(CONF_LEARN, default=True): BooleanSelector(),
        vol.Required(CONF_BLIND_GRACE_MINUTES, default=15): NumberSelector(
            NumberSelectorConfig(
                min=0, max=1440, step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_VISITORS_FACTOR, default=2): NumberSelector(
            NumberSelectorConfig(min=1, max=10, step=0.5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_ALARM_SOURCES): EntitySelector(
            EntitySelectorConfig(domain=ALARM_DOMAINS, multiple=True)
        ),
        vol.Required(CONF_ALARM_LEVEL, default=2): NumberSelector(
            NumberSelectorConfig(min=1, max=9, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_PRESENCE_LIMIT_MINUTES, default=0): NumberSelector(
            NumberSelectorConfig(
                min=0, max=1440, step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX
            )
        ),
    }
)
# The kinds an owner may give an activity source; alarms are chosen in their own field.
ACTIVITY_KINDS = [Kind.MOTION.value, Kind.PRESENCE.value, Kind.CHANGE.value, Kind.LEVEL.value]
GUARDIAN_FIELDS = tuple(str(key) for key in GUARDIAN_SCHEMA.schema)
CREDENTIALS_SCHEMA = vol.Schema(
    {vol.Optional(CONF_USERNAME): _TEXT, vol.Optional(CONF_PASSWORD): _PASSWORD}
)


def stream_fingerprint(stream_url: str) -> str:
    """Return a stable id for a camera that does not keep its URL, which may hold secrets."""
    # Unchanged for a URL already written the one way (every entry's but a default port's).
    return hashlib.sha256(stream_identity(stream_url).encode()).hexdigest()[:24]


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
        if not address.username:
            continue
        if not data[CONF_USERNAME]:
            data[CONF_USERNAME] = address.username
            data[CONF_PASSWORD] = data[CONF_PASSWORD] or address.password or ""
        elif address.username != data[CONF_USERNAME] or (
            address.password and address.password != data[CONF_PASSWORD]
        ):
            # Which of the two is right cannot be told: dropping one would lose what was typed.
            errors[field] = "credentials_twice"
    return data, errors


class CameraUrlError(Exception):
    """A URL of the camera form could not be read: the field it was typed in, and why."""

    def __init__(self, field: str, problem: Problem) -> None:
        """Keep the field and the problem; the URL itself is never part of the message."""
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def probe_camera(data: Mapping[str, Any]) -> bytes:
    """Grab a frame from every configured URL and return the preview JPEG; raise CameraUrlError."""
    username, password = data.get(CONF_USERNAME) or None, data.get(CONF_PASSWORD) or None
    preview: bytes | None = None
    for field in URL_FIELDS:
        if url := data.get(field):
            address = StreamAddress(url=url, username=username, password=password)
            try:
                frame, _ = grab_frame(address, timeout=PROBE_TIMEOUT)
            except StreamError as err:
                raise CameraUrlError(field, err.problem) from err
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
    def async_get_options_flow(config_entry: HomeGuardianConfigEntry) -> OptionsFlow:
        """Return the options flow of a camera or of a guardian."""
        if config_entry.data.get(CONF_KIND) == KIND_GUARDIAN:
            return GuardianOptionsFlow()
        return HomeGuardianOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask whether to add a camera or a guardian."""
        return self.async_show_menu(
            step_id="user", menu_options=[KIND_CAMERA, CAMERA_ENTITY_STEP, KIND_GUARDIAN]
        )

    async def async_step_guardian(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up a guardian: what to watch, and when quiet is worrying."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            self._async_abort_entries_match({CONF_KIND: KIND_GUARDIAN, CONF_NAME: name})
            options, errors = validate_guardian_input(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    title=name, data={CONF_KIND: KIND_GUARDIAN, CONF_NAME: name}, options=options
                )
        return self.async_show_form(
            step_id="guardian",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_NAME): _TEXT}).extend(GUARDIAN_SCHEMA.schema),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the camera's URLs and credentials, and connect to it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = normalise_camera_input(user_input)
            if not errors:
                # A window closed or reloaded mid-flow must not lock the camera out of a retry;
                # when one flow adds the camera, Home Assistant ends the others.
                await self.async_set_unique_id(
                    stream_fingerprint(data[CONF_STREAM_URL]), raise_on_progress=False
                )
                self._abort_if_unique_id_configured()
                self._abort_if_stream_configured(data[CONF_STREAM_URL])
                errors = await self._async_probe(data)
            if not errors:
                self._data = data
                self._title = user_input[CONF_NAME].strip() or data[CONF_STREAM_URL]
                return await self.async_step_confirm()
        return self.async_show_form(
            step_id="camera",
            data_schema=self.add_suggested_values_to_schema(CAMERA_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_camera_entity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which camera Home Assistant already has to read, and read it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_CAMERA_ENTITY]
            stored = async_stored_source(self.hass, entity_id)
            await self.async_set_unique_id(f"camera_entity_{stored}", raise_on_progress=False)
            self._abort_if_unique_id_configured()
            data, errors, cloud = await self._async_probe_entity(entity_id)
            if not errors:
                self._data = data
                state = self.hass.states.get(entity_id)
                self._title = (user_input.get(CONF_NAME) or "").strip() or (
                    state.name if state else entity_id
                )
                # Pictures of a cloud camera already leave the home; the owner should know.
                return await (
                    self.async_step_confirm_cloud() if cloud else self.async_step_confirm()
                )
        return self.async_show_form(
            step_id=CAMERA_ENTITY_STEP,
            data_schema=self.add_suggested_values_to_schema(
                self._camera_entity_schema(), user_input
            ),
            errors=errors,
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what the camera sees before adding it."""
        return await self._async_confirm("confirm", user_input)

    async def async_step_confirm_cloud(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what a cloud camera sees, saying its pictures already pass through a cloud."""
        return await self._async_confirm("confirm_cloud", user_input)

    async def _async_confirm(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Show the preview, and add the camera once the user agrees."""
        if user_input is not None:
            self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)
            return self.async_create_entry(
                title=self._title, data=await self._async_sealed(self._data)
            )
        return self.async_show_form(
            step_id=step_id,
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
        if entry.data.get(CONF_KIND) == KIND_GUARDIAN:
            return await self.async_step_reconfigure_guardian(user_input)
        if CONF_CAMERA_ENTITY in entry.data:
            return await self.async_step_reconfigure_camera_entity(user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = normalise_camera_input(user_input)
            if not errors:
                unique_id = stream_fingerprint(data[CONF_STREAM_URL])
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                self._abort_if_stream_configured(data[CONF_STREAM_URL], entry)
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

    async def async_step_reconfigure_camera_entity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a camera read through an entity, or read another entity instead."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_CAMERA_ENTITY]
            unique_id = f"camera_entity_{async_stored_source(self.hass, entity_id)}"
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            data, errors, _ = await self._async_probe_entity(entity_id)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    title=(user_input.get(CONF_NAME) or "").strip() or entry.title,
                    data={**entry.data, **data},
                )
        registry = er.async_get(self.hass)
        current = er.async_resolve_entity_id(registry, entry.data[CONF_CAMERA_ENTITY])
        return self.async_show_form(
            step_id="reconfigure_camera_entity",
            data_schema=self.add_suggested_values_to_schema(
                self._camera_entity_schema(),
                user_input or {CONF_NAME: entry.title, CONF_CAMERA_ENTITY: current},
            ),
            errors=errors,
        )

    def _camera_entity_schema(self) -> vol.Schema:
        """Return the form of a camera entity source; our own cameras are left out of it."""
        ours = [
            entity.entity_id
            for entity in er.async_get(self.hass).entities.values()
            if entity.platform == DOMAIN and entity.domain == "camera"
        ]
        return vol.Schema(
            {
                vol.Optional(CONF_NAME): _TEXT,
                vol.Required(CONF_CAMERA_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="camera", exclude_entities=ours)
                ),
            }
        )

    async def _async_probe_entity(
        self, entity_id: str
    ) -> tuple[dict[str, Any], dict[str, str], bool]:
        """Read a camera entity as the camera will; return its data, errors and cloudiness."""
        if (error := async_source_error(self.hass, entity_id)) is not None:
            return {}, {CONF_CAMERA_ENTITY: error}, False
        try:
            probe = await async_probe_source(self.hass, entity_id)
        except StreamError as err:
            return {}, {CONF_CAMERA_ENTITY: str(err.problem)}, False
        _async_register_preview_view(self.hass)
        self.hass.data.setdefault(PREVIEWS, {})[self.flow_id] = probe.preview
        data = {
            CONF_CAMERA_ENTITY: async_stored_source(self.hass, entity_id),
            CONF_READ_MODE: probe.mode,
        }
        return data, {}, probe.cloud

    async def async_step_reconfigure_guardian(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a guardian or change what it watches."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            options, errors = validate_guardian_input(self.hass, user_input)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    title=name,
                    data={**entry.data, CONF_NAME: name},
                    # The kinds chosen in the options stay; they are not on this form.
                    options={
                        **options,
                        CONF_SOURCE_KINDS: entry.options.get(CONF_SOURCE_KINDS, {}),
                    },
                )
        return self.async_show_form(
            step_id="reconfigure_guardian",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_NAME): _TEXT}).extend(GUARDIAN_SCHEMA.schema),
                user_input or {CONF_NAME: entry.title, **guardian_form_values(entry.options)},
            ),
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
            # The form asks for credentials only: a URL that fails is told form-wide.
            errors = await self._async_probe(data, on_fields=False)
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

    def _abort_if_stream_configured(
        self, stream_url: str, reconfigured: ConfigEntry | None = None
    ) -> None:
        """Abort if another camera reads the stream, however its URL was written when added."""
        # Ids made before a default port counted as none keep that port: compare the URLs.
        fingerprint = stream_fingerprint(stream_url)
        for entry in self._async_current_entries(include_ignore=False):
            url = entry.data.get(CONF_STREAM_URL)
            if entry is not reconfigured and url and stream_fingerprint(url) == fingerprint:
                raise AbortFlow("already_configured")

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

    async def _async_probe(
        self, data: Mapping[str, Any], *, on_fields: bool = True
    ) -> dict[str, str]:
        """Connect to the camera in a worker thread; keep the preview or return the error."""
        try:
            preview = await self.hass.async_add_executor_job(probe_camera, data)
        except CameraUrlError as err:
            if on_fields and (prefix := OPTIONAL_URL_ERROR_PREFIXES.get(err.field)):
                return {err.field: f"{prefix}_{err.problem}"}
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
            # A zone field emptied in the form is left out of it: the zone is gone, not kept.
            kept = {k: v for k, v in self.config_entry.options.items() if k not in ZONE_FIELDS}
            options = {**kept, **user_input}
            for field in ZONE_FIELDS:
                options.setdefault(field, "")
                try:
                    parse_zones(options[field])
                except ValueError:
                    errors[field] = "invalid_zones"
            if not errors:
                self._options = options
                if any(options[field].strip() for field in ZONE_FIELDS):
                    return await self.async_step_zones()
                return self.async_create_entry(data=options)
        schema = OPTIONS_SCHEMA
        if self.config_entry.data.get(CONF_READ_MODE) == READ_PICTURES:
            schema = schema.extend(PICTURES_SCHEMA.schema)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or self.config_entry.options
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
        ignore, only, private = (parse_zones(self._options[field]) for field in ZONE_FIELDS)
        return await self.hass.async_add_executor_job(
            lambda: encode_jpeg(draw_zones(frame.rgb(), ignore, only, private))
        )

    @callback
    def async_remove(self) -> None:
        """Drop the preview when the flow ends in any way."""
        self.hass.data.get(PREVIEWS, {}).pop(self.flow_id, None)


class GuardianOptionsFlow(OptionsFlow):
    """Change what a guardian watches and when quiet is worrying."""

    _options: dict[str, Any]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start at the guardian's own step, whose texts differ from a camera's options."""
        return await self.async_step_guardian_options(user_input)

    async def async_step_guardian_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the guardian's options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = validate_guardian_input(self.hass, user_input)
            if not errors:
                self._options = options
                return await self.async_step_guardian_kinds()
        return self.async_show_form(
            step_id="guardian_options",
            data_schema=self.add_suggested_values_to_schema(
                GUARDIAN_SCHEMA, user_input or guardian_form_values(self.config_entry.options)
            ),
            errors=errors,
        )

    async def async_step_guardian_kinds(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what each activity source's states mean, and let the owner change it."""
        sources = self._options[CONF_SOURCES]
        derived = {source: derived_kind(self.hass, source).value for source in sources}
        if user_input is not None:
            # Only a choice that differs from what the entity says is kept, so that a sensor
            # given a device class later is read by it.
            self._options[CONF_SOURCE_KINDS] = {
                source: user_input[source]
                for source in sources
                if user_input.get(source, derived[source]) != derived[source]
            }
            return self.async_create_entry(data=self._options)
        chosen = self.config_entry.options.get(CONF_SOURCE_KINDS, {})
        schema = vol.Schema(
            {
                vol.Required(source, default=chosen.get(source, derived[source])): SelectSelector(
                    SelectSelectorConfig(
                        options=ACTIVITY_KINDS,
                        translation_key="source_kind",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
                for source in sources
            }
        )
        # The form labels each field with its entity id; the names say which device that is.
        names = "\n".join(f"- `{source}`: {source_name(self.hass, source)}" for source in sources)
        return self.async_show_form(
            step_id="guardian_kinds",
            data_schema=schema,
            description_placeholders={"sources": names},
        )


def source_name(hass: HomeAssistant, source: str) -> str:
    """Return the name Home Assistant shows for a source, with its area when it has one."""
    state = hass.states.get(source)
    name = state.name if state is not None else source
    area_id = source_area(hass, source)
    area = ar.async_get(hass).async_get_area(area_id) if area_id is not None else None
    return name if area is None else f"{name} ({area.name})"


def validate_guardian_input(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the guardian form into options, or return errors keyed by field."""
    options = {key: user_input[key] for key in GUARDIAN_FIELDS if key in user_input}
    options[CONF_EXPECTED_BY] = [str(item).strip() for item in options.get(CONF_EXPECTED_BY, [])]
    try:
        options[CONF_ESCALATE_AFTER_MINUTES] = [
            float(str(item).strip()) for item in options.get(CONF_ESCALATE_AFTER_MINUTES, [])
        ]
    except ValueError:
        return options, {CONF_ESCALATE_AFTER_MINUTES: "invalid_minutes"}
    if not options.get(CONF_SOURCES):
        return options, {CONF_SOURCES: "no_sources"}
    if CONF_ALARM_LEVEL in options:
        options[CONF_ALARM_LEVEL] = int(options[CONF_ALARM_LEVEL])
    try:
        guardian_config(hass, options)
    except GuardianConfigError as err:
        field = err.option if err.option in GUARDIAN_FIELDS else "base"
        return options, {field: err.key}
    return options, {}


def guardian_form_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return stored options as the form shows them (escalation delays as text)."""
    values = dict(options)
    values[CONF_ESCALATE_AFTER_MINUTES] = [
        f"{minutes:g}" for minutes in options.get(CONF_ESCALATE_AFTER_MINUTES, [])
    ]
    return values


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

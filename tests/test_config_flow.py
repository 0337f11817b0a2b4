"""Tests for the config flow: real cameras, real errors, nothing the user typed lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import hashlib
from http import HTTPStatus
import io
from urllib.parse import quote

from homeassistant import config_entries
from homeassistant.const import CONF_NAME, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, UnknownFlow
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_guardian.config_flow import stream_fingerprint
from custom_components.home_guardian.const import (
    CONF_ANALYSIS_FPS,
    CONF_CAMERA_ENTITY,
    CONF_IGNORE_ZONES,
    CONF_LIVE_VIEW,
    CONF_MIN_OBJECT_SIZE,
    CONF_MOTION_DETECTION,
    CONF_ONLY_ZONES,
    CONF_PICTURES_PER_SECOND,
    CONF_PRIVACY_ZONES,
    CONF_READ_MODE,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    CONF_SUBSTREAM_URL,
    DOMAIN,
    LIVE_VIEW_FRAMES,
    READ_PICTURES,
    READ_STREAM,
)
from custom_components.home_guardian.credentials import async_get_cipher, seal, unseal
from tests.camera_entities import OddCamera, add_generic_camera
from tests.cameras.servers import HttpCamera, MjpegCamera, RtspCamera, SilentServer
from tests.common import CAMERA_PASSWORD, CAMERA_USER, camera_entry, set_up_entry, wait_for

type AddOddCameras = Callable[..., Awaitable[MockConfigEntry]]
ZONE = "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]]]"
ONLY = "[[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]]"


async def _start(hass: HomeAssistant) -> str:
    """Start a user flow and return its id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["camera", "camera_entity", "guardian"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "camera"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera"
    return result["flow_id"]


async def test_user_flow_rtsp_with_preview(
    hass: HomeAssistant,
    rtsp_auth_camera: RtspCamera,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A real RTSP camera is probed, previewed, and saved without credentials in its URL."""
    flow_id = await _start(hass)
    url = rtsp_auth_camera.url.replace("rtsp://", f"rtsp://{CAMERA_USER}:s3cret%20pa$$@")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: " Living room ", CONF_STREAM_URL: url}
    )
    assert result.get("errors") is None
    assert result["step_id"] == "confirm"
    preview_url = result["description_placeholders"]["preview"]
    assert flow_id in preview_url

    client = await hass_client_no_auth()
    response = await client.get(preview_url)
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"] == "image/jpeg"
    assert (await response.read())[:2] == b"\xff\xd8"
    assert (await client.get(preview_url.replace(flow_id, "0" * 32))).status == HTTPStatus.NOT_FOUND

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room"
    assert result["data"][CONF_STREAM_URL] == rtsp_auth_camera.url
    assert result["data"][CONF_USERNAME] == CAMERA_USER
    # The password is stored sealed, never in plain text, and opens with the integration's key.
    stored = result["data"][CONF_PASSWORD]
    assert stored.startswith("sealed:")
    assert CAMERA_PASSWORD not in stored
    assert unseal(await async_get_cipher(hass), stored) == CAMERA_PASSWORD
    # The preview is gone with the flow.
    assert (await client.get(preview_url)).status == HTTPStatus.NOT_FOUND
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_user_flow_wrong_password_keeps_input(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """A refused password is reported precisely and the form keeps what was typed."""
    flow_id = await _start(hass)
    user_input = {
        CONF_NAME: "Hall",
        CONF_STREAM_URL: rtsp_auth_camera.url,
        CONF_USERNAME: CAMERA_USER,
        CONF_PASSWORD: "wrong",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema if key.description}
    assert suggested[CONF_STREAM_URL] == rtsp_auth_camera.url
    assert suggested[CONF_USERNAME] == CAMERA_USER


@pytest.mark.parametrize(
    ("path", "error"),
    [("/nothing-here", "not_found")],
)
async def test_user_flow_wrong_path(
    hass: HomeAssistant, rtsp_camera: RtspCamera, path: str, error: str
) -> None:
    """A stream path the camera does not have is told apart from an unreachable camera."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", CONF_STREAM_URL: rtsp_camera.url.replace("/stream", path)}
    )
    assert result["errors"] == {"base": error}


@pytest.mark.parametrize(
    ("url", "field", "error"),
    [
        ("ftp://camera.local/video", CONF_STREAM_URL, "unsupported_scheme"),
        ("rtsp://", CONF_STREAM_URL, "invalid_url"),
        ("rtsp://camera.local:99999/x", CONF_STREAM_URL, "invalid_url"),
        ("not a url", CONF_STREAM_URL, "unsupported_scheme"),
    ],
)
async def test_user_flow_bad_urls(hass: HomeAssistant, url: str, field: str, error: str) -> None:
    """Malformed URLs are refused before anything connects, on the field that is wrong."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", CONF_STREAM_URL: url}
    )
    assert result["errors"] == {field: error}


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        (
            {CONF_STREAM_URL: "rtsp://admin:one@camera.local/s", CONF_PASSWORD: "two"},
            CONF_STREAM_URL,
        ),
        ({CONF_STREAM_URL: "rtsp://guest@camera.local/s", CONF_PASSWORD: "two"}, CONF_STREAM_URL),
        (
            {
                CONF_STREAM_URL: "rtsp://admin:two@camera.local/s",
                CONF_SUBSTREAM_URL: "rtsp://admin:one@camera.local/sub",
            },
            CONF_SUBSTREAM_URL,
        ),
    ],
)
async def test_credentials_typed_twice_must_agree(
    hass: HomeAssistant, typed: dict[str, str], field: str
) -> None:
    """Credentials in a URL that differ from the fields' (or another URL's) are told, not lost."""
    flow_id = await _start(hass)
    fields = {CONF_USERNAME: "admin"} if CONF_PASSWORD in typed else {}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", **fields, **typed}
    )
    assert result["errors"] == {field: "credentials_twice"}


async def test_credentials_typed_twice_alike_are_taken(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """The same credentials in the URL and the fields, or a URL naming the user alone, connect."""
    for user_in_url in (f"{CAMERA_USER}:{quote(CAMERA_PASSWORD, safe='')}@", f"{CAMERA_USER}@"):
        flow_id = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id,
            {
                CONF_NAME: "Hall",
                CONF_STREAM_URL: rtsp_auth_camera.url.replace("rtsp://", f"rtsp://{user_in_url}"),
                CONF_USERNAME: CAMERA_USER,
                CONF_PASSWORD: CAMERA_PASSWORD,
            },
        )
        assert result.get("errors") is None
        assert result["step_id"] == "confirm"
        hass.config_entries.flow.async_abort(flow_id)


async def test_user_flow_bad_substream_url(hass: HomeAssistant) -> None:
    """A bad optional URL is reported on its own field."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_NAME: "Hall",
            CONF_STREAM_URL: "rtsp://camera.local/a",
            CONF_SUBSTREAM_URL: "gopher://x",
        },
    )
    assert result["errors"] == {CONF_SUBSTREAM_URL: "unsupported_scheme"}


async def test_user_flow_cannot_connect(hass: HomeAssistant, socket_enabled: None) -> None:
    """A port where nothing listens is 'cannot connect'."""
    server = SilentServer()
    port = server.port
    server.stop()
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", CONF_STREAM_URL: f"rtsp://127.0.0.1:{port}/stream"}
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_hung_camera_times_out(
    hass: HomeAssistant, silent_server: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A camera that accepts and never answers times out within the bound."""
    monkeypatch.setattr("custom_components.home_guardian.config_flow.PROBE_TIMEOUT", 1.5)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", CONF_STREAM_URL: f"rtsp://127.0.0.1:{silent_server.port}/x"}
    )
    assert result["errors"] == {"base": "timeout"}


async def test_user_flow_html_page_is_not_video(
    hass: HomeAssistant, http_camera: HttpCamera
) -> None:
    """A login page instead of video is 'not a video'."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_NAME: "Hall",
            CONF_STREAM_URL: http_camera.url("/page.html"),
            CONF_USERNAME: CAMERA_USER,
            CONF_PASSWORD: CAMERA_PASSWORD,
        },
    )
    assert result["errors"] == {"base": "not_video"}


async def test_user_flow_bad_substream_is_told_on_its_field(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A substream the camera does not have is told on its field, and nothing typed is lost."""
    flow_id = await _start(hass)
    user_input = {
        CONF_NAME: "Hall",
        CONF_STREAM_URL: rtsp_camera.url,
        CONF_SUBSTREAM_URL: rtsp_camera.url.replace("/stream", "/nothing-here"),
        CONF_USERNAME: "viewer",
        CONF_PASSWORD: "typed",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SUBSTREAM_URL: "substream_not_found"}
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema if key.description}
    assert suggested == user_input


@pytest.mark.parametrize(
    ("path", "error"),
    [("/nothing-here.jpg", "snapshot_not_found"), ("/page.html", "snapshot_not_video")],
)
async def test_user_flow_bad_snapshot_is_told_on_its_field(
    hass: HomeAssistant,
    mjpeg_camera: MjpegCamera,
    http_camera: HttpCamera,
    path: str,
    error: str,
) -> None:
    """A snapshot URL that gives no picture is told on its field, and nothing typed is lost."""
    flow_id = await _start(hass)
    user_input = {
        CONF_NAME: "Nursery",
        CONF_STREAM_URL: mjpeg_camera.url,
        CONF_SNAPSHOT_URL: http_camera.url(path),
        CONF_USERNAME: CAMERA_USER,
        CONF_PASSWORD: CAMERA_PASSWORD,
    }
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["errors"] == {CONF_SNAPSHOT_URL: error}
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema if key.description}
    assert suggested == user_input


async def test_user_flow_mjpeg_and_snapshot(
    hass: HomeAssistant, mjpeg_camera: MjpegCamera, http_camera: HttpCamera
) -> None:
    """An HTTP MJPEG stream with a snapshot URL is accepted; every URL is probed."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_NAME: "Nursery",
            CONF_STREAM_URL: mjpeg_camera.url,
            CONF_SNAPSHOT_URL: http_camera.url("/snapshot.jpg"),
            CONF_USERNAME: CAMERA_USER,
            CONF_PASSWORD: CAMERA_PASSWORD,
        },
    )
    assert result.get("errors") is None
    assert result["step_id"] == "confirm"
    assert http_camera.requests >= 1
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SNAPSHOT_URL] == http_camera.url("/snapshot.jpg")
    await hass.async_block_till_done()
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    "typed",
    [
        "rtsp://admin:x@camera.local/stream",
        # Case, a default port or credentials in the URL do not make the same stream new.
        "RTSP://admin:x@Camera.Local:554/stream",
    ],
)
async def test_user_flow_already_configured(hass: HomeAssistant, typed: str) -> None:
    """The same stream cannot be added twice, however its URL is written."""
    camera_entry("rtsp://camera.local/stream").add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Again", CONF_STREAM_URL: typed}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_an_entry_added_with_the_default_port_is_still_found(hass: HomeAssistant) -> None:
    """An entry whose id was made from a URL naming its default port is the same stream."""
    url = "rtsp://camera.local:554/stream"
    # Its id as it was made then, from the URL's text with the port.
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=hashlib.sha256(url.encode()).hexdigest()[:24],
        data={CONF_STREAM_URL: url, CONF_USERNAME: "", CONF_PASSWORD: ""},
    ).add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Again", CONF_STREAM_URL: "rtsp://camera.local/stream"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def test_the_fingerprint_of_a_written_url_is_kept_and_holds_no_secret() -> None:
    """Entries made before keep their ids; the id is a hash, never the URL or its password."""
    url = "rtsp://camera.local:8554/stream?channel=1"
    assert stream_fingerprint(url) == hashlib.sha256(url.encode()).hexdigest()[:24]
    assert "secret" not in stream_fingerprint("rtsp://admin:secret@camera.local/stream")


async def test_abandoned_window_does_not_block_a_retry(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A flow left open does not lock the camera out, and ends when the retry adds the camera."""
    abandoned = await _start(hass)
    user_input = {CONF_NAME: "Hall", CONF_STREAM_URL: rtsp_camera.url}
    result = await hass.config_entries.flow.async_configure(abandoned, user_input)
    assert result["step_id"] == "confirm"
    retry = await _start(hass)
    result = await hass.config_entries.flow.async_configure(retry, user_input)
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(retry, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    with pytest.raises(UnknownFlow):
        await hass.config_entries.flow.async_configure(abandoned, {})
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure(hass: HomeAssistant, rtsp_camera: RtspCamera) -> None:
    """Reconfigure probes the new address and keeps the entry."""
    entry = camera_entry("rtsp://127.0.0.1:1/old")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Hall", CONF_STREAM_URL: "rtsp://127.0.0.1:1/other"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Hall", CONF_STREAM_URL: rtsp_camera.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_STREAM_URL] == rtsp_camera.url
    assert entry.title == "Hall"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_same_url_and_conflict(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """Reconfigure may keep its own URL but not take another camera's."""
    camera_entry("rtsp://camera.local/taken").add_to_hass(hass)
    entry = camera_entry(rtsp_camera.url)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Hall", CONF_STREAM_URL: "rtsp://camera.local/taken"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Hall", CONF_STREAM_URL: rtsp_camera.url}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_shows_stored_credentials(hass: HomeAssistant) -> None:
    """The reconfigure form offers the stored password opened, or empty if it cannot be."""
    cipher = await async_get_cipher(hass)
    entry = camera_entry("rtsp://camera.local/a", username="u", password=seal(cipher, "pw"))
    entry.add_to_hass(hass)
    broken = camera_entry("rtsp://camera.local/b", username="u", password="sealed:garbage")
    broken.add_to_hass(hass)
    for config_entry, expected in ((entry, "pw"), (broken, "")):
        result = await config_entry.start_reconfigure_flow(hass)
        schema = result["data_schema"].schema
        suggested = {str(k): k.description["suggested_value"] for k in schema if k.description}
        assert suggested[CONF_PASSWORD] == expected
        assert suggested[CONF_USERNAME] == "u"


async def test_reauth(hass: HomeAssistant, rtsp_auth_camera: RtspCamera) -> None:
    """Reauthentication checks the new password against the camera before saving it."""
    entry = camera_entry(rtsp_auth_camera.url, username=CAMERA_USER, password="old")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: CAMERA_USER, CONF_PASSWORD: "still wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: CAMERA_USER, CONF_PASSWORD: CAMERA_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert unseal(await async_get_cipher(hass), entry.data[CONF_PASSWORD]) == CAMERA_PASSWORD
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reauth_tells_a_bad_substream_on_its_form(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """The reauthentication form has no URL fields: a substream that fails is told form-wide."""
    missing = rtsp_auth_camera.url.replace("/stream", "/nothing-here")
    entry = camera_entry(
        rtsp_auth_camera.url, username=CAMERA_USER, password="old", substream_url=missing
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: CAMERA_USER, CONF_PASSWORD: CAMERA_PASSWORD}
    )
    assert result["errors"] == {"base": "not_found"}


async def test_options_flow(hass: HomeAssistant) -> None:
    """Options keep their defaults for what the user did not change."""
    entry = camera_entry("rtsp://camera.local/stream")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LIVE_VIEW: LIVE_VIEW_FRAMES, CONF_SENSITIVITY: 70}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_LIVE_VIEW: LIVE_VIEW_FRAMES,
        CONF_MOTION_DETECTION: True,
        CONF_SENSITIVITY: 70,
        CONF_MIN_OBJECT_SIZE: 0.1,
        CONF_ANALYSIS_FPS: 5.0,
        CONF_IGNORE_ZONES: "",
        CONF_ONLY_ZONES: "",
        CONF_PRIVACY_ZONES: "",
    }


async def test_options_flow_clears_an_emptied_zone(hass: HomeAssistant) -> None:
    """A zone emptied in the form (which leaves the field out) is removed, not kept."""
    entry = camera_entry("rtsp://camera.local/stream")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={CONF_PRIVACY_ZONES: ZONE, CONF_SENSITIVITY: 70}
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LIVE_VIEW: LIVE_VIEW_FRAMES, CONF_SENSITIVITY: 70}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_PRIVACY_ZONES] == ""
    assert entry.options[CONF_SENSITIVITY] == 70


async def test_options_flow_refuses_bad_zones(hass: HomeAssistant) -> None:
    """Malformed zones are pointed out on their field; the rest of the input is kept."""
    entry = camera_entry("rtsp://camera.local/stream")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SENSITIVITY: 30, CONF_IGNORE_ZONES: "[[0.1, 0.2]]", CONF_ONLY_ZONES: "nonsense"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        CONF_IGNORE_ZONES: "invalid_zones",
        CONF_ONLY_ZONES: "invalid_zones",
    }
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested[CONF_SENSITIVITY] == 30
    assert suggested[CONF_ONLY_ZONES] == "nonsense"
    # A camera that is not running has no picture to draw on: the zones are saved directly.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_IGNORE_ZONES: ZONE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_IGNORE_ZONES] == ZONE


async def test_options_flow_previews_zones(
    hass: HomeAssistant, rtsp_camera: RtspCamera, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Zones are drawn over the live picture before they are saved, then take effect."""
    entry = camera_entry(rtsp_camera.url)
    await set_up_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_IGNORE_ZONES: ZONE, CONF_ONLY_ZONES: ONLY}
    )
    assert result["step_id"] == "zones"
    preview_url = result["description_placeholders"]["preview"]
    client = await hass_client_no_auth()
    response = await client.get(preview_url)
    assert response.status == HTTPStatus.OK
    with Image.open(io.BytesIO(await response.read())) as picture:
        red, green, blue = picture.convert("RGB").getpixel((int(0.25 * 640), int(0.25 * 360)))
        assert red > green + 40
        assert red > blue + 40
        red, green, blue = picture.convert("RGB").getpixel((int(0.75 * 640), int(0.75 * 360)))
        assert green > red + 30

    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (await client.get(preview_url)).status == HTTPStatus.NOT_FOUND
    await hass.async_block_till_done()
    settings = entry.runtime_data.motion.settings
    assert settings.ignore_zones == (((0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)),)
    assert len(settings.only_zones) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_options_flow_saves_zones_while_the_camera_is_away(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """With no picture to draw on, checked zones are saved without a preview."""
    entry = camera_entry(rtsp_camera.url)
    await set_up_entry(hass, entry)
    rtsp_camera.stop()
    await wait_for(lambda: entry.runtime_data.fresh_frame() is None, limit=20)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ONLY_ZONES: ONLY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ONLY_ZONES] == ONLY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_abandoned_flow_drops_preview(
    hass: HomeAssistant, rtsp_camera: RtspCamera, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A flow closed at the preview leaves no picture behind."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: "Hall", CONF_STREAM_URL: rtsp_camera.url}
    )
    preview_url = result["description_placeholders"]["preview"]
    client = await hass_client_no_auth()
    assert (await client.get(preview_url)).status == HTTPStatus.OK
    hass.config_entries.flow.async_abort(flow_id)
    assert (await client.get(preview_url)).status == HTTPStatus.NOT_FOUND


__all__ = ["MockConfigEntry"]


async def _start_camera_entity(hass: HomeAssistant) -> str:
    """Start a flow for a camera Home Assistant already has and return its id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["menu_options"] == ["camera", "camera_entity", "guardian"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "camera_entity"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera_entity"
    return result["flow_id"]


async def test_camera_entity_flow_reads_the_stream(
    hass: HomeAssistant,
    rtsp_auth_camera: RtspCamera,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A generic RTSP camera is read by its stream, previewed, and stored by its registry id."""
    # The web server's routes freeze with the first client: register ours before it.
    assert await async_setup_component(hass, DOMAIN, {})
    _, source = await add_generic_camera(
        hass, "Front door", stream=rtsp_auth_camera.url, username=CAMERA_USER,
        password=CAMERA_PASSWORD,
    )  # fmt: skip
    flow_id = await _start_camera_entity(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CAMERA_ENTITY: source})
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["name"] == "Front door"
    client = await hass_client_no_auth()
    response = await client.get(result["description_placeholders"]["preview"])
    assert (await response.read())[:2] == b"\xff\xd8"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    stored = er.async_get(hass).async_get(source).id
    assert result["data"][CONF_CAMERA_ENTITY] == stored
    assert result["data"][CONF_READ_MODE] == READ_STREAM
    assert CAMERA_PASSWORD not in str(result["data"])
    await hass.async_block_till_done()
    ours = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{result['result'].entry_id}_camera"
    )
    assert ours != source
    await wait_for(lambda: hass.states.get(ours).state == "streaming")

    # The same camera entity cannot be added twice.
    flow_id = await _start_camera_entity(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CAMERA_ENTITY: source})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_entity_flow_cloud_pictures(
    hass: HomeAssistant, clip_jpegs: list[bytes], odd_cameras: AddOddCameras
) -> None:
    """A cloud camera without a stream is read by pictures, and the form says it is a cloud's."""
    await odd_cameras(
        hass, "cloudcam", [OddCamera("Nursery", images=clip_jpegs)], iot_class="cloud_polling"
    )
    flow_id = await _start_camera_entity(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_NAME: " Baby room ", CONF_CAMERA_ENTITY: "camera.nursery"}
    )
    assert result["step_id"] == "confirm_cloud"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Baby room"
    assert result["data"][CONF_READ_MODE] == READ_PICTURES
    await hass.async_block_till_done()
    entry = result["result"]

    # The owner sets the pace of pictures, only on cameras read by pictures.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_PICTURES_PER_SECOND in result["data_schema"].schema
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PICTURES_PER_SECOND: 2}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_PICTURES_PER_SECOND] == 2
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_entity_flow_errors(
    hass: HomeAssistant,
    rtsp_camera: RtspCamera,
    snapshot_jpeg: bytes,
    odd_cameras: AddOddCameras,
) -> None:
    """Every camera entity that cannot be read gets its own error, and the form stays."""
    generic, unavailable = await add_generic_camera(hass, "Shed", stream=rtsp_camera.url)
    assert await hass.config_entries.async_unload(generic.entry_id)
    await odd_cameras(
        hass,
        "oddcam",
        [
            OddCamera("Raises", stream=RuntimeError("integration bug")),
            OddCamera("Garbage", stream=b"\x00\x01"),
            OddCamera("Flash", stream="rtmp://127.0.0.1/live"),
            OddCamera("Dead", stream="rtsp://127.0.0.1:1/stream"),
            OddCamera("Blank"),
            OddCamera("Scrambled", image=snapshot_jpeg[: len(snapshot_jpeg) // 4]),
        ],
    )
    flow_id = await _start_camera_entity(hass)
    for entity_id, error in (
        ("camera.nowhere", "source_not_found"),
        (unavailable, "source_unavailable"),
        ("camera.raises", "unsupported_stream"),
        ("camera.garbage", "unsupported_stream"),
        ("camera.flash", "unsupported_stream"),
        ("camera.dead", "cannot_connect"),
        ("camera.blank", "no_picture"),
        ("camera.scrambled", "no_picture"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_CAMERA_ENTITY: entity_id}
        )
        assert result["type"] is FlowResultType.FORM, entity_id
        assert result["errors"] == {CONF_CAMERA_ENTITY: error}, entity_id

    # Our own cameras are left out of the form, and refused if one appears while it is open.
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CAMERA_ENTITY: "camera.living_room"}
    )
    assert result["errors"] == {CONF_CAMERA_ENTITY: "own_camera"}
    selector = result["data_schema"].schema[CONF_CAMERA_ENTITY]
    assert selector.config["exclude_entities"] == ["camera.living_room"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_camera_entity(
    hass: HomeAssistant, rtsp_camera: RtspCamera, mjpeg_camera: MjpegCamera
) -> None:
    """A camera read through an entity can be renamed or moved to another entity."""
    _, first = await add_generic_camera(hass, "Hall", stream=rtsp_camera.url)
    _, second = await add_generic_camera(hass, "Garden", stream=mjpeg_camera.url)
    registry = er.async_get(hass)
    taken = MockConfigEntry(
        domain=DOMAIN,
        unique_id="camera_entity_camera.taken",
        data={CONF_CAMERA_ENTITY: "camera.taken", CONF_READ_MODE: READ_STREAM},
    )
    taken.add_to_hass(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hall",
        unique_id=f"camera_entity_{registry.async_get(first).id}",
        data={CONF_CAMERA_ENTITY: registry.async_get(first).id, CONF_READ_MODE: READ_STREAM},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_camera_entity"
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema}
    assert suggested == {CONF_NAME: "Hall", CONF_CAMERA_ENTITY: first}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CAMERA_ENTITY: "camera.nowhere"}
    )
    assert result["errors"] == {CONF_CAMERA_ENTITY: "source_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CAMERA_ENTITY: "camera.taken"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CAMERA_ENTITY: first, CONF_NAME: " Hallway "}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Hallway"
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CAMERA_ENTITY: second}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Hallway"
    assert entry.data[CONF_CAMERA_ENTITY] == registry.async_get(second).id
    assert entry.unique_id == f"camera_entity_{registry.async_get(second).id}"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)

"""Tests for the camera entity: stills from the shared frames, live view through HA's stream."""

from __future__ import annotations

from http import HTTPStatus
import io

from homeassistant.components.camera import (
    CameraEntityFeature,
    async_get_image,
    async_get_stream_source,
)
from homeassistant.const import ATTR_SUPPORTED_FEATURES
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_guardian.const import (
    CONF_LIVE_VIEW,
    CONF_SNAPSHOT_URL,
    LIVE_VIEW_FRAMES,
)
from tests.cameras.servers import HttpCamera, RtspCamera
from tests.common import (
    CAMERA_PASSWORD,
    CAMERA_USER,
    camera_entry,
    set_up_entry,
    state_of,
    wait_for,
)

CAMERA = "camera.living_room"


async def test_still_is_the_latest_frame(hass: HomeAssistant, rtsp_entry: MockConfigEntry) -> None:
    """A still is a JPEG of the stream's current picture, at the stream's size."""
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/jpeg"
    with Image.open(io.BytesIO(image.content)) as picture:
        assert picture.size == (640, 360)
    source = rtsp_entry.runtime_data.source
    assert source.latest is not None
    assert image.content == source.latest.jpeg() or source.status.frames > 1


async def test_stream_source_carries_credentials(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, rtsp_auth_camera: RtspCamera
) -> None:
    """HA's stream gets the main stream with the credentials it needs."""
    state = hass.states.get(CAMERA)
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == CameraEntityFeature.STREAM
    source = await async_get_stream_source(hass, CAMERA)
    assert source == rtsp_auth_camera.url.replace(
        "rtsp://", f"rtsp://{CAMERA_USER}:s3cret%20pa%24%24@"
    )


async def test_no_still_from_a_dead_camera(
    hass: HomeAssistant, rtsp_entry: MockConfigEntry, rtsp_auth_camera: RtspCamera
) -> None:
    """An old picture is never passed off as live."""
    rtsp_auth_camera.stop()
    await wait_for(lambda: state_of(hass, CAMERA) == "unavailable", limit=15)
    assert rtsp_entry.runtime_data.source.latest is not None  # it keeps its last frame
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, CAMERA)


async def test_frames_live_view_for_single_session_cameras(
    hass: HomeAssistant,
    rtsp_camera: RtspCamera,
    hass_client: ClientSessionGenerator,
) -> None:
    """With frames live view, no second connection: no stream source, MJPEG from the frames."""
    entry = camera_entry(rtsp_camera.url)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_LIVE_VIEW: LIVE_VIEW_FRAMES})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming")
    assert hass.states.get(CAMERA).attributes[ATTR_SUPPORTED_FEATURES] == 0
    assert await async_get_stream_source(hass, CAMERA) is None

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{CAMERA}")
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    chunk = await response.content.read(4096)
    assert b"\xff\xd8" in chunk
    response.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_snapshot_url_is_used_for_stills(
    hass: HomeAssistant, rtsp_camera: RtspCamera, http_camera: HttpCamera, snapshot_jpeg: bytes
) -> None:
    """A snapshot URL gives full-resolution stills, shared between requests close in time."""
    entry = camera_entry(
        rtsp_camera.url,
        username=CAMERA_USER,
        password=CAMERA_PASSWORD,
        **{CONF_SNAPSHOT_URL: http_camera.url("/snapshot.jpg")},
    )
    await set_up_entry(hass, entry)
    before = http_camera.served
    first = await async_get_image(hass, CAMERA)
    second = await async_get_image(hass, CAMERA)
    # The camera's own JPEG, byte for byte: neither decoded nor encoded again.
    assert first.content == second.content == snapshot_jpeg
    with Image.open(io.BytesIO(first.content)) as picture:
        assert picture.size == (768, 576)
    assert http_camera.served == before + 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_broken_snapshot_url_falls_back_to_stream(
    hass: HomeAssistant, rtsp_camera: RtspCamera, http_camera: HttpCamera
) -> None:
    """When the snapshot URL fails, the still comes from the stream instead."""
    entry = camera_entry(
        rtsp_camera.url,
        username=CAMERA_USER,
        password=CAMERA_PASSWORD,
        **{CONF_SNAPSHOT_URL: http_camera.url("/page.html")},
    )
    await set_up_entry(hass, entry)
    image = await async_get_image(hass, CAMERA)
    with Image.open(io.BytesIO(image.content)) as picture:
        assert picture.size == (640, 360)
    assert await hass.config_entries.async_unload(entry.entry_id)

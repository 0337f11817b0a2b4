"""Tests for cameras read through camera entities of other integrations, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
import io
import logging
import time

from homeassistant.components.camera import async_get_image, async_get_stream_source
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import numpy as np
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_guardian import coordinator as camera_coordinator
from custom_components.home_guardian.camera_source import async_stored_source
from custom_components.home_guardian.const import (
    CONF_ACTIVE_END,
    CONF_ACTIVE_START,
    CONF_BLIND_GRACE_MINUTES,
    CONF_CAMERA_ENTITY,
    CONF_INACTIVITY_MINUTES,
    CONF_KIND,
    CONF_LEARN,
    CONF_NIGHT_INACTIVITY_MINUTES,
    CONF_PICTURES_PER_SECOND,
    CONF_PRIVACY_ZONES,
    CONF_READ_MODE,
    CONF_SOURCES,
    DOMAIN,
    KIND_GUARDIAN,
    READ_PICTURES,
    READ_STREAM,
)
from custom_components.home_guardian.engine import picture_source
from custom_components.home_guardian.engine.shares import PinHasher
from custom_components.home_guardian.share_views import BASE
from custom_components.home_guardian.sharing import ROOM_SEEN_SECONDS, async_get_sharing
from tests.camera_entities import OddCamera, add_generic_camera
from tests.cameras.servers import HttpCamera, MjpegCamera, RtspCamera
from tests.common import CAMERA_PASSWORD, CAMERA_USER, set_up_entry, state_of, wait_for

type AddOddCameras = Callable[..., Awaitable[MockConfigEntry]]
CAMERA = "camera.porch"
CONNECTED = "binary_sensor.porch_connected"
MOTION = "binary_sensor.porch_motion"


def entity_camera_entry(entity_id: str, mode: str, **options: object) -> MockConfigEntry:
    """Return a Home Guardian entry that reads a camera entity."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Porch",
        unique_id=f"camera_entity_{entity_id}",
        data={CONF_CAMERA_ENTITY: entity_id, CONF_READ_MODE: mode},
        options=options,
    )


async def test_generic_rtsp_camera_is_read_by_its_stream(
    hass: HomeAssistant, rtsp_auth_camera: RtspCamera
) -> None:
    """A generic camera's RTSP stream, credentials and all, is read by our one connection."""
    _, source = await add_generic_camera(
        hass,
        "Front door",
        stream=rtsp_auth_camera.url,
        username=CAMERA_USER,
        password=CAMERA_PASSWORD,
    )
    entry = await set_up_entry(hass, entity_camera_entry(source, READ_STREAM))
    assert state_of(hass, CAMERA) == "streaming"
    attributes = hass.states.get(CONNECTED).attributes
    assert attributes["source_entity"] == source
    assert attributes["read_by"] == "stream"
    assert "pictures_per_second" not in attributes
    await wait_for(lambda: state_of(hass, MOTION) in {"on", "off"}, limit=10)
    coordinator = entry.runtime_data
    assert coordinator.source.status.connections == 1
    # Live view hands Home Assistant's stream the source camera's own address.
    assert await async_get_stream_source(hass, CAMERA) == await async_get_stream_source(
        hass, source
    )
    image = await async_get_image(hass, CAMERA)
    with Image.open(io.BytesIO(image.content)) as picture:
        assert picture.size == (640, 360)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_generic_mjpeg_camera_is_read_by_its_stream(
    hass: HomeAssistant, mjpeg_camera: MjpegCamera
) -> None:
    """An HTTP MJPEG stream source works the same way."""
    _, source = await add_generic_camera(hass, "Garden", stream=mjpeg_camera.url)
    entry = await set_up_entry(hass, entity_camera_entry(source, READ_STREAM))
    assert state_of(hass, CAMERA) == "streaming"
    assert entry.runtime_data.source.status.width == 640
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_snapshot_only_camera_is_read_by_pictures_and_sees_motion(
    hass: HomeAssistant, frames_camera: HttpCamera
) -> None:
    """Without a stream source, pictures come at the owner's pace and motion is found in them."""
    _, source = await add_generic_camera(hass, "Path", still=frames_camera.url("/frames.jpg"))
    entry = await set_up_entry(
        hass, entity_camera_entry(source, READ_PICTURES, **{CONF_PICTURES_PER_SECOND: 4})
    )
    assert state_of(hass, CAMERA) == "streaming"
    attributes = hass.states.get(CONNECTED).attributes
    assert attributes["read_by"] == "pictures"
    assert attributes["pictures_per_second"] == 4
    # No stream to give: live view is the pictures, through the shared connection.
    assert await async_get_stream_source(hass, CAMERA) is None
    await wait_for(lambda: state_of(hass, MOTION) == "on", limit=30)
    served = frames_camera.served
    await wait_for(lambda: frames_camera.served >= served + 8, limit=10)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_cached_picture_keeps_the_camera_available(
    hass: HomeAssistant, http_camera: HttpCamera, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A camera whose picture changes seldom, as cloud cameras' cached pictures do, stays up."""
    # Frames count as stale after a second, so the test needs seconds, not minutes.
    monkeypatch.setattr(camera_coordinator, "STALE_AFTER", 1.0)
    _, source = await add_generic_camera(
        hass,
        "Cloud",
        still=http_camera.url("/snapshot.jpg"),
        username=CAMERA_USER,
        password=CAMERA_PASSWORD,
    )
    entry = await set_up_entry(
        hass, entity_camera_entry(source, READ_PICTURES, **{CONF_PICTURES_PER_SECOND: 5})
    )
    assert state_of(hass, CAMERA) == "streaming"
    served = http_camera.served
    states: set[str | None] = set()
    for _ in range(40):
        await asyncio.sleep(0.1)
        states.add(state_of(hass, CAMERA))
    # The generic camera fetched the same picture over and over, and ours stayed available.
    assert http_camera.served >= served + 5
    assert states == {"streaming"}
    assert entry.runtime_data.source.status.frames == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_frozen_pictures_make_the_camera_blind(
    hass: HomeAssistant,
    http_camera: HttpCamera,
    odd_cameras: AddOddCameras,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source that keeps handing back the same picture is not a quiet room: it is blind."""
    # The same picture for two minutes in real use; for two seconds here.
    monkeypatch.setattr(picture_source, "SAME_PICTURE_SECONDS", 2.0)
    camera = OddCamera("Stuck", image=http_camera.jpeg)
    await odd_cameras(hass, "stuckcam", [camera])
    entry = await set_up_entry(
        hass, entity_camera_entry("camera.stuck", READ_PICTURES, **{CONF_PICTURES_PER_SECOND: 5})
    )
    assert state_of(hass, CAMERA) == "streaming"
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=20)
    assert state_of(hass, MOTION) == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_source_unavailable_makes_the_camera_blind_until_it_returns(
    hass: HomeAssistant, rtsp_camera: RtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    """The source entity going unavailable blinds our camera at once; it recovers by itself."""
    generic, source = await add_generic_camera(hass, "Hall", stream=rtsp_camera.url)
    entry = await set_up_entry(hass, entity_camera_entry(source, READ_STREAM))
    assert state_of(hass, CAMERA) == "streaming"
    caplog.clear()
    assert await hass.config_entries.async_unload(generic.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, source) == STATE_UNAVAILABLE
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=5)
    assert state_of(hass, MOTION) == STATE_UNAVAILABLE
    assert state_of(hass, CONNECTED) == "off"
    assert "the Home Assistant camera it reads from is unavailable" in caplog.text
    assert "source_unavailable" not in caplog.text

    assert await hass.config_entries.async_setup(generic.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_returning_source_is_read_at_once(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A source camera back after a long outage is read at once, not after the reader's backoff."""
    generic, source = await add_generic_camera(hass, "Hall", stream=rtsp_camera.url)
    entry = await set_up_entry(hass, entity_camera_entry(source, READ_STREAM))
    assert state_of(hass, CAMERA) == "streaming"
    assert await hass.config_entries.async_unload(generic.entry_id)
    await hass.async_block_till_done()
    await hass.async_add_executor_job(rtsp_camera.stop)
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=5)
    # Failed attempts at about 0, 1, 3, 7 and 15 s: the reader now waits until about 31 s,
    # far enough for a busy machine to connect and decode at once, well before then.
    await asyncio.sleep(17)
    await hass.async_add_executor_job(rtsp_camera.start)
    returned = time.monotonic()
    assert await hass.config_entries.async_setup(generic.entry_id)
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert time.monotonic() - returned < 10.0
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_removed_source_raises_one_repair_issue(
    hass: HomeAssistant,
    rtsp_camera: RtspCamera,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source camera removed from Home Assistant is one repair issue, however long; it goes
    when the source is back."""
    monkeypatch.setattr(camera_coordinator, "REPAIR_AFTER", timedelta(seconds=1))
    generic, source = await add_generic_camera(hass, "Hall", stream=rtsp_camera.url)
    # As the flow stores it: the registry id, which survives a rename but not a removal.
    stored = async_stored_source(hass, source)
    assert stored != source
    entry = await set_up_entry(hass, entity_camera_entry(stored, READ_STREAM))
    assert state_of(hass, CAMERA) == "streaming"
    registry = er.async_get(hass)
    registry.async_remove(source)
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, limit=5)

    def ours() -> list[ir.IssueEntry]:
        return [
            issue
            for (domain, issue_id), issue in ir.async_get(hass).issues.items()
            if domain == DOMAIN and issue_id.endswith(entry.entry_id)
        ]

    await wait_for(lambda: bool(ours()), limit=10)
    # Well past the time an unreachable camera is reported: still the one issue, same cause.
    await asyncio.sleep(1.5)
    await entry.runtime_data.async_refresh()
    await entry.runtime_data.async_refresh()
    [issue] = ours()
    assert issue.translation_key == "source_camera_removed"
    assert issue.translation_placeholders == {"name": "Porch"}
    removed = [r for r in caplog.records if "was removed" in r.getMessage()]
    assert len(removed) == 1
    assert removed[0].levelno == logging.WARNING

    # The source comes back (its integration sets it up again) under the same registry id.
    assert await hass.config_entries.async_reload(generic.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get(source) is not None
    assert registry.async_get(source).id == stored
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming", limit=30)
    assert ours() == []
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (RuntimeError("integration bug"), "unsupported_stream"),
        (b"\x00garbage", "unsupported_stream"),
        ("rtmp://127.0.0.1/live", "unsupported_stream"),
    ],
)
async def test_bad_stream_source_at_run_time_is_blind(
    hass: HomeAssistant,
    answer: object,
    problem: str,
    caplog: pytest.LogCaptureFixture,
    odd_cameras: AddOddCameras,
) -> None:
    """A stream source that raises or is not an address we read keeps the camera blind."""
    await odd_cameras(hass, "oddcam", [OddCamera("Odd", stream=answer)])
    entry = entity_camera_entry("camera.odd", READ_STREAM)
    entry.add_to_hass(hass)
    # Setup never waits for a camera: the entry loads and its camera stays blind.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: "gives no stream address Home Guardian can read" in caplog.text)
    assert state_of(hass, CAMERA) == STATE_UNAVAILABLE
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert problem not in logged
    assert "Traceback" not in caplog.text
    assert "gives no stream address Home Guardian can read" in caplog.text
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_guardian_sees_a_blind_source_camera_as_blind(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A guardian watching this camera's motion says it cannot monitor while the source is gone."""
    generic, source = await add_generic_camera(hass, "Hall", stream=rtsp_camera.url)
    entry = await set_up_entry(hass, entity_camera_entry(source, READ_STREAM))
    await wait_for(lambda: state_of(hass, MOTION) in {"on", "off"}, limit=10)
    guardian = await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Grandma",
            data={CONF_KIND: KIND_GUARDIAN, CONF_NAME: "Grandma"},
            options={
                CONF_SOURCES: [MOTION],
                CONF_ACTIVE_START: "00:00:00",
                CONF_ACTIVE_END: "23:59:00",
                CONF_INACTIVITY_MINUTES: 600,
                CONF_NIGHT_INACTIVITY_MINUTES: 600,
                CONF_LEARN: False,
                CONF_BLIND_GRACE_MINUTES: 0,
            },
        ),
    )
    cannot_monitor = "binary_sensor.grandma_cannot_monitor"
    assert state_of(hass, cannot_monitor) == "off"
    assert await hass.config_entries.async_unload(generic.entry_id)
    await wait_for(lambda: state_of(hass, cannot_monitor) == "on", limit=20)
    assert hass.states.get(cannot_monitor).attributes["blind_sources"] == [MOTION]
    assert state_of(hass, "binary_sensor.grandma_inactivity") == "off"
    assert await hass.config_entries.async_setup(generic.entry_id)
    await wait_for(lambda: state_of(hass, cannot_monitor) == "off", limit=40)
    assert await hass.config_entries.async_unload(guardian.entry_id)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_shared_picture_camera_hides_privacy_zones(
    hass: HomeAssistant, frames_camera: HttpCamera, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A camera read by pictures is shared like any other, its privacy zone filled."""
    assert await async_setup_component(hass, DOMAIN, {})
    async_get_sharing(hass).registry.hasher = PinHasher(log2_n=10)
    _, source = await add_generic_camera(hass, "Path", still=frames_camera.url("/frames.jpg"))
    left_half = "[[[0,0],[0.5,0],[0.5,1],[0,1]]]"
    entry = await set_up_entry(
        hass,
        entity_camera_entry(
            source, READ_PICTURES, **{CONF_PICTURES_PER_SECOND: 2, CONF_PRIVACY_ZONES: left_half}
        ),
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.porch_sharing_allowed"}, blocking=True
    )
    # Links go out over HTTPS only: a home with an external address, like a real one.
    await hass.config.async_update(external_url="https://home.example.org")
    share = await hass.services.async_call(
        DOMAIN,
        "create_share",
        {"entity_id": CAMERA, "viewer_name": "Nan", "duration": {"hours": 1}},
        blocking=True,
        return_response=True,
    )
    client = await hass_client_no_auth()
    token = str(share["url"]).split("#", 1)[1]
    url = client.make_url("/")
    # As the viewer's own page sends it: same-origin JSON.
    origin = {"Origin": f"{url.scheme}://{url.host}:{url.port}", "Sec-Fetch-Site": "same-origin"}
    opened = await client.post(
        f"{BASE}/session", json={"token": token, "pin": share["pin"]}, headers=origin
    )
    assert opened.status == HTTPStatus.OK
    stream = await client.get(f"{BASE}/stream")
    async with asyncio.timeout(20):
        await stream.content.readuntil(b"\r\n\r\n")
        picture = await stream.content.readuntil(b"\xff\xd9")
    with Image.open(io.BytesIO(picture)) as image:
        grey = np.asarray(image.convert("L"), dtype=np.float32)
    height, width = grey.shape
    # The hidden half is one flat fill (above the watermark's corner band); the other half
    # shows the path's detail.
    assert grey[: height - 64, : width // 2 - 8].std() < 3
    assert grey[: height - 64, width // 2 + 8 :].std() > 10
    await wait_for(lambda: state_of(hass, "binary_sensor.porch_being_watched") == "on")
    stream.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_camera_read_every_few_seconds_can_be_told_its_room_is_empty(
    hass: HomeAssistant, frames_camera: HttpCamera
) -> None:
    """A camera read at its owner's slow pace (a picture every 8 s) takes the owner's press.

    Its latest picture is what the room looks like now, however many seconds ago it came.
    """
    assert await async_setup_component(hass, DOMAIN, {})
    _, source = await add_generic_camera(hass, "Path", still=frames_camera.url("/frames.jpg"))
    entry = await set_up_entry(
        hass, entity_camera_entry(source, READ_PICTURES, **{CONF_PICTURES_PER_SECOND: 0.125})
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.porch_sharing_allowed"}, blocking=True
    )
    scene = async_get_sharing(hass).scenes.scene(entry.entry_id)
    await wait_for(lambda: scene.last_look is not None, limit=20)
    looked = scene.last_look
    assert looked is not None
    # Between two pictures, the camera up and its picture fresh.
    await asyncio.sleep(max(0.0, looked + ROOM_SEEN_SECONDS + 1.0 - time.monotonic()))
    assert entry.runtime_data.fresh_frame() is not None
    try:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.porch_room_is_empty"}, blocking=True
        )
    except ServiceValidationError as err:
        pytest.fail(f"the press was refused: {err.translation_key}")
    assert await hass.config_entries.async_unload(entry.entry_id)

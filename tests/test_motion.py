"""Tests for motion at the Home Assistant level: sensors, events, the switch, zones, restarts."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.components.camera import DOMAIN as CAMERA_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    mock_restore_cache_with_extra_data,
)

from custom_components.home_guardian.const import (
    CONF_ANALYSIS_FPS,
    CONF_IGNORE_ZONES,
    CONF_MIN_OBJECT_SIZE,
    CONF_MOTION_DETECTION,
    CONF_SENSITIVITY,
    EVENT_MOTION,
)
from custom_components.home_guardian.engine.geometry import Box
from custom_components.home_guardian.motion import motion_settings, parse_zones
from tests.cameras.servers import HttpCamera, RtspCamera
from tests.common import camera_entry, set_up_entry, state_of, wait_for

MOTION = "binary_sensor.living_room_motion"
LAST_MOTION = "sensor.living_room_last_motion"
CAMERA = "camera.living_room"
WHOLE_PICTURE = "[[[0,0],[1,0],[1,1],[0,1]]]"


async def test_people_walking_raise_motion_with_regions(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """People walking through real CCTV footage turn the sensor on and fire a small event."""
    events = async_capture_events(hass, EVENT_MOTION)
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    await wait_for(lambda: state_of(hass, MOTION) == STATE_ON, limit=20)

    state = hass.states.get(MOTION)
    assert state.attributes["device_class"] == "motion"
    regions = state.attributes["regions"]
    assert 1 <= len(regions) <= 8
    for x, y, width, height in regions:
        assert 0 <= x < 1
        assert 0 <= y < 1
        assert 0 < width <= 1
        assert 0 < height <= 1

    await wait_for(lambda: bool(events))
    event = events[0]
    assert event.data["motion"] is True
    assert event.data["entity_id"] == CAMERA
    assert event.data["config_entry_id"] == entry.entry_id
    assert event.data["regions"]
    assert len(str(event.data)) < 1000

    last_motion = datetime.fromisoformat(state_of(hass, LAST_MOTION))
    assert abs((datetime.now(UTC) - last_motion).total_seconds()) < 30
    await hass.config_entries.async_unload(entry.entry_id)


async def test_still_scene_has_no_motion(hass: HomeAssistant, http_camera: HttpCamera) -> None:
    """A camera whose picture does not change reports no motion, and is not unavailable."""
    entry = camera_entry(http_camera.url("/snapshot.jpg"), username="admin", password="s3cret pa$$")
    await set_up_entry(hass, entry)
    # A picture every two seconds: the detector settles over its first pictures, then judges.
    await wait_for(lambda: state_of(hass, MOTION) == STATE_OFF, limit=40)
    frames = entry.runtime_data.source.status.frames
    await wait_for(lambda: entry.runtime_data.source.status.frames >= frames + 3)
    assert state_of(hass, MOTION) == STATE_OFF
    assert state_of(hass, LAST_MOTION) == "unknown"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ignoring_the_whole_picture_ignores_everyone(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """Motion inside an ignored zone never counts."""
    entry = camera_entry(rtsp_camera.url)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_IGNORE_ZONES: WHOLE_PICTURE})
    await set_up_entry(hass, entry)
    source = entry.runtime_data.source
    await wait_for(lambda: source.status.frames >= 60)
    assert state_of(hass, MOTION) == STATE_OFF
    await hass.config_entries.async_unload(entry.entry_id)


async def test_switching_detection_off_and_on(hass: HomeAssistant, rtsp_camera: RtspCamera) -> None:
    """Detection switched off makes motion unavailable, survives a restart, and never reconnects."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    assert hass.states.get(CAMERA).attributes.get("motion_detection") is True
    await wait_for(lambda: state_of(hass, MOTION) == STATE_ON)
    connections = entry.runtime_data.source.status.connections

    await hass.services.async_call(
        CAMERA_DOMAIN, "disable_motion_detection", {ATTR_ENTITY_ID: CAMERA}, blocking=True
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MOTION_DETECTION] is False
    assert state_of(hass, MOTION) == STATE_UNAVAILABLE
    assert "motion_detection" not in hass.states.get(CAMERA).attributes
    assert entry.runtime_data.source.status.connections == connections

    # A restart keeps the choice.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, MOTION) == STATE_UNAVAILABLE
    assert entry.runtime_data.motion.state.enabled is False
    # Setup does not wait for the camera; its services apply once it is back.
    await wait_for(lambda: state_of(hass, CAMERA) == "streaming")
    assert state_of(hass, MOTION) == STATE_UNAVAILABLE

    await hass.services.async_call(
        CAMERA_DOMAIN, "enable_motion_detection", {ATTR_ENTITY_ID: CAMERA}, blocking=True
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MOTION_DETECTION] is True
    await wait_for(lambda: state_of(hass, MOTION) == STATE_ON)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_motion_unavailable_while_the_camera_is_down(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A dead camera never reports "no motion": its motion sensor goes unavailable."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    rtsp_camera.stop()
    await wait_for(lambda: state_of(hass, MOTION) == STATE_UNAVAILABLE, limit=20)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_last_motion_survives_a_restart(hass: HomeAssistant, http_camera: HttpCamera) -> None:
    """The time of the last motion before a restart is kept until new motion is seen."""
    before = datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    entry = camera_entry(http_camera.url("/snapshot.jpg"), username="admin", password="s3cret pa$$")
    entry.add_to_hass(hass)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(LAST_MOTION, before.isoformat()),
                {
                    "native_value": {
                        "__type": "<class 'datetime.datetime'>",
                        "isoformat": before.isoformat(),
                    },
                    "native_unit_of_measurement": None,
                },
            )
        ],
    )
    await set_up_entry(hass, entry)
    assert datetime.fromisoformat(state_of(hass, LAST_MOTION)) == before
    await hass.config_entries.async_unload(entry.entry_id)


def test_options_become_detector_settings() -> None:
    """Options in the UI's units map onto the engine's settings."""
    settings = motion_settings(
        {"sensitivity": 80, "min_object_size": 0.5, "ignore_zones": WHOLE_PICTURE}
    )
    assert settings.sensitivity == 80
    assert settings.min_object_size == pytest.approx(0.005)
    assert settings.ignore_zones == (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)),)
    assert settings.only_zones == ()
    assert motion_settings({}).min_object_size == pytest.approx(0.001)


@pytest.mark.parametrize(
    "raw", ["[[", "[[0,0],[1,1]]", "[[[0,0],[1,0],[2,2]]]", '"text"', "[[[0,0],[1,0]]]"]
)
def test_bad_zones_are_refused(raw: str) -> None:
    """Malformed zone text raises a clear error instead of being half-used."""
    with pytest.raises(ValueError, match=r"zone|JSON"):
        parse_zones(raw)


async def frames_pass(hass: HomeAssistant, entry: MockConfigEntry, count: int) -> None:
    """Wait until the camera has sent `count` more frames and their work is done."""
    frames = entry.runtime_data.source.status.frames
    await wait_for(lambda: entry.runtime_data.source.status.frames >= frames + count)
    await hass.async_block_till_done()


async def test_regions_reach_listeners_whether_or_not_the_sensor_is_on(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """Regions reach a listener (a share's privacy filter) even with the motion sensor off."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    motion = entry.runtime_data.motion
    events = async_capture_events(hass, EVENT_MOTION)
    seen: list[tuple[Box, ...]] = []
    remove = motion.add_region_listener(lambda regions, _at, _settled: seen.append(regions))
    await wait_for(lambda: any(seen) and motion.state.active)
    motion.set_enabled(False)
    assert motion.state.active is False
    assert motion.state.regions == ()
    assert [event.data["motion"] for event in events] == [True, False]
    await hass.async_block_till_done()
    count = len(seen)
    # The walkers go on: the listener still gets their regions, the sensor and events do not.
    await frames_pass(hass, entry, 10)
    assert len(seen) > count
    assert any(seen[count:])
    assert motion.state.active is False
    assert len(events) == 2
    # With nobody listening and the sensor off, frames are no longer analysed at all.
    remove()
    assert not motion.running
    await hass.async_block_till_done()
    count = len(seen)
    await frames_pass(hass, entry, 10)
    assert len(seen) == count
    motion.set_enabled(True)
    assert motion.running
    await wait_for(lambda: motion.state.active)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconnect_keeps_motion_unavailable_until_a_frame_is_judged(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """After a reconnect the sensor never says "off" before a new frame has been looked at."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    motion = entry.runtime_data.motion
    await wait_for(lambda: state_of(hass, MOTION) in {STATE_ON, STATE_OFF})
    rtsp_camera.stop()
    await wait_for(lambda: state_of(hass, MOTION) == STATE_UNAVAILABLE, limit=20)
    judged: list[bool] = []
    remove = motion.add_region_listener(
        lambda _regions, _at, settled: judged.append(settled) if settled else None
    )
    shown: list[tuple[str, int]] = []

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            shown.append((new.state, len(judged)))

    unsubscribe = async_track_state_change_event(hass, MOTION, on_change)
    rtsp_camera.start()
    await wait_for(lambda: state_of(hass, MOTION) in {STATE_ON, STATE_OFF}, limit=40)
    unsubscribe()
    remove()
    first_shown = next((state, count) for state, count in shown if state != STATE_UNAVAILABLE)
    # The first state after the reconnect is a judged frame's, not the default "off".
    assert first_shown[1] >= 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_motion_options_apply_without_reloading(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """Sensitivity, size, pace and zones apply at once: no reconnect, no entity unavailable."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    runtime = entry.runtime_data
    await wait_for(lambda: state_of(hass, MOTION) == STATE_ON, limit=20)
    went_unavailable: list[str] = []

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is None or new.state == STATE_UNAVAILABLE:
            went_unavailable.append(event.data["entity_id"])

    entity_ids = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    ]
    unsubscribe = async_track_state_change_event(hass, entity_ids, on_change)
    connections = runtime.source.status.connections
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SENSITIVITY: 30,
            CONF_MIN_OBJECT_SIZE: 0.5,
            CONF_ANALYSIS_FPS: 2,
            CONF_IGNORE_ZONES: WHOLE_PICTURE,
        },
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert entry.runtime_data is runtime
    assert runtime.motion.settings.sensitivity == 30
    assert runtime.motion.settings.ignore_zones
    # The whole picture ignored: motion ends, with the sensor available all along.
    await wait_for(lambda: state_of(hass, MOTION) == STATE_OFF, limit=20)
    await frames_pass(hass, entry, 30)
    assert state_of(hass, MOTION) == STATE_OFF
    unsubscribe()
    assert went_unavailable == []
    assert runtime.source.status.connections == connections
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_live_option_change_does_not_end_ongoing_motion(
    hass: HomeAssistant, rtsp_camera: RtspCamera
) -> None:
    """A nudge of sensitivity while people walk keeps the sensor on: no "ended", no "started"."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    runtime = entry.runtime_data
    await wait_for(lambda: state_of(hass, MOTION) == STATE_ON, limit=20)
    events = async_capture_events(hass, EVENT_MOTION)
    shown: list[str] = []

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            shown.append(new.state)

    unsubscribe = async_track_state_change_event(hass, MOTION, on_change)
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_SENSITIVITY: 60})
    await hass.async_block_till_done()
    assert runtime.motion.settings.sensitivity == 60
    # Long enough for the new detector to settle and to judge the walkers itself.
    await frames_pass(hass, entry, 40)
    assert events == []
    assert STATE_OFF not in shown
    # A new pace alone keeps the detector, so nothing is learned again.
    detector = runtime.motion.current_detector
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_ANALYSIS_FPS: 3})
    await hass.async_block_till_done()
    assert runtime.motion.current_detector is detector
    # The reader still decodes 5 frames a second at least: shared pictures take as many.
    assert runtime.source.needed_fps == 5.0
    await frames_pass(hass, entry, 20)
    unsubscribe()
    assert entry.runtime_data is runtime
    assert events == []
    assert STATE_OFF not in shown
    assert state_of(hass, MOTION) == STATE_ON
    # Asked for more frames than shares take, the reader decodes as many.
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_ANALYSIS_FPS: 10})
    await hass.async_block_till_done()
    assert runtime.source.needed_fps == 10.0
    await hass.config_entries.async_unload(entry.entry_id)

"""Tests for the empty room's files: removal wins over any write, presses written promptly."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import timedelta
import json
from pathlib import Path
import threading
from typing import Any, Self
from unittest.mock import patch

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import json as ha_json, storage as ha_storage
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.home_guardian.const import DOMAIN
from custom_components.home_guardian.engine.scene import EmptyScene
from custom_components.home_guardian.scenes import SAVE_SECONDS, SceneKeeper
from tests.common import real_store_files

KEY = f"{DOMAIN}.scene.hall"
# Where each Home Assistant version writes a store's file from: helpers.json (2025.4) or
# helpers.storage itself (newer). Both end in the atomic writer, which is held there.
WRITERS = tuple(
    module for module in (ha_json, ha_storage) if hasattr(module, "write_utf8_file_atomic")
)


@pytest.fixture
def storage(hass: HomeAssistant, tmp_path: Path) -> Iterator[Path]:
    """Keep the empty rooms in real files under the test's folder; yield their folder."""
    with real_store_files(hass, tmp_path) as folder:
        yield folder


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at an hour after boot."""
        self.now = 3600.0

    def __call__(self) -> float:
        """Return the time now."""
        return self.now


def room(level: int) -> EmptyScene:
    """Return a model that has seen a flat room of this grey level and was told it is empty."""
    scene = EmptyScene()
    emptied(scene, level, 0.0)
    return scene


def emptied(scene: EmptyScene, level: int, at: float) -> None:
    """Show a model a flat room of this grey level at `at`, after a pause, and accept it."""
    # After more than STALE_SECONDS the room is taken as it is now, not blended in.
    scene.observe(np.full((144, 256), level, dtype=np.uint8), at)
    scene.accept()


def scene_files(folder: Path) -> list[Path]:
    """Return the empty-room files in a storage folder."""
    return list(folder.glob(f"{DOMAIN}.scene.*"))


def readable_by_owner_alone(path: Path) -> bool:
    """Return True when only the file's owner may read it."""
    return path.stat().st_mode & 0o077 == 0


def saved_before(folder: Path, scene: EmptyScene) -> None:
    """Write a room's file as an earlier run of Home Assistant left it."""
    folder.mkdir(parents=True)
    data = {"version": 1, "minor_version": 1, "key": KEY, "data": scene.saved()}
    (folder / KEY).write_text(json.dumps(data))


def saved_level(folder: Path, key: str = KEY) -> int:
    """Return the grey level of the room saved in a file (the model of a flat room)."""
    saved = json.loads((folder / key).read_text())["data"]
    levels = np.frombuffer(base64.b64decode(saved["model"]), dtype=np.uint8)
    return int(np.rint(levels.mean()))


class HeldWrites:
    """Hold the empty room's file writes in their executor thread until released."""

    def __init__(self) -> None:
        """Let nothing through yet."""
        self.entered = threading.Event()
        self.release = threading.Event()
        self.count = 0

    def __enter__(self) -> Self:
        """Hold every write of an empty room's file."""
        held = self
        self._patches = []
        for module in WRITERS:
            real = module.write_utf8_file_atomic

            def write(
                filename: str,
                utf8_data: bytes | str,
                private: bool = False,
                mode: str = "w",
                *,
                real: Any = real,
            ) -> None:
                """Wait to be released, then write for real."""
                if Path(filename).name.startswith(f"{DOMAIN}.scene."):
                    held.count += 1
                    held.entered.set()
                    assert held.release.wait(10)
                real(filename, utf8_data, private, mode)

            self._patches.append(patch.object(module, "write_utf8_file_atomic", write))
            self._patches[-1].start()
        return self

    def __exit__(self, *_: object) -> None:
        """Write normally again."""
        self.release.set()
        for held in self._patches:
            held.stop()

    async def until_writing(self, hass: HomeAssistant) -> None:
        """Wait until a write is held in its thread."""
        assert await hass.async_add_executor_job(self.entered.wait, 10)


@pytest.fixture
def clock() -> Clock:
    """Return the keeper's clock, moved by hand."""
    return Clock()


@pytest.fixture
def keeper(hass: HomeAssistant, clock: Clock) -> SceneKeeper:
    """Return a keeper on the test's clock."""
    return SceneKeeper(hass, clock)


@pytest.fixture
def hall(keeper: SceneKeeper) -> EmptyScene:
    """Return the hall camera's model, shown a flat room of grey 90 taken as empty."""
    scene = keeper.scene("hall")
    emptied(scene, 90, 0.0)
    return scene


@pytest.fixture
def held_writes(storage: Path) -> Iterator[HeldWrites]:
    """Hold every write of an empty room's file in its thread until the test releases it."""
    with HeldWrites() as writes:
        yield writes


@pytest.fixture
def counted_writes(held_writes: HeldWrites) -> HeldWrites:
    """Count every write of an empty room's file, holding none."""
    held_writes.release.set()
    return held_writes


async def stop_leaves_no_file(hass: HomeAssistant, folder: Path) -> None:
    """Stop Home Assistant and check that no empty-room file is left."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not scene_files(folder)


@pytest.mark.usefixtures("hall")
async def test_a_removed_camera_leaves_no_file_even_with_a_write_under_way(
    hass: HomeAssistant, storage: Path, keeper: SceneKeeper, held_writes: HeldWrites
) -> None:
    """The file being written when the camera goes is deleted after the write, not before."""
    keeper.save_soon("hall")  # the last viewer left
    await held_writes.until_writing(hass)
    forget = hass.async_create_task(keeper.async_forget("hall"))
    await asyncio.sleep(0.2)
    held_writes.release.set()
    await forget
    await stop_leaves_no_file(hass, storage)


@pytest.mark.usefixtures("hall")
async def test_nothing_is_written_of_a_camera_once_removed(
    hass: HomeAssistant, storage: Path, keeper: SceneKeeper
) -> None:
    """A viewer leaving, a periodic save, the stop: nothing brings the removed file back."""
    await keeper.async_save("hall")
    [written] = scene_files(storage)
    assert readable_by_owner_alone(written)  # a picture of a home
    keeper.save_soon("hall")  # waits for the gap
    await keeper.async_forget("hall")
    assert not scene_files(storage)
    keeper.save_soon("hall")
    # A page still asking for the removed camera's model gets one of its own, never kept.
    assert keeper.scene("hall") is not keeper.scene("hall")
    emptied(keeper.scene("hall"), 100, 0.0)
    keeper.save_soon("hall", pressed=True)
    await keeper.async_save("hall")
    await keeper.async_restore("hall", "Hall")
    keeper.save_periodically("hall", True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await stop_leaves_no_file(hass, storage)


async def test_a_camera_removed_while_its_room_is_read_is_not_written_back(
    hass: HomeAssistant, storage: Path, keeper: SceneKeeper
) -> None:
    """A reading that ends after the removal brings no model back, so the stop writes none."""
    saved_before(storage, room(90))
    read = asyncio.Event()
    real_load = Store._async_load

    async def held_load(store: Store[Any]) -> Any:
        """Read, then wait: the camera is removed meanwhile."""
        data = await real_load(store)
        await read.wait()
        return data

    with patch.object(Store, "_async_load", held_load):
        restoring = hass.async_create_task(keeper.async_restore("hall", "Hall"))
        await asyncio.sleep(0.1)
        await keeper.async_forget("hall")
        read.set()
        await restoring
    await stop_leaves_no_file(hass, storage)


async def test_a_viewer_gone_while_the_room_is_restored_leaves_it_restored(
    hass: HomeAssistant, storage: Path, keeper: SceneKeeper
) -> None:
    """The next viewer waits for the restore the last one started; it never looks first."""
    saved_before(storage, room(90))
    scene = keeper.scene("hall")
    entered, release = threading.Event(), threading.Event()
    real_restore = scene.restore

    def held_restore(saved: dict[str, Any]) -> None:
        """Take the saved room up slowly, as a busy executor does."""
        entered.set()
        assert release.wait(10)
        real_restore(saved)

    with patch.object(scene, "restore", held_restore):
        first = hass.async_create_task(keeper.async_restore("hall", "Hall"))
        assert await hass.async_add_executor_job(entered.wait, 10)
        first.cancel()  # its only viewer left
        with pytest.raises(asyncio.CancelledError):
            await first
        second = hass.async_create_task(keeper.async_restore("hall", "Hall"))
        await asyncio.sleep(0.1)
        assert not second.done()  # the next viewer's filter has not looked yet
        release.set()
        await second
    assert not scene.hidden(0.0).any()


async def test_home_assistant_stopping_during_a_write_keeps_the_latest_room(
    hass: HomeAssistant,
    storage: Path,
    keeper: SceneKeeper,
    hall: EmptyScene,
    held_writes: HeldWrites,
) -> None:
    """A write under way at the stop is followed by the final write of what was learned since."""
    keeper.save_soon("hall")
    await held_writes.until_writing(hass)
    emptied(hall, 120, 100.0)
    hass.set_state(CoreState.stopping)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await asyncio.sleep(0.1)
    held_writes.release.set()
    await hass.async_block_till_done()
    assert saved_level(storage) == 90  # the stop's write waits for the final write
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    hass.set_state(CoreState.running)
    assert saved_level(storage) == 120


async def fire_after(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass on the keeper's clock and on Home Assistant's timers."""
    clock.now += seconds
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


async def test_a_press_is_written_within_seconds_and_a_viewer_loop_once_a_minute(
    *,
    hass: HomeAssistant,
    storage: Path,
    clock: Clock,
    keeper: SceneKeeper,
    hall: EmptyScene,
    counted_writes: HeldWrites,
) -> None:
    """Leaving writes at most once a minute; a press, even just after such a write, in seconds."""
    for _ in range(20):  # a viewer opening and closing the stream every two seconds
        keeper.save_soon("hall")
        await fire_after(hass, clock, 2.0)
    assert counted_writes.count == 1
    # The owner presses "Room is empty" meanwhile: written five seconds after the last.
    emptied(hall, 110, 100.0)
    keeper.save_soon("hall", pressed=True)
    await hass.async_block_till_done()
    assert counted_writes.count == 2
    assert saved_level(storage) == 110
    # A second press two seconds later waits its five seconds, then writes the latest room.
    await fire_after(hass, clock, 2.0)
    emptied(hall, 130, 200.0)
    keeper.save_soon("hall", pressed=True)
    keeper.save_soon("hall")  # a viewer leaving asks for no later write than that
    await hass.async_block_till_done()
    assert counted_writes.count == 2
    await fire_after(hass, clock, 3.5)
    assert counted_writes.count == 3
    assert saved_level(storage) == 130
    # A viewer leaving waits its minute; a press a second later hurries that one write.
    keeper.save_soon("hall")
    await fire_after(hass, clock, 1.0)
    keeper.save_soon("hall", pressed=True)
    await fire_after(hass, clock, 4.5)
    assert counted_writes.count == 4
    await fire_after(hass, clock, 120.0)
    assert counted_writes.count == 4


async def test_a_button_pressed_in_a_loop_writes_a_few_times_then_once_a_minute(
    *,
    hass: HomeAssistant,
    storage: Path,
    clock: Clock,
    keeper: SceneKeeper,
    hall: EmptyScene,
    counted_writes: HeldWrites,
) -> None:
    """An automation pressing every second: 5 writes in the first half minute, then one a minute."""
    for second in range(600):
        emptied(hall, 60 + second % 100, second * 100.0 + 100.0)
        keeper.save_soon("hall", pressed=True)
        await fire_after(hass, clock, 1.0)
    # Ten minutes: the first five, then one a minute.
    assert 5 + 9 <= counted_writes.count <= 5 + 10
    await fire_after(hass, clock, 60.0)
    assert saved_level(storage) == 60 + 599 % 100  # the latest press, written at the end


@pytest.mark.usefixtures("hall")
async def test_a_looked_at_room_is_written_every_quarter_hour(
    hass: HomeAssistant,
    storage: Path,
    clock: Clock,
    keeper: SceneKeeper,
    counted_writes: HeldWrites,
) -> None:
    """While looked at, the first write comes fifteen minutes after the looks began, then again.

    Looks paused and resumed keep the count: a camera switched often is still written.
    """
    keeper.save_periodically("hall", True)
    await fire_after(hass, clock, SAVE_SECONDS - 300.0)
    for _ in range(10):  # sharing switched off and on again
        keeper.save_periodically("hall", False)
        keeper.save_periodically("hall", True)
    await fire_after(hass, clock, 290.0)
    assert counted_writes.count == 0
    await fire_after(hass, clock, 300.0)
    await fire_after(hass, clock, SAVE_SECONDS)
    assert counted_writes.count == 2  # at 15 and 30 minutes
    assert saved_level(storage) == 90
    keeper.save_periodically("hall", False)
    await fire_after(hass, clock, 2 * SAVE_SECONDS)
    assert counted_writes.count == 2  # no longer looked at
    keeper.save_periodically("hall", True)
    await keeper.async_forget("hall")
    await fire_after(hass, clock, 2 * SAVE_SECONDS)
    assert counted_writes.count == 2  # removed
    assert not scene_files(storage)

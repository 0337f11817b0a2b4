"""Tests for telling a blind camera from a quiet room by its pictures, synthetic and real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
import shutil

import numpy as np
from numpy.typing import NDArray
from PIL import Image
import pytest

from custom_components.home_guardian.engine import sight
from custom_components.home_guardian.engine.errors import Problem
from custom_components.home_guardian.engine.frame_source import SAME_STREAM_SECONDS
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.picture_source import SAME_PICTURE_SECONDS
from custom_components.home_guardian.engine.sight import SightCheck, is_blank
from tests.cameras.stuck import (
    clock_snapshot,
    code_clip,
    dark,
    decoded_frames,
    draw_clock,
    first_picture,
    lit,
)
from tests.common import shared_clip

SIZE = (360, 640)
FROZEN = 300.0


def frame(pixels: NDArray[np.uint8], at: float) -> Frame:
    """Wrap grey pixels as a decoded frame that arrived at `at`."""
    return Frame(Image.fromarray(pixels), sequence=round(at * 25), monotonic=at, wall=at)


def room(rng: np.random.Generator, noise: float = 2.0, level: float = 120.0) -> NDArray[np.uint8]:
    """Return a textured room with the sensor's noise drawn anew."""
    rows, columns = np.indices(SIZE)
    scene = level + 40 * np.sin(rows / 17.0) * np.cos(columns / 23.0)
    return np.clip(scene + rng.normal(0, noise, SIZE), 0, 255).astype(np.uint8)


def black_with_clock(second: int) -> NDArray[np.uint8]:
    """Return a black picture with an on-screen clock whose digits change every second."""
    pixels = np.zeros(SIZE, np.uint8)
    for digit, value in enumerate(f"{second:06d}"):
        pixels[10:30, 20 + 14 * digit : 30 + 14 * digit] = 80 + 15 * int(value)
    return pixels


def judge(check: SightCheck, pictures: list[tuple[float, NDArray[np.uint8]]]) -> list[object]:
    """Look at each picture in turn and return the judgements."""
    return [check.look(frame(pixels, at)) for at, pixels in pictures]


def test_the_same_picture_past_the_bound_is_frozen_until_it_changes() -> None:
    """A stream repeating one picture is frozen once the bound passes; a new picture ends it."""
    rng = np.random.default_rng(1)
    stuck = room(rng)
    check = SightCheck(same_seconds=FROZEN)
    verdicts = judge(check, [(t / 25, stuck) for t in range(round(FROZEN * 25) + 50)])
    first = verdicts.index(Problem.SAME_PICTURE)
    assert first / 25 >= FROZEN
    assert set(verdicts[first:]) == {Problem.SAME_PICTURE}
    # Looked at once a second: frames in between are not scaled down at all.
    assert check.look(frame(room(rng), FROZEN + 2.5)) is None
    assert check.problem is None


def test_a_still_room_between_keyframes_is_not_frozen() -> None:
    """Low-bitrate H.264 repeats the picture exactly until each keyframe redraws the noise."""
    rng = np.random.default_rng(2)
    check = SightCheck(same_seconds=FROZEN)
    picture = room(rng, noise=1.0)
    verdicts = []
    for second in range(1200):
        if second % 60 == 0:  # a "smart codec" keyframe, once a minute
            picture = room(rng, noise=1.0)
        verdicts.append(check.look(frame(picture, float(second))))
    assert set(verdicts) == {None}


def test_an_empty_picture_past_its_bound_is_blind() -> None:
    """A covered lens (black, an on-screen clock ticking) is blind after BLANK_SECONDS."""
    check = SightCheck(same_seconds=FROZEN)
    seconds = round(FROZEN) + 20
    verdicts = judge(check, [(float(s), black_with_clock(s)) for s in range(seconds)])
    first = verdicts.index(Problem.BLANK_PICTURE)
    assert first >= sight.BLANK_SECONDS
    # Past the same picture's bound too, it is still told as empty.
    assert set(verdicts[first:]) == {Problem.BLANK_PICTURE}
    assert check.look(frame(room(np.random.default_rng(3)), seconds + 1.0)) is None
    # Any even colour is as empty: a blue "no signal" screen, a picture burnt white.
    assert is_blank(np.full((144, 256), 29, np.uint8))
    assert is_blank(np.full((144, 256), 255, np.uint8))


def test_a_dark_room_is_not_empty() -> None:
    """A dark room's sensor noise, under infrared light or without, is not an empty picture."""
    rng = np.random.default_rng(4)
    for level, noise in ((3.0, 3.0), (12.0, 3.0), (3.0, 1.5)):
        check = SightCheck(same_seconds=FROZEN)
        # Noise alone, no texture, as at high gain (and filtered by the camera, the last one).
        dark = [
            (float(s), np.clip(rng.normal(level, noise, SIZE), 0, 255).astype(np.uint8))
            for s in range(80)
        ]
        assert set(judge(check, dark)) == {None}
        assert not is_blank(frame(dark[0][1], 0.0).grey(sight.ANALYSIS_HEIGHT))


def test_a_picture_repeated_byte_for_byte_counts_without_a_look() -> None:
    """A picture camera handing back the same bytes is counted as the same picture."""
    check = SightCheck(same_seconds=10.0, interval=0.0)
    assert check.look(frame(room(np.random.default_rng(5)), 0.0)) is None
    verdicts = [check.again(float(s)) for s in range(1, 12)]
    assert verdicts.index(Problem.SAME_PICTURE) == 9


def test_a_small_area_that_keeps_changing_is_still_the_same_picture() -> None:
    """Changes within a small share of the picture, in one place or two, do not end a stretch."""
    stuck = room(np.random.default_rng(6))
    check = SightCheck(same_seconds=FROZEN)
    verdicts = []
    for second in range(round(FROZEN) + 10):
        pixels = stuck.copy()
        # A clock in one corner, a blinking counter in the other: 3% of the picture in all.
        pixels[10:30, 20 : 20 + 8 * (second % 20)] = 255
        pixels[330:350, 540:620] = 255 * (second % 2)
        verdicts.append(check.look(frame(pixels, float(second))))
    first = verdicts.index(Problem.SAME_PICTURE)
    assert first >= FROZEN
    assert set(verdicts[first:]) == {Problem.SAME_PICTURE}
    # A change beyond the share is a change: the camera sees again, at once.
    moved = stuck.copy()
    moved[100:250, 200:400] = 0
    assert check.look(frame(moved, FROZEN + 20)) is None


def test_small_changes_that_add_up_past_the_share_are_no_frozen_picture() -> None:
    """Pictures that each differ from the first a little, somewhere else each time, are live."""
    stuck = room(np.random.default_rng(7))
    check = SightCheck(same_seconds=FROZEN)
    verdicts = []
    for second in range(round(FROZEN) * 2):
        pixels = stuck.copy()
        # A strip of 2% of the picture, a little further down every look.
        row = (second * 3) % (SIZE[0] - 8)
        pixels[row : row + 7, :] ^= 1
        verdicts.append(check.look(frame(pixels, float(second))))
    assert set(verdicts) == {None}


# Real footage: a frozen camera whose clock keeps ticking, and still rooms, coded as cameras do.


def require_ffmpeg() -> None:
    """Skip when FFmpeg, which codes the clips as a camera would, is not installed."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("FFmpeg is not installed: it codes the camera clips these tests need")


def real_picture(width: int, height: int) -> NDArray[np.uint8]:
    """Return a real indoor picture, as grey at the given size."""
    return first_picture(shared_clip("dog_indoor.mp4"), width, height)


def judge_clip(path: Path, check: SightCheck) -> list[tuple[float, object]]:
    """Decode a clip and look at each frame, at its time in the clip; return the judgements."""
    return [(looked.monotonic, check.look(looked)) for looked, _ in decoded_frames(path)]


def first_frozen(verdicts: list[tuple[float, object]]) -> float:
    """Return when a clip was first judged frozen, after checking it stays so from then on."""
    frozen = [at for at, verdict in verdicts if verdict is Problem.SAME_PICTURE]
    assert frozen, "never judged frozen"
    assert {verdict for at, verdict in verdicts if at >= frozen[0]} == {Problem.SAME_PICTURE}
    return frozen[0]


@pytest.mark.parametrize(
    ("size", "scale", "top", "quantiser"),
    [
        # A main stream, the date and time top left in letters 32 pixels high.
        ((720, 1280), 2, 16, "34"),
        # A substream with as large letters, at the foot of a picture a quarter the size.
        ((360, 640), 2, -16, "36"),
    ],
    ids=["720p", "360p"],
)
def test_a_frozen_camera_whose_clock_ticks_on_is_frozen_after_the_bound(
    tmp_path: Path, size: tuple[int, int], scale: int, top: int, quantiser: str
) -> None:
    """A real picture that stopped, coded with a clock drawn anew each second, is frozen."""
    require_ffmpeg()
    stuck = real_picture(size[1], size[0])

    def pictures() -> Iterator[NDArray[np.uint8]]:
        for second in range(round(SAME_STREAM_SECONDS) + 30):
            pixels = stuck.copy()
            draw_clock(pixels, second, scale=scale, top=top, left=16)
            yield pixels

    # Keyframes every 4 s, a constant quantiser: the bits go to the clock, compression noise
    # around its digits included, and the picture around it is coded the same every time.
    coding = ["-g", "4", "-keyint_min", "4", "-qp", quantiser]
    path = code_clip(tmp_path / "frozen.mp4", pictures(), size, coding)
    verdicts = judge_clip(path, SightCheck(same_seconds=SAME_STREAM_SECONDS))
    assert SAME_STREAM_SECONDS <= first_frozen(verdicts) <= SAME_STREAM_SECONDS + 5


def test_a_frozen_camera_without_a_clock_is_frozen_as_before(tmp_path: Path) -> None:
    """A real picture that stopped, with nothing drawn on it, is frozen after the bound."""
    require_ffmpeg()
    size = (360, 640)
    stuck = real_picture(size[1], size[0])
    pictures = (stuck for _ in range(round(SAME_STREAM_SECONDS) + 30))
    coding = ["-g", "4", "-keyint_min", "4", "-qp", "36"]
    path = code_clip(tmp_path / "frozen.mp4", pictures, size, coding)
    verdicts = judge_clip(path, SightCheck(same_seconds=SAME_STREAM_SECONDS))
    assert SAME_STREAM_SECONDS <= first_frozen(verdicts) <= SAME_STREAM_SECONDS + 5


@pytest.mark.parametrize(
    ("light", "keyframe_seconds", "rate"),
    [
        # At 8 kbit/s the noise shows only at keyframes, the rest of the picture skipped
        # between them; at 60 some of it shows between them too.
        (lit, 10, "60k"),
        (lit, 60, "8k"),
        (dark, 10, "60k"),
        (dark, 60, "8k"),
    ],
    ids=["lit-10s", "lit-60s", "dark-10s", "dark-60s"],
)
def test_a_still_room_coded_at_a_low_bitrate_is_never_frozen(
    tmp_path: Path,
    light: Callable[[np.random.Generator, NDArray[np.uint8]], NDArray[np.uint8]],
    keyframe_seconds: int,
    rate: str,
) -> None:
    """A real still room whose noise only keyframes show, its clock ticking, is not frozen."""
    require_ffmpeg()
    size = (360, 640)
    scene = real_picture(size[1], size[0])
    rng = np.random.default_rng(keyframe_seconds)

    def pictures() -> Iterator[NDArray[np.uint8]]:
        for second in range(600):
            pixels = light(rng, scene)
            draw_clock(pixels, second, scale=1, top=16, left=16)
            yield pixels

    keyframes = ["-g", str(keyframe_seconds), "-keyint_min", str(keyframe_seconds)]
    coding = [*keyframes, "-b:v", rate, "-maxrate", rate, "-bufsize", rate]
    path = code_clip(tmp_path / "room.mp4", pictures(), size, coding)
    verdicts = judge_clip(path, SightCheck(same_seconds=SAME_STREAM_SECONDS))
    assert len(verdicts) == 600
    assert {verdict for _, verdict in verdicts} == {None}


def test_snapshots_of_a_frozen_camera_whose_clock_ticks_on_are_frozen() -> None:
    """A camera's JPEG snapshots of a stopped picture, its clock ticking, are frozen."""
    size = (360, 640)
    stuck = real_picture(size[1], size[0])
    check = SightCheck(same_seconds=SAME_PICTURE_SECONDS, interval=0.0)
    verdicts = [
        (float(second), check.look(clock_snapshot(stuck, second)))
        for second in range(0, round(SAME_PICTURE_SECONDS) + 20, 2)
    ]
    assert SAME_PICTURE_SECONDS <= first_frozen(verdicts) <= SAME_PICTURE_SECONDS + 2

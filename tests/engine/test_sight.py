"""Tests for telling a blind camera from a quiet room by its pictures, on synthetic frames."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.home_guardian.engine import sight
from custom_components.home_guardian.engine.errors import Problem
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.sight import SightCheck, is_blank

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
    verdicts = judge(check, [(float(s), black_with_clock(s)) for s in range(120)])
    first = verdicts.index(Problem.BLANK_PICTURE)
    assert first >= sight.BLANK_SECONDS
    assert set(verdicts[first:]) == {Problem.BLANK_PICTURE}
    assert check.look(frame(room(np.random.default_rng(3)), 121.0)) is None
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

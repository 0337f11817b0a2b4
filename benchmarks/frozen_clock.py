"""Measure how a frozen camera's ticking clock and a still room's noise change the picture.

Run from the repository root: .venv/bin/python -m benchmarks.frozen_clock [--clip PATH]
Codes the first picture of real indoor footage (../shared/data) as cameras code it, one picture
a second: stopped, with a clock drawn anew each second (H.264 and JPEG snapshots); and as a
still room whose sensor noise is drawn anew each second, lit and dark, for ten minutes. For
each it prints the share of the analysis picture that changed, against `SAME_OUTLIERS`, and
when `SightCheck` judges it frozen, if ever.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
import tempfile
import time

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.home_guardian.engine.errors import Problem
from custom_components.home_guardian.engine.frame_source import SAME_STREAM_SECONDS
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.motion import ANALYSIS_HEIGHT
from custom_components.home_guardian.engine.picture_source import SAME_PICTURE_SECONDS
from custom_components.home_guardian.engine.sight import SAME_OUTLIERS, SightCheck, is_blank
from tests.cameras.stuck import (
    clock_snapshot,
    code_clip,
    dark,
    decoded_frames,
    draw_clock,
    first_picture,
    lit,
)

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "dog_indoor.mp4"
ROOM_SECONDS = 600
# (size, letter scale, top, encoder options): a main stream and substreams, clock top or foot.
FROZEN = [
    ((720, 1280), 2, 16, ["-g", "4", "-qp", "34"]),
    ((720, 1280), 3, 16, ["-g", "4", "-qp", "34"]),
    ((360, 640), 1, -16, ["-g", "4", "-qp", "36"]),
    ((360, 640), 2, -16, ["-g", "4", "-qp", "36"]),
    ((360, 640), 1, 16, ["-g", "4", "-qp", "36"]),
    ((360, 640), 2, 16, ["-g", "30", "-b:v", "100k", "-maxrate", "100k", "-bufsize", "200k"]),
]

type Light = Callable[[np.random.Generator, NDArray[np.uint8]], NDArray[np.uint8]]


class Stretches:
    """Follow still stretches as `SightCheck` does, keeping the figures it does not tell."""

    def __init__(self) -> None:
        """Start with no picture."""
        self.still: NDArray[np.uint8] | None = None
        self.changed: NDArray[np.bool_] = np.zeros(0, bool)
        self.since = 0.0
        self.longest = 0.0
        self.keyframe_changes: list[float] = []

    def add(self, grey: NDArray[np.uint8], at: float, *, keyframe: bool) -> None:
        """Add a picture; a union past the share ends the stretch at it."""
        if self.still is None:
            self.still, self.changed, self.since = grey, np.zeros(grey.shape, bool), at
            return
        differs = grey != self.still
        self.changed |= differs
        if self.changed.mean() <= SAME_OUTLIERS:
            self.longest = max(self.longest, at - self.since)
            return
        if keyframe:
            self.keyframe_changes.append(float(differs.mean()))
        self.still, self.since = grey, at
        self.changed[:] = False


def ticking(
    stopped: NDArray[np.uint8], seconds: int, *, scale: int, top: int
) -> Iterator[NDArray[np.uint8]]:
    """Yield a stopped picture once a second, its clock drawn anew on it."""
    for second in range(seconds):
        pixels = stopped.copy()
        draw_clock(pixels, second, scale=scale, top=top, left=16)
        yield pixels


def noisy(
    light: Light, rng: np.random.Generator, scene: NDArray[np.uint8], seconds: int
) -> Iterator[NDArray[np.uint8]]:
    """Yield a still room once a second, its noise and its clock drawn anew."""
    for second in range(seconds):
        pixels = light(rng, scene)
        draw_clock(pixels, second, scale=1, top=16, left=16)
        yield pixels


def judged(verdicts: list[tuple[float, Problem | None]]) -> str:
    """Say when pictures were first judged frozen, or that they never were."""
    frozen = [at for at, verdict in verdicts if verdict is Problem.SAME_PICTURE]
    return f"frozen at {frozen[0]:.0f} s" if frozen else "never frozen"


def frozen_streams(clip: Path, folder: Path) -> None:
    """Print what a stopped picture with a ticking clock changes, coded as H.264."""
    print(f"Frozen picture, clock ticking, H.264 (share after {SAME_STREAM_SECONDS:.0f} s):")
    for size, scale, top, coding in FROZEN:
        stopped = first_picture(clip, size[1], size[0])
        pictures = ticking(stopped, round(SAME_STREAM_SECONDS) + 30, scale=scale, top=top)
        path = code_clip(folder / "frozen.mp4", pictures, size, coding)
        check = SightCheck(same_seconds=SAME_STREAM_SECONDS)
        first: NDArray[np.uint8] | None = None
        changed: NDArray[np.bool_] = np.zeros(0, bool)
        verdicts = []
        for frame, _ in decoded_frames(path):
            grey = frame.grey(ANALYSIS_HEIGHT)
            if first is None:
                first, changed = grey, np.zeros(grey.shape, bool)
            elif frame.monotonic <= SAME_STREAM_SECONDS:
                changed |= grey != first
            verdicts.append((frame.monotonic, check.look(frame)))
        where = "top" if top >= 0 else "foot"
        print(
            f"  {size[0]}p, letters {16 * scale} px at the {where}, {' '.join(coding)}: "
            f"{changed.mean():.2%} changed, {judged(verdicts)}"
        )


def frozen_snapshots(clip: Path) -> None:
    """Print what a stopped picture with a ticking clock changes, as JPEG snapshots."""
    stopped = first_picture(clip, 640, 360)
    check = SightCheck(same_seconds=SAME_PICTURE_SECONDS, interval=0.0)
    first: NDArray[np.uint8] | None = None
    changed: NDArray[np.bool_] = np.zeros(0, bool)
    verdicts = []
    for second in range(0, round(SAME_PICTURE_SECONDS) + 20, 2):
        frame = clock_snapshot(stopped, second)
        grey = frame.grey(ANALYSIS_HEIGHT)
        if first is None:
            first, changed = grey, np.zeros(grey.shape, bool)
        else:
            changed |= grey != first
        verdicts.append((float(second), check.look(frame)))
    print(
        f"Frozen picture, clock ticking, JPEG snapshots at 360p, letters 32 px at the top: "
        f"{changed.mean():.2%} changed, {judged(verdicts)}"
    )


def still_rooms(clip: Path, folder: Path) -> None:
    """Print how much of a still room's picture its noise changes, over ten minutes."""
    print(f"Still room, clock ticking, H.264 at 360p, {ROOM_SECONDS // 60} minutes:")
    scene = first_picture(clip, 640, 360)
    rooms: list[tuple[str, Light]] = [("lit", lit), ("dark, noise-reduced", dark)]
    for name, light in rooms:
        for keyframe_seconds in (10, 60):
            for rate in ("8k", "60k"):
                rng = np.random.default_rng(keyframe_seconds)
                pictures = noisy(light, rng, scene, ROOM_SECONDS)
                keyframes = ["-g", str(keyframe_seconds), "-keyint_min", str(keyframe_seconds)]
                coding = [*keyframes, "-b:v", rate, "-maxrate", rate, "-bufsize", rate]
                path = code_clip(folder / "room.mp4", pictures, (360, 640), coding)
                check, stretches = SightCheck(same_seconds=SAME_STREAM_SECONDS), Stretches()
                verdicts = []
                for frame, keyframe in decoded_frames(path):
                    grey = frame.grey(ANALYSIS_HEIGHT)
                    stretches.add(grey, frame.monotonic, keyframe=keyframe)
                    verdicts.append((frame.monotonic, check.look(frame)))
                print(
                    f"  {name}, a keyframe every {keyframe_seconds} s, {rate}bit/s: keyframes "
                    f"changed {min(stretches.keyframe_changes):.0%} or more, the longest still "
                    f"stretch {stretches.longest:.0f} s, {judged(verdicts)}"
                )


def cost_per_look() -> None:
    """Print what one look at a 256 x 144 grey picture costs."""
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 255, (ANALYSIS_HEIGHT, 256), dtype=np.uint8)
    frames = []
    for second in range(1000):
        pixels = scene.copy()
        draw_clock(pixels, second, scale=1, top=4, left=4)
        frame = Frame(Image.fromarray(pixels), sequence=second, monotonic=second, wall=second)
        frame.grey(ANALYSIS_HEIGHT)
        frames.append(frame)
    check = SightCheck(same_seconds=SAME_STREAM_SECONDS)
    start = time.perf_counter()
    for frame in frames:
        check.look(frame)
    looks = (time.perf_counter() - start) / len(frames)
    start = time.perf_counter()
    for frame in frames:
        is_blank(frame.grey(ANALYSIS_HEIGHT))
    blank = (time.perf_counter() - start) / len(frames)
    print(f"One look: {looks * 1e6:.0f} µs, of which the empty-picture check {blank * 1e6:.0f} µs")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clip", type=Path, default=CLIP, help="real footage to take a picture of")
    args = parser.parse_args()
    if not args.clip.exists():
        parser.error(f"{args.clip} is missing: the real footage these figures are measured on")
    with tempfile.TemporaryDirectory() as folder:
        frozen_streams(args.clip, Path(folder))
        frozen_snapshots(args.clip)
        still_rooms(args.clip, Path(folder))
    cost_per_look()


if __name__ == "__main__":
    main()

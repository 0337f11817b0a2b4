"""Print false motion and detection for cases made to break a motion detector.

Run from the repository root: .venv/bin/python -m benchmarks.motion_robustness [--quick]
Every clip is made here with FFmpeg from real pictures in ../shared/data: a still scene (one real
frame, several scenes so that nothing is tuned to one), sensor noise, a dark room, light steps,
an infrared switch, flicker at 2.3 Hz, fades and cuts, and H.264 at a low bitrate with a keyframe
every 5 s. Walkers are upright textured shapes cut from another real frame, crossing the picture
fast (4 s) or slowly (25 s). The clips are decoded and analysed as production does (PyAV, the
analysis picture, 5 analysed frames a second).

Columns:
- false s / intervals: seconds and intervals of debounced motion on clips with nothing moving,
  start-up included; on clips with a walker, analysed frames whose regions all miss the walker.
- settled at: seconds into the clip when the detector first said its background was good.
- detected: share of analysed frames, with the walker in view, that have a region on the walker.
- blind s: after a light step, a fade or a cut, seconds until the walker is found again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import functools
import math
from pathlib import Path
import subprocess
import sys
import tempfile

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.geometry import Box
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    AnalysisPace,
    MotionDetector,
    MotionSettings,
)
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.common import VIDEO

WIDTH, HEIGHT, RATE = 640, 360, 10
FPS = 5.0
SCENES = ("vtest.avi", "bikes.mp4", "dog_indoor.mp4", "motion.mov")

type Picture = NDArray[np.float32]
# A clip is a list of pictures and, for each, the walker's box in pixels (left, top, right, bottom).
type Walker = tuple[int, int, int, int] | None


@dataclass(kw_only=True)
class Clip:
    """One made clip: its pictures, where the walker is, and how it is encoded."""

    name: str
    pictures: list[Picture]
    walker: list[Walker]
    # Seconds at which a light step, fade or cut happens (blindness is measured from there).
    events: tuple[float, ...] = ()
    # Seconds at which the camera reconnects (the detector is reset, as the HA side does).
    reconnects: tuple[float, ...] = ()
    encode: tuple[str, ...] = ("-crf", "28")


@dataclass(kw_only=True)
class Outcome:
    """What the detector made of one clip."""

    false_seconds: float = 0.0
    false_intervals: int = 0
    false_frames: int = 0
    settled_at: float | None = None
    in_view: int = 0
    detected: int = 0
    blind: list[float] = field(default_factory=list)
    analysed: int = 0
    # When the last light step, fade or cut happened, until the walker is found again.
    since: float | None = None
    was_active: bool = False
    events_seen: int = 0

    def score(
        self, at: float, walker: Walker, *, found: bool, motion: bool, events: tuple[float, ...]
    ) -> None:
        """Count a frame of a clip with a walker: found, missed, or motion elsewhere."""
        if walker is not None:
            self.in_view += 1
            self.detected += found
            if motion and not found:
                self.false_frames += 1
        if self.events_seen < len(events) and at >= events[self.events_seen]:
            self.since = events[self.events_seen]
            self.events_seen += 1
        if self.since is not None and found:
            self.blind.append(at - self.since)
            self.since = None

    def note_still(self, *, active: bool) -> None:
        """Count a frame of a clip where nothing moves: any motion is false."""
        if active:
            self.false_seconds += 1 / FPS
            self.false_intervals += not self.was_active
        self.was_active = active


@functools.cache
def scene(name: str) -> Picture:
    """Return the first frame of a shared clip as grey WIDTH x HEIGHT floats."""
    container = open_stream(StreamAddress(url=str(VIDEO / name)))
    try:
        frame = next(iter(iter_frames(container)))
        image = Image.fromarray(frame.rgb()).convert("L").resize((WIDTH, HEIGHT))
    finally:
        container.close()
    return np.asarray(image, dtype=np.float32)


def dark(picture: Picture) -> Picture:
    """Return the picture as a dim room shows it: little light, lifted blacks."""
    return picture * 0.3 + 8.0


def dim_walker(picture: Picture) -> Picture:
    """Return a walker as a dim room shows it: close to the room's own grey."""
    return picture * 0.15 + 18.0


def sprite(texture_from: str, height: int, seed: int) -> tuple[Picture, NDArray[np.bool_]]:
    """Return an upright person-sized shape textured with a patch of another real picture."""
    width = max(6, height // 3)
    rng = np.random.default_rng(seed)
    source = scene(texture_from)
    top = int(rng.integers(0, HEIGHT - height))
    left = int(rng.integers(0, WIDTH - width))
    texture = source[top : top + height, left : left + width].copy()
    rows, cols = np.mgrid[0:height, 0:width]
    # Head, then a body: two ellipses make a silhouette rather than a box.
    head = ((rows - height * 0.1) / (height * 0.1)) ** 2 + ((cols - width / 2) / (width * 0.3)) ** 2
    body = ((rows - height * 0.58) / (height * 0.42)) ** 2 + ((cols - width / 2) / (width / 2)) ** 2
    return texture, (head <= 1) | (body <= 1)


def paste(
    picture: Picture, shape: tuple[Picture, NDArray[np.bool_]], left: int, top: int
) -> Walker:
    """Draw the walker into the picture (clipped at the edges); return its box or None."""
    texture, mask = shape
    height, width = mask.shape
    x0, x1 = max(0, left), min(WIDTH, left + width)
    y0, y1 = max(0, top), min(HEIGHT, top + height)
    if x1 - x0 < width // 2 or y1 <= y0:
        return None
    part = mask[y0 - top : y1 - top, x0 - left : x1 - left]
    region = picture[y0:y1, x0:x1]
    region[part] = texture[y0 - top : y1 - top, x0 - left : x1 - left][part]
    return (x0, y0, x1, y1)


def make(
    name: str,
    base: Picture,
    seconds: float,
    light: Callable[[float], tuple[float, float]],
    sigma: float,
    *,
    seed: int,
    walker_seconds: float | None = None,
    walker_scale: Callable[[Picture], Picture] = lambda p: p,
    switch: tuple[float, Picture] | None = None,
    **options: object,
) -> Clip:
    """Make a clip of a still scene with noise, a light function and an optional walker."""
    rng = np.random.default_rng(seed)
    shape = sprite(SCENES[(seed + 1) % len(SCENES)], HEIGHT // 3, seed)
    pictures, walkers = [], []
    for index in range(round(seconds * RATE)):
        at = index / RATE
        picture = (switch[1] if switch and at >= switch[0] else base).copy()
        walker: Walker = None
        if walker_seconds is not None and at >= 3.0:
            # Cross the picture once, left to right, starting 3 s in, then come back.
            travel = (at - 3.0) / walker_seconds
            phase = travel % 2
            x = phase if phase <= 1 else 2 - phase
            left = round(-shape[1].shape[1] / 2 + x * WIDTH)
            textured = (walker_scale(shape[0]), shape[1])
            walker = paste(picture, textured, left, HEIGHT // 2 - HEIGHT // 8)
        gain, offset = light(at)
        noisy = picture * gain + offset + noise(rng, sigma, picture)
        pictures.append(np.clip(noisy, 0, 255).astype(np.float32))
        walkers.append(walker)
    return Clip(name=name, pictures=pictures, walker=walkers, **options)  # type: ignore[arg-type]


def noise(rng: np.random.Generator, sigma: float, picture: Picture) -> Picture:
    """Return sensor noise as cheap cameras make it: blotchy, and stronger where it is brighter."""
    fine = rng.normal(0.0, sigma * 0.6, picture.shape)
    # Demosaicing and in-camera denoising leave noise in blobs a few pixels wide.
    coarse = rng.normal(0.0, sigma * 0.8, (HEIGHT // 4 + 1, WIDTH // 4 + 1))
    blotchy = np.repeat(np.repeat(coarse, 4, axis=0), 4, axis=1)[:HEIGHT, :WIDTH]
    shot = np.sqrt(np.maximum(picture, 1.0) / 64.0)
    return ((fine + blotchy) * np.minimum(shot, 1.5)).astype(np.float32)


def steady(_at: float) -> tuple[float, float]:
    """Keep the light as it is."""
    return 1.0, 0.0


def flicker(at: float) -> tuple[float, float]:
    """Flicker by 10 % at 2.3 Hz, as a failing tube or a TV's glow does."""
    return 1.0 + 0.1 * math.sin(2 * math.pi * 2.3 * at), 0.0


def lamp(at: float) -> tuple[float, float]:
    """Switch a lamp on at 8 s."""
    return (1.6, 0.0) if at >= 8.0 else (1.0, 0.0)


def infrared(at: float) -> tuple[float, float]:
    """Switch to night vision at 8 s: flatter contrast, lifted blacks."""
    return (0.55, 70.0) if at >= 8.0 else (1.0, 0.0)


def fade_and_cut(at: float) -> tuple[float, float]:
    """Fade to black over 1 s from 8 s, then come back (the new scene is cut in at 9 s)."""
    if 8.0 <= at < 9.0:
        return 1.0 - (at - 8.0), 0.0
    return 1.0, 0.0


LOW_BITRATE = ("-b:v", "60k", "-maxrate", "80k", "-bufsize", "160k", "-g", str(5 * RATE))


def cases(quick: bool) -> Iterator[Clip]:
    """Yield every case, built from every shared scene (only two in quick mode)."""
    scenes = SCENES[:2] if quick else SCENES
    for seed, name in enumerate(scenes):
        bright, dim = scene(name), dark(scene(name))
        other = scene(SCENES[(seed + 2) % len(SCENES)])
        yield make(f"dark noisy start-up / {name}", dim, 12, steady, 10.0, seed=seed)
        yield make(
            f"dark noisy start-up, low bitrate / {name}", dim, 12, steady, 10.0, seed=seed,
            encode=LOW_BITRATE,
        )  # fmt: skip
        yield make(
            f"dark noisy reconnect / {name}", dim, 16, steady, 10.0, seed=seed, reconnects=(8.0,),
            encode=LOW_BITRATE,
        )  # fmt: skip
        yield make(
            f"dark noisy, keyframe 5 s / {name}", dim, 20, steady, 10.0, seed=seed,
            encode=LOW_BITRATE,
        )  # fmt: skip
        yield make(
            f"low bitrate, keyframe 5 s / {name}", bright, 20, steady, 5.0, seed=seed,
            encode=LOW_BITRATE,
        )  # fmt: skip
        yield make(f"flicker 2.3 Hz / {name}", bright, 12, flicker, 3.0, seed=seed)
        yield make(f"lamp step / {name}", bright, 12, lamp, 3.0, seed=seed, events=(8.0,))
        yield make(f"infrared step / {name}", bright, 12, infrared, 3.0, seed=seed, events=(8.0,))
        yield make(
            f"fade and cut / {name}", bright, 14, fade_and_cut, 3.0, seed=seed,
            switch=(9.0, other), events=(9.0,),
        )  # fmt: skip
        yield make(
            f"walker fast, dark noisy / {name}", dim, 14, steady, 10.0, seed=seed,
            walker_seconds=4.0, walker_scale=dim_walker,
        )  # fmt: skip
        yield make(
            f"walker slow, dark noisy / {name}", dim, 30, steady, 10.0, seed=seed,
            walker_seconds=40.0, walker_scale=dim_walker,
        )  # fmt: skip
        yield make(
            f"walker, flicker 2.3 Hz / {name}", bright, 14, flicker, 3.0, seed=seed,
            walker_seconds=4.0,
        )  # fmt: skip
        yield make(
            f"walker, low bitrate / {name}", bright, 14, steady, 3.0, seed=seed,
            walker_seconds=4.0, encode=LOW_BITRATE,
        )  # fmt: skip
        yield make(
            f"walker, lamp step / {name}", bright, 14, lamp, 3.0, seed=seed,
            walker_seconds=6.0, events=(8.0,),
        )  # fmt: skip
        yield make(
            f"walker, infrared step / {name}", bright, 14, infrared, 3.0, seed=seed,
            walker_seconds=6.0, events=(8.0,),
        )  # fmt: skip
        yield make(
            f"walker, fade and cut / {name}", bright, 16, fade_and_cut, 3.0, seed=seed,
            walker_seconds=6.0, switch=(9.0, other), events=(9.0,),
        )  # fmt: skip


def encode(clip: Clip, path: Path) -> None:
    """Encode the pictures as H.264, as a camera would send them."""
    encoder = subprocess.Popen(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray"),
            *("-s", f"{WIDTH}x{HEIGHT}", "-r", str(RATE), "-i", "-", "-c:v", "libx264"),
            *("-preset", "veryfast", *clip.encode, "-pix_fmt", "yuv420p", str(path)),
        ],
        stdin=subprocess.PIPE,
    )
    assert encoder.stdin is not None  # noqa: S101 - asked for above
    for picture in clip.pictures:
        encoder.stdin.write(picture.astype(np.uint8).tobytes())
    encoder.stdin.close()
    encoder.wait()


def hits(regions: tuple[Box, ...], walker: Walker) -> bool:
    """Return True when a region overlaps the walker's box."""
    if walker is None:
        return False
    left, top, right, bottom = walker
    for box in regions:
        x0, y0, x1, y1 = box.to_pixels(WIDTH, HEIGHT)
        if x0 < right and left < x1 and y0 < bottom and top < y1:
            return True
    return False


def evaluate(clip: Clip, path: Path) -> Outcome:
    """Decode the clip as production does and score every analysed frame."""
    outcome = Outcome()
    detector = MotionDetector(MotionSettings())
    pace = AnalysisPace(FPS)
    reconnects = list(clip.reconnects)
    has_walker = any(w is not None for w in clip.walker)
    container = open_stream(StreamAddress(url=str(path)))
    try:
        for frame in iter_frames(container):
            at = (frame.sequence - 1) / RATE
            if reconnects and at >= reconnects[0]:
                reconnects.pop(0)
                detector.reset()
            if not pace.due(at, detector):
                continue
            result = detector.process(frame.grey(ANALYSIS_HEIGHT), at)
            outcome.analysed += 1
            settled = bool(getattr(detector, "settled", result.rejected != "warmup"))
            if settled and outcome.settled_at is None:
                outcome.settled_at = at
            walker = clip.walker[frame.sequence - 1]
            found = hits(result.regions, walker)
            outcome.score(at, walker, found=found, motion=result.motion, events=clip.events)
            if not has_walker:
                outcome.note_still(active=detector.active)
    finally:
        container.close()
    if outcome.since is not None and has_walker:
        outcome.blind.append(math.inf)
    return outcome


def main() -> None:
    """Make, encode and score every case; print one Markdown table and the totals."""
    quick = "--quick" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    print("| case | false s / intervals (frames) | settled at s | detected | blind s |")
    print("|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for clip in cases(quick):
            if only and not any(word in clip.name for word in only):
                continue
            path = Path(folder) / "clip.mp4"
            encode(clip, path)
            outcome = evaluate(clip, path)
            has_walker = any(w is not None for w in clip.walker)
            false = (
                f"{outcome.false_frames} frames"
                if has_walker
                else f"{outcome.false_seconds:.1f} / {outcome.false_intervals}"
            )
            detected = f"{outcome.detected / max(1, outcome.in_view):.0%}" if has_walker else "-"
            blind = ", ".join(f"{b:.1f}" for b in outcome.blind) or "-"
            settled = "-" if outcome.settled_at is None else f"{outcome.settled_at:.1f}"
            print(f"| {clip.name} | {false} | {settled} | {detected} | {blind} |")
            kind = clip.name.split(" / ")[0]
            totals.setdefault(kind, []).append(
                outcome.detected / max(1, outcome.in_view)
                if has_walker
                else float(outcome.false_intervals > 0)
            )
    print("\n| case kind | clips | clips with false motion / mean detected |")
    print("|---|---|---|")
    for kind, values in totals.items():
        shown = (
            f"{statistics_mean(values):.0%} detected"
            if kind.startswith("walker")
            else f"{sum(values):.0f} of {len(values)} with false motion"
        )
        print(f"| {kind} | {len(values)} | {shown} |")


def statistics_mean(values: list[float]) -> float:
    """Return the mean of a non-empty list."""
    return sum(values) / len(values)


if __name__ == "__main__":
    main()

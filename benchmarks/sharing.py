"""Measure what sharing costs: the privacy filter per frame, PIN hashing and token lookup.

Run from the repository root: .venv/bin/python -m benchmarks.sharing [--frames 200]
The filter runs on real footage (../shared/data/video/vtest.avi scaled to 640x360) fed by the real
motion detector at 5 fps, at each privacy level; face detection is measured where an OpenCV with
Haar cascades is importable. The fan-out to 1, 5 and 20 viewers is `benchmarks.sharing_viewers`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
import secrets
import statistics
import sys
import time

import numpy as np
from numpy.typing import NDArray
from PIL import Image

# Imported through the package: putting the integration's folder on sys.path would let its
# select.py shadow the standard library's select module.
from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    MotionDetector,
    MotionSettings,
)
from custom_components.home_guardian.engine.privacy import (
    FaceDetector,
    PrivacyFilter,
    PrivacyLevel,
    load_face_detector,
)
from custom_components.home_guardian.engine.shares import PinHasher, ShareRegistry
from custom_components.home_guardian.engine.urls import StreamAddress
from custom_components.home_guardian.engine.watermark import SharedPicture

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "vtest.avi"
SIZE = (640, 360)
RATE = 10.0
# A bed in one corner: zones cost something at every level.
ZONES = (((0.75, 0.05), (0.98, 0.05), (0.98, 0.3), (0.75, 0.3)),)
WATERMARK = ("Grandma", "K7QX2M", "14:03:22")

type RGB = NDArray[np.uint8]
type Row = tuple[str, list[float]]


def footage(count: int) -> list[tuple[float, RGB, NDArray[np.uint8] | None]]:
    """Decode frames at 640x360 with, every other one, the 5 fps analysis picture."""
    container = open_stream(StreamAddress(url=str(CLIP)))
    frames: list[tuple[float, RGB, NDArray[np.uint8] | None]] = []
    try:
        for frame in iter_frames(container):
            index = frame.sequence - 1
            rgb = np.asarray(Image.fromarray(frame.rgb()).resize(SIZE, Image.Resampling.BILINEAR))
            grey = frame.grey(ANALYSIS_HEIGHT) if index % 2 == 0 else None
            frames.append((index / RATE, rgb, grey))
            if len(frames) >= count:
                break
    finally:
        container.close()
    return frames


def filter_times(
    frames: list[tuple[float, RGB, NDArray[np.uint8] | None]],
    level: PrivacyLevel,
    faces: FaceDetector | None,
    *,
    jpeg: bool,
) -> tuple[list[float], float]:
    """Return ms per frame of the filter (and JPEG encoding) and the mean share pixelated."""
    detector = MotionDetector(MotionSettings())
    flt = PrivacyFilter(level, ZONES, face_detector=faces)
    times: list[float] = []
    hidden: list[float] = []
    for at, rgb, grey in frames:
        if grey is not None:
            result = detector.process(grey, at)
            flt.update_motion(result.regions, at, settled=result.rejected is None)
        start = time.perf_counter()
        out = flt.apply(rgb, at)
        if jpeg:
            SharedPicture(out).for_viewer(*WATERMARK)
        times.append((time.perf_counter() - start) * 1000)
        # Past the settle time only: the first seconds hide everything by design.
        if at >= 5.0 and not jpeg:
            hidden.append(float(flt.masks(rgb, at)[0].mean()))
    return times, statistics.fmean(hidden) if hidden else 0.0


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Return the ms each of `repeat` runs of `action` took."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    """Return the 95th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def table(rows: list[tuple[str, list[float], str]]) -> None:
    """Print rows of timings as a table (milliseconds)."""
    print(f"{'what':<46} {'median ms':>10} {'p95 ms':>9} {'runs':>5}  note")
    for name, values, note in rows:
        median = statistics.median(values)
        print(f"{name:<46} {median:>10.3f} {p95(values):>9.3f} {len(values):>5}  {note}")


def main() -> None:
    """Run the measurements and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=200, help="frames of footage (10 fps)")
    parser.add_argument("--pin-runs", type=int, default=5)
    args = parser.parse_args()
    if not CLIP.exists():
        sys.exit(f"{CLIP} is missing: the benchmark needs the shared footage")

    rows: list[tuple[str, list[float], str]] = []
    frames = footage(args.frames)
    faces = load_face_detector()
    for level in PrivacyLevel:
        times, hidden = filter_times(frames, level, None, jpeg=False)
        rows.append((f"filter 640x360, level {level}", times, f"{hidden:.0%} pixelated"))
    blind = PrivacyFilter(PrivacyLevel.PEOPLE, ZONES)  # never told about motion: hides it all
    rgb = frames[-1][1]
    rows.append(
        (
            "filter 640x360, whole picture (settling)",
            timed(lambda: blind.apply(rgb, 0.0), 50),
            "",
        )
    )
    times, _ = filter_times(frames, PrivacyLevel.PEOPLE, None, jpeg=True)
    rows.append(("filter + JPEG + one viewer's caption, people", times, "as each frame is shared"))
    if faces is not None:
        for level in (PrivacyLevel.FACES, PrivacyLevel.PEOPLE):
            times, hidden = filter_times(frames[:60], level, faces, jpeg=False)
            rows.append(
                (f"filter 640x360, level {level}, OpenCV faces", times, f"{hidden:.0%} pixelated")
            )
    else:
        rows.append(("face detection", [0.0], "unavailable: no OpenCV with Haar cascades"))

    hasher = PinHasher()
    stored = hasher.hash("314159")
    rows.append(
        (
            "PIN hash (scrypt N=2^17 r=8 p=1)",
            timed(lambda: hasher.hash("314159"), args.pin_runs),
            "128 MiB each",
        )
    )
    rows.append(
        ("PIN verify, right PIN", timed(lambda: hasher.verify(stored, "314159"), args.pin_runs), "")
    )
    rows.append(
        (
            "PIN verify, no share (same work)",
            timed(lambda: hasher.verify(None, "314159"), args.pin_runs),
            "",
        )
    )

    registry = ShareRegistry(PinHasher(log2_n=4))  # cheap PINs: only lookups are timed here
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    tokens = [
        registry.create(
            camera="cam", viewer_name=f"Viewer {n}", now=now, duration=timedelta(days=7)
        )[1]
        for n in range(500)
    ]
    known = [secrets.choice(tokens) for _ in range(2000)]
    unknown = [secrets.token_urlsafe(32) for _ in range(2000)]
    rows.append(("token lookup, 500 shares, valid", per_call(registry, known, now), "per call"))
    rows.append(("token lookup, 500 shares, unknown", per_call(registry, unknown, now), "per call"))
    table(rows)


def per_call(registry: ShareRegistry, tokens: list[str], now: datetime) -> list[float]:
    """Return ms per lookup, measured over batches of 100 so the clock's grain does not show."""
    times = []
    for start in range(0, len(tokens), 100):
        batch = tokens[start : start + 100]
        begin = time.perf_counter()
        for token in batch:
            registry.lookup(token, now)
        times.append((time.perf_counter() - begin) * 1000 / len(batch))
    return times


if __name__ == "__main__":
    main()

"""Measure whether level "people" keeps still people hidden, and what it costs the picture.

Run from the repository root: .venv/bin/python -m benchmarks.privacy_still [--hold 60]
Clips are made with FFmpeg from ../shared/data/video/vtest.avi (busy CCTV view, 10 fps):
people walk, then the picture freezes for `--hold` seconds (everyone in view stands still, with
fresh camera noise on every frame); the same with a lamp step, an exposure wobble and an IR-like
switch to grey; a still crowd from the first frame; the clip's median background as an empty
room; and the busy clip itself. Each runs through the production path (motion at 5 fps into the
filter, the filter on every frame, no OpenCV in the filter).

People are located on the ORIGINAL frames by an independent method: difference from the clip's
median background (blobs of at least MIN_BLOB pixels), checked on the frozen frame by OpenCV's
HOG people detector where OpenCV is installed (evaluation only). A person counts as visible in a
frame when over VISIBLE_SHARE of their pixels, or of their head (the top fifth of their box), are
not pixelated.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import importlib
from pathlib import Path
import subprocess
import tempfile
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    AnalysisPace,
    MotionDetector,
    MotionSettings,
)
from custom_components.home_guardian.engine.privacy import PrivacyFilter, PrivacyLevel
from custom_components.home_guardian.engine.urls import StreamAddress

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"
RATE = 10
ANALYSIS_FPS = 5.0
# Foreground: any channel this far from the median background, in blobs at least this big.
FOREGROUND_LEVELS = 30
MIN_BLOB = 150
VISIBLE_SHARE = 0.25
HEAD_SHARE = 0.2
NOISE = "noise=alls=4:allf=t"

type RGB = NDArray[np.uint8]
type Mask = NDArray[np.bool_]
type Box = tuple[int, int, int, int]


@dataclass(frozen=True, kw_only=True, slots=True)
class Case:
    """One clip: how FFmpeg makes it, and which original frame shows the truth at each frame."""

    name: str
    filters: str
    truth: Callable[[int], int | None]
    # Frames from which the people are standing still (for the still-phase figures).
    still_from: int | None = None
    source: str = "vtest"
    # Seconds into the clip when the light changes: the clear time is counted from there.
    switch: float = 0.0


def ffmpeg(*arguments: str) -> None:
    """Run FFmpeg quietly."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments], check=True)


def decode(path: Path) -> list[RGB]:
    """Return every frame of a clip as RGB."""
    container = open_stream(StreamAddress(url=str(path)))
    try:
        return [frame.rgb() for frame in iter_frames(container)]
    finally:
        container.close()


def people(rgb: RGB, background: RGB, cv2: Any) -> list[Mask]:
    """Return each person's pixels: blobs that differ from the median background."""
    difference = np.abs(rgb.astype(np.int16) - background.astype(np.int16)).max(axis=2)
    mask = (difference > FOREGROUND_LEVELS).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.dilate(mask, kernel, iterations=2)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [labels == index for index in range(1, count) if stats[index, 4] >= MIN_BLOB]


def head(blob: Mask) -> Mask:
    """Return the top fifth of a blob: where the face is."""
    rows = np.flatnonzero(blob.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cut = top + max(1, round((bottom - top) * HEAD_SHARE))
    out = np.zeros_like(blob)
    out[top:cut] = blob[top:cut]
    return out


def hog_people(rgb: RGB, cv2: Any, blobs: list[Mask]) -> list[Box]:
    """Return OpenCV HOG person boxes on a picture upscaled twice (people here are small).

    Only boxes over a blob count: HOG also fires on a parked van, which is no one.
    """
    foreground = np.zeros(rgb.shape[:2], dtype=bool)
    for blob in blobs:
        foreground |= blob
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    big = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    boxes, weights = hog.detectMultiScale(big, winStride=(8, 8), padding=(8, 8), scale=1.05)
    found = [
        (x // 2, y // 2, w // 2, h // 2)
        for (x, y, w, h), weight in zip(boxes, np.ravel(weights), strict=True)
        if weight > 0.5
    ]
    return [(x, y, w, h) for x, y, w, h in found if foreground[y : y + h, x : x + w].mean() > 0.1]


@dataclass(kw_only=True, slots=True)
class Outcome:
    """What the filter did over one clip."""

    frames: int = 0
    person_frames: int = 0
    visible_frames: int = 0
    head_frames: int = 0
    person_pixels: int = 0
    visible_pixels: int = 0
    still_frames: int = 0
    still_visible: int = 0
    hog_boxes: int = 0
    hog_visible_frames: int = 0
    clear_after: float | None = None
    seconds: float = 0.0
    shares: list[float] = field(default_factory=list)


def score(outcome: Outcome, hidden: Mask, blobs: list[Mask], hog: list[Box], still: bool) -> None:
    """Count whether anyone, or any head, shows in one filtered frame."""
    outcome.person_frames += 1
    seen = heads = False
    for blob in blobs:
        shown = blob & ~hidden
        outcome.person_pixels += int(blob.sum())
        outcome.visible_pixels += int(shown.sum())
        seen |= shown.sum() > VISIBLE_SHARE * blob.sum()
        top = head(blob)
        heads |= (top & ~hidden).sum() > VISIBLE_SHARE * top.sum()
    outcome.visible_frames += seen or heads
    outcome.head_frames += heads
    if still:
        outcome.still_frames += 1
        outcome.still_visible += seen or heads
        outcome.hog_visible_frames += any(
            (~hidden[y : y + h, x : x + w]).mean() > VISIBLE_SHARE for x, y, w, h in hog
        )


def evaluate(case: Case, clip: Path, originals: list[RGB], background: RGB, cv2: Any) -> Outcome:
    """Run the production path over a clip and compare what it hid with the truth."""
    container = open_stream(StreamAddress(url=str(clip)))
    privacy = PrivacyFilter(PrivacyLevel.PEOPLE)
    detector = MotionDetector(MotionSettings())
    pace = AnalysisPace(ANALYSIS_FPS)
    outcome = Outcome()
    truth: dict[int, list[Mask]] = {}
    hog: list[Box] = []
    if case.still_from is not None and (index := case.truth(case.still_from)) is not None:
        hog = hog_people(originals[index], cv2, people(originals[index], background, cv2))
    outcome.hog_boxes = len(hog)
    try:
        for frame in iter_frames(container):
            at = (frame.sequence - 1) / RATE
            started = time.perf_counter()
            if pace.due(at, detector):
                result = detector.process(frame.grey(ANALYSIS_HEIGHT), at)
                privacy.update_motion(result.regions, at, settled=result.rejected is None)
            privacy.apply(frame, at)
            outcome.seconds += time.perf_counter() - started
            hidden = privacy.masks(frame.rgb(), at)[0]
            number = frame.sequence - 1
            outcome.frames += 1
            outcome.shares.append(float(hidden.mean()))
            index = case.truth(number)
            if index is None:
                continue
            if index not in truth:
                truth[index] = people(originals[index], background, cv2)
            if truth[index]:
                still = case.still_from is not None and number >= case.still_from
                score(outcome, hidden, truth[index], hog, still)
    finally:
        container.close()
    shares = outcome.shares
    for number in range(len(shares)):
        if all(share < 0.05 for share in shares[number:]):
            outcome.clear_after = number / RATE
            break
    return outcome


def cases(hold: int) -> list[Case]:
    """Return the clips to make: still people, light changes over them, empty and busy rooms."""
    freeze = 30 * RATE  # people walked for 30 s, then stand still

    def frozen_at(stop: int) -> Callable[[int], int | None]:
        return lambda number: min(number, stop - 1)

    pad = f"setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop_duration={hold}"
    still = f"trim=end_frame={freeze},{pad}"
    early = f"trim=end_frame={8 * RATE},{pad}"
    switch = 30 + hold // 3
    empty = 150  # long enough to learn the room, then change the light over it
    return [
        Case(
            name=f"walk 30 s, then still {hold} s",
            filters=f"{still},{NOISE}",
            truth=frozen_at(freeze),
            still_from=freeze,
        ),
        Case(
            name=f"walk 8 s (start-up), then still {hold} s",
            filters=f"{early},{NOISE}",
            truth=frozen_at(8 * RATE),
            still_from=8 * RATE,
        ),
        Case(
            name=f"still, lamp on at {switch} s and off {hold // 3} s later",
            filters=(
                f"{still},eq=brightness=0.15:contrast=1.2:enable='gte(t,{switch})',"
                f"eq=brightness=-0.25:enable='gte(t,{switch + hold // 3})',{NOISE}"
            ),
            truth=frozen_at(freeze),
            still_from=freeze,
        ),
        Case(
            name="still, auto-exposure wobble (gain 0.7-1.3, offset ±0.1, 20 s period)",
            filters=(
                f"{still},eq=eval=frame:contrast='1+0.3*sin(0.31*t)':"
                f"brightness='0.1*sin(0.23*t)',{NOISE}"
            ),
            truth=frozen_at(freeze),
            still_from=freeze,
        ),
        Case(
            name=f"still, IR switch (grey, contrast, gamma) at {switch} s",
            filters=(
                f"{still},hue=s=0:enable='gte(t,{switch})',"
                f"eq=contrast=1.4:brightness=0.05:gamma=0.7:enable='gte(t,{switch})',{NOISE}"
            ),
            truth=frozen_at(freeze),
            still_from=freeze,
        ),
        Case(
            name=f"crowd still from the first frame for {hold + 30} s (start-up limit)",
            filters=f"trim=end_frame=1,tpad=stop_mode=clone:stop_duration={hold + 30},{NOISE}",
            truth=lambda _number: 0,
            still_from=0,
        ),
        Case(
            name=f"empty room (median background) for {empty} s",
            filters=f"tpad=stop_mode=clone:stop_duration={empty},{NOISE}",
            truth=lambda _number: None,
            source="median",
        ),
        Case(
            name=f"empty room, lamp on at {empty // 2} s (clear: since the switch)",
            filters=(
                f"tpad=stop_mode=clone:stop_duration={empty},"
                f"eq=brightness=0.15:contrast=1.2:enable='gte(t,{empty // 2})',{NOISE}"
            ),
            truth=lambda _number: None,
            source="median",
            switch=empty // 2,
        ),
        Case(
            name=f"empty room, IR switch at {empty // 2} s (clear: since the switch)",
            filters=(
                f"tpad=stop_mode=clone:stop_duration={empty},"
                f"hue=s=0:enable='gte(t,{empty // 2})',"
                f"eq=contrast=1.4:brightness=0.05:gamma=0.7:enable='gte(t,{empty // 2})',{NOISE}"
            ),
            truth=lambda _number: None,
            source="median",
            switch=empty // 2,
        ),
        Case(name="busy room (vtest.avi as it is)", filters="null", truth=lambda n: n),
    ]


def main() -> None:
    """Make the clips, run them and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hold", type=int, default=60, help="seconds people stand still")
    arguments = parser.parse_args()
    source = VIDEO / "vtest.avi"
    if not source.exists():
        print("../shared/data/video/vtest.avi is missing: nothing to measure")
        return
    try:
        cv2: Any = importlib.import_module("cv2")
    except ImportError:
        print("OpenCV is needed to locate people for this evaluation (not by the filter)")
        return
    originals = decode(source)
    background = np.median(np.stack(originals[::8]), axis=0).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        median = Path(folder) / "median.png"
        Image.fromarray(background).save(median)
        print(
            f"{'clip':<62} {'hidden':>7} {'visible':>8} {'still vis':>10} {'HOG vis':>8}"
            f" {'px vis':>7} {'clear':>6} {'ms/f':>5}"
        )
        for case in cases(arguments.hold):
            clip = Path(folder) / "clip.mp4"
            if case.source == "median":
                inputs = ["-loop", "1", "-framerate", str(RATE), "-t", "1", "-i", str(median)]
            else:
                inputs = ["-i", str(source)]
            ffmpeg(
                *inputs,
                "-vf",
                case.filters,
                "-r",
                str(RATE),
                "-c:v",
                "libx264",
                "-crf",
                "18",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                str(clip),
            )
            outcome = evaluate(case, clip, originals, background, cv2)
            frames = max(1, outcome.frames)
            clear = None if outcome.clear_after is None else outcome.clear_after - case.switch
            print(
                f"{case.name:<62} {sum(outcome.shares) / frames:7.1%}"
                f" {outcome.visible_frames:>4}/{outcome.person_frames:<4}"
                f" {outcome.still_visible:>4}/{outcome.still_frames:<5}"
                f" {outcome.hog_visible_frames:>3}/{outcome.hog_boxes:<2}b"
                f" {outcome.visible_pixels / max(1, outcome.person_pixels):7.2%}"
                f" {'never' if clear is None else f'{clear:.0f}s':>6}"
                f" {1000 * outcome.seconds / frames:5.1f}"
            )


if __name__ == "__main__":
    main()

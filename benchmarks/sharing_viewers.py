"""Measure what 1, 5 and 20 viewers of one shared camera cost, as the broadcast does the work.

Run from the repository root: .venv/bin/python -m benchmarks.sharing_viewers
Each new frame (5 a second, 640x360, real footage) is filtered and JPEG-encoded once per privacy
level; each share re-encodes only the band under its watermark, and the same bytes are handed to
every open stream of that share, as `sharing.CameraBroadcast` does. Two audiences: many viewers
of one share (a family watching together), and one share per viewer (a class, each parent with
their own link).
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np
from numpy.typing import NDArray

from benchmarks.sharing import footage
from custom_components.home_guardian.engine.motion import MotionDetector, MotionSettings
from custom_components.home_guardian.engine.privacy import PrivacyFilter, PrivacyLevel
from custom_components.home_guardian.engine.watermark import SharedPicture, share_code

FRAMES = 100  # 20 seconds at 5 fps
FPS = 5.0
# Viewers' names in the scripts a caption must draw, long and short: shaping and reordering
# Arabic and Hebrew, wide CJK glyphs and cut names cost more than plain ASCII.
NAMES = (
    "Anna's parents",
    "张伟 (爷爷)",
    "Дмитрий Шостакович",
    "محمد عبد الله",
    "Nguyễn Thị Minh Khai",
    "山田 太郎 やまだ",
    "שלום 12",
    "A very long viewer name that does not fit beside the time at all",
)


def cpu() -> float:
    """Return this process's CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


type Footage = list[tuple[float, NDArray[np.uint8], NDArray[np.uint8] | None]]


def run(viewers: int, shares: int, frames: Footage) -> tuple[float, float]:
    """Return CPU seconds per second of video and MiB handed out per second."""
    detector = MotionDetector(MotionSettings())
    privacy = PrivacyFilter(PrivacyLevel.PEOPLE)
    names = [f"{NAMES[index % len(NAMES)]} {index}" for index in range(shares)]
    codes = [share_code(f"share-{index}") for index in range(shares)]
    slots: list[bytes] = [b""] * viewers
    sent = 0
    started = cpu()
    for at, rgb, grey in frames:
        if grey is not None:
            result = detector.process(grey, at)
            privacy.update_motion(result.regions, at, settled=result.rejected is None)
        shared = SharedPicture(privacy.apply(rgb, at))
        # The time in the watermark ticks every second, as in the broadcast.
        stamp = f"14:03:{int(at) % 60:02d}"
        pictures = [
            shared.for_viewer(name, code, stamp) for name, code in zip(names, codes, strict=True)
        ]
        for index in range(viewers):
            # A slot keeps a reference to the share's picture: fan-out copies nothing.
            slots[index] = pictures[index % shares]
            sent += len(slots[index])
    seconds = len(frames) / FPS
    return (cpu() - started) / seconds, sent / seconds / 2**20


def peak_memory(viewers: int, shares: int, frames: Footage) -> float:
    """Return the most memory, in MiB, that Python and numpy held at once during a run."""
    tracemalloc.start()
    try:
        run(viewers, shares, frames)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    """Print the table."""
    np.seterr(all="ignore")
    frames = footage(FRAMES * 2)[::2]
    print("| viewers | shares | CPU s per s | vs 1 viewer | MiB/s sent | peak MiB held |")
    print("|---|---|---|---|---|---|")
    # The cheapest of three runs each: other load on the machine only ever adds CPU.
    costs = {
        audience: min((run(*audience, frames) for _ in range(3)), key=lambda figures: figures[0])
        for audience in ((1, 1), (5, 1), (20, 1), (5, 5), (20, 20))
    }
    base = costs[1, 1][0]
    for (viewers, shares), (cost, rate) in costs.items():
        held = peak_memory(viewers, shares, frames)
        print(
            f"| {viewers} | {shares} | {cost:.3f} | {cost / base:.2f}x | {rate:.2f} | {held:.1f} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS of the whole benchmark: {peak:.0f} MiB; wall {time.process_time():.1f} s CPU"
    )


if __name__ == "__main__":
    main()

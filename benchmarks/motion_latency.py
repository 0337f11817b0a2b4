"""Measure how soon motion reaches Home Assistant after the first camera frame that shows it.

Run from the repository root: .venv/bin/python -m benchmarks.motion_latency
Each shared clip is preceded by six seconds of its own first frame with sensor noise, so motion
starts at a known frame; the start is shifted across every phase of the 5 fps analysis grid.
Latency = camera time from the first moving frame to the frame whose analysis turns the sensor
on, plus that analysis, plus the hand-over from the reader thread to Home Assistant's event loop
(measured here with a real asyncio loop).
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import numpy as np
from numpy.typing import NDArray

from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    AnalysisPace,
    MotionDetector,
    MotionSettings,
)
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.common import VIDEO

CLIPS = ("vtest.avi", "bikes.mp4", "motion.mov", "dog_indoor.mp4")
FPS = 5.0
PREFIX_SECONDS = 6.0


def clip(name: str) -> tuple[float, list[NDArray[np.uint8]]]:
    """Return a clip's frame rate and its analysis-size grey frames."""
    container = open_stream(StreamAddress(url=str(VIDEO / name)))
    try:
        rate = float(container.streams.video[0].average_rate or 25)
        return rate, [frame.grey(ANALYSIS_HEIGHT) for frame in iter_frames(container)]
    finally:
        container.close()


def latency(rate: float, frames: list[NDArray[np.uint8]], shift: int) -> float | None:
    """Return seconds from the first moving frame to the sensor turning on, or None if never."""
    rng = np.random.default_rng(shift)
    still = frames[0].astype(np.float32)
    prefix = [
        np.clip(still + rng.normal(0, 2, still.shape), 0, 255).astype(np.uint8)
        for _ in range(int(PREFIX_SECONDS * rate) + shift)
    ]
    stream = [*prefix, *frames]
    onset = len(prefix) + 1  # frame 0 of the clip is the still itself
    detector = MotionDetector(MotionSettings())
    pace = AnalysisPace(FPS)
    for index, grey in enumerate(stream):
        at = index / rate
        if not pace.due(at, detector):
            continue
        started = time.perf_counter()
        detector.process(grey, at)
        spent = time.perf_counter() - started
        if detector.active:
            if index < onset:
                return None  # a false start on the still prefix
            return at - onset / rate + spent
    return None


def handover() -> list[float]:
    """Return seconds a reader thread's call_soon_threadsafe takes to run on a busy-free loop."""
    loop = asyncio.new_event_loop()
    delays: list[float] = []

    def arrived(sent: float) -> None:
        delays.append(time.perf_counter() - sent)

    def reader() -> None:
        for _ in range(200):
            loop.call_soon_threadsafe(arrived, time.perf_counter())
            time.sleep(0.002)

    async def wait() -> None:
        thread = threading.Thread(target=reader)
        thread.start()
        # The loop stays free while the reader runs, as Home Assistant's mostly is.
        await asyncio.to_thread(thread.join)
        await asyncio.sleep(0.05)

    loop.run_until_complete(wait())
    loop.close()
    return delays


def main() -> None:
    """Print latencies per clip and overall."""
    hand = statistics.quantiles(handover(), n=20)[-1]
    overall: list[float] = []
    print("| clip | camera fps | onsets | p50 ms | p95 ms | max ms | missed |")
    print("|---|---|---|---|---|---|---|")
    for name in CLIPS:
        rate, frames = clip(name)
        shifts = range(round(rate / FPS))
        found = [latency(rate, frames, shift) for shift in shifts]
        values = [value + hand for value in found if value is not None]
        overall += values
        quantiles = (
            statistics.quantiles(values, n=20, method="inclusive")
            if len(values) > 1
            else values * 19
        )
        print(
            f"| {name} | {rate:.0f} | {len(found)} | {statistics.median(values) * 1000:.0f} | "
            f"{quantiles[-1] * 1000:.0f} | {max(values) * 1000:.0f} | "
            f"{sum(value is None for value in found)} |"
        )
    p95 = statistics.quantiles(overall, n=20, method="inclusive")[-1]
    print(f"\nall onsets: p50 {statistics.median(overall) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"reader thread to event loop hand-over p95: {hand * 1e6:.0f} us (included)")


if __name__ == "__main__":
    main()

"""Measure how often the empty room is written under loops, and how long a press waits for disk.

Run from the repository root: .venv/bin/python -m benchmarks.scene_writes
Loops made to break the pacing, over a simulated day: a viewer opening and closing the stream
every 2 seconds; an automation pressing "Room is empty" every second; both at once; an owner
pressing three times ten seconds apart just after a viewer left. Each runs through the pacing
now (`engine.pacing.WritePacer`) and as it was before (one 60-second gap for every write). The
window a crash loses a press in is the wait before its write begins, plus the write itself,
measured here with Home Assistant's own atomic JSON writer on a full-size model (256 x 144).
"""

from __future__ import annotations

from pathlib import Path
import statistics
import tempfile
import time

from homeassistant.helpers.json import save_json
import numpy as np

from custom_components.home_guardian.engine.pacing import GAP_SECONDS, WritePacer, simulate
from custom_components.home_guardian.engine.scene import EmptyScene

DAY = 86400.0
WRITES = 20


def press_waits(written: list[float], requests: list[tuple[float, bool]]) -> list[float]:
    """Return, for each press, the seconds until the first write beginning at or after it."""
    waits = []
    for at, pressed in requests:
        if pressed:
            after = [moment for moment in written if moment >= at]
            waits.append(after[0] - at if after else float("inf"))
    return waits


def loop(every: float, *, pressed: bool, start: float = 0.0) -> list[tuple[float, bool]]:
    """Return a request every `every` seconds for a day."""
    return [(start + index * every, pressed) for index in range(int(DAY / every))]


def write_seconds() -> tuple[float, int]:
    """Return the median seconds of one atomic write of a full-size model, and its bytes."""
    scene = EmptyScene()
    rng = np.random.default_rng(1)
    for second in range(120):
        picture = rng.integers(0, 255, (144, 256), dtype=np.uint8) // 8 + 100
        scene.observe(picture, float(second))
    data = {"version": 1, "minor_version": 1, "key": "scene", "data": scene.saved()}
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "home_guardian.scene.bench"
        for _ in range(WRITES):
            started = time.perf_counter()
            save_json(str(path), data, private=True, atomic_writes=True)
            times.append(time.perf_counter() - started)
        size = path.stat().st_size
    return statistics.median(times), size


def main() -> None:
    """Print writes a day and the wait before a press is written, before and now."""
    seconds, size = write_seconds()
    cases = {
        "viewer open/close every 2 s": loop(2.0, pressed=False),
        "button pressed every 1 s": loop(1.0, pressed=True),
        "both loops at once": sorted(loop(2.0, pressed=False) + loop(3.0, pressed=True)),
        "viewer left, 3 presses 10 s apart": [
            (0.0, False),
            *((at, True) for at in (1.0, 11.0, 21.0)),
        ],
    }
    print(f"one write: {size / 1000:.0f} kB, {seconds * 1000:.1f} ms (atomic, median of {WRITES})")
    print(f"{'case':36} {'':6} {'writes/day':>10} {'MB/day':>7} {'press wait max':>15}")
    for name, requests in cases.items():
        for label, pacer in (
            ("before", WritePacer(press_gap=GAP_SECONDS, burst=10**9)),
            ("now", WritePacer()),
        ):
            written = simulate(pacer, requests, DAY)
            waits = press_waits(written, requests)
            longest = f"{max(waits) + seconds:.1f} s" if waits else "-"
            count = len(written)
            print(f"{name:36} {label:6} {count:>10} {count * size / 1e6:>7.0f} {longest:>15}")


if __name__ == "__main__":
    main()

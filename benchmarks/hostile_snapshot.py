"""Measure what a hostile or broken snapshot camera costs one still: memory, bytes and time.

Run from the repository root: .venv/bin/python -m benchmarks.hostile_snapshot
Each case runs `grab_jpeg` (timeout 5 s) in a fresh process against a camera on 127.0.0.1 and
prints how the read ended, how long it took, how many bytes the camera got out before it was
cut off, and how much the process's peak memory grew.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import time

from PIL import Image

from custom_components.home_guardian.engine.frame_source import StreamError, grab_jpeg
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import HostileCamera

# Far more than any picture: what a camera sends at loopback speed for seconds.
HOSTILE_LIMIT = 4 * 1024**3
CASES = (
    ("/endless", "JPEG, no end, then endless bytes"),
    ("/huge", "Content-Length of 100 GB"),
    ("/trickle", "JPEG, no end, then a byte every 0.1 s"),
    ("/trickle-head", "headers trickled a byte every 0.1 s"),
    ("/cut", "JPEG cut off after a third"),
)


def grab(url: str, results: multiprocessing.Queue[tuple[str, float, int]]) -> None:
    """Grab one still in this process and report how it ended and the peak memory growth."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        outcome = f"a still of {len(grab_jpeg(StreamAddress(url=url), timeout=5.0))} bytes"
    except StreamError as err:
        outcome = f"refused: {err.problem}"
    seconds = time.monotonic() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    results.put((outcome, seconds, grown))


def main() -> None:
    """Print one line per hostile camera."""
    buffer = io.BytesIO()
    Image.effect_noise((1280, 720), 64).convert("RGB").save(buffer, format="JPEG")
    camera = HostileCamera(buffer.getvalue(), limit=HOSTILE_LIMIT)
    context = multiprocessing.get_context("spawn")
    print(f"{'camera':40} {'outcome':30} {'seconds':>8} {'sent MB':>8} {'peak +MB':>9}")
    answered = 0
    try:
        for path, label in CASES:
            results: multiprocessing.Queue[tuple[str, float, int]] = context.Queue()
            child = context.Process(target=grab, args=(camera.url(path), results))
            child.start()
            outcome, seconds, grown_kib = results.get(timeout=120)
            child.join()
            # The camera notices it was cut off at its next send.
            deadline = time.monotonic() + 15
            while len(camera.sent) < answered + 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            answered = len(camera.sent)
            sent = camera.sent[-1]
            print(
                f"{label:40} {outcome:30} {seconds:8.2f} {sent / 1e6:8.1f} {grown_kib / 1024:9.1f}"
            )
    finally:
        camera.stop()


if __name__ == "__main__":
    main()

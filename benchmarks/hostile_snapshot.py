"""Measure what a hostile or broken HTTP camera costs: memory, bytes and time.

Run from the repository root: .venv/bin/python -m benchmarks.hostile_snapshot
Each snapshot case runs `grab_jpeg` (timeout 5 s), each MJPEG case reads the stream until it
ends, in a fresh process against a camera on 127.0.0.1, and prints how the read ended, how long
it took, how many bytes the camera got out before it was cut off, and how much the process's
peak memory grew.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import time

from PIL import Image

from custom_components.home_guardian.engine.frame_source import (
    StreamError,
    close_container,
    grab_jpeg,
    iter_frames,
    open_stream,
)
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
    ("/mjpeg-endless", "MJPEG: a picture, then a part, no end"),
    ("/mjpeg-huge", "MJPEG: a picture, then a 100 GB part"),
)


def grab(url: str, results: multiprocessing.Queue[tuple[str, float, int]]) -> None:
    """Grab one still in this process and report how it ended and the peak memory growth."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    pictures = 0
    try:
        if "/mjpeg" in url:
            container = open_stream(StreamAddress(url=url), open_timeout=5.0, read_timeout=5.0)
            try:
                for _ in iter_frames(container):
                    pictures += 1
            finally:
                close_container(container)
            outcome = f"{pictures} pictures, then its end"
        else:
            outcome = f"a still of {len(grab_jpeg(StreamAddress(url=url), timeout=5.0))} bytes"
    except StreamError as err:
        outcome = (
            f"{pictures} pictures, then {err.problem}"
            if "/mjpeg" in url
            else f"refused: {err.problem}"
        )
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

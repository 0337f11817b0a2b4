"""Measure what a still from a snapshot URL costs: the camera's JPEG handed on, against decoding it.

Run from the repository root: .venv/bin/python -m benchmarks.snapshot_still
Serves pictures of three sizes over HTTP as a snapshot camera does and prints the median time of
`grab_jpeg` (what the camera entity's stills use) and of decoding the picture and taking its JPEG.
"""

from __future__ import annotations

from collections.abc import Callable
import io
import statistics
import time

import numpy as np
from PIL import Image

from custom_components.home_guardian.engine.frame_source import grab_frame, grab_jpeg
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import HttpCamera

SIZES = ((768, 576), (1920, 1080), (3840, 2160))
ROUNDS = 20


def picture(width: int, height: int) -> bytes:
    """Return a JPEG with detail at every scale, as a camera's picture has."""
    rng = np.random.default_rng(1)
    coarse = rng.integers(0, 256, size=(height // 8, width // 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(coarse).resize((width, height)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def median_ms(read: Callable[[], bytes], jpeg: bytes) -> float:
    """Return the median milliseconds of `read()` over the rounds, checking what it returns."""
    read()
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        result = read()
        times.append(time.perf_counter() - started)
        if result != jpeg:
            msg = "the still is not the camera's picture"
            raise RuntimeError(msg)
    return 1000 * statistics.median(times)


def main() -> None:
    """Print one line per picture size."""
    print("picture     KiB   handed on (ms)   decoded (ms)")
    for width, height in SIZES:
        jpeg = picture(width, height)
        camera = HttpCamera(jpeg)
        camera.start()
        try:
            address = StreamAddress(url=camera.url("/snapshot.jpg"))
            handed_on = median_ms(lambda a=address: grab_jpeg(a), jpeg)
            decoded = median_ms(lambda a=address: grab_frame(a)[0].jpeg(), jpeg)
        finally:
            camera.stop()
        size = f"{width}x{height}"
        print(f"{size:<11} {len(jpeg) // 1024:>4} {handed_on:>15.1f} {decoded:>14.1f}")


if __name__ == "__main__":
    main()

"""Kill and restart real cameras many times under a real Home Assistant; print what is left behind.

Run from the repository root: .venv/bin/python -m benchmarks.soak [--cycles 100] [--json]
A Home Assistant test instance (real core, real event loop, the integration set up through its
config entries) reads a real RTSP camera (gst-rtsp-server) and a real HTTP MJPEG camera
(FFmpeg), both streaming the shared footage. Each cycle kills the RTSP camera, as a power cut
would, and starts it again; every other cycle does the same to the MJPEG camera. Between cycles
the cameras stream for --short seconds, and for --long seconds every --long-every cycles.
Per cycle it prints the process's threads (FFmpeg's included), resident memory, open files and
the seconds until pictures arrive again. At the end both cameras are removed, which must give
back what they held. With --json the last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
import ctypes
import json
import logging
from pathlib import Path
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.home_guardian.const import CONF_STREAM_URL, DOMAIN
from custom_components.home_guardian.coordinator import CameraCoordinator
from tests.cameras.servers import MjpegCamera, RtspCamera

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "vtest.avi"
# Frames must come back within this long after a camera returns, or the restart counts as lost
# (and counts this long in the figures).
RECOVERY_LIMIT = 120.0


def threads() -> int:
    """Return this process's threads, FFmpeg's decoder threads included."""
    return sum(1 for _ in Path("/proc/self/task").iterdir())


def open_files() -> int:
    """Return this process's open file descriptors."""
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def reader_threads() -> int:
    """Return the integration's camera reader threads that are alive."""
    return sum(t.name.startswith("home_guardian ") for t in threading.enumerate())


def trimmed_rss_mib() -> float:
    """Return resident memory after the C allocator gives free pages back to the system.

    Freed memory stays in glibc's arenas until reused; trimming shows what is still held.
    """
    with contextlib.suppress(OSError):  # not glibc: musl gives pages back by itself
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def rss_mib() -> float:
    """Return this process's resident memory in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_until(condition: Callable[[], bool], limit: float) -> float:
    """Wait on the event loop until `condition` holds; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise TimeoutError(f"not within {limit} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def add_camera(hass: HomeAssistant, title: str, url: str) -> CameraCoordinator:
    """Add a camera entry for `url`, set it up and wait for its first picture."""
    entry = MockConfigEntry(domain=DOMAIN, title=title, data={CONF_STREAM_URL: url})
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(f"{title} did not set up: {entry.state}")
    coordinator: CameraCoordinator = entry.runtime_data
    await wait_until(lambda: coordinator.last_update_success, RECOVERY_LIMIT)
    return coordinator


async def restart(
    hass: HomeAssistant, camera: RtspCamera | MjpegCamera, coordinator: CameraCoordinator
) -> float:
    """Kill a camera, wait until the integration notices, start it; return seconds to frames."""
    source = coordinator.source
    await hass.async_add_executor_job(camera.stop)
    await wait_until(lambda: source.status.problem is not None, RECOVERY_LIMIT)
    frames = source.status.frames
    await hass.async_add_executor_job(camera.start)
    started = time.monotonic()
    try:
        await wait_until(lambda: source.status.frames > frames, RECOVERY_LIMIT)
    except TimeoutError:
        print(f"{coordinator.name}: no pictures {RECOVERY_LIMIT:.0f} s after it returned")
    return time.monotonic() - started


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run the cycles in a Home Assistant test instance and return the figures."""
    rtsp = RtspCamera(clip=CLIP)
    mjpeg = MjpegCamera(clip=CLIP)
    rtsp.start()
    mjpeg.start()
    figures: dict[str, Any] = {"cycles": args.cycles}
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop("custom_components", None)  # let the loader find ours
            if not await async_setup_component(hass, DOMAIN, {}):
                raise RuntimeError("the integration did not set up")
            baseline = (threads(), rss_mib(), open_files())
            cameras = [
                (rtsp, await add_camera(hass, "Soak RTSP", rtsp.url)),
                (mjpeg, await add_camera(hass, "Soak MJPEG", mjpeg.url)),
            ]
            recoveries: list[float] = []
            print("cycle threads rss_mib open_files seconds_to_frames", flush=True)
            for cycle in range(1, args.cycles + 1):
                restarted = cameras if cycle % 2 == 0 else cameras[:1]
                seconds = [await restart(hass, *camera) for camera in restarted]
                recoveries += seconds
                long = args.long_every and cycle % args.long_every == 0
                await asyncio.sleep(args.long if long else args.short)
                sample = (threads(), rss_mib(), open_files())
                print(
                    f"{cycle:5d} {sample[0]:7d} {sample[1]:7.1f} {sample[2]:10d} "
                    + " ".join(f"{s:.2f}" for s in seconds),
                    flush=True,
                )
                if cycle == min(10, args.cycles):
                    figures |= {
                        "threads_after_10": sample[0],
                        "rss_mib_after_10": round(sample[1], 1),
                        "open_files_after_10": sample[2],
                    }
            figures |= {
                "threads_after_all": sample[0],
                "rss_mib_after_all": round(sample[1], 1),
                "open_files_after_all": sample[2],
                "seconds_to_frames_p50": round(statistics.median(recoveries), 2),
                "seconds_to_frames_max": round(max(recoveries), 2),
                "restarts_lost": sum(seconds >= RECOVERY_LIMIT for seconds in recoveries),
            }
            for entry in hass.config_entries.async_entries(DOMAIN):
                await hass.config_entries.async_remove(entry.entry_id)
            await hass.async_block_till_done()
            await asyncio.sleep(2)  # let removed readers' threads end
            figures |= {
                "threads_before_cameras": baseline[0],
                "threads_after_removal": threads(),
                "reader_threads_after_removal": reader_threads(),
                "rss_mib_before_cameras": round(baseline[1], 1),
                "rss_mib_after_removal": round(rss_mib(), 1),
                "rss_mib_after_removal_trimmed": round(trimmed_rss_mib(), 1),
                "open_files_before_cameras": baseline[2],
                "open_files_after_removal": open_files(),
            }
            await hass.async_stop(force=True)
    rtsp.stop()
    mjpeg.stop()
    return figures


def main() -> int:
    """Parse the arguments, run the soak and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--short", type=float, default=5.0, help="seconds of streaming per cycle")
    parser.add_argument("--long", type=float, default=60.0, help="seconds of the long stretches")
    parser.add_argument("--long-every", type=int, default=10, help="0 for no long stretches")
    parser.add_argument("--quick", action="store_true", help="1 s and 5 s of streaming")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args()
    if args.quick:
        args.short, args.long = 1.0, 5.0
    if not CLIP.exists():
        print(f"{CLIP} is missing: the real footage this benchmark streams", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.ERROR)
    figures = asyncio.run(soak(args))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

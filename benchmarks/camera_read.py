"""Measure what reading a camera costs: CPU against FFmpeg alone, memory, and still latency.

Run from the repository root: .venv/bin/python -m benchmarks.camera_read [--seconds 20]
Streams real footage from ../shared/data through the local RTSP test camera at the demo size
(640x360, 10 fps) and at 720p (1280x720, 25 fps, H.264).

A second table runs Home Assistant itself, with motion detection on as installed, and compares
a camera added by URL with the same footage read through another integration's camera entity
(Home Assistant's generic camera): by its stream, and by its pictures (a snapshot-only camera).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
import resource
import statistics
import subprocess
import subprocess as sp
import sys
import tempfile
import time

from homeassistant import loader
from homeassistant.components.camera import async_get_image
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.home_guardian.camera_source import async_stored_source
from custom_components.home_guardian.const import (
    CONF_CAMERA_ENTITY,
    CONF_PICTURES_PER_SECOND,
    CONF_READ_MODE,
    CONF_STREAM_URL,
    DOMAIN,
    READ_PICTURES,
    READ_STREAM,
)
from custom_components.home_guardian.engine.frame_source import FrameSource
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.camera_entities import add_generic_camera
from tests.cameras.servers import HttpCamera, RtspCamera

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "vtest.avi"


def rss_mib() -> float:
    """Return this process's resident memory in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(who: int) -> float:
    """Return user plus system CPU seconds of this process or its children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def ffmpeg_decode_cpu(url: str, seconds: float) -> float:
    """Return the CPU seconds FFmpeg alone spends decoding the stream for `seconds`."""
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-i",
            url,
            "-t",
            str(seconds),
            "-f",
            "null",
            "-",
        ],
        check=True,
    )
    return cpu_seconds(resource.RUSAGE_CHILDREN) - before


def frame_source_cpu(url: str, seconds: float) -> tuple[float, float, int]:
    """Return CPU seconds, memory growth (MiB) and frames for reading the stream `seconds`."""
    memory = rss_mib()
    source = FrameSource(StreamAddress(url=url), name="bench")
    source.start()
    source.wait_for_first(15)
    first = source.status.frames
    before = cpu_seconds(resource.RUSAGE_SELF)
    time.sleep(seconds)
    spent = cpu_seconds(resource.RUSAGE_SELF) - before
    frames = source.status.frames - first
    grown = rss_mib() - memory
    source.stop()
    return spent, grown, frames


def still_latency_ms(url: str, count: int = 40) -> list[float]:
    """Return how long serving a still from a new latest frame takes, in milliseconds."""
    source = FrameSource(StreamAddress(url=url), name="bench")
    source.start()
    source.wait_for_first(15)
    timings = []
    seen = -1
    while len(timings) < count:
        frame = source.latest
        if frame is None or frame.sequence == seen:
            time.sleep(0.01)
            continue
        seen = frame.sequence
        started = time.perf_counter()
        frame.jpeg()
        timings.append((time.perf_counter() - started) * 1000)
    source.stop()
    return timings


def clip_pictures(count: int = 80) -> list[bytes]:
    """Return pictures of the clip, four a second, as a snapshot camera would send them."""
    with tempfile.TemporaryDirectory() as folder:
        sp.run(
            [
                "ffmpeg", "-v", "error", "-i", str(CLIP), "-vf", "fps=4,scale=640:-2",
                "-frames:v", str(count), "-q:v", "5", f"{folder}/%03d.jpg",
            ],
            check=True,
        )  # fmt: skip
        return [path.read_bytes() for path in sorted(Path(folder).glob("*.jpg"))]


async def measure_entry(
    hass: HomeAssistant, entry: MockConfigEntry, seconds: float
) -> tuple[float, int, list[float], list[float]]:
    """Return CPU seconds, frames, still latencies and still ages (ms) of one running camera."""
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(f"{entry.title} did not start")
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await asyncio.sleep(2)  # past the first connection and the detector's warm-up
    first = coordinator.source.status.frames
    before = cpu_seconds(resource.RUSAGE_SELF)
    await asyncio.sleep(seconds)
    spent = cpu_seconds(resource.RUSAGE_SELF) - before
    frames = coordinator.source.status.frames - first
    camera = coordinator.camera_entity_id()
    latencies, ages = [], []
    for _ in range(20):
        started = time.perf_counter()
        await async_get_image(hass, camera)
        latencies.append((time.perf_counter() - started) * 1000)
        latest = coordinator.source.latest
        ages.append((time.monotonic() - latest.monotonic) * 1000)
        await asyncio.sleep(0.13)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    return spent, frames, sorted(latencies), sorted(ages)


async def camera_entity_rows(seconds: float) -> list[str]:
    """Return table rows: a URL camera beside camera-entity sources of the same footage."""
    rtsp = RtspCamera(clip=CLIP)
    snapshots = HttpCamera(b"", frames=clip_pictures())
    rtsp.start()
    snapshots.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
                _, by_stream = await add_generic_camera(hass, "By stream", stream=rtsp.url)
                _, by_pictures = await add_generic_camera(
                    hass, "By pictures", still=snapshots.url("/frames.jpg")
                )
                cases: list[tuple[str, Callable[[], MockConfigEntry]]] = [
                    (
                        "URL camera (RTSP)",
                        lambda: MockConfigEntry(domain=DOMAIN, data={CONF_STREAM_URL: rtsp.url}),
                    ),
                    ("camera entity, stream", lambda: entity_entry(hass, by_stream, READ_STREAM)),
                    (
                        "camera entity, pictures 1/s",
                        lambda: entity_entry(hass, by_pictures, READ_PICTURES, 1),
                    ),
                    (
                        "camera entity, pictures 4/s",
                        lambda: entity_entry(hass, by_pictures, READ_PICTURES, 4),
                    ),
                ]
                for label, make in cases:
                    spent, frames, stills, ages = await measure_entry(hass, make(), seconds)
                    rows.append(
                        f"| {label} | {spent / seconds * 100:.1f} % | {frames / seconds:.1f} | "
                        f"{statistics.median(stills):.1f} | {stills[-2]:.1f} | "
                        f"{statistics.median(ages):.0f} |"
                    )
                await hass.async_stop(force=True)
    finally:
        rtsp.stop()
        snapshots.stop()
    return rows


def entity_entry(
    hass: HomeAssistant, entity_id: str, mode: str, pictures_per_second: float = 1
) -> MockConfigEntry:
    """Return a Home Guardian entry reading a camera entity, as the flow makes it."""
    return MockConfigEntry(
        domain=DOMAIN,
        data={CONF_CAMERA_ENTITY: async_stored_source(hass, entity_id), CONF_READ_MODE: mode},
        options={CONF_PICTURES_PER_SECOND: pictures_per_second},
    )


def main() -> int:
    """Print the figures as Markdown tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if not CLIP.exists():
        print("../shared/data/video/vtest.avi is missing: nothing to measure")
        return 1
    print(
        "| stream | FFmpeg decode CPU s | Home Guardian read CPU s | ratio | frames | "
        "memory MiB | still p50 ms | still p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, width, height, fps in (
        ("demo 640x360 10 fps", 640, 360, 10),
        ("720p H.264 25 fps", 1280, 720, 25),
    ):
        camera = RtspCamera(clip=CLIP, width=width, height=height, fps=fps)
        camera.start()
        try:
            ffmpeg = ffmpeg_decode_cpu(camera.url, args.seconds)
            ours, memory, frames = frame_source_cpu(camera.url, args.seconds)
            stills = sorted(still_latency_ms(camera.url))
        finally:
            camera.stop()
        p95 = stills[int(len(stills) * 0.95) - 1]
        print(
            f"| {label} | {ffmpeg:.2f} | {ours:.2f} | {ours / ffmpeg:.2f} | {frames} | "
            f"{memory:.1f} | {statistics.median(stills):.1f} | {p95:.1f} |"
        )
    print()
    print(
        "| camera (640x360 footage, in Home Assistant, motion on) | CPU of one core | "
        "frames/s | still p50 ms | still p95 ms | picture age at still p50 ms |"
    )
    print("|---|---|---|---|---|---|")
    for row in asyncio.run(camera_entity_rows(args.seconds)):
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())

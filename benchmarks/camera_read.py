"""Measure what reading a camera costs: CPU against FFmpeg alone, memory, and still latency.

Run from the repository root: .venv/bin/python -m benchmarks.camera_read [--seconds 20]
Streams real footage from ../shared/data through the local RTSP test camera at the demo size
(640x360, 10 fps) and at 720p (1280x720, 25 fps, H.264).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import time

from custom_components.home_guardian.engine.frame_source import FrameSource
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import RtspCamera

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


def main() -> int:
    """Print the figures as a Markdown table."""
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

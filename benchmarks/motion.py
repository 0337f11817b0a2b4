"""Compare motion detection cost and accuracy: ours, a naive MOG2 and a Frigate-style detector.

Run from the repository root: .venv/bin/python -m benchmarks.motion [--cpu]
With --cpu, only the CPU ratio against FFmpeg on 5-minute 720p clips at 10 and 25 fps, coded
as FFmpeg codes by default (with B-frames) and without B-frames, as many cameras send.
Uses a 720p H.264 clip made from ../shared/data/video/vtest.avi, the shared clips with people and
a dog (positives) and static clips made from one real frame with noise, light switches, an
infrared switch and an exposure ramp, encoded at low quality (negatives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from numpy.typing import NDArray

from custom_components.home_guardian.engine.cells import cell_sum
from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    AnalysisPace,
    MotionDetector,
    MotionSettings,
)
from custom_components.home_guardian.engine.urls import StreamAddress

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"
ANALYSIS_FPS = 5.0
WARMUP_SECONDS = 1.0
NEGATIVE_FRAMES = 150
NEGATIVE_RATE = 10
LONG_SECONDS = 300

type Grey = NDArray[np.uint8]
type Light = Callable[[int, NDArray[np.float32]], NDArray[np.float32]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One method over one clip: CPU used and which analysed moments showed motion."""

    cpu_seconds: float
    motion: list[bool]
    latencies: list[float]


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """Return user plus system CPU seconds of this process or its children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def ffmpeg(*arguments: str) -> None:
    """Run FFmpeg quietly."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments], check=True)


def ffmpeg_decode(path: Path) -> Run:
    """Measure FFmpeg decoding the clip to nothing on one thread.

    `-threads` before `-i` sets the decoder's threads; after it, only the (idle) encoder's.
    """
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    ffmpeg("-threads", "1", "-i", str(path), "-f", "null", "-")
    return Run(cpu_seconds=cpu_seconds(resource.RUSAGE_CHILDREN) - before, motion=[], latencies=[])


def make_negative(path: Path, light: Light, seed: int) -> None:
    """Write a static clip of one real frame with sensor noise and a light change, cheaply coded."""
    container = open_stream(StreamAddress(url=str(VIDEO / "vtest.avi")))
    try:
        base = next(iter(iter_frames(container))).rgb().mean(axis=2).astype(np.float32)
    finally:
        container.close()
    rng = np.random.default_rng(seed)
    height, width = base.shape
    encoder = subprocess.Popen(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            f"{width}x{height}",
            "-r",
            str(NEGATIVE_RATE),
            "-i",
            "-",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "35",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        stdin=subprocess.PIPE,
    )
    assert encoder.stdin is not None  # noqa: S101 - asked for above
    for index in range(NEGATIVE_FRAMES):
        noisy = light(index, base) + rng.normal(0.0, 5.0, base.shape)
        encoder.stdin.write(np.clip(noisy, 0, 255).astype(np.uint8).tobytes())
    encoder.stdin.close()
    encoder.wait()


def sampled(
    path: Path, *, thin: bool = False
) -> Iterator[tuple[float, bool, Callable[[int], Grey]]]:
    """Decode with the engine path; say which frames are due for analysis at 5 fps.

    With `thin`, as the integration reads a camera: frames that no other frame refers to are
    left undecoded while the rest come often enough (`frame_source.Thinning`).
    """
    container = open_stream(StreamAddress(url=str(path)))
    try:
        rate = float(container.streams.video[0].average_rate or 25)
        due = 0.0
        needed = (lambda: ANALYSIS_FPS) if thin else (lambda: None)
        for frame in iter_frames(container, needed_fps=needed):
            at = frame.stream_time
            if at is None:
                at = (frame.sequence - 1) / rate
            is_due = at + 1e-9 >= due
            if is_due:
                due += 1 / ANALYSIS_FPS
            yield at, is_due, frame.grey
    finally:
        container.close()


def ours(path: Path) -> Run:
    """Run the engine's detector at 5 analysed frames a second, reading as the integration does."""
    started = cpu_seconds()
    detector = MotionDetector(MotionSettings())
    pace = AnalysisPace(ANALYSIS_FPS)
    motion, latencies = [], []
    for at, _, grey in sampled(path, thin=True):
        if pace.due(at, detector):
            tick = time.perf_counter()
            detector.process(grey(ANALYSIS_HEIGHT), at)
            latencies.append(time.perf_counter() - tick)
            motion.append(detector.active)
    return Run(cpu_seconds=cpu_seconds() - started, motion=motion, latencies=latencies)


def bare_subtraction(path: Path) -> Run:
    """Read as the integration does and run the barest background subtraction at 5 fps.

    A running average, each pixel's running variance and a threshold, counted per 4 x 4 cell:
    about ten numpy passes a frame, with none of the engine's light fitting, keyframe handling,
    slow-walker memory or object grouping. The cheapest detector worth the name, as a floor.
    """
    started = cpu_seconds()
    pace = AnalysisPace(ANALYSIS_FPS)
    detector = MotionDetector(MotionSettings())  # only for the pace's interface; never fed
    background: NDArray[np.float32] | None = None
    variance: NDArray[np.float32] | None = None
    motion = []
    for at, _, grey in sampled(path, thin=True):
        if not pace.due(at, detector):
            continue
        frame = grey(ANALYSIS_HEIGHT).astype(np.float32)
        if background is None or variance is None:
            background, variance = frame, np.full_like(frame, 4.0)
            continue
        difference = frame - background
        absolute = np.abs(difference)
        changed = absolute > np.float32(3.0) * np.sqrt(variance) + np.float32(2.0)
        cells = cell_sum(changed)
        background += np.float32(0.05) * difference
        absolute *= absolute
        absolute -= variance
        absolute *= np.float32(0.02)
        variance += absolute
        motion.append(bool((cells >= 4).any()))  # a quarter of a cell changed
    return Run(cpu_seconds=cpu_seconds() - started, motion=motion, latencies=[])


def decode_only(path: Path) -> Run:
    """Decode every frame with the engine path and do nothing else."""
    started = cpu_seconds()
    for _ in sampled(path):
        pass
    return Run(cpu_seconds=cpu_seconds() - started, motion=[], latencies=[])


def read_only(path: Path) -> Run:
    """Read as the integration reads a camera (see `sampled`) and do nothing else."""
    started = cpu_seconds()
    frames = sum(1 for _ in sampled(path, thin=True))
    return Run(cpu_seconds=cpu_seconds() - started, motion=[False] * frames, latencies=[])


def _blur(picture: NDArray[np.float32]) -> NDArray[np.float32]:
    """Blur with a separable 5-tap binomial kernel, close to a 5x5 Gaussian."""
    kernel = (1.0, 4.0, 6.0, 4.0, 1.0)
    padded = np.pad(picture, 2, mode="edge")
    rows = np.zeros((padded.shape[0], picture.shape[1]), dtype=np.float32)
    for i, k in enumerate(kernel):
        rows += np.float32(k / 16) * padded[:, i : i + picture.shape[1]]
    blurred = np.zeros(picture.shape, dtype=np.float32)
    for i, k in enumerate(kernel):
        blurred += np.float32(k / 16) * rows[i : i + picture.shape[0], :]
    return blurred


def frigate_style(path: Path) -> Run:
    """Run a Frigate-like detector: 100 px grey, blur, running average, threshold 30."""
    started = cpu_seconds()
    average: NDArray[np.float32] | None = None
    motion, latencies = [], []
    for _, due, grey in sampled(path):
        if not due:
            continue
        tick = time.perf_counter()
        picture = _blur(grey(100).astype(np.float32))
        if average is None:
            average = picture
        changed = np.abs(picture - average) > 30
        average += np.float32(0.02) * (picture - average)
        motion.append(bool(changed.mean() > 0.001))
        latencies.append(time.perf_counter() - tick)
    return Run(cpu_seconds=cpu_seconds() - started, motion=motion, latencies=latencies)


def mog2(path: Path) -> Run | None:
    """Run OpenCV's MOG2 on every full-resolution frame, as a naive integration would."""
    try:
        import cv2  # noqa: PLC0415 - optional
    except ImportError:
        return None
    started = cpu_seconds()
    capture = cv2.VideoCapture(str(path))
    rate = capture.get(cv2.CAP_PROP_FPS) or 25
    subtractor = cv2.createBackgroundSubtractorMOG2()
    motion, latencies = [], []
    index, due = 0, 0.0
    while True:
        ok, picture = capture.read()
        if not ok:
            break
        tick = time.perf_counter()
        mask = subtractor.apply(picture)
        latencies.append(time.perf_counter() - tick)
        at = index / rate
        index += 1
        if at + 1e-9 >= due:
            due += 1 / ANALYSIS_FPS
            motion.append(bool((mask == 255).mean() > 0.001))
    capture.release()
    return Run(cpu_seconds=cpu_seconds() - started, motion=motion, latencies=latencies)


def best_of(method: Callable[[Path], Run | None], path: Path, times: int = 3) -> Run | None:
    """Run a method several times and keep the cheapest run: other load only ever adds CPU."""
    runs = [run for _ in range(times) if (run := method(path)) is not None]
    return min(runs, key=lambda run: run.cpu_seconds) if runs else None


def cheapest(method: Callable[[Path], Run | None], path: Path) -> Run:
    """Return the cheapest of three runs of a method that needs nothing optional."""
    run = best_of(method, path)
    assert run is not None  # noqa: S101 - FFmpeg and the engine always run
    return run


def cpu_spread(method: Callable[[Path], Run | None], path: Path, times: int = 3) -> list[float]:
    """Return the CPU seconds of several runs of a method that needs nothing optional, sorted."""
    runs = [run for _ in range(times) if (run := method(path)) is not None]
    assert len(runs) == times  # noqa: S101 - FFmpeg and the engine always run
    return sorted(run.cpu_seconds for run in runs)


def seconds(spread: list[float]) -> str:
    """Format the best of several CPU measurements and, in brackets, the worst."""
    return f"{spread[0]:.2f} ({spread[-1]:.2f})"


def rate(run: Run | None) -> float | None:
    """Return the share of analysed moments after warm-up that showed motion."""
    if run is None:
        return None
    after = run.motion[int(WARMUP_SECONDS * ANALYSIS_FPS) :]
    return sum(after) / max(1, len(after))


def cell(value: float | None, unit: str = "%", scale: float = 100.0) -> str:
    """Format a table cell."""
    return "not installed" if value is None else f"{value * scale:.1f}{unit}"


def lights() -> dict[str, Light]:
    """Return the light changes the negative clips are made with."""
    return {
        "static": lambda _i, b: b,
        "lamp on x1.6": lambda i, b: b * 1.6 if i >= 50 else b,
        "lamp off x0.6": lambda i, b: b * 0.6 if i >= 50 else b,
        "infrared switch": lambda i, b: b * 0.55 + 70 if i >= 50 else b,
        "exposure ramp": lambda i, b: b * max(0.5, 1.0 - i / 150),
    }


def long_clip(source: str, rate: int, folder: Path, *, b_frames: bool = True) -> Path:
    """Return a 5-minute 720p H.264 clip at `rate` fps looped from a shared clip (cached).

    With B-frames as FFmpeg codes by default, or without, as many cameras send.
    """
    coding = "" if b_frames else "-nob"
    path = folder / f"{Path(source).stem}-720p{rate}{coding}-5min.mp4"
    if not path.exists():
        ffmpeg(
            *("-stream_loop", "-1", "-i", str(VIDEO / source), "-t", str(LONG_SECONDS)),
            *("-vf", f"scale=1280:720,fps={rate}", "-c:v", "libx264", "-preset", "veryfast"),
            *(() if b_frames else ("-bf", "0")),
            *("-pix_fmt", "yuv420p", str(path)),
        )
    return path


def cpu_ratios() -> None:
    """Print the CPU of reading and analysing at 5 fps against FFmpeg decoding alone."""
    folder = Path(tempfile.gettempdir()) / "home_guardian_motion_bench"
    folder.mkdir(exist_ok=True)
    print(
        "\nCPU seconds (user + system) on 5-minute 720p H.264 clips, coded by FFmpeg's x264 "
        "(veryfast) with its default B-frames and without any. FFmpeg is one process decoding "
        "every frame on one thread (-threads 1 before -i; its start-up, about 0.05 s, is "
        "amortised). The engine is measured in this process from opening the file to the last "
        "frame (interpreter start-up excluded): decoding every frame, then reading as the "
        "integration reads a camera (frames no other frame refers to left undecoded while the "
        "rest come at 4 a second or more), then reading and analysing at 5 fps. Best of 3, "
        "the worst in brackets; ratios are of the bests. 'Read + bare subtraction' is the floor "
        "of any detector: reading, then a running average and variance thresholded per cell "
        "at 5 fps (about ten numpy passes a frame), nothing more.\n"
    )
    print(
        "| clip | ffmpeg -threads 1 -f null | engine, every frame | ratio "
        "| engine read: frames decoded | CPU | ratio | read + bare subtraction | ratio "
        "| read + analyse | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for source, rate, b_frames in (
        ("vtest.avi", 10, True),
        ("bikes.mp4", 25, True),
        ("vtest.avi", 10, False),
        ("bikes.mp4", 25, False),
    ):
        path = long_clip(source, rate, folder, b_frames=b_frames)
        decoder = cpu_spread(ffmpeg_decode, path)
        every = cpu_spread(decode_only, path)
        read = cpu_spread(read_only, path)
        decoded = len(cheapest(read_only, path).motion)
        bare = cpu_spread(bare_subtraction, path)
        engine = cpu_spread(ours, path)
        print(
            f"| {path.name} | {seconds(decoder)} | {seconds(every)} | "
            f"{every[0] / decoder[0]:.3f}x | {decoded} | {seconds(read)} | "
            f"{read[0] / decoder[0]:.3f}x | {seconds(bare)} | {bare[0] / decoder[0]:.3f}x | "
            f"{seconds(engine)} | {engine[0] / decoder[0]:.3f}x |"
        )


def main() -> None:
    """Build the clips, run every method, print the Markdown tables (--cpu: the CPU one only)."""
    if "--cpu" in sys.argv:
        cpu_ratios()
        return
    with tempfile.TemporaryDirectory() as folder:
        hd = Path(folder) / "vtest-720p.mp4"
        ffmpeg("-i", str(VIDEO / "vtest.avi"), "-vf", "scale=1280:720", "-c:v", "libx264",
               "-preset", "veryfast", "-pix_fmt", "yuv420p", str(hd))  # fmt: skip
        negatives = []
        for seed, (name, light) in enumerate(lights().items()):
            path = Path(folder) / f"{seed}.mp4"
            make_negative(path, light, seed)
            negatives.append((name, path))
        positives = [hd, VIDEO / "dog_indoor.mp4"]
        methods: dict[str, Callable[[Path], Run | None]] = {
            "naive: OpenCV MOG2, full resolution": mog2,
            "Frigate-style: 100 px, blur, average, threshold 30": frigate_style,
            "ours: engine at 5 fps": ours,
        }
        decoder, engine_decode = cheapest(ffmpeg_decode, hd), cheapest(decode_only, hd)
        print(
            f"720p clip: {len(list(sampled(hd)))} frames; FFmpeg decode alone "
            f"{decoder.cpu_seconds:.2f} CPU s, engine decode path alone "
            f"{engine_decode.cpu_seconds:.2f} CPU s\n"
        )
        print(
            "| method | CPU s (720p) | % over ffmpeg decode | % over engine decode "
            "| detection (vtest 720p / dog) | false positives (negatives) | p95 ms/analysed |"
        )
        print("|---|---|---|---|---|---|---|")
        print(f"| ffmpeg -f null | {decoder.cpu_seconds:.2f} | 0% | - | - | - | - |")
        for name, method in methods.items():
            hd_run = best_of(method, hd, times=1 if method is mog2 else 3)
            if hd_run is None:
                print(f"| {name} | not installed | | | | | |")
                continue
            detections = [rate(method(p)) if p != hd else rate(hd_run) for p in positives]
            false = [rate(method(path)) for _, path in negatives]
            over = hd_run.cpu_seconds / decoder.cpu_seconds - 1
            over_engine = hd_run.cpu_seconds / engine_decode.cpu_seconds - 1
            p95 = statistics.quantiles(hd_run.latencies, n=20)[-1] if hd_run.latencies else 0.0
            print(
                f"| {name} | {hd_run.cpu_seconds:.2f} | {over * 100:+.0f}% | "
                f"{over_engine * 100:+.0f}% | "
                f"{' / '.join(cell(d) for d in detections)} | "
                f"{' / '.join(cell(f) for f in false)} | {p95 * 1000:.2f} |"
            )
        print("\nNegatives, in order: " + ", ".join(name for name, _ in negatives))

        # A typical main stream runs at 25 fps: decoding costs more, analysis the same.
        fast = Path(folder) / "bikes-720p25.mp4"
        ffmpeg(
            *("-stream_loop", "5", "-i", str(VIDEO / "bikes.mp4"), "-vf", "scale=1280:720"),
            *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(fast)),
        )
        fast_decoder, fast_ours = cheapest(ffmpeg_decode, fast), cheapest(ours, fast)
        print(
            f"\n720p 25 fps (bikes.mp4 scaled, 60 s): FFmpeg decode {fast_decoder.cpu_seconds:.2f} "
            f"CPU s, ours {fast_ours.cpu_seconds:.2f} CPU s "
            f"({(fast_ours.cpu_seconds / fast_decoder.cpu_seconds - 1) * 100:+.0f}%)"
        )
    cpu_ratios()


if __name__ == "__main__":
    main()

"""Motion detection on real footage and on hard negatives made from real frames."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
import functools
import io
import json
import math
from pathlib import Path
import subprocess
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
import pytest

from custom_components.home_guardian.engine import motion as motion_module
from custom_components.home_guardian.engine.frame_source import iter_frames, open_stream
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.motion import (
    ANALYSIS_HEIGHT,
    AnalysisPace,
    MotionDetector,
    MotionResult,
    MotionSettings,
)
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.common import shared_clip

REPO = Path(__file__).resolve().parents[2]
FPS = 5.0
WARMUP = 3

type Grey = NDArray[np.uint8]


@functools.cache
def _clip_greys(name: str, fps: float, limit: int) -> tuple[tuple[float, Grey], ...]:
    """Decode a clip with the live path and keep `fps` analysis pictures a second."""
    container = open_stream(StreamAddress(url=str(shared_clip(name))))
    try:
        rate = float(container.streams.video[0].average_rate or 25)
        greys: list[tuple[float, Grey]] = []
        due = 0.0
        for frame in iter_frames(container):
            at = (frame.sequence - 1) / rate
            if at + 1e-9 < due:
                continue
            due += 1 / fps
            greys.append((at, frame.grey(ANALYSIS_HEIGHT)))
            if len(greys) >= limit:
                break
    finally:
        container.close()
    return tuple(greys)


def clip(name: str, fps: float = FPS, limit: int = 60) -> tuple[tuple[float, Grey], ...]:
    """Return analysis pictures of a shared clip, skipping when the clip is missing."""
    shared_clip(name)
    return _clip_greys(name, fps, limit)


@functools.cache
def _still() -> Image.Image:
    """Return one real picture of the outdoor path, full size, greyscale."""
    container = open_stream(StreamAddress(url=str(shared_clip("vtest.avi"))))
    try:
        frame = next(iter(iter_frames(container)))
        return Image.fromarray(frame.rgb()).convert("L")
    finally:
        container.close()


def camera(
    count: int,
    transform: Callable[[int, NDArray[np.float32]], NDArray[np.float32]],
    *,
    sigma: float = 5.0,
    quality: int = 20,
    seed: int = 1,
) -> Iterator[tuple[float, Grey]]:
    """Play one real picture as a static camera: sensor noise, a light change, cheap JPEG."""
    shared_clip("vtest.avi")
    rng = np.random.default_rng(seed)
    base = np.asarray(_still(), dtype=np.float32)
    for index in range(count):
        noisy = transform(index, base) + rng.normal(0.0, sigma, base.shape).astype(np.float32)
        picture = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality)
        decoded = Image.open(io.BytesIO(buffer.getvalue()))
        frame = Frame(decoded, sequence=index + 1, monotonic=index / FPS, wall=0.0)
        yield index / FPS, frame.grey(ANALYSIS_HEIGHT)


def run(
    pictures: Iterator[tuple[float, Grey]] | tuple[tuple[float, Grey], ...],
    settings: MotionSettings | None = None,
) -> tuple[list[MotionResult], list[bool]]:
    """Feed pictures to a detector; return each result and the debounced state after it."""
    detector = MotionDetector(settings or MotionSettings())
    results, states = [], []
    for at, grey in pictures:
        results.append(detector.process(grey, at))
        states.append(detector.active)
    return results, states


def step(gain: float, offset: float = 0.0, start: int = 10) -> Callable[..., NDArray[np.float32]]:
    """Return a transform that changes the light at frame `start`."""

    def transform(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
        return base * gain + offset if index >= start else base

    return transform


def unchanged(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
    """Leave the picture as it is."""
    return base


def ramp(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
    """Darken slowly, as auto-exposure does at dusk: half the light over eight seconds."""
    return base * max(0.5, 1.0 - index / 80)


def lamp(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
    """Switch on a lamp at the right: light falls off across the picture."""
    if index < 10:
        return base
    width = base.shape[1]
    falloff = np.linspace(1.0, 1.8, width, dtype=np.float32)[None, :]
    return base * falloff + 10


def infrared(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
    """Switch to night vision: flatter contrast and a brighter floor."""
    return base * 0.55 + 70 if index >= 10 else base


def daylight(index: int, base: NDArray[np.float32]) -> NDArray[np.float32]:
    """Switch back from night vision to colour: contrast returns at once."""
    return base if index >= 10 else base * 0.55 + 70


@pytest.mark.parametrize(
    ("name", "transform", "sigma"),
    [
        ("static", unchanged, 5.0),
        ("night noise", unchanged, 12.0),
        ("lamp on", step(1.6), 4.0),
        ("lamp off", step(0.6), 4.0),
        ("lamp at the side", lamp, 4.0),
        ("infrared switch", infrared, 6.0),
        ("infrared back", daylight, 3.0),
        ("exposure ramp", ramp, 4.0),
    ],
)
def test_no_motion_without_movement(
    name: str, transform: Callable[..., NDArray[np.float32]], sigma: float
) -> None:
    results, states = run(camera(60, transform, sigma=sigma))
    assert not any(states[WARMUP:]), name
    assert not any(r.motion for r in results[WARMUP:]), name


def test_light_steps_are_fitted_not_reported_as_motion() -> None:
    results, _ = run(camera(20, step(1.6)))
    assert results[0].rejected == "warmup"
    assert not results[10].regions


def test_people_walking_raise_motion() -> None:
    results, states = run(clip("vtest.avi"))
    assert sum(states) > 0.8 * len(states)
    moving = [r for r in results if r.motion]
    assert moving
    assert all(0 < r.area < 0.5 for r in moving)
    assert all(1 <= len(r.regions) <= motion_module.MAX_REGIONS for r in moving)


def test_dog_raises_motion() -> None:
    """The clip is shorter than settling: it plays twice, as a looping camera would."""
    pictures = clip("dog_indoor.mp4")
    length = pictures[-1][0] + 0.2
    _, states = run((*pictures, *((at + length, grey) for at, grey in pictures)))
    assert any(states)


def test_regions_cover_the_walkers() -> None:
    """Regions in vtest.avi lie on the path, never in the sky-high wall at the top."""
    results, _ = run(clip("vtest.avi"))
    boxes = [box for r in results for box in r.regions]
    assert boxes
    for box in boxes:
        assert 0.0 <= box.x <= 1.0
        assert 0.0 <= box.y <= 1.0
        assert box.x + box.width <= 1.0 + 1e-9
        assert box.y + box.height <= 1.0 + 1e-9
    # People are tall, not wide: most regions are taller than wide in pixels (4:3 picture).
    upright = [b for b in boxes if b.height * 3 > b.width * 4 * 0.8]
    assert len(upright) > len(boxes) / 2


def test_regions_follow_an_object_moved_into_a_still_scene() -> None:
    """Paste a real patch of the scene somewhere else: the region must be where it went."""
    pictures = list(camera(20, unchanged, sigma=3.0))
    for index in range(10, 20):
        at, grey = pictures[index]
        moved = grey.copy()
        left = 40 + 8 * (index - 10)
        moved[60:100, left : left + 20] = 255 - grey[60:100, 20:40]
        pictures[index] = (at, moved)
    results, states = run(iter(pictures))
    assert states[-1]
    box = max(results[-1].regions, key=lambda b: b.area)
    left, top, right, bottom = box.to_pixels(192, 144)
    # The patch ends at columns 112..132, rows 60..100.
    assert left <= 122 <= right
    assert top <= 80 <= bottom


def test_ignore_zone_over_the_path_suppresses() -> None:
    everything = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    _, states = run(clip("vtest.avi", limit=30), MotionSettings(ignore_zones=(everything,)))
    assert not any(states)


def test_a_large_change_inside_an_ignore_zone_is_ignored() -> None:
    """A change too large to judge pixel by pixel alone still leaves ignored pixels out."""
    pictures = list(camera(18, unchanged, sigma=2.0))
    height, width = pictures[0][1].shape
    edge = width // 2 + 2
    rng = np.random.default_rng(3)
    for index in range(10, 18):
        at, grey = pictures[index]
        moved = grey.copy()
        # A textured thing over most of the left half (a third of the picture), new each frame,
        # up to the zone's edge, which cuts through a column of cells that stay analysed.
        moved[8 : height - 8, 4:edge] = rng.integers(0, 256, (height - 16, edge - 4), np.uint8)
        pictures[index] = (at, moved)
    left = ((0.0, 0.0), ((edge - 1) / width, 0.0), ((edge - 1) / width, 1.0), (0.0, 1.0))
    _, ignored = run(iter(pictures), MotionSettings(ignore_zones=(left,)))
    _, seen = run(iter(pictures))
    assert not any(ignored)
    assert any(seen[10:])


def test_only_zone_elsewhere_suppresses() -> None:
    """The top strip of vtest.avi is a wall nobody walks along."""
    strip = ((0.0, 0.0), (1.0, 0.0), (1.0, 0.04), (0.0, 0.04))
    _, states = run(clip("vtest.avi", limit=30), MotionSettings(only_zones=(strip,)))
    assert not any(states)


def test_only_zone_over_the_path_keeps_motion() -> None:
    lower = ((0.0, 0.3), (1.0, 0.3), (1.0, 1.0), (0.0, 1.0))
    _, states = run(clip("vtest.avi", limit=30), MotionSettings(only_zones=(lower,)))
    assert any(states)


def test_large_minimum_size_suppresses_walkers() -> None:
    _, states = run(clip("vtest.avi", limit=30), MotionSettings(min_object_size=0.3))
    assert not any(states)


def test_sensitivity_orders_small_objects() -> None:
    """More sensitivity finds at least as much of the coin and pen as less."""
    pictures = clip("motion.mov", limit=40)
    low, _ = run(pictures, MotionSettings(sensitivity=0))
    high, _ = run(pictures, MotionSettings(sensitivity=100))
    assert sum(r.area for r in high) > sum(r.area for r in low)
    assert any(r.motion for r in high)


def test_hold_keeps_motion_on_then_lets_go() -> None:
    pictures = list(camera(40, unchanged, sigma=3.0))
    for index in range(15, 20):
        at, grey = pictures[index]
        moved = grey.copy()
        moved[40:80, 8 * index : 8 * index + 20] = 0
        pictures[index] = (at, moved)
    _, states = run(iter(pictures), MotionSettings(hold_seconds=2.0))
    assert states[19]
    assert states[19 + 9]  # 1.8 s later
    assert not states[-1]


def test_many_blobs_merge_into_few_regions() -> None:
    pictures = list(camera(12, unchanged, sigma=2.0))
    for index in range(6, 12):
        at, grey = pictures[index]
        moved = grey.copy()
        for blob in range(12):
            row, col = 10 + (blob // 6) * 60, 8 + (blob % 6) * 30
            moved[row : row + 12, col + index : col + index + 10] = 255 * (index % 2)
        pictures[index] = (at, moved)
    results, _ = run(iter(pictures))
    assert len(results[-1].regions) == motion_module.MAX_REGIONS


def test_restarts_after_a_gap_or_a_new_size() -> None:
    detector = MotionDetector(MotionSettings())
    grey = np.full((144, 192), 100, dtype=np.uint8)
    assert detector.process(grey, 0.0).rejected == "warmup"
    for index in range(1, 9):
        detector.process(grey, index * 0.2)
    assert detector.settled
    assert detector.process(grey, 2.0).rejected is None
    assert detector.process(grey, 100.0).rejected == "warmup"
    assert not detector.settled
    assert detector.process(np.full((72, 96), 100, dtype=np.uint8), 100.2).rejected == "warmup"
    detector.reset()
    assert detector.process(grey, 100.4).rejected == "warmup"


def test_a_camera_restarting_at_another_size_is_learned_afresh() -> None:
    """640x360, then the same scene at 1280x720 (night mode: another stream, cropped a little).

    Both scale to the same analysis picture, yet every pixel moved: told the camera's size,
    the detector learns the new picture as after a reconnect and reports no motion.
    """
    shared_clip("vtest.avi")
    still = _still()
    width, top = still.width, (still.height - still.width * 9 // 16) // 2
    scene = still.crop((0, top, width, top + width * 9 // 16))
    rng = np.random.default_rng(3)

    def frames(size: tuple[int, int], first: int, count: int, margin: int) -> Iterator[Frame]:
        """Return the scene as a camera sends it at `size`, `margin` pixels cropped away."""
        box = (margin, margin, scene.width - margin, scene.height - margin)
        for index in range(first, first + count):
            picture = np.asarray(scene.resize(size, box=box), dtype=np.float32)
            noisy = np.clip(picture + rng.normal(0.0, 3.0, picture.shape), 0, 255)
            buffer = io.BytesIO()
            Image.fromarray(noisy.astype(np.uint8)).save(buffer, format="JPEG", quality=40)
            decoded = Image.open(io.BytesIO(buffer.getvalue()))
            yield Frame(decoded, sequence=index + 1, monotonic=index / FPS, wall=0.0)

    stream = [*frames((640, 360), 0, 40, 0), *frames((1280, 720), 40, 40, 5)]
    moved = {}
    for told in (True, False):
        detector = MotionDetector(MotionSettings())
        results = [
            detector.process(
                frame.grey(ANALYSIS_HEIGHT),
                frame.monotonic,
                size=(frame.width, frame.height) if told else None,
            )
            for frame in stream
        ]
        assert results[40].rejected == ("warmup" if told else None)
        moved[told] = sum(result.motion for result in results)
    # Not told, the new picture is taken for the old one, moved everywhere.
    assert moved == {True: 0, False: 40}


def test_a_snapshot_camera_settles_at_its_own_pace() -> None:
    """Pictures every two seconds or so are a steady pace, not a reconnect at every picture."""
    detector = MotionDetector(MotionSettings())
    rng = np.random.default_rng(3)
    base = rng.integers(40, 200, (144, 192)).astype(np.float32)
    at = 0.0
    results = []
    for _ in range(14):
        noisy = np.clip(base + rng.normal(0.0, 2.0, base.shape), 0, 255).astype(np.uint8)
        results.append(detector.process(noisy, at))
        at += float(rng.uniform(2.0, 2.4))
    assert detector.settled
    assert results[-1].rejected is None
    assert not any(result.motion for result in results)
    # A real outage of that camera still starts the settling again.
    assert detector.process(base.astype(np.uint8), at + 20.0).rejected == "warmup"


def test_a_camera_at_one_picture_in_ten_seconds_settles_and_sees_a_visit() -> None:
    """A battery camera's pictures ten seconds apart settle in half a minute, not ninety."""
    pictures = [grey for _, grey in camera(12, unchanged)]
    # Someone stands in the path for two pictures, then leaves.
    for index in (8, 9):
        visited = pictures[index].copy()
        visited[60:110, 90:110] = 30
        pictures[index] = visited
    timed = [(index * 10.0, grey) for index, grey in enumerate(pictures)]
    results, states = run(timed)
    judged = [at for (at, _), result in zip(timed, results, strict=True) if result.rejected is None]
    assert judged[0] <= 30.0
    assert not any(result.motion for result in results[:8])
    assert results[8].motion
    assert states[9]


def test_flat_and_tiny_scenes() -> None:
    """A featureless wall and a picture with almost nothing to fit still behave."""
    _, states = run(iter([(i / FPS, np.full((144, 192), 40 + i % 2, np.uint8)) for i in range(10)]))
    assert not any(states)
    _, states = run(iter([(i / FPS, np.full((8, 8), 250, np.uint8)) for i in range(5)]))
    assert not any(states)


def test_rejects_pictures_that_are_not_grey() -> None:
    detector = MotionDetector(MotionSettings())
    with pytest.raises(ValueError, match="greyscale"):
        detector.process(np.zeros((144, 192, 3), dtype=np.uint8), 0.0)


def test_settings_are_clamped() -> None:
    assert (
        MotionSettings(sensitivity=-5).threshold_sigmas
        == MotionSettings(sensitivity=0).threshold_sigmas
    )
    assert (
        MotionSettings(sensitivity=500).threshold_levels
        == MotionSettings(sensitivity=100).threshold_levels
    )


def motion_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/motion as users do."""
    return subprocess.run(
        [str(REPO / "scripts" / "motion"), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_command_reports_intervals_and_costs() -> None:
    video = shared_clip("dog_indoor.mp4")
    result = motion_command(str(video), "--fps", "5", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames_decoded"] == 41
    assert 5 <= report["frames_analysed"] <= 10
    # The clip (1.5 s) is shorter than settling: no motion is claimed before the detector knows.
    assert report["intervals"] == []
    assert report["settled_at"] is None
    for key in ("decode_ms_per_frame", "analysis_ms_per_frame", "cpu_seconds"):
        assert report[key] > 0


def test_command_zones_and_options() -> None:
    video = shared_clip("dog_indoor.mp4")
    everything = json.dumps([[[0, 0], [1, 0], [1, 1], [0, 1]]])
    result = motion_command(
        str(video), "--ignore-zones", everything, "--sensitivity", "80", "--min-object-size", "0.01"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["intervals"] == []


@pytest.mark.parametrize(
    "arguments",
    [
        ["/nonexistent/clip.mp4"],
        ["{video}", "--fps", "0"],
        ["{video}", "--fps", "many"],
        ["{video}", "--sensitivity", "101"],
        ["{video}", "--min-object-size", "2"],
        ["{video}", "--hold-seconds", "-1"],
        ["{video}", "--only-zones", "[[1, 2]]"],
        ["{video}", "--ignore-zones", "{{"],
        ["{text}"],
    ],
)
def test_command_rejects_bad_input(arguments: list[str], tmp_path: Path) -> None:
    video = shared_clip("dog_indoor.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    result = motion_command(*(a.format(video=video, text=text) for a in arguments))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_command_runs_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """Run the command's code here too, so coverage sees it."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import motion_cli  # noqa: PLC0415
    finally:
        sys.path.remove(str(REPO / "scripts"))
    video = shared_clip("motion.mov")
    assert motion_cli.main([str(video), "--fps", "10"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames_decoded"] == 242
    assert motion_cli.main(["/nonexistent.mp4"]) == 2


def test_commands_read_a_video_one_way(tmp_path: Path) -> None:
    """Both video commands decode, pace and analyse through one loop, which closes the video."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import command_line  # noqa: PLC0415
        import motion_cli  # noqa: PLC0415
        import privacy_cli  # noqa: PLC0415
    finally:
        sys.path.remove(str(REPO / "scripts"))
    video = str(shared_clip("dog_indoor.mp4"))
    engine_motion = sys.modules["engine.motion"]
    settings = engine_motion.MotionSettings()
    seen = list(command_line.analysed_frames(video, engine_motion.MotionDetector(settings), 5))
    rate = seen[0].rate
    assert rate.denominator <= command_line.MAX_RATE_DENOMINATOR
    assert [a.frame.sequence for a in seen] == list(range(1, len(seen) + 1))
    # A phone's clip: frames 33 to 185 ms apart, each timed when the file shows it.
    first = seen[0].frame.stream_time
    assert all(math.isclose(a.at, a.frame.stream_time - first) for a in seen)
    analysed = [a for a in seen if a.result is not None]
    assert all(a.analysis_seconds > 0 for a in analysed)
    assert all(a.analysis_seconds == 0 for a in seen if a.result is None)

    # The motion command counts what the loop gives, and so does the privacy command.
    report = motion_cli.analyse(video, settings, 5)
    assert report.frames_decoded == len(seen)
    assert report.frames_analysed == len(analysed)
    arguments = privacy_cli.parse_arguments(
        [video, "--level", "people", "--fps", "5", "--out", str(tmp_path / "out.mp4")]
    )
    assert privacy_cli.run(arguments)["frames"] == len(seen)

    with pytest.raises(command_line.UsageError, match="no such file"):
        next(command_line.analysed_frames(str(tmp_path / "none.mp4"), None, 5))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    with pytest.raises(sys.modules["engine.frame_source"].StreamError):
        next(command_line.analysed_frames(str(text), None, 5))


def _lavfi_clip(path: Path, graph: str, *output: str) -> Path:
    """Make a clip of grey noise from FFmpeg's own sources; return its path."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", graph),
            *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", *output, str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


# A noisy grey room; a person-sized box walks in at `enable`'s time.
ROOM = "color=c=0x606060:s=320x240:r={rate}:d={seconds},noise=alls=10:allf=t"
VISIT = ",drawbox=x=120:y=80:w=60:h=100:color=white:t=fill:enable='gte(t,{at})'"


def _one_interval(video: Path, *, frames: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Run scripts/motion on a clip of `frames` frames that shows one visit; return its report."""
    result = motion_command(str(video))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames_decoded"] == frames
    [interval] = report["intervals"]
    return report, interval


def test_command_times_motion_by_when_the_file_shows_it(tmp_path: Path) -> None:
    """A clip recorded at a varying rate, and recordings joined end to end, are timed truly.

    The first clip films 2 frames a second for 5 s, then 25 (a dim room, then light): by its
    frames' positions at its average rate, the visit at 6.5 s would be placed at 4.1 s.
    """
    varying = _lavfi_clip(
        tmp_path / "varying.mp4",
        ROOM.format(rate=25, seconds=10)
        + VISIT.format(at=6.5)
        + r",select='gte(t\,5)+not(mod(n\,12))'",
        *("-fps_mode", "passthrough"),
    )
    report, interval = _one_interval(varying, frames=136)
    assert 6.5 <= interval["start"] <= 7.0
    assert 9.9 <= interval["end"] <= 10.1
    # Eight frames over 1.5 s settle it: the eighth comes at 3.4 s at 2 frames a second.
    assert 3.3 <= report["settled_at"] <= 3.5

    # Two 4 s recordings joined: the second's times start again where the first's did.
    first = _lavfi_clip(tmp_path / "a.ts", ROOM.format(rate=10, seconds=4), "-f", "mpegts")
    second = _lavfi_clip(
        tmp_path / "b.ts", ROOM.format(rate=10, seconds=4) + VISIT.format(at=1.5), "-f", "mpegts"
    )
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    _, interval = _one_interval(joined, frames=80)
    assert 5.5 <= interval["start"] <= 6.0
    assert 7.9 <= interval["end"] <= 8.1


def test_video_clock_counts_on_over_missing_and_repeated_times() -> None:
    """Frames with no time, or a time that repeats, come one average frame after the last."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import command_line  # noqa: PLC0415
    finally:
        sys.path.remove(str(REPO / "scripts"))
    clock = command_line.VideoClock(Fraction(10))
    shown = [None, 0.5, 0.5, 3.5, None, None, 4.0, 1.0, 1.2]
    times = [clock.at(stamp) for stamp in shown]
    assert times == pytest.approx([0.0, 0.1, 0.2, 3.2, 3.3, 3.4, 3.5, 3.6, 3.8])


def _detector_seeing_motion_once() -> MotionDetector:
    """Return a real detector that saw motion in one frame and waits for a confirming one."""
    detector = MotionDetector(MotionSettings())
    rng = np.random.default_rng(3)
    scene = rng.integers(60, 120, size=(144, 192)).astype(np.uint8)
    for index in range(20):
        detector.process(scene, index * 0.2)
    moved = scene.copy()
    moved[40:100, 60:90] = 230
    detector.process(moved, 4.0)
    return detector


def test_pace_analyses_the_asked_rate_and_confirms_at_once() -> None:
    """At 25 fps in, 5 a second are analysed; unconfirmed motion takes the very next frame."""
    calm = MotionDetector(MotionSettings())
    pace = AnalysisPace(5.0)
    times = [index / 25 for index in range(250)]
    analysed = [at for at in times if pace.due(at, calm)]
    assert len(analysed) == 50
    assert analysed[:3] == [0.0, 0.2, 0.4]
    waiting = _detector_seeing_motion_once()
    assert waiting.confirming
    pace = AnalysisPace(5.0)
    assert pace.due(0.0, calm)
    assert pace.due(0.04, waiting)
    assert not pace.due(0.08, calm)
    assert pace.due(0.2, calm)


def test_motion_is_confirmed_on_the_next_frame() -> None:
    """A detector that saw motion once asks for confirmation, and is active after it."""
    detector = _detector_seeing_motion_once()
    assert detector.confirming
    assert not detector.active
    rng = np.random.default_rng(3)
    scene = rng.integers(60, 120, size=(144, 192)).astype(np.uint8)
    moved = scene.copy()
    moved[40:100, 64:94] = 230
    detector.process(moved, 4.04)
    assert detector.active
    assert not detector.confirming


# Cases made to break the detector: settling, keyframes, flicker, light steps, cuts, small
# specks, and a slow walker in a dark, noisy room. Pictures are made at the analysis size.


@functools.cache
def _room() -> NDArray[np.float32]:
    """Return one real picture of the path at the analysis size, as floats."""
    size = (round(_still().width * ANALYSIS_HEIGHT / _still().height), ANALYSIS_HEIGHT)
    return np.asarray(_still().resize(size), dtype=np.float32)


def _walker(height: int = 48, width: int = 14, seed: int = 7) -> NDArray[np.float32]:
    """Return a person-sized patch textured with another part of the real picture."""
    room = _room()
    rng = np.random.default_rng(seed)
    top, left = int(rng.integers(0, 40)), int(rng.integers(0, 120))
    return room[top : top + height, left : left + width].copy()


def scene(
    count: int,
    *,
    light: Callable[[float], tuple[float, float]] = lambda _at: (1.0, 0.0),
    sigma: float = 3.0,
    dim: bool = False,
    walker_from: float | None = None,
    walker_speed: float = 60.0,
    walker_contrast: float = 1.0,
    seed: int = 1,
) -> list[tuple[float, Grey]]:
    """Make analysis pictures of the real scene: light, noise, and an optional walker.

    The walker enters at `walker_from` seconds and crosses at `walker_speed` pixels a second.
    """
    rng = np.random.default_rng(seed)
    base = _room() * 0.3 + 8.0 if dim else _room()
    patch = _walker()
    patch = patch.mean() + (patch - patch.mean()) * walker_contrast
    if dim:
        patch = patch * 0.3 + 14.0
    pictures = []
    for index in range(count):
        at = index / FPS
        picture = base.copy()
        if walker_from is not None and at >= walker_from:
            left = int((at - walker_from) * walker_speed) % (picture.shape[1] - patch.shape[1])
            picture[70 : 70 + patch.shape[0], left : left + patch.shape[1]] = patch
        gain, offset = light(at)
        # Noise in blobs two pixels wide, as demosaicing and in-camera denoising leave it.
        coarse = rng.normal(0.0, sigma, (picture.shape[0] // 2 + 1, picture.shape[1] // 2 + 1))
        blotchy = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)[
            : picture.shape[0], : picture.shape[1]
        ]
        noisy = (
            picture * gain + offset + 0.7 * blotchy + rng.normal(0.0, sigma * 0.7, picture.shape)
        )
        pictures.append((at, np.clip(noisy, 0, 255).astype(np.uint8)))
    return pictures


def walker_box(at: float, start: float, speed: float, width: int) -> tuple[int, int]:
    """Return the walker's left and right column at `at`."""
    left = int((at - start) * speed) % (width - 14)
    return left, left + 14


def found_walker(result: MotionResult, at: float, start: float, speed: float) -> bool:
    """Return True when a region overlaps the walker."""
    width = _room().shape[1]
    left, right = walker_box(at, start, speed, width)
    for box in result.regions:
        x0, y0, x1, y1 = box.to_pixels(width, ANALYSIS_HEIGHT)
        if x0 < right and left < x1 and y0 < 70 + 48 and y1 > 70:
            return True
    return False


def test_settles_before_it_judges_and_again_after_a_gap() -> None:
    """A dark, noisy start: no motion at all until settled, whatever the first frames hold."""
    detector = MotionDetector(MotionSettings())
    pictures = scene(40, sigma=10.0, dim=True)
    # The first frame is the camera's exposure still settling: brighter and noisier.
    first = np.clip(pictures[0][1].astype(np.float32) * 1.3 + 10, 0, 255).astype(np.uint8)
    pictures[0] = (0.0, first)
    settled_at = None
    for at, grey in pictures:
        result = detector.process(grey, at)
        if detector.settled and settled_at is None:
            settled_at = at
        if not detector.settled:
            assert result.rejected == "warmup"
            assert not result.motion
        assert not detector.active
    assert settled_at is not None
    assert motion_module.WARMUP_SECONDS <= settled_at <= 2.5
    # A reconnect (frames stop for longer than a gap) settles again, faster: noise is known.
    assert detector.process(pictures[0][1], 20.0).rejected == "warmup"
    assert not detector.settled


def test_keyframes_that_redraw_the_whole_picture_are_not_motion() -> None:
    """Every 5 s the whole picture's fine texture is redrawn at once, as low bitrates do."""
    rng = np.random.default_rng(5)
    pictures = scene(100, sigma=1.5)
    drawn = []
    texture = np.zeros_like(_room())
    rows, cols = np.gradient(_room())
    detail = np.minimum(np.hypot(rows, cols) / 8.0, 2.0)
    for index, (at, grey) in enumerate(pictures):
        if index % 25 == 0:
            # Blocks of 8 x 8 pixels each shift a little: quantised differently this keyframe.
            blocks = rng.normal(0.0, 8.0, (grey.shape[0] // 8 + 1, grey.shape[1] // 8 + 1))
            texture = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)[
                : grey.shape[0], : grey.shape[1]
            ]
            texture += rng.normal(0.0, 6.0, grey.shape)
            # Coarse quantisation redraws detail, not flat walls: the change follows texture.
            texture *= detail
        drawn.append((at, np.clip(grey + texture, 0, 255).astype(np.uint8)))
    _, states = run(drawn)
    assert not any(states)


def flicker(at: float) -> tuple[float, float]:
    """Flicker by 10 % at 2.3 Hz, as a failing tube or a TV's glow does."""
    return 1.0 + 0.1 * math.sin(2 * math.pi * 2.3 * at), 0.0


def test_flicker_does_not_blind_it() -> None:
    still = scene(60, light=flicker)
    _, states = run(still)
    assert not any(states)
    start, speed = 3.0, 40.0
    results, _ = run(scene(60, light=flicker, walker_from=start, walker_speed=speed))
    seen = [
        found_walker(r, i / FPS, start, speed) for i, r in enumerate(results) if i / FPS >= start
    ]
    assert sum(seen) >= 0.8 * len(seen)


@pytest.mark.parametrize(
    ("name", "light"),
    [
        ("lamp on", lambda at: (1.6, 0.0) if at >= 5.0 else (1.0, 0.0)),
        ("lamp off", lambda at: (0.6, 0.0) if at >= 5.0 else (1.0, 0.0)),
        ("infrared", lambda at: (0.55, 70.0) if at >= 5.0 else (1.0, 0.0)),
    ],
)
def test_a_light_step_costs_under_a_second(
    name: str, light: Callable[[float], tuple[float, float]]
) -> None:
    start, speed = 3.0, 40.0
    results, _ = run(scene(50, light=light, walker_from=start, walker_speed=speed))
    after = [
        i / FPS
        for i, r in enumerate(results)
        if i / FPS >= 5.0 and found_walker(r, i / FPS, start, speed)
    ]
    assert after, name
    assert after[0] - 5.0 < 1.0, name


def test_a_cut_costs_under_a_second() -> None:
    """A fade to black, then a cut to a scene with a walker (a TV in view, an edited clip)."""
    start, speed = 4.0, 40.0
    before = scene(
        20, light=lambda at: (max(0.05, 1.0 - (at - 3.0)), 0.0) if at >= 3.0 else (1.0, 0.0)
    )
    after = scene(40, walker_from=0.0, walker_speed=speed, seed=2)
    other = [(at + start, np.ascontiguousarray(grey[:, ::-1])) for at, grey in after]
    results, _ = run([*before, *other])
    found = [
        at
        for (at, _), result in zip([*before, *other], results, strict=True)
        if at >= start and any(result.regions)
    ]
    assert found
    assert found[0] - start < 1.0


def test_minimum_size_counts_the_pixels_that_changed() -> None:
    """A speck of 0.05 % of the picture does not count at 0.1 %; one of 0.2 % does."""
    detector_pictures = scene(30, sigma=1.0)
    area = detector_pictures[0][1].size
    for pixels, expected in ((round(0.0005 * area), False), (round(0.002 * area), True)):
        side = max(1, round(math.sqrt(pixels)))
        pictures = []
        for index, (at, grey) in enumerate(detector_pictures):
            picture = grey.copy()
            if index >= 15:
                # The speck straddles cells, as real ones do, and moves a little each frame.
                top, left = 61 + index % 2, 62 + 2 * (index - 15)
                picture[top : top + side, left : left + side] = 255
            pictures.append((at, picture))
        results, _ = run(pictures)
        assert any(r.motion for r in results[15:]) is expected, pixels


def test_slow_walker_in_a_dark_noisy_room_is_seen() -> None:
    """A dim, low-contrast person crossing slowly (a tenth of the picture in 4 s)."""
    start, speed = 3.0, 6.0
    results, _ = run(
        scene(150, sigma=8.0, dim=True, walker_from=start, walker_speed=speed, walker_contrast=0.6)
    )
    seen = [
        found_walker(r, i / FPS, start, speed)
        for i, r in enumerate(results)
        if i / FPS >= start + 1
    ]
    assert sum(seen) >= 0.5 * len(seen)
    assert not any(
        r.motion and not found_walker(r, i / FPS, start, speed) for i, r in enumerate(results)
    )


def test_a_cut_while_settling_starts_settling_over() -> None:
    """Averaging two different scenes would leave a ghost of each: start again at the cut."""
    first = scene(4)
    second = [(at + 0.8, np.ascontiguousarray(grey[::-1, :])) for at, grey in scene(20, seed=3)]
    detector = MotionDetector(MotionSettings())
    settled_at = None
    for at, grey in [*first, *second]:
        result = detector.process(grey, at)
        assert not result.motion
        if detector.settled and settled_at is None:
            settled_at = at
    assert settled_at is not None
    # Eight frames of the new scene are needed: the four before the cut do not count.
    assert settled_at >= 0.8 + (motion_module.WARMUP_FRAMES - 1) / FPS - 1e-9
    assert not detector.active

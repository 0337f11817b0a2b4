"""Tests for leaving undecoded the frames no other frame refers to, on real H.264."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
import subprocess
import time

import numpy as np
import pytest

from custom_components.home_guardian.engine.frame_source import (
    THIN_SECONDS,
    FrameSource,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import RtspCamera
from tests.common import require_rtsp_server, shared_clip

SECONDS = 20
RATE = 10


def clip(folder: Path, *, b_frames: int) -> Path:
    """Code 20 s of real footage at 10 fps, with B-frames between the others or without."""
    path = folder / f"clip-b{b_frames}.mp4"
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", source),
            *("-t", str(SECONDS), "-vf", f"fps={RATE}", "-c:v", "libx264", "-preset", "veryfast"),
            # Fixed B-frames: each P-frame follows `b_frames` of them, none referred to.
            *("-bf", str(b_frames), "-b_strategy", "0", "-x264-params", "b-pyramid=none"),
            *("-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    return path


def decode(path: Path, needed: Callable[[], float | None]) -> list[tuple[float, np.ndarray]]:
    """Return each decoded frame's stream time and small grey picture."""
    container = open_stream(StreamAddress(url=str(path)))
    try:
        out = []
        for frame in iter_frames(container, needed_fps=needed):
            assert frame.stream_time is not None
            out.append((frame.stream_time, frame.grey(72).copy()))
        return out
    finally:
        container.close()


def test_frames_nothing_refers_to_are_left_out_and_the_rest_are_the_same(
    tmp_path: Path,
) -> None:
    path = clip(tmp_path, b_frames=1)
    every = decode(path, lambda: None)
    thinned = decode(path, lambda: 5.0)
    assert len(every) == SECONDS * RATE
    # One frame in two refers to nothing: left out, the rest still come at 5 a second.
    assert len(thinned) == pytest.approx(len(every) / 2, abs=2)
    # Leaving them out harms no other frame: each one decoded is the very same picture.
    pictures = dict(every)
    for at, grey in thinned:
        assert np.array_equal(grey, pictures[at])
    gaps = np.diff([at for at, _ in thinned])
    assert gaps.max() <= 0.2 + 1e-6


def test_a_stream_without_such_frames_is_decoded_whole(tmp_path: Path) -> None:
    path = clip(tmp_path, b_frames=0)
    assert len(decode(path, lambda: 5.0)) == SECONDS * RATE


def test_h265_is_decoded_whole(tmp_path: Path) -> None:
    """H.265's unreferenced pictures may be referred to by a higher layer: nothing is left out."""
    path = tmp_path / "clip.mp4"
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", source, "-t", "4", "-vf", f"fps={RATE}"),
            *("-c:v", "libx265", "-preset", "ultrafast"),
            *("-x265-params", "log-level=error:bframes=2"),
            *("-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    assert len(decode(path, lambda: 5.0)) == len(decode(path, lambda: None)) == 4 * RATE


def test_too_few_frames_left_means_every_frame_is_decoded(tmp_path: Path) -> None:
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for.
    path = clip(tmp_path, b_frames=3)
    thinned = decode(path, lambda: 8.0)
    times = [at for at, _ in thinned]
    # Left out only until the first judgement, then every frame.
    settled = [at for at in times if at > THIN_SECONDS + 1.0]
    assert np.diff(settled).max() <= 1.0 / RATE + 1e-6
    assert len(thinned) < SECONDS * RATE
    assert len(thinned) >= SECONDS * RATE - THIN_SECONDS * RATE * (1 - 2.5 / RATE) - 5


def test_a_higher_rate_asked_for_later_decodes_every_frame_from_then(tmp_path: Path) -> None:
    path = clip(tmp_path, b_frames=1)
    asked = {"fps": 5.0}
    container = open_stream(StreamAddress(url=str(path)))
    times: list[float] = []
    try:
        for frame in iter_frames(container, needed_fps=lambda: asked["fps"]):
            assert frame.stream_time is not None
            times.append(frame.stream_time)
            if frame.stream_time >= SECONDS / 2:
                asked["fps"] = 10.0  # the owner asked for 10 analysed frames a second
    finally:
        container.close()
    late = [at for at in times if at > SECONDS / 2 + THIN_SECONDS + 1.0]
    assert late
    assert np.diff(late).max() <= 1.0 / RATE + 1e-6
    early = [at for at in times if at < SECONDS / 2]
    # Until then, 5 a second of 10: enough for 5 asked for (THIN_SHARE of it would do).
    assert len(early) == pytest.approx(SECONDS * RATE / 4, abs=2)


@pytest.fixture
def b_frame_camera(socket_enabled: None) -> Iterator[RtspCamera]:
    """Start a real RTSP camera that sends a B-frame between every two others."""
    require_rtsp_server()
    camera = RtspCamera(clip=shared_clip("vtest.avi"), extra=("--b-frames", "1"))
    camera.start()
    yield camera
    camera.stop()


def read_for(url: str, needed_fps: float | None, seconds: float = 8.0) -> list[Frame]:
    """Read a camera with a frame source for `seconds`; return the frames it published."""
    frames: list[Frame] = []
    source = FrameSource(StreamAddress(url=url), name="camera")
    source.needed_fps = needed_fps
    source.add_frame_listener(frames.append)
    source.start()
    try:
        time.sleep(seconds)
    finally:
        source.stop()
    return frames


def test_a_camera_read_for_five_pictures_a_second_decodes_what_it_needs(
    b_frame_camera: RtspCamera,
) -> None:
    frames = read_for(b_frame_camera.url, None)
    assert len(frames) >= 8.0 * 8  # all of its 10 a second, give or take start-up
    thinned = read_for(b_frame_camera.url, 5.0)
    # About half: the B-frames are left out, the rest come at 5 a second.
    assert 0.35 * len(frames) <= len(thinned) <= 0.65 * len(frames)
    arrivals = np.diff([frame.monotonic for frame in thinned[5:]])
    assert float(np.median(arrivals)) == pytest.approx(0.2, abs=0.05)


def test_time_stamps_that_start_again_still_judge_the_frames_left(tmp_path: Path) -> None:
    """A camera whose clock starts again every 2 s (pts going back) is judged all the same."""
    piece = tmp_path / "piece.ts"
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", source, "-t", "2", "-vf", f"fps={RATE}"),
            *("-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-b_strategy", "0"),
            *("-x264-params", "b-pyramid=none", "-pix_fmt", "yuv420p", str(piece)),
        ],
        check=True,
    )
    # Transport stream pieces one after another: each starts its time stamps again.
    path = tmp_path / "restarting.ts"
    path.write_bytes(piece.read_bytes() * (SECONDS // 2))
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for.
    thinned = decode(path, lambda: 8.0)
    assert len(decode(path, lambda: None)) == SECONDS * RATE
    assert len(thinned) >= SECONDS * RATE - THIN_SECONDS * RATE - 5


def test_a_camera_left_too_few_frames_is_decoded_whole_after_it_reconnects(
    socket_enabled: None,
) -> None:
    """What one connection showed holds for the next: no seconds short of frames again."""
    require_rtsp_server()
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for; the
    # camera drops every connection after 7 s, as some do every minute.
    camera = RtspCamera(
        clip=shared_clip("vtest.avi"), extra=("--b-frames", "3", "--drop-every", "7")
    )
    camera.start()
    frames: list[tuple[int, float]] = []
    source = FrameSource(StreamAddress(url=camera.url), name="dropping")
    source.needed_fps = 8.0

    def keep(frame: Frame) -> None:
        if frame.stream_time is not None:
            frames.append((source.status.connections, frame.stream_time))

    source.add_frame_listener(keep)
    source.start()
    try:
        time.sleep(18.0)
    finally:
        source.stop()
        camera.stop()
    later = [
        [at for connection, at in frames if connection == number]
        for number in {connection for connection, _ in frames if connection > 1}
    ]
    later = [times for times in later if len(times) > RATE]
    assert later
    # Every frame of each later connection, from its start (give or take one lost on the way).
    for times in later:
        assert len(times) >= 0.9 * (times[-1] - times[0]) * RATE

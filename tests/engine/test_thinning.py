"""Tests for leaving undecoded the frames no other frame refers to, on real H.264."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
import subprocess
import time

import av
import numpy as np
import pytest

from custom_components.home_guardian.engine.frame_source import (
    THIN_GAP,
    THIN_SECONDS,
    FrameSource,
    StreamError,
    Thinning,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.cameras.servers import RtspCamera, free_port, wait_for_listen
from tests.common import require_rtsp_server, shared_clip

SECONDS = 20
RATE = 10


def clip(folder: Path, *, b_frames: int, seconds: int = SECONDS, width: int = 768) -> Path:
    """Code real footage at 10 fps, with B-frames between the others or without."""
    path = folder / f"clip-b{b_frames}-{seconds}s-{width}.mp4"
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", source),
            *("-t", str(seconds), "-vf", f"fps={RATE},scale={width}:-2"),
            *("-c:v", "libx264", "-preset", "veryfast"),
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
    """Read a camera for `seconds` from its first picture; return the frames it published."""
    frames: list[Frame] = []
    source = FrameSource(StreamAddress(url=url), name="camera")
    source.needed_fps = needed_fps
    source.add_frame_listener(frames.append)
    source.start()
    try:
        # Counted from the first picture: connecting takes longer on a busy machine.
        deadline = time.monotonic() + 30
        while not frames and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(seconds)
    finally:
        source.stop()
    return frames


def per_stream_second(frames: list[Frame]) -> float:
    """Return how many frames came per second of the camera's own time."""
    times = [frame.stream_time for frame in frames if frame.stream_time is not None]
    assert len(times) >= 2
    return (len(times) - 1) / (times[-1] - times[0])


def test_a_camera_read_for_five_pictures_a_second_decodes_what_it_needs(
    b_frame_camera: RtspCamera,
) -> None:
    frames = read_for(b_frame_camera.url, None)
    assert per_stream_second(frames) >= 8.0  # all of its 10 a second
    thinned = read_for(b_frame_camera.url, 5.0)
    # About half: the B-frames are left out, the rest come at 5 a second.
    assert 0.35 <= per_stream_second(thinned) / per_stream_second(frames) <= 0.65
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


@dataclass
class Fed:
    """What a clip's packets gave when sent as a camera sends them."""

    arrivals: list[float]  # when each decoded frame's packet came, in seconds
    whole_at: float | None  # when every frame began to be decoded; None: never

    def rate(self, start: float, end: float) -> float:
        """Return the frames decoded a second between two moments of arrival."""
        return sum(start <= at < end for at in self.arrivals) / (end - start)


# A packet's time stamp in seconds, rewritten from its place and its stamp (None: none).
type Restamp = Callable[[int, float | None], float | None]


def feed(
    path: Path,
    needed: float,
    *,
    restamp: Restamp = lambda _index, at: at,
    arrivals: list[float] | None = None,
    dts: bool = True,
) -> Fed:
    """Send a clip's real packets to its real decoder, time stamps rewritten, as they arrive.

    The packets arrive at the clip's rate, a camera's (or at `arrivals`, seconds each); with
    `dts` False, they have shown time stamps only.
    """
    container = av.open(str(path))
    now = 0.0
    whole_at: float | None = None

    def went_whole() -> None:
        nonlocal whole_at
        whole_at = now

    try:
        stream = container.streams.video[0]
        thinning = Thinning(stream.codec_context, lambda: needed, went_whole, clock=lambda: now)
        fed = Fed([], None)
        packets = (packet for packet in container.demux(stream) if packet.size)
        for index, packet in enumerate(packets):
            now = arrivals[index] if arrivals is not None else index / RATE
            assert packet.time_base is not None
            for name in ("dts", "pts"):
                stamp = getattr(packet, name)
                at = restamp(index, None if stamp is None else float(stamp * packet.time_base))
                kept = at is not None and (dts or name == "pts")
                setattr(packet, name, round(at / packet.time_base) if kept else None)
            thinning.packet(packet)
            decoded = stream.codec_context.decode(packet)
            thinning.decoded += len(decoded)
            fed.arrivals += [now] * len(decoded)
        fed.whole_at = whole_at
        return fed
    finally:
        container.close()


# Cameras whose clock does not keep real time: it crawls at a tenth of it, stands still, sends
# each stamp twice (half of real time), or is missing from every packet.
ODD_CLOCKS: dict[str, Restamp] = {
    "a tenth": lambda _index, at: None if at is None else at / 10,
    "standing still": lambda _index, at: None if at is None else 1000.0,
    "each stamp twice": lambda index, _at: index // 2 / RATE,
    "missing": lambda _index, _at: None,
}


@pytest.mark.parametrize("restamp", ODD_CLOCKS.values(), ids=ODD_CLOCKS.keys())
def test_a_camera_clock_that_falls_behind_is_judged_by_arrival(
    tmp_path: Path, restamp: Restamp
) -> None:
    """Too few frames left is seen within seconds, whatever the camera's clock does."""
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for.
    starved = feed(clip(tmp_path, b_frames=3), 8.0, restamp=restamp)
    assert starved.whole_at is not None
    assert starved.whole_at <= THIN_SECONDS + 0.2
    assert starved.rate(starved.whole_at + 0.5, SECONDS) == pytest.approx(RATE, abs=0.3)
    # One B-frame to each other frame: 5 a second are left, enough for 5 asked for.
    enough = feed(clip(tmp_path, b_frames=1), 5.0, restamp=restamp)
    assert enough.whole_at is None
    assert enough.rate(0.0, SECONDS) == pytest.approx(RATE / 2, abs=0.2)


def stalls(every: float, stall: float) -> list[float]:
    """Return arrivals that stop for `stall` seconds every `every`, then catch up at once."""
    out: list[float] = []
    for index in range(SECONDS * RATE):
        at = index / RATE
        held_until = at // every * every + stall if at >= every else 0.0
        out.append(max(at, held_until, out[-1] + 0.001 if out else 0.0))
    return out


@pytest.mark.parametrize(
    ("every", "stall"), [(3.0, THIN_GAP - 0.1), (2.0, 1.5), (8.0, 6.0)], ids=str
)
def test_a_network_that_stalls_and_catches_up_is_no_starved_reader(
    tmp_path: Path, every: float, stall: float
) -> None:
    """Frames held up on the way come late, not fewer: they do not count against skipping."""
    enough = feed(clip(tmp_path, b_frames=1), 5.0, arrivals=stalls(every, stall))
    assert enough.whole_at is None
    starved = feed(clip(tmp_path, b_frames=3), 8.0, arrivals=stalls(every, stall))
    assert starved.whole_at is not None
    assert starved.whole_at <= THIN_SECONDS + stall + 0.2


def test_a_camera_clock_set_forward_is_no_gap_in_the_frames(tmp_path: Path) -> None:
    """A clock set an hour forward (as by a time server) mid-stream counts no hour of frames."""
    enough = feed(
        clip(tmp_path, b_frames=1),
        5.0,
        restamp=lambda index, at: None if at is None else at + 3600 * (index >= 70),
    )
    assert enough.whole_at is None


@pytest.mark.parametrize("pace", [1.0 / RATE, 0.001], ids=["camera", "file read at once"])
def test_packets_without_time_stamps_neither_jump_nor_restart_the_count(
    tmp_path: Path, pace: float
) -> None:
    """A stream with time stamps missing from some packets is judged on time as any other."""
    arrivals = [index * pace for index in range(SECONDS * RATE)]

    def restamp(index: int, at: float | None) -> float | None:
        return None if index % 7 == 3 else at

    enough = feed(clip(tmp_path, b_frames=1), 5.0, restamp=restamp, arrivals=arrivals)
    assert enough.whole_at is None
    starved = feed(clip(tmp_path, b_frames=3), 8.0, restamp=restamp, arrivals=arrivals)
    # Judged once the first THIN_SECONDS of the stream went by: not sooner, not later.
    assert starved.whole_at == pytest.approx(THIN_SECONDS * RATE * pace, abs=2 * pace)


def test_hundreds_of_connections_keep_decoding_whole(tmp_path: Path) -> None:
    """Once a connection left too few frames, each of hundreds after it decodes every one."""
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for.
    first = clip(tmp_path, b_frames=3, seconds=int(THIN_SECONDS) + 2, width=160)
    short = clip(tmp_path, b_frames=3, seconds=1, width=160)
    source = FrameSource(StreamAddress(url=str(first)), name="dropping")
    source.needed_fps = 8.0
    counts: list[int] = []
    source.add_frame_listener(lambda _frame: counts.__setitem__(-1, counts[-1] + 1))
    for connection in range(300):
        counts.append(0)
        with pytest.raises(StreamError):
            source._read_once()
        source.address = StreamAddress(url=str(short))
        assert source.status.connections == connection + 1
    # The first: thinned until judged, then whole; every later one: all of its frames.
    assert counts[0] < (THIN_SECONDS + 2) * RATE
    assert counts[1:] == [RATE] * 299


@pytest.mark.parametrize(("b_frames", "needed"), [(3, 8.0), (1, 5.0)])
def test_connections_shorter_than_a_judgement_are_judged_together(
    tmp_path: Path, b_frames: int, needed: float
) -> None:
    """A camera that drops every second is judged on its connections' frames all the same."""
    short = clip(tmp_path, b_frames=b_frames, seconds=1, width=160)
    source = FrameSource(StreamAddress(url=str(short)), name="dropping")
    source.needed_fps = needed
    counts: list[int] = []
    source.add_frame_listener(lambda _frame: counts.__setitem__(-1, counts[-1] + 1))
    for _ in range(200):
        counts.append(0)
        with pytest.raises(StreamError):
            source._read_once()
    if b_frames == 3:
        # 2.5 frames a second left, short of 8: whole from the connection after a judgement.
        settled = counts[int(THIN_SECONDS) + 2 :]
        assert settled == [RATE] * len(settled)
    else:
        # 5 a second left, enough for 5: the frames nothing refers to stay undecoded.
        assert max(counts) <= RATE // 2 + 1


def test_a_camera_whose_clock_crawls_is_decoded_whole_within_seconds(
    tmp_path: Path, socket_enabled: None
) -> None:
    """A real stream sent in real time, time stamps at a tenth of it: judged on arrival."""
    path = clip(tmp_path, b_frames=3, width=320)
    port = free_port()
    # FFmpeg sends the clip at its own pace over TCP, its clock slowed to a tenth on the way.
    camera = subprocess.Popen(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-re", "-i", str(path), "-c", "copy"),
            *("-bsf:v", "setts=dts=DTS/10:pts=PTS/10", "-f", "mpegts"),
            f"tcp://127.0.0.1:{port}?listen=1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    arrivals: list[float] = []
    source = FrameSource(StreamAddress(url=f"tcp://127.0.0.1:{port}"), name="crawling")
    # Three B-frames to each P-frame: 2.5 frames a second are left, short of 8 asked for.
    source.needed_fps = 8.0
    source.add_frame_listener(lambda frame: arrivals.append(frame.monotonic))
    try:
        wait_for_listen(port)
        source.start()
        time.sleep(12.0)
    finally:
        source.stop()
        camera.kill()
        camera.wait()
    gaps = np.diff(arrivals)
    # Every frame from some moment on: that moment came within seconds of the first frame.
    thinned = [index for index, gap in enumerate(gaps) if gap > 1.5 / RATE]
    assert thinned
    whole_from = arrivals[thinned[-1] + 1] - arrivals[0]
    assert whole_from <= THIN_SECONDS + 1.5
    assert len([at for at in arrivals if at >= arrivals[-1] - 3.0]) >= 0.9 * 3.0 * RATE


@pytest.mark.parametrize("pace", [1.0 / RATE, 0.001], ids=["camera", "file read at once"])
def test_shown_time_stamps_alone_count_the_streams_time_once(tmp_path: Path, pace: float) -> None:
    """Without decoding time stamps, those shown go back at each B-frame: counted once."""
    arrivals = [index * pace for index in range(SECONDS * RATE)]
    enough = feed(clip(tmp_path, b_frames=1), 5.0, arrivals=arrivals, dts=False)
    assert enough.whole_at is None
    assert enough.rate(0.0, arrivals[-1] + pace) == pytest.approx(0.5 / pace, rel=0.02)
    starved = feed(clip(tmp_path, b_frames=3), 8.0, arrivals=arrivals, dts=False)
    assert starved.whole_at == pytest.approx(THIN_SECONDS * RATE * pace, abs=2 * pace)


def test_a_camera_slower_than_one_picture_in_two_seconds_is_still_judged(
    tmp_path: Path,
) -> None:
    """A camera filming a picture every 2.5 s (a time-lapse setting) loses no frame for good.

    Each step between its pictures is longer than a stall, yet it is the camera's pace, not a
    gap: five asked for a second are never met, so every frame is decoded after a judgement.
    """
    path = tmp_path / "slow.mp4"
    source = str(shared_clip("vtest.avi"))
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", source),
            *("-t", "100", "-vf", "fps=0.4,scale=320:-2", "-c:v", "libx264"),
            *("-bf", "1", "-b_strategy", "0", "-x264-params", "b-pyramid=none"),
            *("-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    every = decode(path, lambda: None)
    thinned = decode(path, lambda: 5.0)
    assert len(every) == 40
    late = [at for at, _ in thinned if at > 4 * THIN_SECONDS]
    assert np.diff(late).max() <= 2.5 + 1e-6

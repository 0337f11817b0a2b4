"""Read one camera stream in a thread of its own and share its latest frame with every reader."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
import io
import logging
import math
import struct
import threading
import time
from typing import Final

import av
import av.error
from av.video.codeccontext import VideoCodecContext

from .errors import Problem, StreamError
from .frames import Frame
from .http_camera import Deadline, HttpAnswer, request
from .reconnect import FIRST_BACKOFF, MAX_BACKOFF, ReconnectPolicy
from .sight import SightCheck
from .urls import StreamAddress

# Problems are told in `errors`; readers of frames find them here too.
__all__ = [
    "MAX_PICTURE_BYTES",
    "MAX_PIXELS",
    "OPEN_TIMEOUT",
    "READ_TIMEOUT",
    "FrameSource",
    "Problem",
    "SourceState",
    "SourceStatus",
    "StreamError",
    "close_container",
    "grab_frame",
    "grab_jpeg",
    "is_still",
    "iter_frames",
    "open_stream",
]

_LOGGER = logging.getLogger(__name__)

OPEN_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 5.0
# Past 16 megapixels (beyond 4K and the largest fisheye cameras), a "frame" is a broken or
# hostile camera: one such picture costs 25 MB decoded and 50 MB as RGB, for nothing.
MAX_PIXELS: Final = 4096 * 4096
# A snapshot or MJPEG part this large is no camera's picture; a 4K JPEG is 1 to 3 MB. An MJPEG
# part that never ends is cut off there, not at the end of memory.
MAX_PICTURE_BYTES: Final = 16 * 1024 * 1024
MAX_BAD_PACKETS: Final = 50
# A display matrix: nine 32-bit integers.
DISPLAY_MATRIX_BYTES: Final = 36
# Joined between two keyframes of a stream that sends its parameter sets only with them (an
# MPEG-TS camera, an RTSP one that leaves them out of its description), no picture decodes
# until the next keyframe: packets before it are no fault of the stream, for this long (a
# "smart" codec's keyframe may be 10 to 20 seconds apart).
KEYFRAME_WAIT: Final = 30.0
# Demuxers that hold one picture: the URL is a snapshot, polled rather than streamed.
STILL_FORMATS: Final = frozenset({"image2", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe"})
# Frames that no other frame refers to are left undecoded while the others alone come at least
# this share of the rate the readers use, judged over this many seconds of the stream.
THIN_SHARE: Final = 0.8
THIN_SECONDS: Final = 5.0
# Two packets further apart than this, by their time stamps or by their arrival, have a gap
# between them (a stall, lost packets, a camera's clock set forward) that counts as no time:
# no frame came in it, decoded or not; unless it is the stream's own pace (a camera filming
# a picture every few seconds), judged from its stamps. Arrival is believed over the stream's
# own clock once it ran further ahead than this within one judgement: more than a stall can
# explain.
THIN_GAP: Final = 2.0
THIN_CODECS: Final = frozenset({"h264"})
# A stream whose analysis pictures stay the same this long froze (see `sight`). A still room
# at low bitrate gives exactly the same decoded picture between keyframes, H.264 skip blocks
# copying the reference bit for bit, until the next keyframe draws the sensor's noise anew:
# every 1 to 10 s on most cameras, up to a minute with "smart" codecs (H.264+, H.265+) in a
# still scene. Five minutes is several of the longest such gaps, and short next to the hours
# the guardian's limits count.
SAME_STREAM_SECONDS: Final = 300.0

type FrameListener = Callable[[Frame], None]
# Returns the address to connect to now; may raise StreamError when there is none to give.
type AddressProvider = Callable[[], StreamAddress]
type StatusListener = Callable[["SourceStatus"], None]


class SourceState(StrEnum):
    """Where a frame source is in its life."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    RETRYING = "retrying"
    STOPPED = "stopped"


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceStatus:
    """A snapshot of a frame source's health, safe to hand to other threads."""

    state: SourceState = SourceState.CONNECTING
    problem: Problem | None = None
    last_frame_wall: float | None = None
    last_frame_monotonic: float | None = None
    frames: int = 0
    connections: int = 0
    width: int | None = None
    height: int | None = None


def open_stream(
    address: StreamAddress,
    *,
    open_timeout: float = OPEN_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> av.container.InputContainer:
    """Open a stream, a picture or a file with PyAV, mapping errors to problems users understand.

    HTTP cameras are asked by `http_camera`, which reads a picture whole under a byte cap and a
    deadline, or hands an MJPEG stream's connection on; FFmpeg only demuxes what it gives.
    Other answers over HTTP (an HLS playlist, FLV, MPEG-TS) are FFmpeg's to ask for again
    itself: a playlist's segments are addresses of their own.
    """
    if address.scheme in {"http", "https"}:
        container = _open_http(address, open_timeout=open_timeout, read_timeout=read_timeout)
        if container is not None:
            return container
    options = {"rtsp_flags": "prefer_tcp"} if address.scheme.startswith("rtsp") else {}
    started = time.monotonic()
    try:
        container = av.open(
            address.url_with_credentials(),
            options=options,
            timeout=(open_timeout, read_timeout),
        )
    except av.error.FFmpegError as err:
        # An interrupted open surfaces as whatever error FFmpeg was in; the clock tells the truth.
        if time.monotonic() - started >= open_timeout:
            raise StreamError(Problem.TIMEOUT, type(err).__name__) from None
        raise _stream_error(err) from None
    except OSError as err:  # files that do not exist or cannot be read
        raise StreamError(Problem.NOT_FOUND, type(err).__name__) from None
    return _with_video(container)


def _open_http(
    address: StreamAddress, *, open_timeout: float, read_timeout: float
) -> av.container.InputContainer | None:
    """Open an HTTP camera's answer: a picture read whole, or MJPEG over the one connection.

    Return None for any other answer, its connection closed, for FFmpeg to ask for itself.
    """
    deadline = Deadline(open_timeout)
    try:
        answer = request(address, deadline)
        try:
            if answer.sniff():
                # The whole picture, under the byte cap and the deadline, before FFmpeg sees it.
                source: io.RawIOBase | io.BytesIO = io.BytesIO(
                    answer.read_picture(MAX_PICTURE_BYTES)
                )
                form = None
                answer.close()
            elif answer.multipart:
                # MJPEG: over this connection, as cameras serving one client at a time need,
                # its pictures handed on as clean parts whatever the camera's say.
                source = answer.stream(read_timeout, MAX_PICTURE_BYTES)
                form = "mpjpeg"
            else:
                # A camera's login or error page: FFmpeg asking again would only tell the same.
                answer.refuse_web_page()
                answer.close()
                return None
            try:
                container = av.open(source, "r", format=form, timeout=(open_timeout, read_timeout))
            except av.error.FFmpegError:
                _refuse_endless_part(answer)
                raise
        except BaseException:
            answer.close()
            raise
    except StreamError as err:
        if deadline.passed and err.problem is not Problem.TOO_LARGE:
            raise StreamError(Problem.TIMEOUT, "whole request") from None
        raise
    except av.error.FFmpegError as err:
        raise _stream_error(err) from None
    return _with_video(container)


def _with_video(container: av.container.InputContainer) -> av.container.InputContainer:
    """Return the container if it holds video; close it and raise StreamError otherwise."""
    if not container.streams.video:
        close_container(container)
        raise StreamError(Problem.NOT_VIDEO, "no video stream")
    return container


def close_container(container: av.container.InputContainer) -> None:
    """Close a container, and any decoder of its streams that was opened, now.

    Frames are decoded by a decoder of our own (`_own_decoder`); this closes the streams' own
    ones too where PyAV allows it (before 14), should anything have opened them.
    """
    for stream in container.streams:
        context = getattr(stream, "codec_context", None)
        close = getattr(context, "close", None)
        if close is not None and getattr(context, "is_open", False):
            close(strict=False)
    container.close()
    # An HTTP stream's connection is ours to close: FFmpeg only read from it.
    if isinstance(file := _own_file(container), io.RawIOBase):
        file.close()


def _own_file(container: av.container.InputContainer) -> object:
    """Return the file a container was opened on, however PyAV wraps it (PyIOFile in 13)."""
    file = getattr(container, "file", None)
    # PyAV 13 keeps the file given to `av.open` in a wrapper of its own, as `file.file`.
    return getattr(file, "file", file)


def is_still(container: av.container.InputContainer) -> bool:
    """Return True when the container holds a single picture, as snapshot URLs do."""
    return bool(STILL_FORMATS.intersection(container.format.name.split(",")))


def stream_rotation(stream: av.VideoStream) -> float:
    """Return the degrees, anticlockwise, that players turn a stream's pictures by (0: none).

    Phones film upright and store the picture on its side, with a note (a display matrix) in
    the file to turn it. The note belongs to the stream: decoders of our own do not carry it
    onto their pictures.
    """
    # PyAV 13 reads the turn itself; later versions give the matrix, as FFmpeg stores it.
    degrees = (getattr(stream, "side_data", None) or {}).get("DISPLAYMATRIX")
    if degrees is None:
        coded = getattr(stream.codec_context, "coded_side_data", None) or {}
        matrix = coded.get("display_matrix")
        degrees = 0.0 if matrix is None else _display_rotation(bytes(matrix))
    # A matrix that squashes the picture flat has no turn (FFmpeg says "not a number").
    return float(degrees) if math.isfinite(degrees) else 0.0


def _display_rotation(matrix: bytes) -> float:
    """Return the anticlockwise turn of an FFmpeg display matrix, as `av_display_rotation_get`."""
    if len(matrix) != DISPLAY_MATRIX_BYTES:
        return 0.0
    # Nine 32-bit integers, 16.16 fixed point, in the machine's order; only the turn is read.
    a, b, _, c, d, *_ = struct.unpack("=9i", matrix)
    scale_x, scale_y = math.hypot(a, c), math.hypot(b, d)
    if scale_x == 0 or scale_y == 0:
        return math.nan
    return -math.degrees(math.atan2(b / scale_y, a / scale_x))


def iter_frames(
    container: av.container.InputContainer,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    first_sequence: int = 0,
    needed_fps: Callable[[], float | None] = lambda: None,
    on_whole: Callable[[], None] = lambda: None,
    thinning_tally: ThinningTally | None = None,
) -> Generator[Frame]:
    """Decode a container's video into frames until it ends, skipping corrupt packets.

    `needed_fps` says how many frames a second the readers use (None: every frame); frames that
    no other frame refers to may then be left undecoded (see `Thinning`), until too few are
    left: `on_whole` is then called. A `thinning_tally` carries the count to the next connection.
    """
    stream = container.streams.video[0]
    context = stream.codec_context
    keeps_jpeg = context.name == "mjpeg"
    # The size found while probing refuses a huge stream before its first picture is decoded.
    _check_size(context.width or 0, context.height or 0)
    decoder = _decoder(context)
    thinning = Thinning(decoder, needed_fps, on_whole, tally=thinning_tally)
    # An MJPEG camera read through our own connection: each picture handed on resets its cap.
    feed = _own_file(container)
    answer = feed if isinstance(feed, HttpAnswer) else None
    sequence = first_sequence
    bad_packets = 0
    last_packet = started = time.monotonic()
    try:
        for packet in container.demux(stream):
            last_packet = time.monotonic()
            if should_stop():
                return
            _take_packet(packet)
            thinning.packet(packet)
            try:
                decoded = decoder.decode(packet)
            except av.error.FFmpegError:
                if (
                    sequence == first_sequence
                    and not packet.is_keyframe
                    and last_packet - started < KEYFRAME_WAIT
                ):
                    continue
                # A truncated or corrupt packet costs one picture, not the connection.
                bad_packets += 1
                if bad_packets > MAX_BAD_PACKETS:
                    raise StreamError(Problem.NOT_VIDEO, "too many corrupt packets") from None
                continue
            for picture in decoded:
                _check_size(picture.width, picture.height)
                bad_packets = 0
                sequence += 1
                thinning.decoded += 1
                yield Frame(
                    picture,
                    sequence=sequence,
                    monotonic=clock(),
                    wall=wall_clock(),
                    jpeg=bytes(packet) if keeps_jpeg else None,
                )
    except av.error.FFmpegError as err:
        _refuse_endless_part(answer)
        if time.monotonic() - last_packet >= READ_TIMEOUT:
            raise StreamError(Problem.TIMEOUT, type(err).__name__) from None
        error = _stream_error(err)
        if sequence > first_sequence and error.problem is Problem.NOT_VIDEO:
            # Cut off mid-picture after sending pictures: a lost connection, not a wrong address.
            raise StreamError(Problem.CANNOT_CONNECT, type(err).__name__) from None
        raise error from None
    _refuse_endless_part(answer)


def _take_packet(packet: av.Packet) -> None:
    """Refuse a picture no camera would send."""
    if packet.size > MAX_PICTURE_BYTES:
        raise StreamError(
            Problem.TOO_LARGE, f"a picture of {packet.size} bytes, over {MAX_PICTURE_BYTES}"
        )


def _refuse_endless_part(answer: HttpAnswer | None) -> None:
    """Raise when an MJPEG stream ended on its side: a part past its cap, or no pictures."""
    if answer is None:
        return
    if answer.part_too_large:
        raise StreamError(Problem.TOO_LARGE, f"a part over {MAX_PICTURE_BYTES} bytes")
    if answer.no_pictures:
        raise StreamError(Problem.NOT_VIDEO, "multipart stream without JPEG pictures")


@dataclass(slots=True)
class ThinningTally:
    """The time and frames counted towards thinning's next judgement."""

    stream: float = 0.0
    arrival: float = 0.0
    decoded: int = 0


class Thinning:
    """Leave undecoded the frames no other frame refers to, while the rest come often enough.

    Streams with B-frames (and cameras' "smart" codecs) hold frames that nothing refers to:
    decoding them costs as much CPU as the rest, for pictures that analysis, shared views and
    stills, which take a few a second, do not need. They are skipped (FFmpeg's "non-reference"
    discard) while the frames decoded come at least THIN_SHARE of the rate the readers need,
    judged every THIN_SECONDS of the stream's own time, or of arrival when the stream's clock
    falls behind it by more than THIN_GAP (a camera whose clock crawls, stands still or is
    missing). Below that, as in streams whose few reference frames come seconds apart,
    every frame is decoded until the connection ends (and, in a `FrameSource`, on every
    connection after it; its connections that end before a judgement are judged together).
    Skipping never harms another frame: only frames that none refers to are left out.
    Only H.264 says that of a frame for sure; H.265's "non-reference" pictures may be
    referred to by a higher temporal layer's, so its streams are decoded whole.
    """

    def __init__(
        self,
        decoder: VideoCodecContext,
        needed_fps: Callable[[], float | None],
        on_whole: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        tally: ThinningTally | None = None,
    ) -> None:
        """Start skipping on `decoder`, if the rate needed allows it at all.

        A `tally` kept from connection to connection judges them together: a camera that
        drops every connection sooner than a judgement is judged all the same.
        """
        self._decoder = decoder
        self._needed_fps = needed_fps
        self._on_whole = on_whole
        self._clock = clock
        self._tally = ThinningTally() if tally is None else tally
        # The latest packet's time stamp and arrival; the time between connections is no one's.
        self._last_stamp: float | None = None
        self._last_arrival: float | None = None
        # The stream's own pace: the step between its packets' stamps, from its first step on.
        # A camera filming a picture every few seconds steps past THIN_GAP at every picture,
        # and each such step is its time all the same; a clock set forward steps past its pace.
        self._pace: float | None = None
        self.active = needed_fps() is not None and decoder.name in THIN_CODECS
        if self.active:
            decoder.skip_frame = "NONREF"

    @property
    def decoded(self) -> int:
        """Return the frames decoded since the last judgement."""
        return self._tally.decoded

    @decoded.setter
    def decoded(self, count: int) -> None:
        """Set the frames decoded since the last judgement."""
        self._tally.decoded = count

    def packet(self, packet: av.Packet) -> None:
        """Count time on; decode everything from now on if too few frames came in it."""
        if not self.active:
            return
        (stamp, shown), arrival = self._stamp(packet), self._clock()
        if stamp is not None and shown and self._last_stamp is not None:
            # Without decoding time stamps, shown ones go back at each B-frame, shown before
            # the frame sent ahead of it: the stream's time goes on only past the latest.
            stamp = None if 0.0 <= self._last_stamp - stamp <= THIN_GAP else stamp
        tally = self._tally
        tally.stream += self._stream_progress(stamp)
        tally.arrival += self._progress(self._last_arrival, arrival)
        if stamp is not None:
            self._last_stamp = stamp
        self._last_arrival = arrival
        # A file is read faster than it plays and a camera sends as it films: the stream's
        # clock is the measure, unless arrival outran it by more than a stall explains.
        counted = tally.arrival if tally.arrival - tally.stream > THIN_GAP else tally.stream
        if counted < THIN_SECONDS:
            return
        needed = self._needed_fps()
        if needed is None or tally.decoded < THIN_SHARE * needed * counted:
            self.active = False
            self._decoder.skip_frame = "DEFAULT"
            self._on_whole()
        tally.stream, tally.arrival, tally.decoded = 0.0, 0.0, 0

    @staticmethod
    def _stamp(packet: av.Packet) -> tuple[float | None, bool]:
        """Return a packet's time stamp in seconds (None: none), and whether it is shown time."""
        # PyAV's types say every packet has these; a demuxed packet may have none of them.
        dts: int | None = packet.dts
        time_base: Fraction | None = packet.time_base
        stamp = dts if dts is not None else packet.pts
        if stamp is None or time_base is None:
            return None, False
        return float(stamp * time_base), dts is None

    def _stream_progress(self, stamp: float | None) -> float:
        """Return the stream time from the last packet to this one that counts."""
        last = self._last_stamp
        if last is None or stamp is None:
            return 0.0
        step = stamp - last
        pace = self._pace
        if pace is None:
            # The first step tells the pace; it counts only as any step does.
            self._pace = step if step > 0.0 else None
        elif THIN_GAP < step <= 2.0 * pace:
            return step
        progress = self._progress(last, stamp)
        if progress > 0.0 and pace is not None:
            self._pace = pace + 0.1 * (progress - pace)
        return progress

    @staticmethod
    def _progress(last: float | None, now: float | None) -> float:
        """Return the time from one packet to the next that counts, by stamps or by arrival."""
        if last is None or now is None:
            return 0.0
        # Time that goes back (a clock wrapped or started again) counts on from there, so a
        # camera whose clock restarts every few seconds is judged all the same; a gap, nothing.
        step = now - last
        return step if 0.0 < step <= THIN_GAP else 0.0


def _decoder(context: VideoCodecContext) -> VideoCodecContext:
    """Return the decoder to use for a stream, one that goes when its connection ends.

    Every PyAV version keeps a stream in a reference cycle (with its container before 14, with
    its index after), so the stream's own decoder, its threads and its frame pool would outlive
    the connection until a full garbage collection, which a busy Home Assistant may not run for
    hours. Before 14, `close_container` closes the stream's decoder at the end; later versions
    cannot close one, so a decoder of our own, which nothing else refers to, is used instead.

    H.264's deblocking filter stays on, though skipping it would save a quarter to two fifths of
    decoding: every later frame is then predicted from pictures that were never deblocked, the
    picture drifts until the next keyframe and snaps back there. On the clips of
    benchmarks/motion_robustness.py, the detector then saw motion in 11 of 18 where nothing
    moves (none with the filter on), and found a slow walker in a dark room half as often.
    """
    if hasattr(context, "close"):
        # Frame threads add latency; slice threads use both cores without holding frames back.
        context.thread_type = "SLICE"
        return context
    return _own_decoder(context)


def _own_decoder(context: VideoCodecContext) -> VideoCodecContext:
    """Return a decoder for a stream's codec that nothing else refers to."""
    decoder = av.CodecContext.create(context.codec.name, "r")
    if not isinstance(decoder, VideoCodecContext):
        raise StreamError(Problem.NOT_VIDEO, context.codec.name)
    if context.extradata:
        decoder.extradata = context.extradata  # parameter sets, as H.264 and H.265 need
    if context.width and context.height:
        decoder.width, decoder.height = context.width, context.height
    # Frame threads add latency; slice threads use both cores without holding frames back.
    decoder.thread_type = "SLICE"
    return decoder


def _check_size(width: int, height: int) -> None:
    """Refuse pictures too large for any camera, before they eat memory."""
    if width * height > MAX_PIXELS:
        raise StreamError(
            Problem.TOO_LARGE, f"pictures of {width}x{height}, over {MAX_PIXELS} pixels"
        )


def grab_frame(address: StreamAddress, *, timeout: float = OPEN_TIMEOUT) -> tuple[Frame, bool]:
    """Open a URL, decode its first picture, and say whether it is a still image."""
    deadline = time.monotonic() + timeout
    container = open_stream(address, open_timeout=timeout, read_timeout=timeout)
    try:
        return _first_frame(container, deadline), is_still(container)
    finally:
        close_container(container)


def grab_jpeg(address: StreamAddress, *, timeout: float = OPEN_TIMEOUT) -> bytes:
    """Return a JPEG of a URL's first picture: a JPEG snapshot's own bytes, never decoded.

    A still for Home Assistant needs no pixels when the camera already sent a JPEG; decoding
    one (tens of milliseconds for a 4K picture on a small board) only to hand back the same
    bytes is waste. Other pictures are decoded and encoded.
    """
    deadline = time.monotonic() + timeout
    container = open_stream(address, open_timeout=timeout, read_timeout=timeout)
    try:
        stream = container.streams.video[0]
        if is_still(container) and stream.codec_context.name == "mjpeg":
            return _first_packet(container, stream)
        return _first_frame(container, deadline).jpeg()
    finally:
        close_container(container)


def _first_frame(container: av.container.InputContainer, deadline: float) -> Frame:
    """Decode a container's first picture before the deadline."""
    frames = iter_frames(container, should_stop=lambda: time.monotonic() > deadline)
    try:
        for frame in frames:
            return frame
    finally:
        frames.close()
    raise StreamError(
        Problem.TIMEOUT if time.monotonic() > deadline else Problem.NOT_VIDEO, "no frame"
    )


def _first_packet(container: av.container.InputContainer, stream: av.VideoStream) -> bytes:
    """Return a still's encoded picture as it came, refusing what no camera would send."""
    _check_size(stream.codec_context.width or 0, stream.codec_context.height or 0)
    try:
        for packet in container.demux(stream):
            if packet.size > MAX_PICTURE_BYTES:
                raise StreamError(Problem.TOO_LARGE, f"a picture of {packet.size} bytes")
            if packet.size:
                return bytes(packet)
    except av.error.FFmpegError as err:
        raise _stream_error(err) from None
    raise StreamError(Problem.NOT_VIDEO, "no picture")


def _stream_error(err: av.error.FFmpegError) -> StreamError:
    """Translate an FFmpeg error into the problem a user can act on."""
    name = type(err).__name__
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return StreamError(Problem.INVALID_AUTH, name)
    if isinstance(err, av.error.HTTPNotFoundError):
        return StreamError(Problem.NOT_FOUND, name)
    if isinstance(err, av.error.ExitError | av.error.TimeoutError):
        # PyAV's timeout interrupts FFmpeg, which reports it as an immediate exit.
        return StreamError(Problem.TIMEOUT, name)
    if isinstance(err, av.error.InvalidDataError | av.error.PatchWelcomeError):
        return StreamError(Problem.NOT_VIDEO, name)
    return StreamError(Problem.CANNOT_CONNECT, name)


class FrameSource:
    """Read one stream in a thread, keep its latest frame, and reconnect when it drops."""

    def __init__(
        self,
        address: StreamAddress,
        *,
        name: str,
        poll_interval: float = 5.0,
        open_timeout: float = OPEN_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        backoff_max: float = MAX_BACKOFF,
        address_provider: AddressProvider | None = None,
    ) -> None:
        """Prepare to read `address` (or what `address_provider` gives); nothing connects yet."""
        self.address = address
        self._address_provider = address_provider
        self.name = name
        self.poll_interval = poll_interval
        self._open_timeout = open_timeout
        self._read_timeout = read_timeout
        self._backoff_max = backoff_max
        # How many frames a second the readers use; None: decode every frame (see Thinning).
        self.needed_fps: float | None = None
        # Once too few frames were left on one connection, the next ones (a camera that drops
        # every connection after a minute) are decoded whole from their start.
        self._decode_whole = False
        # Connections that end before thinning is judged (a camera that drops every few
        # seconds) are judged together, as one.
        self._thinning_tally = ThinningTally()
        self._warned_too_large = False
        # Whether the source is read one picture at a time, at `poll_interval`: failures are
        # then never retried faster than that pace.
        self._paced = False
        self._status = SourceStatus()
        # A camera that sends pictures showing nothing (frozen, covered) is not seeing.
        self._sight = SightCheck(same_seconds=SAME_STREAM_SECONDS)
        self._latest: Frame | None = None
        # When the camera last vouched for the latest frame: when it came, or when a picture
        # source was last handed the same picture again.
        self._latest_confirmed = float("-inf")
        self._frame_listeners: list[_Subscription] = []
        self._status_listeners: list[StatusListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Ends a wait between failed attempts early: set by `retry_now` and by `stop`.
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> SourceStatus:
        """Return the current health snapshot."""
        return self._status

    @property
    def latest(self) -> Frame | None:
        """Return the newest decoded frame, however old; callers judge its age."""
        return self._latest

    def latest_if_fresh(self, max_age: float) -> Frame | None:
        """Return the newest frame only if the camera vouched for it in the last `max_age` s."""
        frame = self._latest
        if frame is None or time.monotonic() - self._latest_confirmed > max_age:
            return None
        return frame

    def _confirm_latest(self) -> None:
        """Count the latest frame as seen now: the camera answered with it again."""
        self._latest_confirmed = time.monotonic()

    def add_frame_listener(
        self, listener: FrameListener, interval: float = 0.0
    ) -> Callable[[], None]:
        """Call `listener` from the reader thread at most once every `interval` seconds."""
        subscription = _Subscription(listener, interval)
        with self._lock:
            self._frame_listeners = [*self._frame_listeners, subscription]

        def remove() -> None:
            with self._lock:
                self._frame_listeners = [s for s in self._frame_listeners if s is not subscription]

        return remove

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call `listener` from the reader thread whenever the state or problem changes."""
        with self._lock:
            self._status_listeners = [*self._status_listeners, listener]

        def remove() -> None:
            with self._lock:
                self._status_listeners = [s for s in self._status_listeners if s is not listener]

        return remove

    def start(self) -> None:
        """Start the reader thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"home_guardian {self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop reading and wait for the thread; a hung read ends within the read timeout."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(self._open_timeout + 1.0 if timeout is None else timeout)
        self._set_status(state=SourceState.STOPPED)

    def retry_now(self) -> None:
        """Connect again at once if waiting after a failure, as when the source is back.

        A reader that is streaming, or waiting for the next still picture, goes on as it was.
        """
        self._wake.set()

    def wait_for_first(self, timeout: float) -> SourceStatus:
        """Block until the first frame or the first failure, at most `timeout` seconds."""
        settled = threading.Event()

        def on_status(status: SourceStatus) -> None:
            if status.frames or status.problem is not None:
                settled.set()

        remove = self.add_status_listener(on_status)
        try:
            on_status(self._status)
            settled.wait(timeout)
        finally:
            remove()
        return self._status

    def _run(self) -> None:
        """Connect, read, and reconnect after failures until stopped."""
        policy = ReconnectPolicy(cap=self._backoff_max)
        while not self._stop.is_set():
            # A wake-up asked for before this attempt is answered by this attempt; `stop` sets
            # the stop flag before waking, so a stop is never lost here.
            self._wake.clear()
            if self._stop.is_set():
                break
            frames_before = self._status.frames
            try:
                self._read_once()
            except StreamError as err:
                self._report(err)
            except Exception:
                _LOGGER.exception("%s: unexpected error while reading", self.name)
                self._set_status(state=SourceState.RETRYING, problem=Problem.CANNOT_CONNECT)
            else:
                # A still image was read; poll again after the interval, as snapshot cameras expect.
                self._paced = True
                policy.reset()
                self._stop.wait(self.poll_interval)
                continue
            delivered = self._status.frames > frames_before
            policy.first = max(FIRST_BACKOFF, self.poll_interval) if self._paced else FIRST_BACKOFF
            self._wake.wait(policy.next_delay(delivered_pictures=delivered))

    def _report(self, err: StreamError) -> None:
        """Record why the connection ended, logging once per change of problem, not per retry."""
        if err.problem is not self._status.problem:
            _LOGGER.debug("%s: %s", self.name, err)
        if err.problem is Problem.TOO_LARGE and not self._warned_too_large:
            # Worth a warning: only a camera's settings (resolution, quality) can fix it.
            self._warned_too_large = True
            _LOGGER.warning("%s: refused %s; lower the camera's resolution", self.name, err)
        self._set_status(state=SourceState.RETRYING, problem=err.problem)

    def _read_once(self) -> None:
        """Read one connection until it ends; return normally only for a still image."""
        if self._status.state is not SourceState.STREAMING:
            self._set_status(state=SourceState.CONNECTING)
        if self._address_provider is not None:
            # Cloud cameras hand out addresses that expire: ask again at every connection.
            self.address = self._address_provider()
        container = open_stream(
            self.address, open_timeout=self._open_timeout, read_timeout=self._read_timeout
        )
        frames = iter_frames(
            container,
            should_stop=self._stop.is_set,
            first_sequence=self._status.frames,
            needed_fps=lambda: None if self._decode_whole else self.needed_fps,
            on_whole=self._decoding_whole,
            thinning_tally=self._thinning_tally,
        )
        try:
            self._set_status(connections=self._status.connections + 1)
            for frame in frames:
                self._publish(frame)
            if self._stop.is_set() or is_still(container):
                return
            raise StreamError(Problem.CANNOT_CONNECT, "stream ended")
        finally:
            # Everything this connection held goes now, not when the collector finds it.
            frames.close()
            close_container(container)

    def _decoding_whole(self) -> None:
        """Decode every frame from now on, on this connection and the next ones."""
        self._decode_whole = True

    def _publish(self, frame: Frame) -> None:
        """Make a frame the latest and hand it to listeners that are due, if it shows anything."""
        if (problem := self._sight.look(frame)) is not None:
            self._lose_sight(problem)
            return
        self._latest = frame
        self._latest_confirmed = frame.monotonic
        self._set_status(
            state=SourceState.STREAMING,
            problem=None,
            last_frame_wall=frame.wall,
            last_frame_monotonic=frame.monotonic,
            frames=frame.sequence,
            width=frame.width,
            height=frame.height,
        )
        for subscription in self._frame_listeners:
            subscription.offer(frame, self.name)

    def _lose_sight(self, problem: Problem) -> None:
        """Report pictures that show nothing; the latest frame ages until the camera is gone."""
        if problem is not self._status.problem:
            _LOGGER.debug("%s: %s", self.name, problem)
        self._set_status(state=SourceState.STREAMING, problem=problem)

    def _set_status(self, **changes: object) -> None:
        """Replace the status and tell status listeners when the state or problem changed."""
        old = self._status
        new = self._status = replace(old, **changes)  # type: ignore[arg-type]
        if new.state is old.state and new.problem is old.problem:
            return
        for listener in self._status_listeners:
            try:
                listener(new)
            except Exception:
                _LOGGER.exception("%s: status listener failed", self.name)


class _Subscription:
    """A frame listener with its own pace."""

    __slots__ = ("interval", "last", "listener")

    def __init__(self, listener: FrameListener, interval: float) -> None:
        """Remember the listener and how often it wants frames."""
        self.listener = listener
        self.interval = interval
        self.last = float("-inf")

    def offer(self, frame: Frame, source_name: str) -> None:
        """Call the listener when its interval has passed; its failures never stop the reader."""
        if frame.monotonic - self.last < self.interval:
            return
        self.last = frame.monotonic
        try:
            self.listener(frame)
        except Exception:
            _LOGGER.exception("%s: frame listener failed", source_name)

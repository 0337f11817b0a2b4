"""What the project's commands share: one-line usage errors, and how they read a video.

Every command that analyses a video file does it as the integration does a camera: every frame
decoded, motion analysed at the analysis pace, in video time taken from the time the file shows
each frame at (live cameras pace themselves, files do not). `analysed_frames` is that loop, once.
"""

from __future__ import annotations

import argparse
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
import time
from typing import TYPE_CHECKING, NoReturn

from engine_import import load_engine

if TYPE_CHECKING:
    from engine.frames import Frame
    from engine.motion import MotionDetector, MotionResult

# Analysed frames a second, as the integration's default; and the rate assumed for a video
# that states none.
DEFAULT_FPS = 5.0
FALLBACK_RATE = 25.0
# Rates are stated as fractions such as 30000/1001; a stream's own may be a needlessly long one.
MAX_RATE_DENOMINATOR = 1001


class UsageError(Exception):
    """The command line or its input cannot be used."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as scripts reading stderr expect."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block."""
        raise UsageError(message)


@dataclass(frozen=True, kw_only=True, slots=True)
class AnalysedFrame:
    """One decoded frame of a video, with its motion result when it was analysed."""

    frame: Frame
    # Seconds into the video, and the video's frames a second.
    at: float
    rate: Fraction
    # None for a frame the analysis pace skipped.
    result: MotionResult | None
    decode_seconds: float
    analysis_seconds: float


class VideoClock:
    """Seconds into a video for each frame in turn: when the file says to show it.

    Phones and many cameras record at a varying rate (a dim room slows the shutter, a busy
    camera drops frames), so a frame's position times an average rate can misplace what
    happened by seconds. A frame whose time is missing, repeats or goes back (recordings joined
    end to end) is taken to come one average frame after the one before.
    """

    def __init__(self, rate: Fraction) -> None:
        """Start a clock for a video of `rate` frames a second on average."""
        self._frame_seconds = 1.0 / float(rate)
        self._last_shown: float | None = None
        self._at: float | None = None

    def at(self, shown: float | None) -> float:
        """Return the seconds into the video of the next frame, given its shown time if any."""
        last, self._last_shown = self._last_shown, shown
        if self._at is None:
            self._at = 0.0
        elif shown is not None and last is not None and shown > last:
            self._at += shown - last
        else:
            self._at += self._frame_seconds
        return self._at


def turned(frame: Frame, turns: int) -> Frame:
    """Return a frame's picture turned anticlockwise by quarter turns (0 to 3)."""
    if turns == 0:
        return frame
    # Imported here like the engine: only a file stored on its side pays for the turn.
    import av  # noqa: PLC0415
    from engine.frames import Frame  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    upright = np.ascontiguousarray(np.rot90(frame.rgb(), turns))
    return Frame(
        av.VideoFrame.from_ndarray(upright, format="rgb24"),
        sequence=frame.sequence,
        monotonic=frame.monotonic,
        wall=frame.wall,
    )


def analysed_frames(
    video: str, detector: MotionDetector, fps: float, *, upright: bool = False
) -> Generator[AnalysedFrame]:
    """Decode every frame of a video file and analyse `fps` of them a second with `detector`.

    With `upright`, pictures that the file stores on their side are turned as players show them,
    before analysis: what a viewer would see is what is analysed, filtered and written.
    Raise UsageError when the file does not exist and StreamError when it is not a video.
    """
    # Commands that read no video (guardian-replay) do not pay for PyAV and the motion engine.
    load_engine()
    from engine.frame_source import (  # noqa: PLC0415
        close_container,
        iter_frames,
        open_stream,
        stream_rotation,
    )
    from engine.motion import ANALYSIS_HEIGHT, AnalysisPace  # noqa: PLC0415
    from engine.urls import StreamAddress  # noqa: PLC0415

    path = Path(video)
    if not path.is_file():
        raise UsageError(f"{video}: no such file")
    container = open_stream(StreamAddress(url=str(path)))
    try:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or stream.guessed_rate or FALLBACK_RATE)
        rate = rate.limit_denominator(MAX_RATE_DENOMINATOR)
        pace = AnalysisPace(fps)
        clock = VideoClock(rate)
        turns = round(stream_rotation(stream) / 90) % 4 if upright else 0
        frames = iter_frames(container)
        try:
            while True:
                started = time.perf_counter()
                frame = next(frames, None)
                decode_seconds = time.perf_counter() - started
                if frame is None:
                    return
                at = clock.at(frame.stream_time)
                frame = turned(frame, turns)
                result, analysis_seconds = None, 0.0
                if pace.due(at, detector):
                    started = time.perf_counter()
                    size = (frame.width, frame.height)
                    result = detector.process(frame.grey(ANALYSIS_HEIGHT), at, size=size)
                    analysis_seconds = time.perf_counter() - started
                yield AnalysedFrame(
                    frame=frame,
                    at=at,
                    rate=rate,
                    result=result,
                    decode_seconds=decode_seconds,
                    analysis_seconds=analysis_seconds,
                )
        finally:
            frames.close()
    finally:
        close_container(container)

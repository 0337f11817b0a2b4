"""Run the shared picture's privacy filter over a video file and write what viewers would see.

The production path: every decoded frame, motion analysed at the analysis rate and handed to
the filter, the filter applied to every frame; no privacy zones, no caption. A phone's video
stored on its side is filtered and written upright, as players show it.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
import json
import sys
import time
from typing import TYPE_CHECKING, cast

import av
from command_line import DEFAULT_FPS, OneLineParser, UsageError, analysed_frames
from engine_import import load_engine

load_engine()

from engine.frame_source import StreamError  # noqa: E402 - after load_engine()
from engine.motion import MotionDetector, MotionSettings  # noqa: E402 - after load_engine()
from engine.privacy import PrivacyFilter, PrivacyLevel, load_face_detector  # noqa: E402 - after load_engine()

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.stream import VideoStream


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = OneLineParser(prog="privacy", description=__doc__)
    parser.add_argument("video", help="video file to filter")
    parser.add_argument("--level", choices=["people", "faces"], required=True)
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS, help="analysed frames a second")
    parser.add_argument("--out", required=True, help="filtered video to write (.mp4)")
    arguments = parser.parse_args(argv)
    if not arguments.fps > 0:
        raise UsageError("--fps must be above 0")
    return arguments


def _output(
    path: str, width: int, height: int, rate: Fraction
) -> tuple[OutputContainer, VideoStream]:
    """Open an H.264 file (MPEG-4 part 2 where x264 is missing) for the filtered frames."""
    container = av.open(path, mode="w")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    options = {"crf": "20", "preset": "veryfast"} if codec == "libx264" else {}
    stream = cast("VideoStream", container.add_stream(codec, rate=rate, options=options))
    stream.width, stream.height = width, height
    # 4:2:0 needs even sizes; odd ones keep every pixel at 4:4:4 rather than being cropped.
    even = width % 2 == 0 and height % 2 == 0
    stream.pix_fmt = "yuv420p" if even or codec != "libx264" else "yuv444p"
    return container, stream


def run(arguments: argparse.Namespace) -> dict[str, float | int]:
    """Filter every frame of the video; return the figures the command prints."""
    faces = load_face_detector() if arguments.level == "faces" else None
    privacy = PrivacyFilter(PrivacyLevel(arguments.level), face_detector=faces)
    detector = MotionDetector(MotionSettings())
    output: OutputContainer | None = None
    stream: VideoStream | None = None
    frames, hidden, seconds = 0, 0.0, 0.0
    try:
        for analysed in analysed_frames(arguments.video, detector, arguments.fps, upright=True):
            frame, at, result = analysed.frame, analysed.at, analysed.result
            started = time.perf_counter()
            if result is not None:
                privacy.update_motion(result.regions, at, settled=result.rejected is None)
            filtered = privacy.apply(frame, at)
            seconds += analysed.analysis_seconds + time.perf_counter() - started
            hidden += privacy.last_hidden_share
            frames += 1
            if output is None or stream is None:
                output, stream = _output(arguments.out, frame.width, frame.height, analysed.rate)
            picture = av.VideoFrame.from_ndarray(filtered, format="rgb24")
            picture.pts = frames - 1
            output.mux(stream.encode(picture))
        if output is not None and stream is not None:
            output.mux(stream.encode(None))
    finally:
        if output is not None:
            output.close()
    count = max(1, frames)
    return {
        "frames": frames,
        "pixelated_share": round(hidden / count, 4),
        "ms_per_frame": round(1000 * seconds / count, 3),
    }


def main(argv: list[str]) -> int:
    """Run the command and print one JSON object; return the exit status."""
    try:
        arguments = parse_arguments(argv)
        report = run(arguments)
    except UsageError as err:
        print(f"privacy: {err}", file=sys.stderr)
        return 2
    except StreamError as err:
        print(f"privacy: {arguments.video}: cannot read video ({err})", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

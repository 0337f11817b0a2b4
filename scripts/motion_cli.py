"""Run the live motion engine over a video file as fast as it decodes and report what moved."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import json
import resource
import sys

from command_line import DEFAULT_FPS, OneLineParser, UsageError, analysed_frames
from engine_import import load_engine

load_engine()

from engine.frame_source import StreamError  # noqa: E402 - after load_engine()
from engine.geometry import parse_polygons  # noqa: E402 - after load_engine()
from engine.motion import MotionDetector, MotionResult, MotionSettings, Zones  # noqa: E402 - after load_engine()


@dataclass(kw_only=True, slots=True)
class Interval:
    """One stretch of debounced motion in video seconds."""

    start: float
    end: float
    peak_area: float = 0.0


@dataclass(kw_only=True, slots=True)
class Report:
    """Everything the command prints."""

    intervals: list[Interval] = field(default_factory=list)
    frames_decoded: int = 0
    frames_analysed: int = 0
    decode_seconds: float = 0.0
    analysis_seconds: float = 0.0
    settled_at: float | None = None
    # The interval still running, while the detector stays active.
    open: Interval | None = None

    def record(self, at: float, detector: MotionDetector, result: MotionResult) -> None:
        """Count one analysed frame and extend or close the running interval."""
        self.frames_analysed += 1
        if self.settled_at is None and detector.settled:
            self.settled_at = at
        if not detector.active:
            self.open = None
            return
        if self.open is None:
            self.open = Interval(start=at, end=at)
            self.intervals.append(self.open)
        if result.motion:
            self.open.end = at + detector.settings.hold_seconds
            self.open.peak_area = max(self.open.peak_area, result.area)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = OneLineParser(prog="motion", description=__doc__)
    parser.add_argument("video", help="video file to analyse")
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS, help="analysed frames a second")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--sensitivity", type=int, default=MotionSettings().sensitivity)
    parser.add_argument("--min-object-size", type=float, default=MotionSettings().min_object_size)
    parser.add_argument("--ignore-zones", default="", help="JSON list of polygons of [x, y]")
    parser.add_argument("--only-zones", default="", help="JSON list of polygons of [x, y]")
    parser.add_argument("--hold-seconds", type=float, default=MotionSettings().hold_seconds)
    arguments = parser.parse_args(argv)
    if not arguments.fps > 0:
        raise UsageError("--fps must be above 0")
    if not 0 <= arguments.sensitivity <= 100:  # noqa: PLR2004
        raise UsageError("--sensitivity must be between 0 and 100")
    if not 0 <= arguments.min_object_size <= 1:
        raise UsageError("--min-object-size must be between 0 and 1")
    if arguments.hold_seconds < 0:
        raise UsageError("--hold-seconds must not be negative")
    return arguments


def zones(raw: str, name: str) -> Zones:
    """Parse a JSON zone list given on the command line."""
    if not raw:
        return ()
    try:
        return parse_polygons(json.loads(raw))
    except ValueError as err:  # json.JSONDecodeError is a ValueError too
        raise UsageError(f"{name}: {err}") from None


def analyse(video: str, settings: MotionSettings, fps: float) -> Report:
    """Decode every frame, analyse `fps` of them a second, and collect motion intervals."""
    report = Report()
    detector = MotionDetector(settings)
    video_end = 0.0
    for analysed in analysed_frames(video, detector, fps):
        report.frames_decoded += 1
        report.decode_seconds += analysed.decode_seconds
        video_end = analysed.at + 1.0 / float(analysed.rate)
        if analysed.result is not None:
            report.analysis_seconds += analysed.analysis_seconds
            report.record(analysed.at, detector, analysed.result)
    if report.open is not None:
        report.open.end = min(report.open.end, video_end)
    return report


def main(argv: list[str]) -> int:
    """Run the command and print one JSON object; return the exit status."""
    try:
        arguments = parse_arguments(argv)
        settings = MotionSettings(
            sensitivity=arguments.sensitivity,
            min_object_size=arguments.min_object_size,
            ignore_zones=zones(arguments.ignore_zones, "--ignore-zones"),
            only_zones=zones(arguments.only_zones, "--only-zones"),
            hold_seconds=arguments.hold_seconds,
        )
        report = analyse(arguments.video, settings, arguments.fps)
    except UsageError as err:
        print(f"motion: {err}", file=sys.stderr)
        return 2
    except StreamError as err:
        print(f"motion: {arguments.video}: cannot read video ({err})", file=sys.stderr)
        return 2
    usage = resource.getrusage(resource.RUSAGE_SELF)
    decoded, analysed = max(1, report.frames_decoded), max(1, report.frames_analysed)
    output = {
        "intervals": [
            {"start": round(i.start, 3), "end": round(i.end, 3), "peak_area": round(i.peak_area, 4)}
            for i in report.intervals
        ],
        "decode_ms_per_frame": round(1000 * report.decode_seconds / decoded, 3),
        "analysis_ms_per_frame": round(1000 * report.analysis_seconds / analysed, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "frames_decoded": report.frames_decoded,
        "frames_analysed": report.frames_analysed,
        # Seconds into the clip when the background and its noise were learned; null if never.
        "settled_at": None if report.settled_at is None else round(report.settled_at, 3),
    }
    print(json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

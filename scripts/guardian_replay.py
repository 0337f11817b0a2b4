"""Replay a guardian trace with a simulated clock and print one JSON line per alert change.

The trace is JSON lines: first `{"config": {...}}` (the guardian's options), then events in
time order, each with `"t"` (ISO 8601 with offset) and `"event"`: `activity`, `blind` and
`seeing` (with `"source"`), `down` (with `"until"`: Home Assistant not running in between),
`acknowledge`, `mode` (with `"mode"`: home, away or visitors), and last `end`. Between events
the clock stops at every time the guardian asks to be checked, so alerts print at the exact
time they fall due. A `t` earlier than the one before is a clock that jumped backwards.
Output lines are `{"t": ..., "alert": "inactivity" | "cannot_monitor" | "cleared", "level": N}`
with `t` in the configured time zone. Bad input: a message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
import json
import os
from pathlib import Path
import sys
from typing import Any, Final, NoReturn

from engine_import import load_engine

load_engine()

from engine.guardian import (  # noqa: E402 - after load_engine()
    AlertChange,
    GuardianConfig,
    GuardianConfigError,
    InactivityGuardian,
    Mode,
)

SOURCE_EVENTS: Final = frozenset({"activity", "blind", "seeing"})
EVENTS: Final = SOURCE_EVENTS | {"down", "acknowledge", "mode", "end"}


class TraceError(Exception):
    """The command line or the trace cannot be used."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as scripts reading stderr expect."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block."""
        raise TraceError(message)


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceEvent:
    """One event of a trace."""

    line: int
    at: datetime
    kind: str
    source: str = ""
    until: datetime | None = None
    mode: Mode = Mode.HOME


def _instant(value: Any, where: str) -> datetime:
    """Read an ISO 8601 time with an offset."""
    if not isinstance(value, str):
        raise TraceError(f"{where}: expected an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TraceError(f"{where}: not an ISO 8601 time: {value!r}") from None
    if moment.utcoffset() is None:
        raise TraceError(f"{where}: the time needs an offset: {value!r}")
    return moment


def _event(number: int, record: dict[str, Any]) -> TraceEvent:
    """Check one event line."""
    where = f"line {number}"
    kind = record.get("event")
    if kind not in EVENTS:
        raise TraceError(f"{where}: unknown event {kind!r}")
    at = _instant(record.get("t"), f"{where}: t")
    source = record.get("source", "")
    if kind in SOURCE_EVENTS and (not isinstance(source, str) or not source):
        raise TraceError(f"{where}: {kind} needs a source name")
    until = None
    if kind == "down":
        until = _instant(record.get("until"), f"{where}: until")
        if until < at:
            raise TraceError(f"{where}: until is before t")
    mode = Mode.HOME
    if kind == "mode":
        try:
            mode = Mode(record.get("mode"))
        except ValueError:
            raise TraceError(
                f"{where}: mode must be home, away or visitors, got {record.get('mode')!r}"
            ) from None
    return TraceEvent(line=number, at=at, kind=kind, source=source, until=until, mode=mode)


def _config(number: int, record: dict[str, Any]) -> GuardianConfig:
    """Check the config line."""
    if not isinstance(record.get("config"), dict):
        raise TraceError(f'line {number}: the first line must be {{"config": {{...}}}}')
    try:
        return GuardianConfig.from_dict(record["config"])
    except GuardianConfigError as err:
        raise TraceError(f"line {number}: config: {err}") from None


def read_trace(lines: Iterable[str]) -> tuple[GuardianConfig, list[TraceEvent]]:
    """Parse and check a whole trace before anything runs."""
    config: GuardianConfig | None = None
    events: list[TraceEvent] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            raise TraceError(f"line {number}: not valid JSON") from None
        if not isinstance(record, dict):
            raise TraceError(f"line {number}: expected a JSON object")
        if config is None:
            config = _config(number, record)
            continue
        if events and events[-1].kind == "end":
            raise TraceError(f"line {number}: nothing may follow the end event")
        events.append(_event(number, record))
    if config is None:
        raise TraceError('the trace is empty: it must start with {"config": {...}}')
    if not events or events[-1].kind != "end":
        raise TraceError('the trace must finish with an "end" event')
    return config, events


def replay(config: GuardianConfig, events: Iterable[TraceEvent]) -> Iterator[AlertChange]:
    """Run the events through a guardian, as Home Assistant would, and yield alert changes."""
    guardian = InactivityGuardian(config)
    for event in events:
        yield from guardian.catch_up(event.at)
        match event.kind:
            case "activity":
                yield from guardian.activity(event.source, event.at)
            case "blind" | "seeing":
                yield from guardian.set_seeing(event.source, event.kind == "seeing", event.at)
            case "acknowledge":
                yield from guardian.acknowledge(event.at)
            case "mode":
                yield from guardian.set_mode(event.mode, event.at)
            case "down":
                yield from guardian.evaluate(event.at)
                # Home Assistant stops: only what it stored survives, through JSON as in a Store.
                stored = json.loads(json.dumps(guardian.to_dict()))
                guardian = InactivityGuardian(config, stored)
                yield from guardian.resume(event.until or event.at)
            case _:  # "end"
                yield from guardian.evaluate(event.at)


def output_line(change: AlertChange, config: GuardianConfig) -> str:
    """Return the JSON line printed for one alert change."""
    return json.dumps(
        {
            "t": change.at.astimezone(config.zone).isoformat(),
            "alert": change.event,
            "level": change.level,
        }
    )


def main(argv: list[str]) -> int:
    """Run the command; return the exit status."""
    parser = _Parser(prog="guardian-replay", description=__doc__.splitlines()[0])
    parser.add_argument("trace", help="trace file (JSON lines), or - for standard input")
    try:
        arguments = parser.parse_args(argv)
        if arguments.trace == "-":
            config, events = read_trace(sys.stdin)
        else:
            try:
                with Path(arguments.trace).open(encoding="utf-8") as file:
                    config, events = read_trace(file)
            except (OSError, UnicodeDecodeError) as err:
                raise TraceError(f"{arguments.trace}: cannot read ({err})") from None
    except TraceError as err:
        print(f"guardian-replay: {err}", file=sys.stderr)
        return 2
    try:
        for change in replay(config, events):
            print(output_line(change, config), flush=True)
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error of the trace.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

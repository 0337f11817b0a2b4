"""Replay a guardian trace with a simulated clock and print one JSON line per alert change.

The trace is JSON lines: first `{"config": {...}}` (the guardian's options), then events in
time order, each with `"t"` (ISO 8601 with offset) and `"event"`: `activity`, `blind` and
`seeing` (with `"source"`), `state` (with `"source"` and `"state"`, such as "on" or "off"),
`down` (with `"until"`: Home Assistant not running in between), `acknowledge`, `mode` (with
`"mode"`: home, away or visitors), and last `end`. A source's first event may give its
`"kind"` (motion, presence, change, level or alarm; motion when not given), which says what its
states mean, and its first `state` event its `"room"` (as a Home Assistant area: a presence
source is then judged by the activity of its room's `state` sources alone) and its `"unit"` (a
level source's unit of measurement, such as "W" or "°C", which sets the smallest jump that
counts as something switched on or off). A state `unavailable` or `unknown` is the source
blind, as Home Assistant reads it, until its next state. As in Home Assistant, a source's
first `state` is what the guardian finds when it starts watching it, never a change; after
`down`, every source's last state is read afresh the same way, or what the `down` event's
optional `"states"` (`{"source": "state", ...}`) says sources show on return (what changed
while Home Assistant was not running). Between events the clock stops at every time the
guardian asks to be checked, so alerts print at the exact time they fall due. A `t` earlier
than the one before is a clock that jumped backwards.

Output lines are `{"t": ..., "alert": "inactivity" | "cannot_monitor" | "alarm" | "cleared",
"level": N, "reason": ...}` with `t` in the configured time zone, and `"room"` when a presence
alert is about one. Bad input (an unknown option, event or field, a time outside 1971-2200, a
trace longer than five years): a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import inspect
import json
import os
from pathlib import Path
import sys
from typing import Any, Final

from command_line import OneLineParser, UsageError
from engine_import import load_engine

load_engine()

from engine.alerts import AlertChange, Mode  # noqa: E402 - after load_engine()
from engine.config import OPTIONS, GuardianConfig, GuardianConfigError  # noqa: E402
from engine.guardian import InactivityGuardian  # noqa: E402
from engine.sources import Kind  # noqa: E402 - after load_engine()

SOURCE_EVENTS: Final = frozenset({"activity", "blind", "seeing", "state"})
# The states Home Assistant gives a source that cannot say what it shows: blind.
BLIND_STATES: Final = frozenset({"unavailable", "unknown"})
EVENTS: Final = SOURCE_EVENTS | {"down", "acknowledge", "mode", "end"}
# The fields each event may have besides "t" and "event".
FIELDS: Final = {
    "activity": {"source", "kind"},
    "blind": {"source", "kind"},
    "seeing": {"source", "kind"},
    "state": {"source", "kind", "state", "room", "unit"},
    "down": {"until", "states"},
    "acknowledge": set(),
    "mode": {"mode"},
    "end": set(),
}
# Times a household trace can have; beyond them a replay would run for hours (or overflow).
EARLIEST: Final = datetime(1971, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
LONGEST: Final = timedelta(days=5 * 366)
# Values quoted in error messages are cut to this many characters.
SHORT: Final = 60


class TraceError(UsageError):
    """The trace cannot be used."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceEvent:
    """One event of a trace."""

    line: int
    at: datetime
    kind: str
    source: str = ""
    until: datetime | None = None
    mode: Mode = Mode.HOME
    state: str = ""
    source_kind: Kind = Kind.MOTION
    room: str | None = None
    unit: str | None = None
    # What sources show when Home Assistant is back (a down event only).
    shown: tuple[tuple[str, str, Kind], ...] = ()


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
    try:
        instant = moment.astimezone(UTC)
    except OverflowError:
        instant = EARLIEST - timedelta(days=1)
    if not EARLIEST <= instant < LATEST:
        raise TraceError(f"{where}: {value!r} is not between 1971 and 2200")
    return moment


def _event(
    number: int,
    record: dict[str, Any],
    kinds: dict[str, Kind],
    rooms: dict[str, str],
    units: dict[str, str],
) -> TraceEvent:
    """Check one event line; `kinds`, `rooms` and `units` hold what a source's first events set."""
    where = f"line {number}"
    kind = record.get("event")
    if not isinstance(kind, str) or kind not in EVENTS:
        raise TraceError(f"{where}: unknown event {_short(kind)}")
    for key in record:
        if key not in {"t", "event", *FIELDS[kind]}:
            raise TraceError(f"{where}: unknown field {_short(key)} for a {kind} event")
    at = _instant(record.get("t"), f"{where}: t")
    source, source_kind, state = _source_fields(where, kind, record, kinds)
    room = _named(where, "room", source, record, rooms)
    unit = _named(where, "unit", source, record, units)
    until = None
    shown: tuple[tuple[str, str, Kind], ...] = ()
    if kind == "down":
        until = _instant(record.get("until"), f"{where}: until")
        if until < at:
            raise TraceError(f"{where}: until is before t")
        shown = _shown(where, record.get("states", {}), kinds)
    mode = Mode.HOME
    if kind == "mode":
        try:
            mode = Mode(record.get("mode"))
        except ValueError:
            raise TraceError(
                f"{where}: mode must be home, away or visitors, got {_short(record.get('mode'))}"
            ) from None
    return TraceEvent(
        line=number,
        at=at,
        kind=kind,
        source=source,
        until=until,
        mode=mode,
        state=state,
        source_kind=source_kind,
        room=room,
        unit=unit,
        shown=shown,
    )


def _shown(where: str, value: Any, kinds: dict[str, Kind]) -> tuple[tuple[str, str, Kind], ...]:
    """Check what a down event says sources show on return."""
    if not isinstance(value, dict) or not all(
        isinstance(source, str) and source and isinstance(state, str) and state
        for source, state in value.items()
    ):
        raise TraceError(f'{where}: states must map source names to states, such as "on"')
    return tuple(
        (source, state, kinds.setdefault(source, Kind.MOTION)) for source, state in value.items()
    )


def _named(
    where: str, field: str, source: str, record: dict[str, Any], known: dict[str, str]
) -> str | None:
    """Check a source's room or unit, which its first state event may give."""
    if field in record:
        name = record[field]
        if not isinstance(name, str) or not name:
            raise TraceError(f"{where}: {field} must be a name, got {_short(name)}")
        if known.setdefault(source, name) != name:
            already = "is already in" if field == "room" else "is already read in"
            raise TraceError(f"{where}: {field}: {source} {already} {_short(known[source])}")
    return known.get(source)


def _source_fields(
    where: str, kind: str, record: dict[str, Any], kinds: dict[str, Kind]
) -> tuple[str, Kind, str]:
    """Check an event's source, its kind and its state."""
    source = record.get("source", "")
    if kind in SOURCE_EVENTS and (not isinstance(source, str) or not source):
        raise TraceError(f"{where}: {kind} needs a source name")
    source_kind = kinds.get(source, Kind.MOTION)
    if "kind" in record:
        try:
            given = Kind(record["kind"])
        except ValueError:
            raise TraceError(
                f"{where}: kind must be motion, presence, change, level or alarm, got "
                f"{_short(record['kind'])}"
            ) from None
        if source in kinds and given is not kinds[source]:
            raise TraceError(f"{where}: kind: {source} is already a {kinds[source]} source")
        source_kind = given
    if kind in SOURCE_EVENTS:
        kinds.setdefault(source, source_kind)
    state = record.get("state", "")
    if kind == "state" and (not isinstance(state, str) or not state):
        raise TraceError(f'{where}: state needs a state, such as "on" or "off"')
    return source, source_kind, state


def _short(value: Any) -> str:
    """Return a value for an error message, cut short."""
    text = repr(value)
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def _config(number: int, record: dict[str, Any]) -> GuardianConfig:
    """Check the config line."""
    if not isinstance(record.get("config"), dict):
        raise TraceError(f'line {number}: the first line must be {{"config": {{...}}}}')
    for key in record:
        if key != "config":
            raise TraceError(f"line {number}: unknown field {_short(key)} beside config")
    for key in record["config"]:
        if key not in OPTIONS:
            raise TraceError(f"line {number}: config: unknown option {_short(key)}")
    try:
        return GuardianConfig.from_dict(record["config"])
    except GuardianConfigError as err:
        raise TraceError(f"line {number}: config: {err}") from None


def _check_span(number: int, events: list[TraceEvent]) -> None:
    """Refuse a trace whose last event lies more than five years from its first."""
    for moment in (events[-1].at, events[-1].until):
        if moment is not None and abs(moment - events[0].at) > LONGEST:
            raise TraceError(f"line {number}: the trace spans more than five years")


def read_trace(lines: Iterable[str]) -> tuple[GuardianConfig, list[TraceEvent]]:
    """Parse and check a whole trace before anything runs."""
    config: GuardianConfig | None = None
    events: list[TraceEvent] = []
    kinds: dict[str, Kind] = {}
    rooms: dict[str, str] = {}
    units: dict[str, str] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            raise TraceError(f"line {number}: not valid JSON") from None
        except RecursionError:
            raise TraceError(f"line {number}: nested too deeply") from None
        if not isinstance(record, dict):
            raise TraceError(f"line {number}: expected a JSON object")
        if config is None:
            config = _config(number, record)
            continue
        if events and events[-1].kind == "end":
            raise TraceError(f"line {number}: nothing may follow the end event")
        events.append(_event(number, record, kinds, rooms, units))
        _check_span(number, events)
    if config is None:
        raise TraceError('the trace is empty: it must start with {"config": {...}}')
    if not events or events[-1].kind != "end":
        raise TraceError('the trace must finish with an "end" event')
    return config, events


def replay(config: GuardianConfig, events: Iterable[TraceEvent]) -> Iterator[AlertChange]:
    """Run the events through a guardian, as Home Assistant would, and yield alert changes."""
    guardian = InactivityGuardian(config)
    # What each source last showed, to be read afresh after a restart as Home Assistant does.
    states: dict[str, tuple[str, Kind, str | None, str | None]] = {}
    for event in events:
        yield from guardian.catch_up(event.at)
        match event.kind:
            case "activity":
                yield from guardian.activity(event.source, event.at)
            case "state":
                yield from guardian.source_state(
                    event.source,
                    _seen(event.state),
                    event.at,
                    kind=event.source_kind,
                    room=event.room,
                    unit=event.unit,
                )
                states[event.source] = (event.state, event.source_kind, event.room, event.unit)
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
                back = event.until or event.at
                yield from guardian.resume(back)
                for source, state, source_kind in event.shown:
                    _, _, room, unit = states.get(source, (state, source_kind, None, None))
                    states[source] = (state, source_kind, room, unit)
                # Motion sources first, as Home Assistant reads them (a plug's end found then
                # counts by whether one of them sees its room).
                found = sorted(states.items(), key=lambda item: item[1][1] is not Kind.MOTION)
                for source, (state, source_kind, room, unit) in found:
                    yield from guardian.source_state(
                        source,
                        _seen(state),
                        back,
                        kind=source_kind,
                        baseline=True,
                        room=room,
                        unit=unit,
                    )
                # What fell due while down is told once the return's states are read.
                yield from guardian.evaluate(back)
            case _:  # "end"
                yield from guardian.evaluate(event.at)


def _seen(state: str) -> str | None:
    """Return what a source shows, or None when it is blind (unavailable or unknown)."""
    return None if state in BLIND_STATES else state


def output_line(change: AlertChange, config: GuardianConfig) -> str:
    """Return the JSON line printed for one alert change."""
    line: dict[str, Any] = {
        "t": change.at.astimezone(config.zone).isoformat(),
        "alert": change.event,
        "level": change.level,
        "reason": change.reason.value,
    }
    if change.room is not None:
        line["room"] = change.room
    return json.dumps(line)


def config_help() -> str:
    """Return the config keys a trace's first line may give, as GuardianConfig documents them."""
    doc = inspect.cleandoc(GuardianConfig.__doc__ or "")
    keys = doc[doc.index("\n- ") + 1 :]
    return (
        'Config keys, given in the first line\'s "config" object, each with its default last in\n'
        'parentheses; for example {"config": {"active_start": "07:00", "expected_by": ["09:30"],\n'
        '"learn": true, "time_zone": "Europe/Berlin"}}:\n\n' + keys
    )


def main(argv: list[str]) -> int:
    """Run the command; return the exit status."""
    parser = OneLineParser(
        prog="guardian-replay",
        description=__doc__,
        epilog=config_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("trace", help="trace file (JSON lines), or - for standard input")
    try:
        arguments = parser.parse_args(argv)
        if arguments.trace == "-":
            try:
                config, events = read_trace(sys.stdin)
            except UnicodeDecodeError as err:
                raise TraceError(f"standard input: cannot read ({err})") from None
        else:
            try:
                with Path(arguments.trace).open(encoding="utf-8") as file:
                    config, events = read_trace(file)
            except (OSError, UnicodeDecodeError) as err:
                raise TraceError(f"{arguments.trace}: cannot read ({err})") from None
    except UsageError as err:
        print(f"guardian-replay: {err}", file=sys.stderr)
        return 2
    try:
        for change in replay(config, events):
            print(output_line(change, config), flush=True)
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error of the trace.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (ArithmeticError, RuntimeError, ValueError) as err:
        # A trace the checks let through but the guardian cannot follow: still one line.
        print(f"guardian-replay: cannot replay the trace: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Hold what a guardian must remember across restarts, and write and read it as plain data.

`GuardianState` is everything a restart must not lose: the mode, engine time, the quiet and
blind counts, the open alert, the learned routine, and what each source last showed with the
motion sources' moving-since and stuck marks, so that a start-up compares what sources show
then against what was last seen (see `sources.py`), and since when someone has been present
and each room unchanged, so that the presence limit goes on through a restart. Those tables
are absent from state written before they were kept, which reads as nothing seen yet.

`dump` writes it as JSON-safe data for Home Assistant's store; `load` reads that back and
raises `StoredStateError` on anything it cannot trust. State of version 1 (the routine kept
by hour) keeps everything but the routine, which starts afresh. `salvage` takes what can still
be read of state that `load` refused (damaged, or written by a newer version): the open alert
with its level and `since`, the mode, the last activity and the quiet count, since those are
what a family must not lose.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Final

from .alerts import Alert, Mode, Reason
from .beats import BeatWatch
from .routine import LearnedRoutine

STATE_VERSION: Final = 2
# Version 1 kept the routine as quarter-hour notes by hour; it is started afresh from it.
_ROUTINE_STARTS_AFRESH: Final = 1
NONE: Final = timedelta(0)
_READABLE: Final = (KeyError, TypeError, ValueError, AttributeError)


class StoredStateError(ValueError):
    """Stored guardian state that cannot be restored (corrupt, or from a newer version)."""


def aware(moment: datetime) -> datetime:
    """Return `moment` in UTC; refuse naive datetimes, whose instant nobody knows."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the guardian needs timezone-aware datetimes")
    return moment.astimezone(UTC)


@dataclass(kw_only=True, slots=True)
class GuardianState:
    """Everything a guardian remembers across restarts."""

    mode: Mode = Mode.HOME
    # Whether each known source can see.
    sources: dict[str, bool] = field(default_factory=dict)
    # Engine time; boundaries (day starts, quarter-hours) are done up to `done`, which stays
    # ahead of `clock` after a backwards clock jump so that none happens twice.
    clock: datetime | None = None
    done: datetime | None = None
    last_activity: datetime | None = None
    quiet_since: datetime | None = None
    # Durations are kept as counters, not as "now minus then", so that a clock jump cannot
    # invent or erase elapsed time.
    quiet: timedelta = NONE
    day_quiet: timedelta = NONE
    day_start: datetime | None = None
    blind: timedelta = NONE
    blind_acknowledged: bool = False
    alert: Alert = Alert.NONE
    level: int = 0
    alert_reason: Reason | None = None
    alert_since: datetime | None = None
    alert_age: timedelta = NONE
    # The room (area) a presence alert is about, if it is about one.
    alert_room: str | None = None
    # Seeing time with nobody moving in the quarter-hour in progress, and whether it counts.
    quarter_seeing: timedelta = NONE
    quarter_valid: bool = False
    # Whether the silence in progress is ordinary enough for the routine to learn from.
    silence_valid: bool = False
    routine: LearnedRoutine = field(default_factory=LearnedRoutine)
    # What each source last showed while it could see (kept through blindness and restarts).
    shown: dict[str, str] = field(default_factory=dict)
    # When each motion source on now turned on, and the motion sources on for too long.
    moving_since: dict[str, datetime] = field(default_factory=dict)
    stuck: set[str] = field(default_factory=set)
    # The stuck ones found on after a spell unseen, which any turning off frees.
    found_on: set[str] = field(default_factory=set)
    # When each motion source's bout of movement began (through pauses shorter than
    # `sources.STUCK_PAUSE`), and when each last turned off.
    bout_since: dict[str, datetime] = field(default_factory=dict)
    off_since: dict[str, datetime] = field(default_factory=dict)
    # Since when each source has been unseen (unavailable), kept through a restart.
    unseen_since: dict[str, datetime] = field(default_factory=dict)
    # Since when each presence source last seen on has found someone there, since when each
    # room (area) has been unchanged, and when anything in the home last changed: the
    # presence limit goes on through a restart.
    present_since: dict[str, datetime] = field(default_factory=dict)
    room_since: dict[str, datetime] = field(default_factory=dict)
    changed: datetime | None = None
    # Each source's latest switches that count, and the beat of one that switches itself.
    beats: dict[str, BeatWatch] = field(default_factory=dict)
    # Each plug's (a level source with a unit's floor) resting level, so that one found running
    # at start-up is seen to be on, and its end is seen.
    rests: dict[str, float] = field(default_factory=dict)


def dump(state: GuardianState) -> dict[str, Any]:
    """Return the state as JSON-safe data, for Home Assistant's store."""
    return {
        "version": STATE_VERSION,
        "mode": state.mode.value,
        "sources": dict(state.sources),
        "clock": _moment(state.clock),
        "done": _moment(state.done),
        "last_activity": _moment(state.last_activity),
        "quiet_since": _moment(state.quiet_since),
        "quiet_seconds": _seconds(state.quiet),
        "day_quiet_seconds": _seconds(state.day_quiet),
        "day_start": _moment(state.day_start),
        "blind_seconds": _seconds(state.blind),
        "blind_acknowledged": state.blind_acknowledged,
        "alert": state.alert.value,
        "level": state.level,
        "alert_reason": state.alert_reason.value if state.alert_reason else None,
        "alert_since": _moment(state.alert_since),
        "alert_seconds": _seconds(state.alert_age),
        "alert_room": state.alert_room,
        "quarter": {
            "seeing_seconds": _seconds(state.quarter_seeing),
            "valid": state.quarter_valid,
        },
        "silence_valid": state.silence_valid,
        "routine": state.routine.to_dict(),
        "shown": dict(state.shown),
        "moving_since": _instants(state.moving_since),
        "stuck": sorted(state.stuck),
        "found_on": sorted(state.found_on),
        "bout_since": _instants(state.bout_since),
        "off_since": _instants(state.off_since),
        "unseen_since": _instants(state.unseen_since),
        "present_since": _instants(state.present_since),
        "room_since": _instants(state.room_since),
        "changed": _moment(state.changed),
        "beats": {source: watch.to_dict() for source, watch in state.beats.items()},
        "rests": dict(state.rests),
    }


def load(data: Mapping[str, Any]) -> GuardianState:
    """Read `dump` data; raise StoredStateError if it cannot be used."""
    version = data.get("version") if isinstance(data, Mapping) else None
    if version not in (STATE_VERSION, _ROUTINE_STARTS_AFRESH):
        raise StoredStateError(f"unsupported guardian state version {version!r}")
    try:
        reason = data["alert_reason"]
        quarter = data["quarter"]
        state = GuardianState(
            sources=_stored_sources(data["sources"]),
            mode=Mode(data["mode"]),
            clock=_stored_moment(data["clock"]),
            done=_stored_moment(data["done"]),
            last_activity=_stored_moment(data["last_activity"]),
            quiet_since=_stored_moment(data["quiet_since"]),
            quiet=_stored_seconds(data["quiet_seconds"]),
            day_quiet=_stored_seconds(data["day_quiet_seconds"]),
            day_start=_stored_moment(data["day_start"]),
            blind=_stored_seconds(data["blind_seconds"]),
            blind_acknowledged=bool(data["blind_acknowledged"]),
            alert=Alert(data["alert"]),
            level=int(data["level"]),
            alert_reason=Reason(reason) if reason is not None else None,
            alert_since=_stored_moment(data["alert_since"]),
            alert_age=_stored_seconds(data["alert_seconds"]),
            quarter_seeing=_stored_seconds(quarter["seeing_seconds"]),
            quarter_valid=bool(quarter["valid"]),
        )
        # Absent from state written before alerts named a room.
        state.alert_room = _stored_room(data.get("alert_room"))
        if version == STATE_VERSION:
            state.silence_valid = bool(data["silence_valid"])
            state.routine = LearnedRoutine.from_dict(data["routine"])
        state.shown = _stored_shown(data.get("shown", {}))
        state.moving_since = _stored_starts(data.get("moving_since", {}), "moving_since")
        state.stuck = _stored_names(data.get("stuck", []), "stuck")
        # Absent from state written before sources found on were told from stuck ones.
        state.found_on = _stored_names(data.get("found_on", []), "found_on") & state.stuck
        # Absent from state written before bouts were kept.
        state.bout_since = _stored_starts(data.get("bout_since", {}), "bout_since")
        state.off_since = _stored_starts(data.get("off_since", {}), "off_since")
        state.unseen_since = _stored_starts(data.get("unseen_since", {}), "unseen_since")
        # Absent from state written before presence was kept through restarts.
        state.present_since = _stored_starts(data.get("present_since", {}), "present_since")
        state.room_since = _stored_starts(data.get("room_since", {}), "room_since")
        state.changed = _stored_moment(data.get("changed"))
        # Absent from state written before beats were kept.
        state.beats = _stored_beats(data.get("beats", {}))
        # Absent from state written before resting levels were kept.
        state.rests = _stored_rests(data.get("rests", {}))
    except _READABLE as err:
        raise StoredStateError(f"stored guardian state is damaged ({err})") from None
    if (state.clock is None) != (state.done is None) or (
        (state.alert is Alert.NONE) != (state.level == 0)
    ):
        raise StoredStateError("stored guardian state is inconsistent")
    return state


def salvage(data: Any) -> GuardianState:
    """Return what can be read of state that `load` refused; the rest starts fresh."""
    state = GuardianState()
    if not isinstance(data, Mapping):
        return state
    with suppress(*_READABLE):
        state.mode = Mode(data["mode"])
    with suppress(*_READABLE):
        alert, level = Alert(data["alert"]), int(data["level"])
        since = _stored_moment(data["alert_since"])
        if alert is not Alert.NONE and level >= 1 and since is not None:
            state.alert, state.level, state.alert_since = alert, level, since
            state.alert_reason = Reason(data["alert_reason"])
            state.alert_room = _stored_room(data.get("alert_room"))
    with suppress(*_READABLE):
        state.last_activity = _stored_moment(data["last_activity"])
    with suppress(*_READABLE):
        clock = _stored_moment(data["clock"])
        quiet_since = _stored_moment(data["quiet_since"])
        quiet = _stored_seconds(data["quiet_seconds"])
        day_quiet = _stored_seconds(data["day_quiet_seconds"])
        state.clock = state.done = clock
        state.quiet_since, state.quiet, state.day_quiet = quiet_since, quiet, day_quiet
    return state


def _moment(value: datetime | None) -> str | None:
    """Write an instant."""
    return value.isoformat() if value is not None else None


def _instants(table: dict[str, datetime]) -> dict[str, str]:
    """Write an instant for each source."""
    return {source: moment.isoformat() for source, moment in table.items()}


def _seconds(value: timedelta) -> float:
    """Write a duration."""
    return value / timedelta(seconds=1)


def _stored_sources(value: Any) -> dict[str, bool]:
    """Read the sources written by `dump`."""
    if not all(isinstance(k, str) and isinstance(v, bool) for k, v in value.items()):
        raise TypeError("sources")
    return dict(value)


def _stored_shown(value: Any) -> dict[str, str]:
    """Read what each source last showed."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise TypeError("shown")
    return dict(value)


def _stored_starts(value: Any, name: str) -> dict[str, datetime]:
    """Read an instant for each source, from the stored field `name`."""
    try:
        starts = {source: _stored_moment(start) for source, start in value.items()}
    except _READABLE as err:
        raise TypeError(f"{name}: {err}") from None
    if not all(isinstance(k, str) and v is not None for k, v in starts.items()):
        raise TypeError(name)
    return {source: start for source, start in starts.items() if start is not None}


def _stored_beats(value: Any) -> dict[str, BeatWatch]:
    """Read each source's switches and beat."""
    if not isinstance(value, Mapping):
        raise TypeError("beats is not a table")
    return {str(source): BeatWatch.from_dict(watch) for source, watch in value.items()}


def _stored_rests(value: Any) -> dict[str, float]:
    """Read each plug's resting level."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str)
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
        for k, v in value.items()
    ):
        raise TypeError("rests")
    return {source: float(level) for source, level in value.items()}


def _stored_names(value: Any, name: str) -> set[str]:
    """Read a list of source names, stored under `name`."""
    if not isinstance(value, list) or not all(isinstance(source, str) for source in value):
        raise TypeError(name)
    return set(value)


def _stored_room(value: Any) -> str | None:
    """Read the room an alert is about."""
    if value is not None and not isinstance(value, str):
        raise TypeError("room")
    return value


def _stored_moment(value: Any) -> datetime | None:
    """Read an instant written by `dump`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("instant")
    return aware(datetime.fromisoformat(value))


def _stored_seconds(value: Any) -> timedelta:
    """Read a duration written by `dump`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("duration")
    return timedelta(seconds=value)

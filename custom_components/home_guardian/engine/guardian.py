"""Decide when missing activity at home is worth an alert, and never mistake blindness for quiet.

How the guardian decides, in plain words:

- **Sources.** Activity comes from named sources (cameras' motion, motion or door sensors, a
  kettle's power...). Each source is either seeing or blind (offline, unavailable, privacy mode,
  motion detection off). Sources start seeing; a source the guardian has never heard of is
  added, seeing, at its first activity, and a source that reports activity is seeing again.
- **Quiet time** is real elapsed time during which at least one source could see and nothing
  happened. Time while every source is blind is not quiet: it does not count toward any limit.
- **Active hours** (`active_start` to `active_end`, local wall time, may wrap midnight): an
  alert after `inactivity_minutes` of quiet. The count starts at the later of the last activity
  and the start of today's active hours, so a night's sleep never trips the daytime limit at
  the moment active hours begin; the morning is what `expected_by` deadlines are for.
- **Night** (outside active hours): an alert after `night_inactivity_minutes` of quiet counted
  from the last activity, evening included. A silence that runs on from the night into the
  morning stays under this count too: the day's fresh count cannot postpone it.
- **Deadlines** (`expected_by`, e.g. 09:30): no activity since the start of today's active hours
  by that time is an alert. Time while every source was blind does not count here either, so a
  blind stretch postpones the deadline by as long as it lasted: a camera that was offline at
  09:00 cannot turn an unseen breakfast into an alert. Blind all along, the guardian cannot
  know: that is the "cannot monitor" problem instead. Since every deadline asks for activity
  since the start of the day, the earliest one decides. A guardian that starts watching after
  today's active hours began counts the time before as blind (the deadline moves back by it);
  one that starts after the deadline leaves today's alone.
- **Learned routine** (`learn`): the guardian may alert earlier when a normally busy time stays
  silent, never later than the fixed rules above (see `routine.py` for the model). It takes its
  notes whether or not `learn` is on, so switching it on can use the weeks already watched.
- **Cannot monitor.** When every source has been blind for `blind_grace_minutes`, the guardian
  raises "cannot_monitor": never an inactivity alert and never a false all-clear. It clears when
  a source sees again. An inactivity alert that is already open stays open while blind.
- **Escalation.** An inactivity alert starts at level 1; level 2 follows `escalate_after_minutes`
  [0] minutes after the alert was raised, level 3 after [1] minutes, and so on. "Cannot monitor"
  is a technical problem, not an emergency: it stays at level 1.
- **Clearing.** Activity clears an inactivity alert. `acknowledge` ("I'm OK / handled") clears
  any alert and restarts the quiet count from that moment; acknowledged while blind, it also
  silences "cannot monitor" until a source sees again. An alert clears with level 0.
- **Modes.** `away` pauses everything (nobody is home to watch over) and clears an open alert.
  `visitors` multiplies both quiet limits by `visitors_factor` and skips deadlines and the learned
  routine, since visitors change the day's rhythm. Any change of mode restarts the quiet count,
  so coming home after a week away is not a week of silence.
- **Home Assistant down.** Nothing is observed while Home Assistant is not running, so activity
  may have been missed; but missing a real incident is worse than one alert too many. So the
  gap counts as if every source kept the state it last had and nothing happened: with sources
  seeing, the quiet count goes on through the gap, and a deadline or limit that passed while Home
  Assistant was down fires the moment it is back (`resume`), stamped with that moment, since
  nobody could be told earlier; escalation delays count from then. With every source blind at
  shutdown the gap is blind too: "cannot monitor", never inactivity. A restart never resets the
  quiet count, and the gap is not learned from.
- **Clock changes.** Limits are measured in real elapsed time (aware instants compared in UTC),
  rules in local wall time, so daylight saving changes neither trigger nor suppress alerts: on
  a fall-back night the extra hour of sleep is real quiet time, on a spring-forward night the
  missing hour is not. A clock that jumps backwards adds no elapsed time and clears nothing;
  the guardian carries on from the new time with the quiet it had. A forward jump looks like
  elapsed time, which is right when a machine without a battery clock boots at an old time and
  then syncs (the jump is the real downtime); a host that knows a jump was not real elapsed time
  (its monotonic clock disagrees) calls `clock_jumped`. In a replayed trace, the trace's time
  is the truth.

How the Home Assistant layer uses it: build `GuardianConfig.from_dict(options)`, create
`InactivityGuardian(config, stored_state)`, call `resume(now)` once after restoring, then feed it
`activity`, `set_seeing` (and `forget_source` for a source no longer configured), `acknowledge`
and `set_mode` as things happen, and call `evaluate` at `next_check(now)` (a few times a day, or
hourly with learning on). Every one of these returns the `AlertChange`s it caused, to fire as
events. Entities read `alert`, `level`, `last_activity`, `inactive_for(now)`, `mode` and
`can_see`. Save `to_dict()` (about 20 kB with the routine) after changes, with a delayed save
since activity can come every minute, and on shutdown.
The guardian never reads the wall clock: every call takes `now`, an aware datetime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
import re
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .routine import LearnedRoutine
from .schedule import (
    QUARTER_HOUR,
    DailySchedule,
    is_quarter_mark,
    next_quarter_hour,
    quarter_of_week,
)
from .sources import Kind, Meaning, meaning

STATE_VERSION: Final = 2
# Version 1 kept the routine as quarter-hour notes by hour; it is started afresh from it.
_ROUTINE_STARTS_AFRESH: Final = 1
MAX_MINUTES: Final = 7 * 24 * 60
# A quarter-hour counts toward the routine only if something could see for half of it.
_WATCHED_QUARTER: Final = QUARTER_HOUR / 2
_NONE: Final = timedelta(0)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class Mode(StrEnum):
    """How the household is living right now."""

    HOME = "home"
    AWAY = "away"
    VISITORS = "visitors"


class Alert(StrEnum):
    """The guardian's open alert, if any."""

    NONE = "none"
    INACTIVITY = "inactivity"
    CANNOT_MONITOR = "cannot_monitor"
    ALARM = "alarm"


class Reason(StrEnum):
    """Why an alert was raised, escalated or cleared."""

    QUIET = "quiet"
    NIGHT_QUIET = "night_quiet"
    EXPECTED_BY = "expected_by"
    ROUTINE = "routine"
    BLIND = "blind"
    ESCALATED = "escalated"
    ACTIVITY = "activity"
    ACKNOWLEDGED = "acknowledged"
    SEEING = "seeing"
    AWAY = "away"
    ALARM = "alarm"


class GuardianConfigError(ValueError):
    """An option that cannot be used; `key` is a translation key, `option` the option's name."""

    def __init__(self, option: str, key: str, message: str) -> None:
        """Keep the option and translation key beside a readable message."""
        super().__init__(f"{option}: {message}")
        self.option = option
        self.key = key


class StoredStateError(ValueError):
    """Stored guardian state that cannot be restored (corrupt, or from a newer version)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertChange:
    """One change of the guardian's alert: raised, escalated or cleared (alert NONE, level 0).

    `previous` is the alert before the change, so a clearing says what ended.
    """

    at: datetime
    alert: Alert
    level: int
    reason: Reason
    previous: Alert = Alert.NONE

    @property
    def event(self) -> str:
        """Return "inactivity", "cannot_monitor", "alarm" or "cleared", as events name it."""
        return "cleared" if self.alert is Alert.NONE else self.alert.value


def _clock_option(option: str, value: Any) -> time:
    """Read "HH:MM" or "HH:MM:SS" (what HA's time selector gives)."""
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise GuardianConfigError(option, "invalid_time", f"expected HH:MM, got {value!r}")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:  # noqa: PLR2004
        raise GuardianConfigError(option, "invalid_time", f"no such time of day: {value!r}")
    return time(hour, minute, second)


def _minutes_option(option: str, value: Any, *, allow_zero: bool = False) -> float:
    """Read a number of minutes above zero (or zero too, when allowed), at most a week."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GuardianConfigError(option, "invalid_minutes", f"expected minutes, got {value!r}")
    above_floor = value >= 0 if allow_zero else value > 0
    if not above_floor or not value <= MAX_MINUTES:
        raise GuardianConfigError(
            option, "invalid_minutes", f"must be above 0 and at most {MAX_MINUTES}, got {value!r}"
        )
    return float(value)


def _level_option(option: str, value: Any) -> int:
    """Read an alert level from 1 to 9."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise GuardianConfigError(option, "invalid_level", f"expected a level, got {value!r}")
    if not 1 <= value <= 9:  # noqa: PLR2004
        raise GuardianConfigError(option, "invalid_level", f"must be 1 to 9, got {value!r}")
    return int(value)


def _grace_option(option: str, value: Any) -> float:
    """Read a number of minutes that may be zero."""
    return _minutes_option(option, value, allow_zero=True)


def _list_option(option: str, value: Any) -> list[Any]:
    """Read a list option; null means an empty list, as an emptied form field sends it."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise GuardianConfigError(option, "invalid_list", f"expected a list, got {value!r}")
    return list(value)


def _clocks_option(option: str, value: Any) -> tuple[time, ...]:
    """Read a list of times of day, in order."""
    return tuple(sorted(_clock_option(option, item) for item in _list_option(option, value)))


def _delays_option(option: str, value: Any) -> tuple[float, ...]:
    """Read a list of minutes."""
    return tuple(_minutes_option(option, item) for item in _list_option(option, value))


def _flag_option(option: str, value: Any) -> bool:
    """Read true or false."""
    if not isinstance(value, bool):
        raise GuardianConfigError(option, "invalid_flag", f"expected true or false, got {value!r}")
    return value


def _zone_option(option: str, value: Any) -> str:
    """Read a time zone name; `validate` checks that it exists."""
    if not isinstance(value, str):
        raise GuardianConfigError(option, "invalid_time_zone", f"expected a name, got {value!r}")
    return value


def _factor_option(option: str, value: Any) -> float:
    """Read a factor; `validate` checks its range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GuardianConfigError(option, "invalid_factor", f"expected a number, got {value!r}")
    return float(value)


_READERS: Final[dict[str, Callable[[str, Any], Any]]] = {
    "active_start": _clock_option,
    "active_end": _clock_option,
    "inactivity_minutes": _minutes_option,
    "night_inactivity_minutes": _minutes_option,
    "expected_by": _clocks_option,
    "escalate_after_minutes": _delays_option,
    "learn": _flag_option,
    "time_zone": _zone_option,
    "blind_grace_minutes": _grace_option,
    "visitors_factor": _factor_option,
    "learned_min_minutes": _minutes_option,
    "motion_stuck_minutes": _minutes_option,
    "alarm_level": _level_option,
}


# Every option a guardian's config knows.
OPTIONS: Final = frozenset(_READERS)


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardianConfig:
    """A guardian's options; build it from user input with `from_dict`, which validates.

    - `active_start`, `active_end`: local wall times of active hours (07:00 to 22:00).
    - `inactivity_minutes`: quiet allowed in active hours (180).
    - `night_inactivity_minutes`: quiet allowed outside them, from the last activity (720).
    - `expected_by`: times by which activity since `active_start` is expected (none).
    - `escalate_after_minutes`: minutes after the alert for level 2, level 3... (none).
    - `learn`: let the learned routine bring alerts forward (off).
    - `time_zone`: IANA name of the wall times' time zone ("UTC"; HA passes its own).
    - `blind_grace_minutes`: how long every source may be blind before "cannot monitor" (15).
    - `visitors_factor`: how much longer quiet may last in visitors mode (2).
    - `learned_min_minutes`: the shortest quiet the learned routine may alert after (45).
    - `motion_stuck_minutes`: how long a motion source may stay on and still count (240).
    - `alarm_level`: the level at which an alarm source's alert starts (2).
    """

    active_start: time = time(7, 0)
    active_end: time = time(22, 0)
    inactivity_minutes: float = 180.0
    night_inactivity_minutes: float = 720.0
    expected_by: tuple[time, ...] = ()
    escalate_after_minutes: tuple[float, ...] = ()
    learn: bool = False
    time_zone: str = "UTC"
    blind_grace_minutes: float = 15.0
    visitors_factor: float = 2.0
    learned_min_minutes: float = 45.0
    motion_stuck_minutes: float = 240.0
    alarm_level: int = 2

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardianConfig:
        """Validate options (trace `config` or config entry options); keys not named are ignored.

        Raise `GuardianConfigError` naming the option and a translation key on bad input.
        """
        if not isinstance(data, Mapping):
            raise GuardianConfigError("config", "invalid_config", "expected an object of options")
        values = {
            option: read(option, data[option])
            for option, read in _READERS.items()
            if option in data
        }
        config = replace(cls(), **values)
        config.validate()
        return config

    def validate(self) -> None:
        """Check what only makes sense across options; raise `GuardianConfigError` if not."""
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise GuardianConfigError(
                "time_zone", "invalid_time_zone", f"unknown time zone {self.time_zone!r}"
            ) from None
        if self.active_start in self.expected_by:
            raise GuardianConfigError(
                "expected_by", "invalid_expected_by", "a deadline cannot be the start of the day"
            )
        if len(set(self.expected_by)) != len(self.expected_by):
            raise GuardianConfigError("expected_by", "invalid_expected_by", "repeated deadline")
        delays = self.escalate_after_minutes
        if any(later <= earlier for earlier, later in pairwise(delays)):
            raise GuardianConfigError(
                "escalate_after_minutes", "invalid_escalation", "delays must increase"
            )
        if not 1 <= self.visitors_factor <= 100:  # noqa: PLR2004
            raise GuardianConfigError(
                "visitors_factor", "invalid_factor", "must be between 1 and 100"
            )

    @property
    def zone(self) -> ZoneInfo:
        """Return the time zone of the wall-clock rules."""
        return ZoneInfo(self.time_zone)


def _aware(moment: datetime) -> datetime:
    """Return `moment` in UTC; refuse naive datetimes, whose instant nobody knows."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the guardian needs timezone-aware datetimes")
    return moment.astimezone(UTC)


class InactivityGuardian:
    """Watch activity from sources and raise, escalate and clear alerts by the rules above.

    All datetimes it returns are aware, in UTC. Mutating methods first let time run up to `now`
    (alerts that became due before `now` fire first), then apply the call, then fire what is due
    at `now`: an event that arrives exactly when a limit is reached wins over the limit.
    """

    def __init__(self, config: GuardianConfig, state: Mapping[str, Any] | None = None) -> None:
        """Start a new guardian, or continue from `to_dict` data saved earlier."""
        config.validate()
        self._config = config
        self._zone = config.zone
        self._schedule = DailySchedule(
            zone=self._zone,
            active_start=config.active_start,
            active_end=config.active_end,
            deadlines=config.expected_by,
        )
        self._routine = LearnedRoutine()
        self._sources: dict[str, bool] = {}
        self._mode = Mode.HOME
        # Engine time; boundaries (day starts, quarter-hours) are done up to `_done`,
        # which stays ahead of `_clock` after a backwards clock jump so none happens twice.
        self._clock: datetime | None = None
        self._done: datetime | None = None
        self._last_activity: datetime | None = None
        self._quiet_since: datetime | None = None
        # Durations are kept as counters, not as "now minus then", so that a clock jump
        # cannot invent or erase elapsed time.
        self._quiet = _NONE
        self._day_quiet = _NONE
        self._day_start: datetime | None = None
        self._blind = _NONE
        self._blind_acknowledged = False
        self._alert = Alert.NONE
        self._level = 0
        self._alert_reason: Reason | None = None
        self._alert_since: datetime | None = None
        self._alert_age = _NONE
        self._quarter_seeing = _NONE
        self._quarter_valid = False
        self._unobserved = False
        # Whether the silence in progress is ordinary enough for the routine to learn from.
        self._silence_valid = False
        # What each source last showed while running, and when each motion source that counts
        # turned on; neither is stored: after a restart only new changes mean anything.
        self._states: dict[str, str] = {}
        self._held: dict[str, datetime] = {}
        self._stuck: set[str] = set()
        if state is not None:
            self._restore(state)

    # Properties the entities show.

    @property
    def config(self) -> GuardianConfig:
        """Return the options the guardian runs with."""
        return self._config

    @property
    def alert(self) -> Alert:
        """Return the open alert, or Alert.NONE."""
        return self._alert

    @property
    def level(self) -> int:
        """Return the alert level: 0 without an alert, then 1, 2, ... as it escalates."""
        return self._level

    @property
    def alert_reason(self) -> Reason | None:
        """Return why the open alert was raised or last escalated."""
        return self._alert_reason

    @property
    def alert_since(self) -> datetime | None:
        """Return when the open alert was raised."""
        return self._alert_since

    @property
    def last_activity(self) -> datetime | None:
        """Return when activity was last reported."""
        return self._last_activity

    @property
    def mode(self) -> Mode:
        """Return the current mode."""
        return self._mode

    @property
    def can_see(self) -> bool:
        """Tell whether at least one source can see (true before any source is known)."""
        return not self._sources or any(self._sources.values())

    @property
    def sources(self) -> dict[str, bool]:
        """Return each known source and whether it is seeing."""
        return dict(self._sources)

    @property
    def routine_ready(self) -> bool:
        """Tell whether the learned routine has enough history to be used."""
        return self._routine.ready

    @property
    def stuck_sources(self) -> frozenset[str]:
        """Return the motion sources on for too long, which do not count until they change."""
        return frozenset(self._stuck)

    def inactive_for(self, now: datetime) -> timedelta:
        """Return the quiet time at `now`: time since activity during which something could see."""
        now = _aware(now)
        if self._clock is None:
            return _NONE
        start = max(self._clock, *self._hold_ends()) if self._held else self._clock
        extra = now - start if self.can_see and now > start else _NONE
        return self._quiet + extra

    # What happens.

    def activity(self, source: str, now: datetime) -> list[AlertChange]:
        """Record activity from `source`; it clears an inactivity alert and restarts quiet time."""
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        changes += self._activity(source, now)
        return changes + self._advance(now, inclusive=True)

    def source_state(
        self,
        source: str,
        state: str | None,
        now: datetime,
        *,
        kind: Kind = Kind.MOTION,
        baseline: bool = False,
    ) -> list[AlertChange]:
        """Record the state `source` shows now (None: unavailable or unknown, so blind).

        `baseline` marks a state read at start-up rather than a change seen while running:
        it is where the next change starts from, never activity by itself (see `sources.py`).
        """
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        if state is None:
            return changes + self.set_seeing(source, False, now)
        before = None if baseline else self._states.get(source)
        self._states[source] = state
        if before is None:
            # A motion source already on when first seen does not count until it changes.
            self._held.pop(source, None)
        match meaning(kind, before, state):
            case Meaning.MOTION_STARTS:
                self._stuck.discard(source)
                changes += self._activity(source, now)
                self._held[source] = now
            case Meaning.MOTION_ENDS | Meaning.ACTIVITY:
                self._stuck.discard(source)
                self._held.pop(source, None)
                changes += self._activity(source, now)
            case Meaning.ALARM:
                self._sources.setdefault(source, True)
                changes += self._alarm(now)
            case _:
                self._sources[source] = True
                changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def alarm(self, now: datetime) -> list[AlertChange]:
        """Raise an alarm now: somebody asked for help (a fall detector, an SOS button)."""
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        changes += self._alarm(now)
        return changes + self._advance(now, inclusive=True)

    def _alarm(self, now: datetime) -> list[AlertChange]:
        """Open the alarm at its level, unless one is open already (a button pressed again)."""
        if self._alert is Alert.ALARM:
            return []
        # An inactivity alert already escalated further keeps its urgency.
        level = max(self._config.alarm_level, self._level if self._alert is Alert.INACTIVITY else 0)
        changes = self._raise(Alert.ALARM, Reason.ALARM, now)
        self._level = level
        return [replace(changes[0], level=self._level)]

    def _activity(self, source: str, now: datetime) -> list[AlertChange]:
        """Count activity from `source` at `now`, once time has run up to it."""
        self._sources[source] = True
        self._last_activity = now
        self._restart_quiet(now)
        changes: list[AlertChange] = []
        if self._alert is Alert.INACTIVITY:
            changes += self._clear(Reason.ACTIVITY, now)
        return changes + self._sight_changed(now)

    def set_seeing(self, source: str, seeing: bool, now: datetime) -> list[AlertChange]:
        """Record whether `source` can see; unknown sources are added."""
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        self._sources[source] = seeing
        if not seeing:
            # A source back from blindness starts from its next change, like at start-up.
            self._states.pop(source, None)
            self._held.pop(source, None)
        changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def forget_source(self, source: str, now: datetime) -> list[AlertChange]:
        """Stop counting on `source` (removed from the guardian's options)."""
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        self._sources.pop(source, None)
        self._states.pop(source, None)
        self._held.pop(source, None)
        self._stuck.discard(source)
        changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def acknowledge(self, now: datetime) -> list[AlertChange]:
        """Take "I'm OK / handled": clear the alert and restart quiet time from `now`."""
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        self._restart_quiet(now)
        if not self.can_see and self._alert is not Alert.NONE:
            # "Handled" while blind covers the blindness too, until a source sees again.
            self._blind_acknowledged = True
        changes += self._clear(Reason.ACKNOWLEDGED, now)
        return changes + self._advance(now, inclusive=True)

    def set_mode(self, mode: Mode | str, now: datetime) -> list[AlertChange]:
        """Switch between home, away and visitors; raise ValueError for an unknown mode."""
        mode = Mode(mode)
        now = _aware(now)
        changes = self._advance(now, inclusive=False)
        if mode is not self._mode:
            if Mode.AWAY in (mode, self._mode):
                self._blind = _NONE
                self._blind_acknowledged = False
            self._mode = mode
            self._restart_quiet(now)
            # A call for help stays open whoever is thought to be home.
            if mode is Mode.AWAY and self._alert is not Alert.ALARM:
                changes += self._clear(Reason.AWAY, now)
        return changes + self._advance(now, inclusive=True)

    def evaluate(self, now: datetime) -> list[AlertChange]:
        """Let time run up to `now` and return the alert changes that became due."""
        return self._advance(_aware(now), inclusive=True)

    def resume(self, now: datetime) -> list[AlertChange]:
        """Catch up after restoring saved state: the time since it was saved was downtime."""
        self._unobserved = True
        try:
            return self._advance(_aware(now), inclusive=True)
        finally:
            self._unobserved = False

    def clock_jumped(self, now: datetime) -> list[AlertChange]:
        """Move to `now` after a wall-clock jump that was not real elapsed time.

        Wall-clock boundaries passed on the way (a new day of active hours) still apply; no
        quiet time is added, so neither quiet limits nor deadlines come closer.
        """
        now = _aware(now)
        if self._clock is None or now <= self._clock:
            return self._advance(now, inclusive=True)
        while (boundary := self._next_boundary(self._done or now)) <= now:
            self._clock = boundary
            self._cross(boundary)
            self._done = boundary
        self._clock = now
        self._quarter_valid = False
        return self._advance(now, inclusive=True)

    def next_check(self, now: datetime) -> datetime | None:
        """Return when `evaluate` should run next (at the latest), or None if never needed."""
        now = _aware(now)
        if self._clock is None:
            return None
        wake = self._next_wake(self._clock)
        due = self._first_due(self._clock, wake)
        return max(min(wake, due[0]) if due else wake, now)

    def catch_up(self, until: datetime) -> list[AlertChange]:
        """Evaluate at every check time before `until`, as a simulated clock would."""
        until = _aware(until)
        changes: list[AlertChange] = []
        while self._clock is not None and (due := self.next_check(self._clock)) is not None:
            if due >= until:
                break
            if due <= self._clock:
                raise RuntimeError("the guardian's next check does not move forward")
            changes += self.evaluate(due)
        return changes

    # Time running.

    def _advance(self, now: datetime, *, inclusive: bool) -> list[AlertChange]:
        """Run engine time to `now`, firing what falls due (at `now` too when `inclusive`)."""
        changes: list[AlertChange] = []
        if self._clock is None or self._done is None:
            self._clock = self._done = now
            day_start = self._schedule.last_active_start(now)
            budget = self._schedule.deadline_budget(day_start)
            if budget is not None and now < day_start + budget:
                # Started after the day began: the unwatched time counts as blind, so today's
                # deadline moves back by it rather than being dropped.
                self._day_start = day_start
        elif now < self._clock:
            # A backwards jump: no time passes, and the quarter-hour in progress is unreliable.
            self._clock = now
            self._quarter_valid = False
            self._silence_valid = False
        while True:
            boundary = self._next_boundary(self._done)
            if boundary <= self._clock and (boundary < now or inclusive):
                self._cross(boundary)
                self._done = boundary
                continue
            end = min(self._next_boundary(self._clock), now)
            due = self._first_due(self._clock, end)
            if due is not None and (due[0] < now or inclusive):
                self._accrue(self._clock, due[0])
                self._clock = due[0]
                changes += self._fire(due[1], now)
                continue
            if self._clock == now:
                return changes
            self._accrue(self._clock, end)
            self._clock = end

    def _next_boundary(self, after: datetime) -> datetime:
        """Return the next instant after `after` where something happens by the wall clock."""
        candidates = [
            next_quarter_hour(after, self._zone),
            self._schedule.next_change(after),
            *(end for end in self._hold_ends() if end > after),
        ]
        return min(candidates)

    def _next_wake(self, after: datetime) -> datetime:
        """Return the next boundary after which the rules in force change."""
        return min(
            [self._schedule.next_change(after), *(end for end in self._hold_ends() if end > after)]
        )

    def _hold_ends(self) -> list[datetime]:
        """Return when each motion source that is on stops counting, if it stays on."""
        limit = timedelta(minutes=self._config.motion_stuck_minutes)
        return [start + limit for start in self._held.values()]

    def _moving(self, at: datetime) -> bool:
        """Tell whether a motion source that counts is on from `at` to the next boundary."""
        return any(end > at for end in self._hold_ends())

    def _accrue(self, start: datetime, end: datetime) -> None:
        """Count the time from `start` to `end`, during which nothing changes."""
        elapsed = end - start
        if elapsed <= _NONE:
            return
        # Time with an alert open is still learned from: most alerts end with the person
        # moving, and a routine that skipped them would never learn the lie-in it alerted on.
        if self._unobserved or self._mode is not Mode.HOME:
            self._quarter_valid = False
            self._silence_valid = False
        if self._alert is not Alert.NONE:
            self._alert_age += elapsed
        if not self.can_see:
            self._blind += elapsed
            return
        if self._moving(start):
            # Someone is moving all along: this is activity, not quiet.
            self._last_activity = end
            self._quiet_since = end
            self._quiet = self._day_quiet = _NONE
            self._silence_valid = True
            return
        # Only time in which a silence could begin tells the routine how often they do.
        self._quarter_seeing += elapsed
        self._quiet += elapsed
        self._day_quiet += elapsed

    def _cross(self, boundary: datetime) -> None:
        """Do what the wall clock asks at `boundary`."""
        for source, end in zip(list(self._held), self._hold_ends(), strict=True):
            if end <= boundary:
                # On for too long to be somebody moving: stop counting it until it changes.
                del self._held[source]
                self._stuck.add(source)
        if is_quarter_mark(boundary, self._zone):
            self._close_quarter(boundary)
        if self._schedule.is_active_start(boundary):
            # The night's silence ends here for the routine; the morning's begins.
            self._note_silence(boundary)
            self._day_start = boundary
            self._day_quiet = _NONE

    def _deadline_budget(self, start: datetime) -> timedelta | None:
        """Return the seeing time after which today's deadline is missed, if one is pending."""
        day_start = self._day_start
        if (
            self._mode is not Mode.HOME
            or day_start is None
            or day_start != self._schedule.last_active_start(start)
            or (self._quiet_since is not None and self._quiet_since >= day_start)
        ):
            return None
        return self._schedule.deadline_budget(day_start)

    def _close_quarter(self, mark: datetime) -> None:
        """Tally the quarter-hour that ends at `mark` toward the routine's readiness."""
        if self._quarter_valid and self._quarter_seeing >= _WATCHED_QUARTER:
            self._routine.watched(quarter_of_week(mark - QUARTER_HOUR, self._zone))
        self._quarter_seeing = _NONE
        self._quarter_valid = True
        self._routine.age_to(mark.astimezone(self._zone).date())

    def _silence(self, at: datetime) -> tuple[datetime | None, timedelta]:
        """Return when the silence in progress began and its length, as the rule in force counts."""
        if not self._schedule.is_active(at):
            return self._quiet_since, self._quiet
        day_start = self._schedule.last_active_start(at)
        since = self._quiet_since
        return (day_start if since is None or since < day_start else since), self._day_quiet

    def _note_silence(self, at: datetime) -> None:
        """File the silence that ends at `at` with the routine, if it was an ordinary one."""
        start, length = self._silence(at - timedelta(microseconds=1))
        if (
            self._silence_valid
            and start is not None
            and self._mode is Mode.HOME
            and self._schedule.is_active(start)
        ):
            self._routine.record(quarter_of_week(start, self._zone), length)
        self._silence_valid = True

    # Rules.

    def _routine_allowance(self, start: datetime) -> timedelta | None:
        """Return the quiet the learned routine allows the silence in progress, if it applies."""
        if not (
            self._config.learn
            and self._mode is Mode.HOME
            and self._routine.ready
            # A night's silence ends when the person wakes, whenever it began: the night
            # limit and the morning's deadlines judge it, not the time it began.
            and self._schedule.is_active(start)
        ):
            return None
        began, _ = self._silence(start)
        if began is None:
            return None
        allowance = self._routine.allowance(quarter_of_week(began, self._zone))
        if allowance is None:
            return None
        return max(allowance, timedelta(minutes=self._config.learned_min_minutes))

    def _limits(self, start: datetime) -> list[tuple[timedelta, timedelta, bool, Reason]]:
        """Return each rule in force at `start`: counter, limit, whether it grows, reason."""
        if self._mode is Mode.AWAY and self._alert is not Alert.ALARM:
            return []
        config = self._config
        seeing = self.can_see
        limits: list[tuple[timedelta, timedelta, bool, Reason]] = []
        # Quiet counts stand still while a motion source that counts is on.
        quiet_grows = seeing and not self._moving(start)
        if self._alert in {Alert.NONE, Alert.CANNOT_MONITOR}:
            factor = config.visitors_factor if self._mode is Mode.VISITORS else 1.0
            day_limit = timedelta(minutes=config.inactivity_minutes * factor)
            night_limit = timedelta(minutes=config.night_inactivity_minutes * factor)
            active = self._schedule.is_active(start)
            quiet = self._day_quiet if active else self._quiet
            if active:
                limits.append((quiet, day_limit, quiet_grows, Reason.QUIET))
            if not active or self._quiet > self._day_quiet:
                # A silence that began before today's active hours keeps the night's count.
                limits.append((self._quiet, night_limit, quiet_grows, Reason.NIGHT_QUIET))
            if (budget := self._deadline_budget(start)) is not None:
                # Seeing time since the day began: blind stretches postpone the deadline.
                limits.append((self._day_quiet, budget, quiet_grows, Reason.EXPECTED_BY))
            if (allowance := self._routine_allowance(start)) is not None:
                limits.append((quiet, allowance, quiet_grows, Reason.ROUTINE))
        if self._alert is Alert.NONE and not seeing and not self._blind_acknowledged:
            grace = timedelta(minutes=config.blind_grace_minutes)
            limits.append((self._blind, grace, True, Reason.BLIND))
        delays = config.escalate_after_minutes
        if self._alert in {Alert.INACTIVITY, Alert.ALARM} and self._level <= len(delays):
            delay = timedelta(minutes=delays[self._level - 1])
            limits.append((self._alert_age, delay, True, Reason.ESCALATED))
        return limits

    def _first_due(self, start: datetime, end: datetime) -> tuple[datetime, Reason] | None:
        """Return the first rule to fire between `start` and `end` (nothing changes in between)."""
        first: tuple[datetime, Reason] | None = None
        for counter, limit, growing, reason in self._limits(start):
            if counter >= limit:
                due = start
            elif growing:
                due = start + (limit - counter)
            else:
                continue
            # Ties go to the rule listed first: the fixed rules before the routine.
            if due <= end and (first is None or due < first[0]):
                first = (due, reason)
        return first

    def _fire(self, reason: Reason, at: datetime) -> list[AlertChange]:
        """Apply a rule that fell due; the change is stamped `at`, when it could be noticed."""
        if reason is Reason.BLIND:
            return self._raise(Alert.CANNOT_MONITOR, reason, at)
        if reason is Reason.ESCALATED:
            self._level += 1
            self._alert_reason = reason
            return [
                AlertChange(
                    at=at, alert=self._alert, level=self._level, reason=reason, previous=self._alert
                )
            ]
        return self._raise(Alert.INACTIVITY, reason, at)

    def _raise(self, alert: Alert, reason: Reason, at: datetime) -> list[AlertChange]:
        """Open `alert` at level 1."""
        previous = self._alert
        self._alert = alert
        self._level = 1
        self._alert_reason = reason
        self._alert_since = at
        # Escalation delays count from when somebody could be told (`at`), not from when the
        # rule fell due while Home Assistant was down: the time up to `at` is accrued next.
        self._alert_age = (self._clock or at) - at
        return [AlertChange(at=at, alert=alert, level=1, reason=reason, previous=previous)]

    def _clear(self, reason: Reason, at: datetime) -> list[AlertChange]:
        """Close the open alert, if any."""
        previous = self._alert
        if previous is Alert.NONE:
            return []
        self._alert = Alert.NONE
        self._level = 0
        self._alert_reason = reason
        self._alert_since = None
        self._alert_age = _NONE
        return [AlertChange(at=at, alert=Alert.NONE, level=0, reason=reason, previous=previous)]

    def _restart_quiet(self, now: datetime) -> None:
        """Start counting quiet time afresh from `now`."""
        self._note_silence(now)
        self._quiet_since = now
        self._quiet = self._day_quiet = _NONE

    def _sight_changed(self, now: datetime) -> list[AlertChange]:
        """Follow a change in which sources can see."""
        if not self.can_see:
            return []
        self._blind = _NONE
        self._blind_acknowledged = False
        if self._alert is Alert.CANNOT_MONITOR:
            return self._clear(Reason.SEEING, now)
        return []

    # Storage.

    @classmethod
    def salvaged(cls, config: GuardianConfig, data: Any) -> InactivityGuardian:
        """Start from what can be read of state that `__init__` refused (damaged, or newer).

        The open alert (with its level and `since`), the mode, the last activity and the quiet
        count are what a family must not lose; each is taken if it reads, else left fresh.
        """
        guardian = cls(config)
        if not isinstance(data, Mapping):
            return guardian
        readable = (KeyError, TypeError, ValueError, AttributeError)
        with suppress(*readable):
            guardian._mode = Mode(data["mode"])
        with suppress(*readable):
            alert, level = Alert(data["alert"]), int(data["level"])
            since = _stored_moment(data["alert_since"])
            if alert is not Alert.NONE and level >= 1 and since is not None:
                guardian._alert, guardian._level, guardian._alert_since = alert, level, since
                guardian._alert_reason = Reason(data["alert_reason"])
        with suppress(*readable):
            guardian._last_activity = _stored_moment(data["last_activity"])
        with suppress(*readable):
            clock = _stored_moment(data["clock"])
            quiet_since = _stored_moment(data["quiet_since"])
            quiet = _stored_seconds(data["quiet_seconds"])
            day_quiet = _stored_seconds(data["day_quiet_seconds"])
            guardian._clock = guardian._done = clock
            guardian._quiet_since, guardian._quiet, guardian._day_quiet = (
                quiet_since,
                quiet,
                day_quiet,
            )
        return guardian

    def to_dict(self) -> dict[str, Any]:
        """Return the whole state as JSON-safe data, for HA's Store."""

        def moment(value: datetime | None) -> str | None:
            """Write an instant."""
            return value.isoformat() if value is not None else None

        def seconds(value: timedelta) -> float:
            """Write a duration."""
            return value / timedelta(seconds=1)

        return {
            "version": STATE_VERSION,
            "mode": self._mode.value,
            "sources": dict(self._sources),
            "clock": moment(self._clock),
            "done": moment(self._done),
            "last_activity": moment(self._last_activity),
            "quiet_since": moment(self._quiet_since),
            "quiet_seconds": seconds(self._quiet),
            "day_quiet_seconds": seconds(self._day_quiet),
            "day_start": moment(self._day_start),
            "blind_seconds": seconds(self._blind),
            "blind_acknowledged": self._blind_acknowledged,
            "alert": self._alert.value,
            "level": self._level,
            "alert_reason": self._alert_reason.value if self._alert_reason else None,
            "alert_since": moment(self._alert_since),
            "alert_seconds": seconds(self._alert_age),
            "quarter": {
                "seeing_seconds": seconds(self._quarter_seeing),
                "valid": self._quarter_valid,
            },
            "silence_valid": self._silence_valid,
            "routine": self._routine.to_dict(),
        }

    def _restore(self, data: Mapping[str, Any]) -> None:
        """Load `to_dict` data; raise StoredStateError if it cannot be used."""
        version = data.get("version") if isinstance(data, Mapping) else None
        if version not in (STATE_VERSION, _ROUTINE_STARTS_AFRESH):
            raise StoredStateError(f"unsupported guardian state version {version!r}")
        try:
            self._sources = _stored_sources(data["sources"])
            self._mode = Mode(data["mode"])
            self._clock = _stored_moment(data["clock"])
            self._done = _stored_moment(data["done"])
            self._last_activity = _stored_moment(data["last_activity"])
            self._quiet_since = _stored_moment(data["quiet_since"])
            self._quiet = _stored_seconds(data["quiet_seconds"])
            self._day_quiet = _stored_seconds(data["day_quiet_seconds"])
            self._day_start = _stored_moment(data["day_start"])
            self._blind = _stored_seconds(data["blind_seconds"])
            self._blind_acknowledged = bool(data["blind_acknowledged"])
            self._alert = Alert(data["alert"])
            self._level = int(data["level"])
            reason = data["alert_reason"]
            self._alert_reason = Reason(reason) if reason is not None else None
            self._alert_since = _stored_moment(data["alert_since"])
            self._alert_age = _stored_seconds(data["alert_seconds"])
            quarter = data["quarter"]
            self._quarter_seeing = _stored_seconds(quarter["seeing_seconds"])
            self._quarter_valid = bool(quarter["valid"])
            if version == STATE_VERSION:
                self._silence_valid = bool(data["silence_valid"])
                self._routine = LearnedRoutine.from_dict(data["routine"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise StoredStateError(f"stored guardian state is damaged ({err})") from None
        if (self._clock is None) != (self._done is None) or (
            (self._alert is Alert.NONE) != (self._level == 0)
        ):
            raise StoredStateError("stored guardian state is inconsistent")


def _stored_sources(value: Any) -> dict[str, bool]:
    """Read the sources written by `to_dict`."""
    if not all(isinstance(k, str) and isinstance(v, bool) for k, v in value.items()):
        raise TypeError("sources")
    return dict(value)


def _stored_moment(value: Any) -> datetime | None:
    """Read an instant written by `to_dict`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("instant")
    return _aware(datetime.fromisoformat(value))


def _stored_seconds(value: Any) -> timedelta:
    """Read a duration written by `to_dict`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("duration")
    return timedelta(seconds=value)

"""Read and check a guardian's options: active hours, limits, deadlines, learning, alarms.

`GuardianConfig.from_dict` takes options as a config entry or a replayed trace holds them and
raises `GuardianConfigError` naming the option and a translation key when one cannot be used;
`OPTIONS` names every option it knows, so that a trace with a misspelt one can be refused.
`GuardianConfig.from_stored` reads options saved before a rule was added and leaves out what
the rule now refuses (see `in_active_hours`), so that a saved guardian still runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import time
from itertools import pairwise
import re
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_MINUTES: Final = 7 * 24 * 60
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class GuardianConfigError(ValueError):
    """An option that cannot be used; `key` is a translation key, `option` the option's name."""

    def __init__(self, option: str, key: str, message: str) -> None:
        """Keep the option and translation key beside a readable message."""
        super().__init__(f"{option}: {message}")
        self.option = option
        self.key = key


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
    "presence_limit_minutes": _grace_option,
}


# Every option a guardian's config knows.
OPTIONS: Final = frozenset(_READERS)


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardianConfig:
    """A guardian's options; build it from user input with `from_dict`, which validates.

    - `active_start`, `active_end`: local wall times of active hours (07:00 to 22:00).
    - `inactivity_minutes`: quiet allowed in active hours (180).
    - `night_inactivity_minutes`: quiet allowed outside them, from the last activity (720).
    - `expected_by`: times by which activity since `active_start` is expected, each within
      active hours, their end included (none).
    - `escalate_after_minutes`: minutes after the alert for level 2, level 3... (none).
    - `learn`: let the learned routine bring alerts forward (off).
    - `time_zone`: IANA name of the wall times' time zone ("UTC"; HA passes its own).
    - `blind_grace_minutes`: how long every source may be blind before "cannot monitor" (15).
    - `visitors_factor`: how much longer quiet may last in visitors mode (2).
    - `learned_min_minutes`: the shortest quiet the learned routine may alert after (45).
    - `motion_stuck_minutes`: how long a motion source may stay on, or flap, without a pause and
      still count (240).
    - `alarm_level`: the level at which an alarm source's alert starts (2).
    - `presence_limit_minutes`: how long someone may be present with no activity at all before
      an alert, as after a fall in the bathroom (0: off).
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
    presence_limit_minutes: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardianConfig:
        """Validate options (trace `config` or config entry options); keys not named are ignored.

        Raise `GuardianConfigError` naming the option and a translation key on bad input.
        """
        config = cls._read(data)
        config.validate()
        return config

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> tuple[GuardianConfig, tuple[time, ...]]:
        """Validate stored options, leaving out deadlines outside active hours; return those too.

        Options saved before such deadlines were refused may hold one. It could never fire at
        the time it names, so the guardian runs without it rather than not at all, and the
        caller tells the owner which were left out.
        """
        config = cls._read(data)
        unreachable = config.deadlines_outside_active_hours()
        if unreachable:
            kept = tuple(clock for clock in config.expected_by if clock not in unreachable)
            config = replace(config, expected_by=kept)
        config.validate()
        return config, unreachable

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> GuardianConfig:
        """Read each option on its own; what only makes sense across options is not checked."""
        if not isinstance(data, Mapping):
            raise GuardianConfigError("config", "invalid_config", "expected an object of options")
        values = {
            option: read(option, data[option])
            for option, read in _READERS.items()
            if option in data
        }
        return replace(cls(), **values)

    def in_active_hours(self, clock: time) -> bool:
        """Tell whether a deadline at wall time `clock` falls in active hours, their end included.

        A day's deadlines are counted from its start and only until the next day starts, and
        the quiet limits judge the night: a deadline after the end of active hours is met or
        missed by the day's own count long before it comes, and one before their start would
        belong to the day before. The end itself is in: activity expected by 22:00 for a day
        that ends at 22:00 is told at 22:00. Active hours may wrap midnight; equal start and
        end are around the clock, where every time but the start (refused on its own) is in.
        """
        start, end = self.active_start, self.active_end
        if start == end:
            return True
        if start < end:
            return start < clock <= end
        return clock > start or clock <= end

    def deadlines_outside_active_hours(self) -> tuple[time, ...]:
        """Return the `expected_by` deadlines that fall outside active hours."""
        return tuple(clock for clock in self.expected_by if not self.in_active_hours(clock))

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
        if outside := self.deadlines_outside_active_hours():
            raise GuardianConfigError(
                "expected_by",
                "expected_by_outside_active_hours",
                f"{outside[0]:%H:%M} is outside active hours "
                f"({self.active_start:%H:%M} to {self.active_end:%H:%M})",
            )
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

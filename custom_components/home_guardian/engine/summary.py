"""Sum up each day for the family: when the person got up, how busy the day and the night were.

In plain words:

- A **day** runs from one start of active hours to the next. Its **wake-up** is its first
  activity in active hours; activity before that, outside active hours, is the **night's**.
- At the wake-up the summary is ready, once a day: the wake-up and whether it was a usual one
  (within an hour of the median of the last 14 wake-ups, once there are 7), the night's
  activity, and yesterday's activity count beside the usual for that weekday (the mean of the
  last four such days). That is what a short morning message needs ("Mum was up at 07:12, a
  usual morning").
- Activity counts are bouts the guardian counted: every change that counted as activity and
  every start of motion (its end is the same bout).
- Days without any activity in active hours leave no summary (the guardian's alerts are for
  that) and count as zero for their weekday.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import statistics
from typing import Any, Final
from zoneinfo import ZoneInfo

from .schedule import DailySchedule

WAKE_HISTORY: Final = 14
WAKE_HISTORY_NEEDED: Final = 7
USUAL_WAKE_SPREAD: Final = timedelta(hours=1)
WEEKS_REMEMBERED: Final = 4
_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class DaySummary:
    """What the family is told once a day, at the wake-up."""

    wake_up: datetime
    usual_wake_up: datetime | None
    usual: bool | None
    night_activity: int
    yesterday_activity: int | None
    usual_activity: float | None


class DailySummary:
    """Count a guardian's activity by day and night, and sum each day up at its wake-up."""

    def __init__(self, schedule: DailySchedule, data: Mapping[str, Any] | None = None) -> None:
        """Start empty, or from `to_dict` data; data that does not read starts empty."""
        self._schedule = schedule
        self._zone: ZoneInfo = schedule.zone
        self._reset()
        if data is not None:
            try:
                self._load(data)
            except (KeyError, TypeError, ValueError, AttributeError):
                self._reset()

    def _reset(self) -> None:
        """Forget everything."""
        self._day: date | None = None
        self.wake_up: datetime | None = None
        self.activity_today = 0
        self.night_activity = 0
        self._night_of: date | None = None
        self._counts: dict[str, list[int]] = {}
        self._wakes: list[float] = []

    def usual_activity(self, weekday: int) -> float | None:
        """Return the mean activity count of the last few days of `weekday`, if any."""
        counts = self._counts.get(str(weekday))
        return statistics.fmean(counts) if counts else None

    @property
    def weekday(self) -> int | None:
        """Return the weekday of the day in progress."""
        return self._day.weekday() if self._day else None

    def activity(self, now: datetime) -> DaySummary | None:
        """Count activity at `now`; return the day's summary if this is its wake-up."""
        self._roll(now)
        if not self._schedule.is_active(now):
            night_of = self._day_of(now + _ONE_DAY)
            if night_of != self._night_of:
                self._night_of, self.night_activity = night_of, 0
            self.night_activity += 1
            return None
        self.activity_today += 1
        if self.wake_up is not None:
            return None
        self.wake_up = now
        return self._summary(now)

    def _summary(self, now: datetime) -> DaySummary:
        """Return the summary of the day that woke up at `now`."""
        today = self._day_of(now)
        local = now.astimezone(self._zone)
        minutes = local.hour * 60 + local.minute
        usual_wake_up = usual = None
        if len(self._wakes) >= WAKE_HISTORY_NEEDED:
            median = statistics.median(self._wakes)
            usual_wake_up = now + timedelta(minutes=median - minutes)
            usual = abs(now - usual_wake_up) <= USUAL_WAKE_SPREAD
        self._wakes = [*self._wakes, minutes][-WAKE_HISTORY:]
        yesterday = (today - _ONE_DAY).weekday()
        counts = self._counts.get(str(yesterday))
        return DaySummary(
            wake_up=now,
            usual_wake_up=usual_wake_up,
            usual=usual,
            night_activity=self.night_activity if self._night_of == today else 0,
            yesterday_activity=counts[-1] if counts else None,
            usual_activity=statistics.fmean(counts[:-1]) if counts and len(counts) > 1 else None,
        )

    def _day_of(self, moment: datetime) -> date:
        """Return the local date on which the day holding `moment` began."""
        return self._schedule.last_active_start(moment).astimezone(self._zone).date()

    def _roll(self, now: datetime) -> None:
        """Close the days that ended before `now`, counting days without activity as zero."""
        today = self._day_of(now)
        if self._day is None:
            self._day = today
            return
        while self._day < today:
            weekday = str(self._day.weekday())
            self._counts[weekday] = [*self._counts.get(weekday, []), self.activity_today][
                -WEEKS_REMEMBERED:
            ]
            self._day += _ONE_DAY
            self.activity_today, self.wake_up = 0, None

    def to_dict(self) -> dict[str, Any]:
        """Return the summary's memory as JSON-safe data."""
        return {
            "day": self._day.isoformat() if self._day else None,
            "wake_up": self.wake_up.isoformat() if self.wake_up else None,
            "activity_today": self.activity_today,
            "night_activity": self.night_activity,
            "night_of": self._night_of.isoformat() if self._night_of else None,
            "counts": self._counts,
            "wakes": self._wakes,
        }

    def _load(self, data: Mapping[str, Any]) -> None:
        """Read `to_dict` data; raise on anything that does not fit."""
        self._day = date.fromisoformat(data["day"]) if data["day"] else None
        self.wake_up = datetime.fromisoformat(data["wake_up"]) if data["wake_up"] else None
        self.activity_today = int(data["activity_today"])
        self.night_activity = int(data["night_activity"])
        self._night_of = date.fromisoformat(data["night_of"]) if data["night_of"] else None
        self._counts = {
            str(int(day)): [int(count) for count in counts][-WEEKS_REMEMBERED:]
            for day, counts in data["counts"].items()
        }
        self._wakes = [float(minutes) for minutes in data["wakes"]][-WAKE_HISTORY:]

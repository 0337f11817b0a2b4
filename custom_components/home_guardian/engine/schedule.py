"""Turn a guardian's wall-clock rules (active hours, deadlines, quarter-hours) into real instants.

Active hours and `expected_by` deadlines are local wall times of the configured time zone, so
they follow daylight saving time the way people do: 07:00 is 07:00 on both sides of a change.
A wall time that does not exist on a spring-forward day (02:30 when clocks jump from 02:00 to
03:00) happens at the jump; a wall time that happens twice on a fall-back day happens the first
time. A deadline the jump puts at the day's start itself keeps its wall-clock distance from it
(see `DailySchedule.deadline_budget`). Every instant this module returns is an aware datetime
in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

QUARTER_HOUR: Final = timedelta(minutes=15)
QUARTERS_PER_DAY: Final = 96
QUARTERS_PER_WEEK: Final = 7 * QUARTERS_PER_DAY
_ONE_DAY: Final = timedelta(days=1)


@lru_cache(maxsize=4096)
def wall_instant(zone: ZoneInfo, day: date, clock: time) -> datetime:
    """Return the first real instant at which the wall clock in `zone` shows `clock` on `day`."""
    wall = datetime.combine(day, clock)
    # fold=0 picks the first of two equal wall times on a fall-back day.
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # The wall time falls in a spring-forward gap: it "happens" when the clocks jump. fold=1
    # maps it before the jump and fold=0 after it; bisect the seconds in between for the jump.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    after = instant.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def next_quarter_hour(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return the first local quarter-hour mark (:00, :15, :30, :45) after `moment`."""
    local = moment.astimezone(zone)
    # astimezone sets fold on a repeated hour, so the floor maps back to the right instant.
    floor = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    return floor.astimezone(UTC) + QUARTER_HOUR


def is_quarter_mark(moment: datetime, zone: ZoneInfo) -> bool:
    """Tell whether `moment` is a local quarter-hour mark."""
    local = moment.astimezone(zone)
    return local.minute % 15 == 0 and local.second == 0 and local.microsecond == 0


def quarter_of_week(moment: datetime, zone: ZoneInfo) -> int:
    """Return the local quarter-hour of the week of `moment`: 0 is Monday 00:00-00:15."""
    local = moment.astimezone(zone)
    return (local.weekday() * 24 + local.hour) * 4 + local.minute // 15


@dataclass(frozen=True, kw_only=True, slots=True)
class DailySchedule:
    """Active hours and deadlines repeated every local day, as real instants.

    Active hours run from `active_start` up to, not including, `active_end`, and may wrap
    midnight (22:00 to 06:00 for someone who works nights). Equal start and end mean active
    around the clock; the start still marks when each day's deadlines begin to count.
    """

    zone: ZoneInfo
    active_start: time
    active_end: time
    deadlines: tuple[time, ...] = ()

    def _around(self, moment: datetime, clocks: tuple[time, ...]) -> list[datetime]:
        """Return the instants of `clocks` on the local days around `moment`, in order."""
        today = moment.astimezone(self.zone).date()
        return sorted(
            wall_instant(self.zone, today + offset * _ONE_DAY, clock)
            for offset in (-1, 0, 1)
            for clock in clocks
        )

    @property
    def around_the_clock(self) -> bool:
        """Tell whether active hours never end (equal start and end)."""
        return self.active_start == self.active_end

    def _changes(self) -> tuple[time, ...]:
        """Return the wall times at which active hours begin or end."""
        if self.around_the_clock:
            return (self.active_start,)
        return (self.active_start, self.active_end)

    def is_active(self, moment: datetime) -> bool:
        """Tell whether `moment` is inside active hours."""
        if self.around_the_clock:
            return True
        # Decide by the last change passed rather than by the wall time, so that a repeated
        # hour on a fall-back day cannot flip the answer back and forth.
        start = self.last_active_start(moment)
        end = max(i for i in self._around(moment, (self.active_end,)) if i <= moment)
        return start > end

    def last_active_start(self, moment: datetime) -> datetime:
        """Return the latest start of active hours at or before `moment`."""
        return max(i for i in self._around(moment, (self.active_start,)) if i <= moment)

    def is_active_start(self, moment: datetime) -> bool:
        """Tell whether active hours begin exactly at `moment`."""
        return self.last_active_start(moment) == moment

    def next_change(self, moment: datetime) -> datetime:
        """Return the first start or end of active hours after `moment`."""
        return min(i for i in self._around(moment, self._changes()) if i > moment)

    def deadline_budget(self, day_start: datetime) -> timedelta | None:
        """Return how long after `day_start` the day's first deadline falls, or None without any.

        Every deadline asks for activity since the start of the day, so the first one decides.
        A day's deadlines are those after its start on the wall clock, up to the next start.
        One that the spring-forward jump puts at the start itself (02:30 for a day that starts
        at 02:00, both "happening" at the jump) would leave no time at all to be up in: it gets
        the time the wall clock promised (30 minutes) instead of being skipped for the day.
        """
        if not self.deadlines:
            return None
        day = day_start.astimezone(self.zone).date()
        start = datetime.combine(day, self.active_start)
        budgets = []
        for clock in self.deadlines:
            wall = datetime.combine(day, clock)
            if wall <= start:
                wall += _ONE_DAY
            budget = wall_instant(self.zone, wall.date(), clock) - day_start
            budgets.append(budget if budget > timedelta(0) else wall - start)
        return min(budgets)

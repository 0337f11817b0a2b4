"""Learn a household's routine: how long the silences that begin at each time of the week last.

How the learned routine works, in plain words:

- A **silence** is the time from the last activity to the next, counted the way the fixed rule
  of that time counts it: in active hours from the later of the last activity and the start of
  the day's active hours; at night from the last activity. A silence is judged by **when it
  began**: the nap that began at 13:40 is the same silence at 14:59 and at 15:05, so its
  allowance never jumps at an hour mark or any other time while it lasts.
- When a silence ends, the guardian files its length under the quarter-hour of the week in
  which it began (Monday 13:30-13:45, ...). Short silences (under 20 minutes) are not filed:
  they could never bring an alert forward. Only ordinary silences count: mode home, Home
  Assistant running all along, a clock that did not go backwards. A silence that ended with an
  alert counts too: most alerts end with the person simply getting up, and a routine that
  skipped them would never learn the lie-in it alerted on. A night that runs into the start of
  active hours is filed there, and the morning starts a new silence, so waking up late is
  judged against the usual mornings rather than against the night.
- Recent weeks count most: every filed silence weighs half as much four weeks later.
- It also counts, for each quarter-hour of the week, how long it was watched with nobody
  moving (time in which a silence could have begun).
- For a silence that began at a given time, the routine looks at the silences filed within an
  hour either side of it (nearer ones weigh more: 1 at the same quarter-hour down to 0.2 an
  hour away), on the same weekday at full weight and on the other weekdays at half weight. It
  allows the longer of two lengths:
  - 1.75 times the **usual longest silence**: the longest one still carrying real weight there
    (the longer filed silences, all together, weigh less than a third of one fresh silence), so
    a silence seen even once in the last weeks at about that time is usual, not an alarm;
  - the length that silences beginning then would pass only 0.1 times a month: long silences
    are taken to fade out like an exponential tail, as often as they began per quarter-hour
    watched and lasting as far past 20 minutes as the filed ones did on average (with one
    assumed silence of 50 minutes besides them). Rare but possible silences are
    allowed for before they are ever seen.
  The guardian never allows less than `learned_min_minutes`. Where silences of more than 16
  hours are usual, or the time was hardly watched with nobody moving (a television keeping the
  camera busy every evening), the routine has no say.
- It judges the silences that begin in active hours. Those that begin at least REACH before
  the day's end (so that every silence that tells about them began in active hours and was
  filed) it also judges after the day's end, if its alert falls within three hours of it
  (`limits.NIGHT_REACH`): nights that usually begin within the hour allow a silence the
  night, while one that begins hours before them (a fall in the evening) is no night. Quiet
  counts only while seen, so an evening a camera did not see puts the alert later, often past
  those three hours. A silence that begins later is a night's for all the routine knows
  (nights that begin after the day's end are not filed), as is one whose alert would fall
  later, and one that begins after the day's end: a night ends when the person wakes,
  whatever time it began; the night limit and `expected_by` judge it.
- The routine starts to apply after two weeks of watched quarter-hours.
- It can only bring an alert forward: the fixed limits (`inactivity_minutes`,
  `night_inactivity_minutes`, `expected_by`) always apply as the latest time to alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
import math
from typing import Any, Final

from .schedule import QUARTERS_PER_DAY, QUARTERS_PER_WEEK

BIN: Final = timedelta(minutes=15)
# Silences up to 16 hours are filed in quarter-hour bins; longer ones share the last bin.
BINS: Final = 65
SHORTEST_FILED: Final = timedelta(minutes=20)
DAILY_DECAY: Final = 0.5 ** (1 / 28)
# Quarter-hours either side of a silence's start that still tell about it.
SPAN: Final = 4
# The latest a silence that tells about another may begin, after that one began.
REACH: Final = (SPAN + 1) * BIN
OTHER_WEEKDAY: Final = 0.5
# Longer silences weighing less than this together are too rare to call usual.
USUAL_WEIGHT: Final = 1 / 3
MARGIN: Final = 1.75
# The false alerts the routine may cause, per quarter-hour watched: 0.1 in a month of 16-hour
# days. Silences longer than those seen are likely in this proportion, as their tail suggests.
FALSE_ALERT_BUDGET: Final = 0.1 / (30 * 64)
# What is assumed of long silences before there are any: one, 30 minutes past the shortest
# filed.
PRIOR_SILENCES: Final = 1.0
PRIOR_EXCESS: Final = timedelta(minutes=30)
# Watched quarter-hours (kernel-weighted) around a time before the routine has its say there.
ENOUGH_WATCHING: Final = 40.0
READY_NOTES: Final = 14 * QUARTERS_PER_DAY
# Weights this small after decay are dropped, so the stored routine stays small.
_FORGOTTEN: Final = 0.01


class LearnedRoutine:
    """Decayed weights of silence lengths, by the quarter-hour of the week they began in."""

    def __init__(
        self,
        *,
        silences: Mapping[int, Mapping[int, float]] | None = None,
        notes: int = 0,
        watched: Mapping[int, float] | None = None,
        day: date | None = None,
    ) -> None:
        """Start empty or from stored weights."""
        self._silences: dict[int, dict[int, float]] = {
            slot: dict(row) for slot, row in (silences or {}).items()
        }
        self._notes = notes
        self._watched: dict[int, float] = dict(watched or {})
        self._day = day
        self._allowances: dict[int, timedelta | None] = {}

    @property
    def notes(self) -> int:
        """Return how many watched quarter-hours the routine has seen in all."""
        return self._notes

    @property
    def ready(self) -> bool:
        """Tell whether the routine has seen enough to be used."""
        return self._notes >= READY_NOTES

    def watched(self, slot: int) -> None:
        """Count one quarter-hour of the week watched in ordinary conditions, nobody moving."""
        self._notes += 1
        slot %= QUARTERS_PER_WEEK
        self._watched[slot] = self._watched.get(slot, 0.0) + 1.0
        self._allowances.clear()

    def record(self, slot: int, length: timedelta) -> None:
        """File a silence of `length` that began in quarter-hour `slot` of the week."""
        if length < SHORTEST_FILED:
            return
        row = self._silences.setdefault(slot % QUARTERS_PER_WEEK, {})
        index = min(int(length / BIN), BINS - 1)
        row[index] = row.get(index, 0.0) + 1.0
        self._allowances.clear()

    def age_to(self, day: date) -> None:
        """Let the weights decay up to local date `day` (once per day passed)."""
        if self._day is None or day <= self._day:
            self._day = self._day or day
            return
        factor = DAILY_DECAY ** (day - self._day).days
        self._day = day
        self._watched = {
            slot: round(weight * factor, 6)
            for slot, weight in self._watched.items()
            if weight * factor >= _FORGOTTEN
        }
        for slot in list(self._silences):
            row = {
                index: round(weight * factor, 6)
                for index, weight in self._silences[slot].items()
                if weight * factor >= _FORGOTTEN
            }
            if row:
                self._silences[slot] = row
            else:
                del self._silences[slot]
        self._allowances.clear()

    def allowance(self, slot: int) -> timedelta | None:
        """Return the quiet allowed for a silence that began in `slot`; None: no limit learned.

        A zero allowance means no silence is usual then: the guardian's floor applies.
        """
        if slot not in self._allowances:
            self._allowances[slot] = self._compute_allowance(slot)
        return self._allowances[slot]

    def _compute_allowance(self, slot: int) -> timedelta | None:
        """Work out `allowance` from the weights around `slot`."""
        weights = [0.0] * BINS
        watched = 0.0
        for weekday in range(7):
            same_day = 1.0 if weekday == 0 else OTHER_WEEKDAY
            for offset in range(-SPAN, SPAN + 1):
                near = 1 - abs(offset) / (SPAN + 1)
                other = (slot + offset + weekday * QUARTERS_PER_DAY) % QUARTERS_PER_WEEK
                watched += self._watched.get(other, 0.0) * near * same_day
                for index, weight in self._silences.get(other, {}).items():
                    weights[index] += weight * near * same_day
        if watched < ENOUGH_WATCHING:
            # Hardly watched with nobody moving (a television keeping the camera busy every
            # evening): too little is known to alert early.
            return None
        usual = _usual_longest(weights)
        if usual is None:
            return None
        return max(usual * MARGIN, _tail_allowance(weights, watched))

    def to_dict(self) -> dict[str, Any]:
        """Return the routine as JSON-safe data."""
        return {
            "notes": self._notes,
            "watched": {str(slot): weight for slot, weight in sorted(self._watched.items())},
            "day": self._day.isoformat() if self._day else None,
            "silences": {
                str(slot): {str(index): weight for index, weight in sorted(row.items())}
                for slot, row in sorted(self._silences.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedRoutine:
        """Rebuild a routine from `to_dict` data; raise ValueError if it does not fit."""
        notes = data["notes"]
        day = data["day"]
        watched = {int(slot): float(weight) for slot, weight in data["watched"].items()}
        silences = {
            int(slot): {int(index): float(weight) for index, weight in row.items()}
            for slot, row in data["silences"].items()
        }
        if (
            not isinstance(notes, int)
            or isinstance(notes, bool)
            or notes < 0
            or not (day is None or isinstance(day, str))
            or any(
                not 0 <= slot < QUARTERS_PER_WEEK or not 0 <= weight < math.inf
                for slot, weight in watched.items()
            )
            or any(
                not 0 <= slot < QUARTERS_PER_WEEK
                or any(not 0 <= i < BINS or not 0 <= w < math.inf for i, w in row.items())
                for slot, row in silences.items()
            )
        ):
            raise ValueError("routine")
        return cls(
            silences=silences,
            notes=notes,
            watched=watched,
            day=date.fromisoformat(day) if day else None,
        )


def _usual_longest(weights: list[float]) -> timedelta | None:
    """Return the longest silence still carrying real weight; None past the last bin."""
    tail = 0.0
    for index in range(BINS - 1, -1, -1):
        tail += weights[index]
        if tail >= USUAL_WEIGHT:
            return None if index == BINS - 1 else (index + 1) * BIN
    return timedelta(0)


def _tail_allowance(weights: list[float], watched: float) -> timedelta:
    """Return the length that silences beginning here pass only as often as the budget allows.

    Long silences are taken to fade out like an exponential tail: as many as were filed per
    quarter-hour watched, lasting on average as far past `SHORTEST_FILED` as those filed did.
    """
    count = sum(weights)
    excess = sum(
        weight * ((index + 0.5) * BIN - SHORTEST_FILED).total_seconds()
        for index, weight in enumerate(weights)
    )
    mean_excess = (excess + PRIOR_SILENCES * PRIOR_EXCESS.total_seconds()) / (
        count + PRIOR_SILENCES
    )
    rate = count / watched
    if rate <= FALSE_ALERT_BUDGET:
        return SHORTEST_FILED
    return SHORTEST_FILED + timedelta(seconds=mean_excess * math.log(rate / FALSE_ALERT_BUDGET))

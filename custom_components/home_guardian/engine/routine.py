"""Learn a household's routine: how long the home is usually quiet at each hour of the week.

How the learned routine works, in plain words:

- Every quarter-hour, the guardian notes how long the home has been quiet so far (nothing seen
  moving while something could see), counted the way the fixed rule of that time counts it:
  since the start of the day's active hours or the last activity, whichever is later, in active
  hours; since the last activity at night. It files the note under the hour of the week: Monday
  07:00-08:00, Monday 08:00-09:00, and so on, 168 hours in all. Only ordinary time counts: mode
  home, something could see for most of the quarter-hour, Home Assistant running. Time with an
  alert open counts too: most alerts end with the person simply getting up, and a routine that
  skipped them would never learn the lie-in it alerted on.
- Recent weeks count most: a week's notes weigh half as much four weeks later, so the routine
  follows a changing life (a new job, summer mornings) within a month or so.
- From the notes of an hour it takes the usual longest silence: the length that only one
  quarter-hour in two hundred went past. Each weekday-hour's own notes are mixed with those of
  the same hour on every day of the week, which weigh about twice as much: a Sunday lie-in
  still shows, but one odd Tuesday does not decide.
- The guardian then allows 1.75 times that usual longest silence before it alerts, but never
  less than `learned_min_minutes`. A busy morning that stays silent therefore alerts
  early; an afternoon when a long nap is normal, or the night, gets a long allowance.
- The routine starts to apply after two weeks of such notes.
- It can only bring an alert forward: the fixed limits (`inactivity_minutes`,
  `night_inactivity_minutes`, `expected_by`) always apply as the latest time to alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
import math
from typing import Any, Final

from .schedule import HOURS_PER_WEEK

BIN: Final = timedelta(minutes=15)
# Silences are filed in quarter-hour bins up to four hours; longer ones share the last bin,
# where the routine never shortens an allowance anyway.
BINS: Final = 17
# Each hour of the week is filed once a week, so this is a half-life of four weeks.
WEEKLY_DECAY: Final = 0.5**0.25
# Weight, in notes, of the same hour on every weekday; an hour's own notes, decayed, add up to
# about 25, so the pooled ones weigh about twice as much.
PRIOR_NOTES: Final = 48.0
# The usual longest silence is the one that only this share of notes went past.
RARE: Final = 1 / 200
MARGIN: Final = 1.75
READY_NOTES: Final = 14 * 24 * 4


class LearnedRoutine:
    """Decayed counts of quiet lengths, by hour of the week and quarter-hour bin."""

    def __init__(self, *, counts: Sequence[Sequence[float]] | None = None, notes: int = 0) -> None:
        """Start empty or from stored counts."""
        self._counts = (
            [list(row) for row in counts]
            if counts is not None
            else [[0.0] * BINS for _ in range(HOURS_PER_WEEK)]
        )
        self._notes = notes
        self._allowances: dict[int, timedelta | None] = {}

    @property
    def notes(self) -> int:
        """Return how many quarter-hours the routine has learned from in all."""
        return self._notes

    @property
    def ready(self) -> bool:
        """Tell whether the routine has seen enough to be used."""
        return self._notes >= READY_NOTES

    def record(self, hour: int, quiet: Sequence[timedelta]) -> None:
        """File the quiet lengths noted at the quarter-hours of one hour of the week."""
        if not quiet:
            return
        row = self._counts[hour]
        for index, count in enumerate(row):
            # Six decimals keep the stored routine small and make it restore exactly.
            row[index] = round(count * WEEKLY_DECAY, 6)
        for length in quiet:
            row[min(int(length / BIN), BINS - 1)] += 1.0
        self._notes += len(quiet)
        # A note changes this hour and, through borrowing, the same hour on the other days.
        self._allowances.clear()

    def allowance(self, hour: int) -> timedelta | None:
        """Return the quiet allowed in `hour` of the week; None where long silences are normal."""
        if hour not in self._allowances:
            self._allowances[hour] = self._compute_allowance(hour)
        return self._allowances[hour]

    def _compute_allowance(self, hour: int) -> timedelta | None:
        """Work out `allowance` from the counts."""
        pooled = [
            sum(self._counts[h][index] for h in range(hour % 24, HOURS_PER_WEEK, 24))
            for index in range(BINS)
        ]
        pooled_total = sum(pooled)
        if pooled_total <= 0:
            return None
        weights = [
            own + PRIOR_NOTES * other / pooled_total
            for own, other in zip(self._counts[hour], pooled, strict=True)
        ]
        allowed_tail = RARE * sum(weights)
        tail = 0.0
        for index in range(BINS - 1, -1, -1):
            tail += weights[index]
            if tail > allowed_tail:
                break
        if index == BINS - 1:
            return None
        return (index + 1) * BIN * MARGIN

    def to_dict(self) -> dict[str, Any]:
        """Return the routine as JSON-safe data."""
        return {"notes": self._notes, "counts": [list(row) for row in self._counts]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedRoutine:
        """Rebuild a routine from `to_dict` data; raise ValueError if it does not fit."""
        notes = data["notes"]
        counts = [[float(v) for v in row] for row in data["counts"]]
        if (
            not isinstance(notes, int)
            or notes < 0
            or len(counts) != HOURS_PER_WEEK
            or any(len(row) != BINS or not all(0 <= v < math.inf for v in row) for row in counts)
        ):
            raise ValueError("routine")
        return cls(counts=counts, notes=notes)

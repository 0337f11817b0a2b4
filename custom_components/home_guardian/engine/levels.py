"""Tell when a number (power, temperature, humidity) shows something switched, not noise.

A sensor that reports a number changes all the time: a smart plug's standby wobbles by a watt,
a thermometer drifts by a tenth of a degree. Counting every change as activity would keep a
home "busy" for ever and hide any real silence, so a *level* source counts only a switch:

- at its **standby** level it follows every small step and learns how large they are (its
  noise); a reading that jumps above standby by the **margin** (the largest of: the
  standby level itself, so at least doubling; three times the largest of its last steps; and
  the unit's floor, such as 5 W) may be something switched on. It counts once a second
  reading is above the mark too (something runs, 30 s later for a plug read every 30 s), or
  when the reading after it, back at rest, comes `SPIKE` or more later (it ran that long). A
  single reading above the mark and back within `SPIKE` is a spike of the meter, not a switch,
  and is not learned as noise either (one glitch must not hide every later switch);
- while switched on, wobbles count for nothing (a television's picture, a kettle's element);
  a reading back below standby plus the margin is something switched off, and counts;
- a reading that falls well below standby is a new standby, not noise and not activity;
- a reading that is not a number (a sensor showing "standby" or "error") is skipped.

The unit's floor keeps the noise of a sensor that idles near zero (a plug wobbling between 0.0
and 0.4 W) from counting before its noise is learned, after a restart as on the first day. A
sensor without a known unit counts nothing until it has shown its noise over a few readings.
What is learned lives only while running: after a start-up a source's first reading is taken
as its standby level (if something runs then, its end is a quiet fall to a new standby). Back
from blindness, a reading above standby is on without being a switch seen; its end counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Final

# A single reading above the mark that lasts less than this is a spike, not a switch.
SPIKE: Final = timedelta(seconds=90)

# How many of the latest steps at standby tell its wobble: an hour at a reading every 30 s, so
# that a plug's rare spike of a few watts keeps the mark above the next one.
_STEPS_KEPT: Final = 120
# Without a unit, how many steps at standby are seen before anything counts.
_LEARNING: Final = 10
# A switch is this many times larger than the largest recent step at standby.
_NOISE_TIMES: Final = 3.0
# No meter in a home reads more than this (a megawatt in milliwatts is 1e9).
_LARGEST: Final = 1e12
# The smallest jump that can be a switch, by unit: a few watts, a degree, some percent.
_FLOORS: Final = {
    "W": 5.0,
    "kW": 0.005,
    "mW": 5000.0,
    "A": 0.05,
    "mA": 50.0,
    "°C": 1.0,
    "°F": 2.0,
    "K": 1.0,
    "%": 5.0,
    "lx": 10.0,
    "ppm": 50.0,
}


def floor_for(unit: str | None) -> float:
    """Return the smallest jump that can be a switch for readings in `unit` (0 when unknown)."""
    return _FLOORS.get(unit or "", 0.0)


def number(state: str) -> float | None:
    """Return a state as a finite number, or None if it is not one."""
    try:
        value = float(state)
    except ValueError:
        return None
    # Beyond any real meter: a value such as 1e308 would make every later sum infinite.
    return value if math.isfinite(value) and abs(value) <= _LARGEST else None


@dataclass(slots=True)
class LevelReader:
    """Follow one numeric source and tell which readings are a switch on or off."""

    floor: float = 0.0
    standby: float | None = None
    on: bool = False
    steps: list[float] = field(default_factory=list)
    # When a single reading above the mark came, and how far above standby, until the next
    # reading tells a switch from a spike.
    pending: tuple[datetime, float] | None = None

    def _noise(self) -> float:
        """Return how far a reading may stray from standby and still be noise."""
        return max(self.floor, _NOISE_TIMES * max(self.steps, default=0.0))

    def read(self, state: str, now: datetime, *, found: bool) -> bool:
        """Take a reading at `now`; tell whether it shows a switch (never one found at start-up)."""
        value = number(state)
        if value is None:
            return False
        standby = self.standby
        if standby is None:
            self.standby = value
            return False
        if not self.on and self.floor <= 0 and len(self.steps) < _LEARNING:
            # Without a unit nothing tells the noise yet: learn it before anything counts.
            self._step(abs(value - standby))
            self.standby = value
            return False
        pending, self.pending = self.pending, None
        if value >= standby + max(self._noise(), abs(standby)):
            return self._above(value - standby, now, pending, found=found)
        self.standby = value
        return self._below(value, standby, now, pending, found=found)

    def _below(
        self,
        value: float,
        standby: float,
        now: datetime,
        pending: tuple[datetime, float] | None,
        *,
        found: bool,
    ) -> bool:
        """Take a reading short of the mark above `standby`; tell whether it ends a switch."""
        if self.on:
            self.on = False
            return not found
        if pending is not None:
            # One reading above the mark: a switch if it lasted, else a spike that raises the mark.
            since, _ = pending
            if now - since >= SPIKE:
                return not found
            # Not learned as noise: one glitch of thousands of watts would raise the mark above
            # every real switch, for as long as a plug idling at 0 W sends no new reading.
        if standby - value < max(self._noise(), abs(value)):
            self._step(abs(value - standby))
        # Else a clear fall: a new standby level (something that ran unwatched), not noise.
        return False

    def _above(
        self, rise: float, now: datetime, pending: tuple[datetime, float] | None, *, found: bool
    ) -> bool:
        """Take a reading `rise` above standby, past the mark; tell whether it is a switch on."""
        if self.on or found:
            # Found on at start-up or back from blindness: on, not a switch seen; its end is.
            self.on = True
            return False
        if pending is None:
            self.pending = (now, rise)
            return False
        self.on = True
        return True

    def _step(self, size: float) -> None:
        """Remember one step at standby."""
        self.steps = [*self.steps[1 - _STEPS_KEPT :], size]

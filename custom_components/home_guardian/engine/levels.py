"""Tell when a number (power, temperature, humidity) shows something switched, not noise.

A sensor that reports a number changes all the time: a smart plug's standby wobbles by a watt,
a thermometer drifts by a tenth of a degree. Counting every change as activity would keep a
home "busy" for ever and hide any real silence, so a *level* source tells only a switch (and
the source book counts a switch off only where no motion sensor watches, and lets it end no
alert: appliances end by themselves, see `sources.py`):

- at its **standby** level it follows every small step and learns how large they are (its
  noise); a reading that jumps above standby by the **margin** (the largest of: the
  standby level itself, so at least doubling; three times the largest of its last steps; and
  the unit's floor, such as 5 W) may be something switched on. It counts once a second
  reading is above the mark too (something runs, 30 s later for a plug read every 30 s), or
  when the reading after it, back at rest, comes `SPIKE` or more later (it ran that long). A
  single reading above the mark and back within `SPIKE` is a spike of the meter, not a switch,
  and is not learned as noise either (one glitch must not hide every later switch);
- while switched on, wobbles count for nothing (a television's picture, a kettle's element);
  a reading back below standby plus the margin is something switched off (`ended`);
- a reading that falls well below standby is a new standby, not noise and not activity;
- a reading that is not a number (a sensor showing "standby" or "error") is skipped.

The unit's floor keeps the noise of a sensor that idles near zero (a plug wobbling between 0.0
and 0.4 W) from counting before its noise is learned, after a restart as on the first day. A
sensor without a known unit counts nothing until it has shown its noise over a few readings.
A plug's standby level (a unit with a floor, not light) is kept through restarts by the source
book, so a television on when Home Assistant stopped is on, not a switch seen, after the start,
and its end is seen; one found back at standby ended while unseen. Everything else learned lives
only while running: a light sensor's or a sensor without a unit's first reading after a start-up
is taken as its standby level (if something runs then, its end is a quiet fall to a new
standby). Back from blindness, a reading above standby is on without being a switch seen.

Light (a sensor in lx) is a level with rules of its own, since daylight is no wobble: a cloud
passing the sun triples the light at a window (700 to 2,100 lx) in one reading, and dawn
multiplies it thousands of times within an hour. A lamp is seen only against a dark room:

- a switch on counts only from a standby under `DAYLIGHT_LUX`, and only when the light at least
  multiplies by 1 + `LAMP_TIMES` (a lamp's 150 lx in a 2 lx hallway; 200 lx at dusk in a room
  down to 40 lx). The sun out of a cloud multiplies daylight by two to four, so a dim room's
  clouds (15 to 45 lx) count for nothing. Steps at standby are not learned as noise: they are
  daylight's, and would hide the lamp at dusk for an hour;
- from a brighter standby every reading is followed as the new standby: a cloud, the sun, a
  lamp switched on in a sunlit room are all daylight. Not seeing that lamp is the price of not
  counting clouds. Light that then falls at once into the dark, to less than a fifth, is a lamp
  switched off (dusk takes an hour; a cloud's shadow leaves more), and tells that somebody
  switched it on: it counts as a switch, not as an end;
- once on, a reading back near standby (the plain margin, not five times) is off: a lamp's light
  fading with the dusk behind it stays on. After readings that flickered (the highest over
  twice the lowest: a screen's light, scene by scene) the off must hold `SCREEN_DARK`, told at
  the first reading that late, dark or bright again: a television all evening is one switch
  on and one off, not one for each dark scene. An off told only later than `SCREEN_DARK_TOLD`
  after the dark began is taken quietly, as no switch seen.

Dawn and dusk pass through the dark range: the sun out of a heavy cloud there (eight times the
light), or a sensor read every few minutes (the light doubling between readings), may pass for
a lamp; a sensor by a window counts a switch or two at dawn or dusk on such days.
A lamp switched on in the dark that stays on past dawn is on until the light falls back at
dusk, its switch off. A second lamp in a room another already lights is not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Final

# A single reading above the mark that lasts less than this is a spike, not a switch.
SPIKE: Final = timedelta(seconds=90)
# Dark for less than this after flickering readings is a screen's dark scene, not its end.
SCREEN_DARK: Final = timedelta(minutes=5)
# A screen's end told later than this after the dark began (a sensor that sends nothing new in
# the dark until its hourly report) is taken quietly: where an end counts, it would be a sign
# of life hours after the fact.
SCREEN_DARK_TOLD: Final = 2 * SCREEN_DARK

# How many of the latest steps at standby tell its wobble: an hour at a reading every 30 s, so
# that a plug's rare spike of a few watts keeps the mark above the next one.
_STEPS_KEPT: Final = 120
# Readings while on that vary more than this many times flicker (a screen's), a lamp's do not.
_FLICKER: Final = 2.0
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


# Brighter than this at rest is daylight: a lamp adds 50 to 300 lx where a sensor usually sits,
# and a room lit by lamps alone rests under it, while daylight by a window is hundreds or more.
DAYLIGHT_LUX: Final = 100.0
# A lamp switched on at least multiplies the light by 1 + this; a cloud's shadow divides daylight
# by 2 to 5, so the sun coming out of one rarely looks like a lamp in a room dimmer than that.
LAMP_TIMES: Final = 4.0


@dataclass(frozen=True, kw_only=True, slots=True)
class LevelRules:
    """How the readings of one unit are judged."""

    # The smallest jump that can be a switch (0 when the unit is unknown).
    floor: float = 0.0
    # A switch on counts only from a standby under this; above it readings are followed.
    ceiling: float = math.inf
    # A switch on adds at least this many times the standby (1: the reading at least doubles).
    times: float = 1.0
    # A switch is this many times larger than the largest recent step at standby (0: steps at
    # standby are no measure of noise, as daylight's are not).
    noise_times: float = _NOISE_TIMES
    # Whether a switch off after readings that flickered (a screen) must hold `SCREEN_DARK`.
    off_holds: bool = False


def rules_for(unit: str | None) -> LevelRules:
    """Return the rules for readings in `unit`: its floor, and daylight's for light."""
    floor = _FLOORS.get(unit or "", 0.0)
    if unit == "lx":
        # A light sensor's own noise is far under its floor: what moves at standby is daylight,
        # which the lamp's share of the light tells apart, not a learned wobble.
        return LevelRules(
            floor=floor, ceiling=DAYLIGHT_LUX, times=LAMP_TIMES, noise_times=0.0, off_holds=True
        )
    return LevelRules(floor=floor)


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

    rules: LevelRules = field(default_factory=LevelRules)
    standby: float | None = None
    on: bool = False
    steps: list[float] = field(default_factory=list)
    # When a single reading past the mark came (above it while off, below it while on, where
    # an off must hold), until the next reading tells a switch from a spike.
    pending: datetime | None = None
    # The lowest and highest reading since the first above the mark, until one below it that
    # is taken (a switch off, or a reading at rest).
    lit: tuple[float, float] | None = None
    # The last reading ended a run seen on: the end of an appliance, which often ends itself.
    ended: bool = False

    @property
    def floor(self) -> float:
        """Return the smallest jump that can be a switch."""
        return self.rules.floor

    def _noise(self) -> float:
        """Return how far a reading may stray from standby and still be noise."""
        return max(self.floor, self.rules.noise_times * max(self.steps, default=0.0))

    def read(self, state: str, now: datetime, *, found: bool) -> bool:
        """Take a reading at `now`; tell whether it shows a switch (never one found at start-up)."""
        self.ended = False
        value = number(state)
        if value is None:
            return False
        standby = self.standby
        if standby is None:
            self.standby = value
            return False
        learning = self.floor <= 0 and len(self.steps) < _LEARNING
        if not self.on and (learning or standby >= self.rules.ceiling):
            # Without a unit nothing tells the noise yet: learn it before anything counts. In
            # daylight whatever the light does is followed, and no switch can be told in it.
            if learning:
                self._step(abs(value - standby))
            self.standby = value
            # Bright light gone at once, into the dark, is a lamp switched off that was switched
            # on in daylight; dusk takes an hour and a cloud's shadow leaves a fifth or more.
            ceiling = self.rules.ceiling
            return (
                not found
                and value < ceiling <= standby
                and value * (1 + self.rules.times) < standby
            )
        pending, self.pending = self.pending, None
        # Once on, back near standby is off: a lamp's light fading with the dusk stays on.
        times = 1.0 if self.on else self.rules.times
        if value >= standby + max(self._noise(), times * abs(standby)):
            return self._above(value, now, pending, found=found)
        if (
            self.on
            and self.rules.off_holds
            and self._flickers()
            and not _lasted(pending, now, SCREEN_DARK)
        ):
            # Dark for a while may be a dark scene: a reading later than SCREEN_DARK tells.
            # Standby stays where the switch on left it: the next readings are judged by it.
            self.pending = pending or now
            return False
        self.standby = value
        late = self.on and pending is not None and now - pending > SCREEN_DARK_TOLD
        return self._below(value, standby, now, pending, found=found or late)

    def _below(
        self,
        value: float,
        standby: float,
        now: datetime,
        pending: datetime | None,
        *,
        found: bool,
    ) -> bool:
        """Take a reading short of the mark above `standby`; tell whether it ends a switch."""
        self.lit = None
        if self.on:
            self.on = False
            self.ended = True
            return not found
        # One reading above the mark: a switch if it lasted, else a spike of the meter. Its
        # height is not learned as noise: one glitch of thousands of watts would raise the mark
        # above every real switch, for as long as a plug idling at 0 W sends no new reading.
        if _lasted(pending, now):
            return not found
        if standby - value < max(self._noise(), abs(value)):
            self._step(abs(value - standby))
        # Else a clear fall: a new standby level (something that ran unwatched), not noise.
        return False

    def _above(self, value: float, now: datetime, pending: datetime | None, *, found: bool) -> bool:
        """Take a reading above standby, past the mark; tell whether it is a switch on."""
        if self.on and _lasted(pending, now, SCREEN_DARK):
            # Dark for that long between two bright readings: switched off, then on again
            # (the flicker seen so far is kept: a screen's dark scene lasts that long at times).
            self.on = False
            self.pending = now
            return True
        if self.on or found:
            # Found on at start-up or back from blindness: on, not a switch seen; its end is.
            self._light(value)
            self.on = True
            return False
        # The first reading is part of the light too: a screen flickers from its first scenes.
        self._light(value)
        if pending is None:
            self.pending = now
            return False
        self.on = True
        return True

    def _light(self, value: float) -> None:
        """Widen the range of readings since the switch on by `value`."""
        low, high = self.lit or (value, value)
        self.lit = (min(low, value), max(high, value))

    def _flickers(self) -> bool:
        """Return True when the readings since the switch on varied as a screen's light does."""
        return self.lit is not None and self.lit[1] > _FLICKER * self.lit[0]

    def _step(self, size: float) -> None:
        """Remember one step at standby."""
        self.steps = [*self.steps[1 - _STEPS_KEPT :], size]


def _lasted(pending: datetime | None, now: datetime, hold: timedelta = SPIKE) -> bool:
    """Return True when a reading past the mark, at `pending`, held `hold` or more."""
    return pending is not None and now - pending >= hold

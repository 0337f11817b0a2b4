"""Tell a device that switches itself on and off to its own beat from somebody switching it.

A fridge's or a freezer's compressor, a boiler's pump, a dehumidifier, a thermostat's relay, a
door contact that chatters, a motion sensor that a heater's draught sets off: each runs about as
long every time and rests about as long, day and night, whether anybody is home or not. Counted
as activity, such a source keeps a home "busy" for ever and hides the very silence the guardian
is there for. Nobody switches a thing that regularly for hours on end, so each source's
switches that count as activity are followed:

- once the source has switched for `BEAT_SPAN` on end, at least `BEAT_CYCLES` cycles (a run and
  a rest each), with all its runs within `BEAT_SPREAD` times of one another (or `BEAT_SLACK`
  seconds: a contact's chatter of one second or three), all its rests too, and no step longer
  than `LONGEST_STEP`, it keeps a **beat**: the shortest and longest run and rest of that
  stretch. A fridge's twenty-minute runs and half-hour rests make one overnight. A person can
  keep a rhythm for an afternoon (out to the garden every twenty minutes), not for eight hours
  on end;
- from then on, a switch that comes as long after the source's previous one as a run or a rest
  of its beat (give or take as much) is the device's own, and no activity. Which of the two it
  ends is not asked: a switch missed (a run across a restart) would put every later one out of
  step. A switch that comes sooner or later counts: a fridge's door opened early in a rest
  starts its compressor, and a door opened where a contact chatters stays open longer than a
  chatter. The beat follows the device: each time a steady stretch is long enough again, it
  becomes the beat;
- `OFF_BEAT_FORGETS` switches in a row off the beat forget it (the plug now feeds a kettle).

What a beat cannot tell: a switch somebody makes at a moment the device might have switched by
itself (a fridge's door opened just as its rest ends); a device whose beat keeps changing (a
heat pump following the weather hour by hour) counts as before. While a beat is being learned,
its switches count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

# Cycles in a row, each as long as the others within BEAT_SPREAD, that make a beat at least.
BEAT_CYCLES: Final = 6
# How long a source must switch steadily before its rhythm is taken for a device's own.
BEAT_SPAN: Final = timedelta(hours=8)
# How much a device's runs (and rests) may differ: the longest at most this many times the
# shortest. A fridge's runs differ by a third from night to night; a person's do far more.
BEAT_SPREAD: Final = 1.5
# Steps this many seconds apart are alike however short: a contact's chatter of one second or
# three (the times Home Assistant is told vary by about a second).
BEAT_SLACK: Final = 5.0
# A step longer than this is no part of a beat: a kettle boiled every morning is a person.
LONGEST_STEP: Final = timedelta(hours=3)
# Switches in a row off a beat that say the device no longer keeps it.
OFF_BEAT_FORGETS: Final = 6

type Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Beat:
    """The shortest and longest run and rest, in seconds, of a device that switches itself."""

    runs: tuple[float, float]
    rests: tuple[float, float]

    @property
    def cycle(self) -> timedelta:
        """Return how long one run and one rest last, on the middle of the beat."""
        return timedelta(seconds=(sum(self.runs) + sum(self.rests)) / 2)

    def keeps(self, step: float) -> bool:
        """Tell whether a switch `step` seconds after the previous one keeps this beat."""
        # Either half will do: a switch the source missed (a run across a restart, a reading
        # lost) must not put every later one out of step.
        return any(
            shortest / BEAT_SPREAD - BEAT_SLACK <= step <= longest * BEAT_SPREAD + BEAT_SLACK
            for shortest, longest in (self.runs, self.rests)
        )


def widened(span: Span | None, step: float) -> Span | None:
    """Return `span` (shortest and longest step) with `step` in; None once it is not steady."""
    if span is None:
        return (step, step)
    shortest, longest = min(span[0], step), max(span[1], step)
    return (shortest, longest) if longest <= shortest * BEAT_SPREAD + BEAT_SLACK else None


@dataclass(slots=True)
class BeatWatch:
    """One source's switches: the latest, its steady stretch so far, and its beat if it keeps one.

    The stretch's steps go to its two halves in turn (a run, then a rest: which is which is no
    matter); `steps` counts them and `since` is when the stretch's first switch came.
    """

    last: datetime | None = None
    previous: float | None = None
    since: datetime | None = None
    halves: tuple[Span | None, Span | None] = (None, None)
    steps: int = 0
    beat: Beat | None = None
    off_beat: int = 0

    def own(self, now: datetime) -> bool:
        """Note a switch of the source at `now`; return True if it is the device's own beat."""
        last, self.last = self.last, now
        if last is None or now <= last:
            # A first switch, or a clock set back: no step is known.
            self._restart(now)
            return False
        step = (now - last).total_seconds()
        kept = self.beat is not None and self.beat.keeps(step)
        self._stretch(step, last)
        if (
            self.steps >= 2 * BEAT_CYCLES
            and self.since is not None
            and now - self.since >= BEAT_SPAN
        ):
            first, second = self.halves
            if first is not None and second is not None:
                runs, rests = sorted((first, second))
                self.beat, self.off_beat = Beat(runs, rests), 0
                return kept
        if self.beat is not None:
            self.off_beat = 0 if kept else self.off_beat + 1
            if self.off_beat >= OFF_BEAT_FORGETS:
                self.beat, self.off_beat = None, 0
        return kept

    def _restart(self, at: datetime) -> None:
        """Begin an empty stretch at the switch at `at`."""
        self.previous, self.since, self.halves, self.steps = None, at, (None, None), 0

    def _stretch(self, step: float, last: datetime) -> None:
        """Add a step that ended now to the steady stretch, or begin one with its latest steps."""
        if step > LONGEST_STEP.total_seconds():
            self._restart(last + timedelta(seconds=step))
            return
        turn = self.steps % 2
        halves = list(self.halves)
        halves[turn] = widened(halves[turn], step)
        previous, self.previous = self.previous, step
        if halves[turn] is not None:
            self.halves, self.steps = (halves[0], halves[1]), self.steps + 1
            return
        # Not steady with the stretch, so it had a step before this one: a new stretch begins
        # with that step and this one.
        self.since = last - timedelta(seconds=previous or 0.0)
        self.halves, self.steps = ((previous or step, previous or step), (step, step)), 2

    def to_dict(self) -> dict[str, Any]:
        """Return this watch as JSON-safe data."""
        return {
            "last": _moment(self.last),
            "previous": self.previous,
            "since": _moment(self.since),
            "halves": [None if half is None else list(half) for half in self.halves],
            "steps": self.steps,
            "beat": None if self.beat is None else [*self.beat.runs, *self.beat.rests],
            "off_beat": self.off_beat,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BeatWatch:
        """Read `to_dict` data; raise ValueError, TypeError or KeyError if it is damaged."""
        first, second = (_span(half) for half in data["halves"])
        beat = None
        if data["beat"] is not None:
            run_low, run_high, rest_low, rest_high = (float(value) for value in data["beat"])
            beat = Beat((run_low, run_high), (rest_low, rest_high))
        previous = data["previous"]
        return cls(
            last=_stored_moment(data["last"]),
            previous=None if previous is None else float(previous),
            since=_stored_moment(data["since"]),
            halves=(first, second),
            steps=int(data["steps"]),
            beat=beat,
            off_beat=int(data["off_beat"]),
        )


def _moment(moment: datetime | None) -> str | None:
    """Return an instant as text, or None."""
    return None if moment is None else moment.isoformat()


def _stored_moment(value: Any) -> datetime | None:
    """Read an instant written by `_moment`; one without its zone is refused."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a switch's time without its zone")
    return moment


def _span(value: Any) -> Span | None:
    """Read a half's shortest and longest steps, or None."""
    if value is None:
        return None
    shortest, longest = (float(step) for step in value)
    return (shortest, longest)

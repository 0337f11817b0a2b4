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
- from then on, a switch on that comes as long after the source's previous switch as a rest of
  its beat (give or take as much), or a switch off as long as a run, is the device's own, and
  no activity. A switch that tells neither (a state other than on and off) may end either. A
  switch that comes sooner or later counts: a fridge's door opened early in a rest starts its
  compressor, and a door opened where a contact chatters stays open longer than a chatter. The
  end of a run whose switch on counted counts too, so a person's visit to a motion sensor that
  a heater also sets off is never hidden half. The beat follows the device: each time a steady
  stretch is long enough again, it becomes the beat;
- a beat that no switch has kept for `FORGOTTEN_AFTER` is forgotten (the plug now feeds a
  kettle).

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
# A step longer than this is no part of a beat: a kettle boiled every morning is a person. A
# chest freezer rests up to about four hours.
LONGEST_STEP: Final = timedelta(hours=4)
# A beat no switch has kept for this long is forgotten: the plug now feeds a kettle.
FORGOTTEN_AFTER: Final = timedelta(days=1)

type Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Beat:
    """The shortest and longest run and rest, in seconds, of a device that switches itself."""

    runs: Span
    rests: Span

    @property
    def cycle(self) -> timedelta:
        """Return how long one run and one rest last, on the middle of the beat."""
        return timedelta(seconds=(sum(self.runs) + sum(self.rests)) / 2)

    def keeps(self, step: float, rising: bool | None) -> bool:
        """Tell whether a switch `step` seconds after the previous one keeps this beat.

        A switch on (`rising`) ends a rest, a switch off a run; one that tells neither (a media
        player paused) may end either.
        """
        halves = (
            [self.runs, self.rests] if rising is None else [self.rests if rising else self.runs]
        )
        return any(
            shortest / BEAT_SPREAD - BEAT_SLACK <= step <= longest * BEAT_SPREAD + BEAT_SLACK
            for shortest, longest in halves
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

    The stretch's runs and rests are kept apart (by the direction of each switch, or in turn for a
    source whose switches tell none); `steps` counts them and `since` is when its first came.
    """

    last: datetime | None = None
    since: datetime | None = None
    halves: tuple[Span | None, Span | None] = (None, None)
    steps: int = 0
    beat: Beat | None = None
    # When a switch last kept the beat (or it was found), and whether the run going on began
    # with a switch on that was counted.
    kept_at: datetime | None = None
    counted_on: bool = False

    def own(self, now: datetime, rising: bool | None = None) -> bool:
        """Note a switch at `now` (on, off, or None: neither); return True if it keeps the beat."""
        last, self.last = self.last, now
        if last is None or now < last:
            # A first switch, or a clock set back: no step is known.
            self._restart(now)
            return False
        if now == last:
            # Two switches told at the same instant make no step.
            return False
        step = (now - last).total_seconds()
        # A run that a counted switch on began ends counted too: a person's visit is whole.
        kept = (
            self.beat is not None
            and self.beat.keeps(step, rising)
            and not (rising is False and self.counted_on)
        )
        if rising is not None:
            self.counted_on = rising and not kept
        self._stretch(step, last, rising)
        runs, rests = self.halves
        steady = self.since is not None and now - self.since >= BEAT_SPAN
        if steady and self.steps >= 2 * BEAT_CYCLES and runs is not None and rests is not None:
            self.beat, self.kept_at = Beat(runs, rests), now
        elif kept:
            self.kept_at = now
        elif self.kept_at is not None and now - self.kept_at >= FORGOTTEN_AFTER:
            self.beat = self.kept_at = None
        return kept

    def _restart(self, at: datetime) -> None:
        """Begin an empty stretch at the switch at `at`."""
        self.since, self.halves, self.steps = at, (None, None), 0

    def _stretch(self, step: float, last: datetime, rising: bool | None) -> None:
        """Add a step that ended now to the steady stretch, or begin one with it."""
        if step > LONGEST_STEP.total_seconds():
            self._restart(last + timedelta(seconds=step))
            return
        turn = self.steps % 2 if rising is None else int(rising)
        halves = list(self.halves)
        widest = widened(halves[turn], step)
        if widest is None:
            # Not steady with the stretch: a new one begins with this step.
            halves = [None, None]
            self.since, self.steps = last, 0
            turn = 0 if rising is None else turn
            widest = (step, step)
        halves[turn] = widest
        self.halves, self.steps = (halves[0], halves[1]), self.steps + 1

    def to_dict(self) -> dict[str, Any]:
        """Return this watch as JSON-safe data."""
        return {
            "last": _moment(self.last),
            "since": _moment(self.since),
            "halves": [None if half is None else list(half) for half in self.halves],
            "steps": self.steps,
            "beat": None if self.beat is None else [*self.beat.runs, *self.beat.rests],
            "kept_at": _moment(self.kept_at),
            "counted_on": self.counted_on,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BeatWatch:
        """Read `to_dict` data; raise ValueError, TypeError or KeyError if it is damaged."""
        first, second = (_span(half) for half in data["halves"])
        beat = None
        if data["beat"] is not None:
            run_low, run_high, rest_low, rest_high = (float(value) for value in data["beat"])
            beat = Beat((run_low, run_high), (rest_low, rest_high))
        return cls(
            last=_stored_moment(data["last"]),
            since=_stored_moment(data["since"]),
            halves=(first, second),
            steps=int(data["steps"]),
            beat=beat,
            kept_at=_stored_moment(data["kept_at"]),
            counted_on=bool(data["counted_on"]),
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

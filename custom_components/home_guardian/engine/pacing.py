"""Say when a camera's empty room may be written to disk again, so a flash card is not worn out.

The privacy filter's model of a room (about 125 kB) is written when the last viewer leaves and
when the owner presses "Room is empty". Both can repeat without end: a viewer opening and closing
the stream in a loop, an automation pressing the button every second. The rules, in plain words:

- A write after viewers left waits until GAP_SECONDS have passed since the last write: a viewer
  in a loop gets at most one write a minute.
- A press is the owner's explicit word: it is written at once, or PRESS_GAP_SECONDS after the
  last write at the latest, so Home Assistant crashing a few seconds later loses nothing.
- Every write spends one of BURST allowances, given back one per GAP_SECONDS, and none may start
  without one: a button pressed in a loop writes a few times at first, then once a minute, and
  the caller writes its latest state when its turn comes. Whatever mix of leaving and pressing,
  no more than BURST writes plus one a minute.
- Writes nobody can repeat at will (every 15 minutes while looked at, at the stop) are not held
  back, but spend an allowance all the same.

`WritePacer` decides only; the caller keeps one per file, asks `wait` for each write it wants,
waits that long (a later, earlier-due request may hurry it) and says `wrote` as each begins.
`simulate` replays requests through a pacer that way, for tests and benchmarks. Times are seconds
on a monotonic clock.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Final

# A viewer leaving writes no more often than this; allowances come back at this pace too.
GAP_SECONDS: Final = 60.0
# A press waits no longer than this after the last write, so a double press writes twice at most.
PRESS_GAP_SECONDS: Final = 5.0
# Writes allowed in a row before the pace of one a minute holds: a few presses of an owner
# checking the picture in between are all written promptly.
BURST: Final = 5


class WritePacer:
    """Space the writes of one file: leaving at most once a minute, presses at once."""

    def __init__(
        self,
        *,
        gap: float = GAP_SECONDS,
        press_gap: float = PRESS_GAP_SECONDS,
        burst: int = BURST,
    ) -> None:
        """Start with nothing written and every allowance free."""
        self.gap = gap
        self.press_gap = press_gap
        self.burst = burst
        self._last = -math.inf
        self._allowance = float(burst)
        self._counted_at: float | None = None

    def wait(self, now: float, *, pressed: bool) -> float:
        """Return the seconds until a write asked for now may begin; 0.0 for at once."""
        self._refill(now)
        since_last = self._last + (self.press_gap if pressed else self.gap) - now
        for_allowance = (1.0 - self._allowance) * self.gap
        return max(0.0, since_last, for_allowance)

    def wrote(self, now: float) -> None:
        """Count a write beginning now, of any kind."""
        self._refill(now)
        self._allowance = max(0.0, self._allowance - 1.0)
        self._last = now

    def _refill(self, now: float) -> None:
        """Give back the allowances earned since last counted."""
        if self._counted_at is not None and now > self._counted_at:
            earned = (now - self._counted_at) / self.gap
            self._allowance = min(float(self.burst), self._allowance + earned)
        if self._counted_at is None or now > self._counted_at:
            self._counted_at = now


def simulate(pacer: WritePacer, requests: Sequence[tuple[float, bool]], end: float) -> list[float]:
    """Return when each write began for requests (time, pressed), in order, until `end`.

    As a caller should: a request that may not write now waits for its turn, an earlier-due
    request hurries that write, and any write takes in whatever was waiting.
    """
    written: list[float] = []
    due: float | None = None
    for at, pressed in [*requests, (end, False)]:
        if due is not None and due <= at:
            pacer.wrote(due)
            written.append(due)
            due = None
        if at >= end:
            break
        wait = pacer.wait(at, pressed=pressed)
        if wait <= 0:
            pacer.wrote(at)
            written.append(at)
            due = None
        elif due is None or at + wait < due:
            due = at + wait
    return written

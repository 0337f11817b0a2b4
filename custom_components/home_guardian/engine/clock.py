"""Tell real elapsed time from jumps of the wall clock (NTP at boot, a hand-set clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import time
from typing import Final

_BOOTTIME: Final = getattr(time, "CLOCK_BOOTTIME", None)
# Between two looks a minute apart, NTP slewing moves the wall clock by milliseconds at most.
JUMP_TOLERANCE_SECONDS: Final = 30.0


def elapsed_seconds() -> float:
    """Return seconds on a clock that never jumps and, on Linux, keeps counting in suspend."""
    # Boot time counts a suspended host's sleep as the time it really is; plain monotonic
    # time would mistake waking up for a jump and hide hours of real quiet.
    if _BOOTTIME is None:  # pragma: no cover - not Linux
        return time.monotonic()
    return time.clock_gettime(_BOOTTIME)


class ClockWatch:
    """Compare the wall clock with elapsed time at each look, and report forward jumps."""

    def __init__(
        self,
        elapsed: Callable[[], float] = elapsed_seconds,
        tolerance: float = JUMP_TOLERANCE_SECONDS,
    ) -> None:
        """Start with nothing to compare."""
        self._elapsed = elapsed
        self._tolerance = tolerance
        self._last: tuple[datetime, float] | None = None

    def jumped_forward(self, wall: datetime) -> datetime | None:
        """Return what the wall clock would show without a forward jump since the last look.

        None when it did not jump: the wall clock kept to elapsed time, or went back (the
        guardian copes with backward jumps by itself).
        """
        elapsed = self._elapsed()
        last, self._last = self._last, (wall, elapsed)
        if last is None:
            return None
        lived = timedelta(seconds=max(0.0, elapsed - last[1]))
        if (wall - last[0] - lived).total_seconds() > self._tolerance:
            return last[0] + lived
        return None

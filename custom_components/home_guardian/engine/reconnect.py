"""Decide how long a camera's reader waits before it connects again.

Cheap cameras drop their connection many times a day, often for a second or two (a Wi-Fi
hiccup, a firmware watchdog, an NVR taking the only session). What users want is the picture
back as soon as the camera is, without hammering a camera that is really gone:

- After a connection that delivered pictures, the next attempt comes quickly, however short the
  connection was: the camera has just proved that it works, so a drop is most likely brief.
- Only attempts that deliver nothing (refused, timed out, no picture) make the wait grow,
  doubling from the first wait up to a cap, so an unplugged camera costs one attempt a cap.
- The first picture of any connection starts the count over.
- A camera read one picture at a time is never asked sooner after a failure than its owner's
  pace: a battery camera asked for a picture every 10 s is retried after 10, 20, 30 s.

A camera that delivers one picture and drops at once, again and again, is thus retried every
quick wait; each attempt then costs a connection a second, which cameras bear.
"""

from __future__ import annotations

from typing import Final

RETRY_AFTER_PICTURES: Final = 1.0
FIRST_BACKOFF: Final = 1.0
MAX_BACKOFF: Final = 30.0


class ReconnectPolicy:
    """Return the wait before each new connection from how the last one went."""

    def __init__(
        self,
        *,
        quick: float = RETRY_AFTER_PICTURES,
        first: float = FIRST_BACKOFF,
        cap: float = MAX_BACKOFF,
    ) -> None:
        """Start with no failure counted."""
        self.quick = quick
        self.first = first
        self.cap = max(cap, first)
        self._failures = 0

    def next_delay(self, *, delivered_pictures: bool) -> float:
        """Return the wait after a connection that ended, delivering pictures or not."""
        if delivered_pictures:
            self._failures = 0
            return min(self.quick, self.cap)
        # The first wait may change between attempts (an owner's new pace); the cap follows it.
        cap = max(self.cap, self.first)
        delay = min(self.first * 2.0**self._failures, cap)
        # Once at the cap there is nothing left to double; the counter stays bounded.
        if delay < cap:
            self._failures += 1
        return delay

    def reset(self) -> None:
        """Forget past failures, as after a still picture was read."""
        self._failures = 0

"""Telling real elapsed time from jumps of the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import time

from custom_components.home_guardian.engine.clock import ClockWatch, elapsed_seconds

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FakeHost:
    """A host clock that moves only when told to."""

    def __init__(self) -> None:
        """Start at boot plus an hour."""
        self.seconds = 3600.0

    def __call__(self) -> float:
        """Return the host's elapsed seconds."""
        return self.seconds


def test_clock_that_keeps_to_elapsed_time_never_jumped() -> None:
    """Wall and host advancing together, with a little slewing, is no jump."""
    host = FakeHost()
    watch = ClockWatch(host)
    assert watch.jumped_forward(START) is None  # the first look only sets the baseline
    host.seconds += 60
    assert watch.jumped_forward(START + timedelta(seconds=60.2)) is None
    host.seconds += 3600  # an hour later, however the looks are spaced
    assert watch.jumped_forward(START + timedelta(hours=1, seconds=60)) is None


def test_forward_jump_reports_the_time_really_lived() -> None:
    """NTP moves the clock five hours on after a minute: the watch says where a minute ends."""
    host = FakeHost()
    watch = ClockWatch(host)
    watch.jumped_forward(START)
    host.seconds += 60
    before = watch.jumped_forward(START + timedelta(hours=5, minutes=1))
    assert before == START + timedelta(minutes=1)
    # The jump is reported once; from the new time on, the clock keeps time again.
    host.seconds += 60
    assert watch.jumped_forward(START + timedelta(hours=5, minutes=2)) is None


def test_backward_jumps_and_small_drift_are_not_reported() -> None:
    """Going back is the guardian's own business, and drift under the tolerance is nothing."""
    host = FakeHost()
    watch = ClockWatch(host, tolerance=30.0)
    watch.jumped_forward(START)
    host.seconds += 60
    assert watch.jumped_forward(START - timedelta(hours=1)) is None
    host.seconds += 60
    assert watch.jumped_forward(START - timedelta(hours=1) + timedelta(seconds=89)) is None


def test_host_clock_moves_with_real_time() -> None:
    """The host clock counts real seconds and never goes back."""
    first = elapsed_seconds()
    time.sleep(0.05)
    second = elapsed_seconds()
    assert 0.04 < second - first < 1.0

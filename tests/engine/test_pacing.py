"""Tests for the pace of the empty room's writes: loops bounded, presses written promptly."""

from __future__ import annotations

import itertools

from custom_components.home_guardian.engine.pacing import (
    BURST,
    GAP_SECONDS,
    PRESS_GAP_SECONDS,
    WritePacer,
    simulate,
)

DAY = 86400.0


def longest_wait(written: list[float], requests: list[tuple[float, bool]]) -> float:
    """Return the longest a request waited for the first write at or after it (if any came)."""
    return max(
        (next((moment for moment in written if moment >= at), at) - at for at, _ in requests),
        default=0.0,
    )


def loop(every: float, *, pressed: bool, end: float = DAY) -> list[tuple[float, bool]]:
    """Return requests every `every` seconds until `end`."""
    count = int(end / every)
    return [(index * every, pressed) for index in range(count)]


def test_a_viewer_in_a_loop_writes_at_most_once_a_minute() -> None:
    """Opening and closing the stream every two seconds all day: 1 441 writes, not 43 200."""
    written = simulate(WritePacer(), loop(2.0, pressed=False), DAY)
    assert len(written) <= DAY / GAP_SECONDS + 1
    assert min(b - a for a, b in itertools.pairwise(written)) >= GAP_SECONDS


def test_a_button_pressed_every_second_writes_a_burst_then_once_a_minute() -> None:
    """An automation pressing all day is bounded as a viewer is, after the first few writes."""
    requests = loop(1.0, pressed=True)
    written = simulate(WritePacer(), requests, DAY)
    assert len(written) <= DAY / GAP_SECONDS + BURST
    assert written[:BURST] == [PRESS_GAP_SECONDS * index for index in range(BURST)]
    # Every press is written within a minute, the latest one included.
    assert longest_wait(written, requests) <= GAP_SECONDS
    assert written[-1] >= DAY - GAP_SECONDS - 1.0


def test_leaving_and_pressing_mixed_are_bounded_together() -> None:
    """A viewer and an automation both looping: still no more than the burst and one a minute."""
    requests = sorted(loop(2.0, pressed=False) + loop(3.0, pressed=True))
    written = simulate(WritePacer(), requests, DAY)
    assert len(written) <= DAY / GAP_SECONDS + BURST + 1


def test_a_press_is_written_at_once_or_within_its_short_gap() -> None:
    """A press after a quiet while writes at once; just after a write, five seconds after it."""
    pacer = WritePacer()
    assert pacer.wait(100.0, pressed=True) == 0.0
    pacer.wrote(100.0)  # the last viewer left
    assert pacer.wait(102.0, pressed=True) == PRESS_GAP_SECONDS - 2.0
    assert pacer.wait(102.0, pressed=False) == GAP_SECONDS - 2.0
    pacer.wrote(105.0)
    # An owner pressing again after looking at the picture a while: no minute's wait.
    assert pacer.wait(130.0, pressed=True) == 0.0


def test_writes_nobody_repeats_at_will_spend_an_allowance() -> None:
    """Periodic and stop writes are not held back, but count against the burst."""
    pacer = WritePacer()
    for second in range(BURST):
        pacer.wrote(second * 10.0)
    wait = pacer.wait(BURST * 10.0, pressed=True)
    assert 0.0 < wait <= GAP_SECONDS
    assert pacer.wait(BURST * 10.0 + wait, pressed=True) == 0.0


def test_the_old_single_gap_left_a_press_unwritten_for_a_minute() -> None:
    """The same simulation with one gap for all, as before: a press could wait 60 seconds."""
    before = WritePacer(press_gap=GAP_SECONDS, burst=10**9)
    requests = [(0.0, False), (1.0, True)]  # a viewer left, the owner pressed a second later
    assert longest_wait(simulate(before, requests, 120.0), requests) == GAP_SECONDS - 1.0
    now = simulate(WritePacer(), requests, 120.0)
    assert longest_wait(now, requests) == PRESS_GAP_SECONDS - 1.0

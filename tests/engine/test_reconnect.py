"""Tests for the reconnect policy: quick after pictures, growing only while connecting fails."""

from __future__ import annotations

from custom_components.home_guardian.engine.reconnect import ReconnectPolicy


def test_waits_grow_only_while_connecting_fails() -> None:
    """Failed attempts double the wait up to the cap; the cap holds however long it lasts."""
    policy = ReconnectPolicy(quick=1.0, first=1.0, cap=30.0)
    waits = [policy.next_delay(delivered_pictures=False) for _ in range(8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_connection_with_pictures_makes_the_next_attempt_quick() -> None:
    """However short the connection and however many failures before, pictures start over."""
    policy = ReconnectPolicy(quick=0.5, first=1.0, cap=30.0)
    for _ in range(10):
        policy.next_delay(delivered_pictures=False)
    assert policy.next_delay(delivered_pictures=True) == 0.5
    # A camera that drops every few seconds is retried quickly every time.
    for _ in range(20):
        assert policy.next_delay(delivered_pictures=True) == 0.5
    assert policy.next_delay(delivered_pictures=False) == 1.0
    assert policy.next_delay(delivered_pictures=False) == 2.0


def test_reset_and_a_cap_below_the_first_wait() -> None:
    """A still picture starts the count over; a cap below the first wait is raised to it."""
    policy = ReconnectPolicy(quick=1.0, first=1.0, cap=30.0)
    policy.next_delay(delivered_pictures=False)
    policy.next_delay(delivered_pictures=False)
    policy.reset()
    assert policy.next_delay(delivered_pictures=False) == 1.0
    tiny = ReconnectPolicy(quick=5.0, first=2.0, cap=0.5)
    # The raised cap holds failures at the first wait and bounds the quick wait too.
    assert tiny.next_delay(delivered_pictures=False) == 2.0
    assert tiny.next_delay(delivered_pictures=False) == 2.0
    assert tiny.next_delay(delivered_pictures=True) == 2.0


def test_a_first_wait_changed_between_attempts_is_followed() -> None:
    """A new pace applies to the next wait, and a first wait above the cap raises the cap."""
    policy = ReconnectPolicy(quick=1.0, first=1.0, cap=30.0)
    assert policy.next_delay(delivered_pictures=False) == 1.0
    policy.first = 100.0
    assert policy.next_delay(delivered_pictures=False) == 100.0
    assert policy.next_delay(delivered_pictures=False) == 100.0

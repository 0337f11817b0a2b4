"""PIN attempts: lockouts, the global budget, and admission that counts before checking."""

from __future__ import annotations

import pytest

from custom_components.home_guardian.engine.attempts import (
    AUTHORS_KEPT,
    FORGET_AFTER,
    SUSPEND_AFTER,
    Admission,
    AttemptGate,
    Lockout,
    PinBudget,
    Refusal,
    ShareBudgets,
    StandInQueue,
    client_key,
)


def test_lockout_grows_from_a_minute_to_an_hour() -> None:
    lockout = Lockout()
    now = 1000.0
    for _ in range(5):
        assert lockout.check("share", now) == 0.0
        assert lockout.failure("share", now) == 0.0
    waits = []
    for _ in range(8):
        wait = lockout.failure("share", now)
        waits.append(wait)
        now += wait
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert lockout.check("share", now) == 0.0
    lockout.failure("share", now)
    assert lockout.check("share", now + 600) == 3000.0
    assert lockout.check("other", now) == 0.0


def test_success_and_a_quiet_day_forget_failures() -> None:
    lockout = Lockout(free_failures=1)
    lockout.failure("a", 0.0)
    lockout.failure("a", 0.0)
    assert lockout.check("a", 0.0) == 60.0
    lockout.success("a")
    assert lockout.check("a", 0.0) == 0.0
    assert len(lockout) == 0
    lockout.failure("b", 0.0)
    lockout.failure("b", 0.0)
    assert lockout.failure("b", 100.0) == 120.0
    # After a day without failures the count starts again: one failure is free once more.
    assert lockout.failure("b", 100.0 + 86400) == 0.0


def test_lockout_memory_is_bounded() -> None:
    lockout = Lockout(max_entries=3, free_failures=0)
    for n in range(10):
        lockout.failure(f"client-{n}", float(n))
    assert len(lockout) == 3
    assert lockout.check("client-0", 10.0) == 0.0  # evicted, the oldest
    assert lockout.check("client-9", 10.0) > 0.0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
    ],
)
def test_client_keys_group_an_ipv6_host(address: str, key: str) -> None:
    assert client_key(address) == key


# --- Budget ----------------------------------------------------------------------------------


def test_budget_refuses_at_once_past_its_allowance_and_frees_as_the_minute_rolls() -> None:
    budget = PinBudget(per_window=3, window=60.0)
    assert [budget.take(t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert budget.take(30.0) == 30.0  # the check taken at 0 s leaves the window at 60 s
    assert budget.take(59.5) == 0.5
    assert budget.take(60.0) == 0.0
    assert budget.take(60.5) == 0.5


# --- Admission -------------------------------------------------------------------------------


def admit_all(gate: AttemptGate, count: int, *, share: str = "s", client: str = "c") -> int:
    """Admit `count` simultaneous attempts (none settled yet); return how many got through."""
    return sum(isinstance(gate.admit(share, client, 0.0), Admission) for _ in range(count))


def test_a_burst_gets_no_more_guesses_than_attempts_one_after_another() -> None:
    one_by_one = AttemptGate()
    sequential = 0
    for _ in range(30):
        admitted = one_by_one.admit("s", "c", 0.0)
        if isinstance(admitted, Admission):
            sequential += 1
            one_by_one.settle(admitted, correct=False, now=0.0)
    # All thirty at once, none finished: the lockout counts each as it is let through.
    assert admit_all(AttemptGate(), 30) == sequential == 6


def test_refusals_say_how_long_and_why() -> None:
    gate = AttemptGate(budget=PinBudget(per_window=2))
    assert isinstance(gate.admit("a", "c1", 0.0), Admission)
    assert isinstance(gate.admit("b", "c2", 0.0), Admission)
    busy = gate.admit("c", "c3", 0.0)
    assert busy == Refusal(wait=60.0)
    gate = AttemptGate()
    admit_all(gate, 6)
    locked = gate.admit("s", "other", 0.0)
    assert locked == Refusal(wait=60.0)


def test_one_client_spraying_many_shares_is_locked_by_its_address() -> None:
    gate = AttemptGate()
    through = sum(
        isinstance(gate.admit(f"share-{n}", "203.0.113.9", 0.0), Admission) for n in range(30)
    )
    assert through == 6


def test_a_right_pin_at_its_own_share_does_not_forgive_guesses_at_others() -> None:
    """A viewer of one share cannot wipe its address's guesses at others by logging in."""
    gate = AttemptGate()
    through = 0
    for n in range(30):
        # Four guesses at other links, then the guesser's own share with its right PIN.
        through += isinstance(gate.admit(f"share-{n}", "203.0.113.9", float(n)), Admission)
        if n % 4 == 3:
            own = gate.admit("own", "203.0.113.9", float(n))
            if isinstance(own, Admission):
                gate.settle(own, correct=True, now=float(n))
    # As many as without the viewer's own logins (see above): the sixth locks the address.
    assert through == 6
    # The viewer's own typos are forgiven with their right PIN, as before.
    typos = [gate.admit("mine", "198.51.100.7", 0.0) for _ in range(6)]
    for typo in typos[:5]:
        gate.settle(typo, correct=False, now=0.0)  # type: ignore[arg-type]
    gate.settle(typos[5], correct=True, now=0.0)  # type: ignore[arg-type]
    assert gate.client_lockout.failures("198.51.100.7", 0.0) == 0
    # Nor does the right PIN's own count, the sixth, keep the address waiting.
    assert isinstance(gate.admit("theirs", "198.51.100.7", 1.0), Admission)


def test_a_viewer_logging_in_does_not_tell_a_guesser_that_the_link_is_live() -> None:
    """A guesser's lockout at a share runs on the same whether its viewer logs in or not."""

    def guesser_wait(viewer_logs_in: bool) -> float:
        """Six wrong PINs, the viewer maybe logging in after the lock, a seventh from elsewhere."""
        gate = AttemptGate()
        for _ in range(6):
            gate.settle(gate.admit("s", "guesser", 0.0), correct=False, now=0.0)  # type: ignore[arg-type]
        if viewer_logs_in:
            gate.settle(gate.admit("s", "viewer", 61.0), correct=True, now=61.0)  # type: ignore[arg-type]
        return gate.settle(gate.admit("s", "another address", 62.0), correct=False, now=62.0).wait  # type: ignore[arg-type]

    assert guesser_wait(viewer_logs_in=True) == guesser_wait(viewer_logs_in=False) == 120.0


def test_a_viewer_waits_out_a_guessers_lockout_and_forgives_only_their_own_typos() -> None:
    """The right PIN gets in once the share's wait is over, and lifts only what it added."""
    gate = AttemptGate()
    for _ in range(4):
        gate.settle(gate.admit("s", "guesser", 0.0), correct=False, now=0.0)  # type: ignore[arg-type]
    # The viewer's typo is the fifth failure, their right PIN the sixth: the share locks.
    gate.settle(gate.admit("s", "viewer", 1.0), correct=False, now=1.0)  # type: ignore[arg-type]
    right = gate.admit("s", "viewer", 2.0)
    assert isinstance(right, Admission)
    assert gate.share_lockout.check("s", 2.0) == 60.0
    assert gate.settle(right, correct=True, now=2.0).correct
    # Their own two are forgiven, and the wait they set; the guesser's four stay counted.
    assert gate.share_lockout.failures("s", 2.0) == 4
    assert gate.share_lockout.check("s", 2.0) == 0.0
    assert gate.wrong_pins() == {"s": 4}
    # A guesser's lockout (the next minute: the share's allowance is spent till then): the
    # viewer's right PIN is refused until its wait is over, then let in.
    for _ in range(2):
        assert isinstance(gate.admit("s", "guesser", 61.0), Admission)
    assert gate.admit("s", "viewer", 62.0) == Refusal(wait=59.0)
    late = gate.admit("s", "viewer", 121.0)
    assert isinstance(late, Admission)
    assert gate.settle(late, correct=True, now=121.0).correct
    assert gate.share_lockout.failures("s", 121.0) == 6


def test_a_viewer_logging_in_daily_does_not_reset_a_guessers_count_toward_suspension() -> None:
    """Every other day a guesser's few wrong PINs, then the viewer's right one: suspended."""
    gate = AttemptGate()
    now, suspended_on = 0.0, None
    for day in range(10):
        # Two days apart: the lockout has forgotten them by then, the count never does.
        now = day * 2 * 86400.0
        for n in range(3):
            admitted = gate.admit("s", f"guesser-{day}-{n}", now)
            assert isinstance(admitted, Admission)
            if gate.settle(admitted, correct=False, now=now).suspend and suspended_on is None:
                suspended_on = day
        viewer = gate.admit("s", "viewer", now + 3600)
        assert isinstance(viewer, Admission)
        gate.settle(viewer, correct=True, now=now + 3600)
    # The twentieth wrong PIN, on the seventh visit: the viewer's logins forgave none of them.
    assert suspended_on == 6


def test_a_shares_record_of_authors_is_bounded() -> None:
    """A flood of addresses at one share keeps at most AUTHORS_KEPT of them; the wait holds."""
    lockout = Lockout(authors_kept=AUTHORS_KEPT)
    for n in range(1000):
        lockout.failure("s", float(n), author=f"203.0.{n // 250}.{n % 250}")
    assert len(lockout._entries["s"].history or ()) == AUTHORS_KEPT
    assert lockout.failures("s", 1000.0) == 1000
    assert lockout.check("s", 1000.0) == 3599.0
    # Forgiving an author still on record lifts only their one failure: the wait is what the
    # one before it set. An author folded away long ago is forgiven nothing.
    lockout.forgive_author("s", "203.0.3.249", 1000.0)
    assert lockout.failures("s", 1000.0) == 999
    assert lockout.check("s", 1000.0) == 3598.0
    lockout.forgive_author("s", "203.0.0.0", 1000.0)
    assert lockout.failures("s", 1000.0) == 999
    assert lockout.check("s", 1000.0) == 3598.0


def test_locked_attempts_spend_none_of_the_budget() -> None:
    gate = AttemptGate(budget=PinBudget(per_window=7))
    admit_all(gate, 30)
    assert isinstance(gate.admit("another", "elsewhere", 0.0), Admission)


def test_the_right_pin_clears_both_keys_and_a_wrong_one_stays_counted() -> None:
    gate = AttemptGate()
    admissions = [gate.admit("s", "c", 0.0) for _ in range(5)]
    assert all(isinstance(a, Admission) for a in admissions)
    wrong = gate.settle(admissions[0], correct=False, now=1.0)  # type: ignore[arg-type]
    assert not wrong.correct
    assert wrong.wait == 0.0
    assert gate.share_lockout.failures("s", 1.0) == 5
    right = gate.settle(admissions[1], correct=True, now=1.0)  # type: ignore[arg-type]
    assert right.correct
    assert gate.share_lockout.failures("s", 1.0) == 0
    assert gate.client_lockout.failures("c", 1.0) == 0


def test_a_wrong_pin_past_the_free_ones_reports_the_wait() -> None:
    gate = AttemptGate()
    admissions = [gate.admit("s", "c", 0.0) for _ in range(6)]
    verdict = gate.settle(admissions[-1], correct=False, now=1.0)  # type: ignore[arg-type]
    assert verdict.wait == 59.0
    assert not verdict.suspend


def test_twenty_failures_on_one_share_ask_for_suspension() -> None:
    gate = AttemptGate(
        share_lockout=Lockout(free_failures=100), share_budgets=ShareBudgets(per_window=100)
    )
    now = 0.0
    verdicts = []
    for n in range(20):
        # Each from a new address, as a patient guesser with many would.
        admitted = gate.admit("s", f"client-{n}", now)
        assert isinstance(admitted, Admission)
        verdicts.append(gate.settle(admitted, correct=False, now=now).suspend)
    assert verdicts == [False] * 19 + [True]


def guesses_before_suspension(gate: AttemptGate, days: float) -> int:
    """Guess a share's PIN as fast as it lets, resting a quiet day before the 20th; count."""
    now, guesses, client = 0.0, 0, 0
    while now < days * 86400:
        if gate.share_lockout.failures("s", now) == SUSPEND_AFTER - 1:
            now += FORGET_AFTER  # rest, hoping the failures are forgotten
            continue
        # A new address each time: only the share's own count can stop this guesser.
        client += 1
        admitted = gate.admit("s", f"client-{client}", now)
        if isinstance(admitted, Refusal):
            now += admitted.wait
            continue
        guesses += 1
        if gate.settle(admitted, correct=False, now=now).suspend:
            return guesses
    return guesses


def test_a_guesser_resting_a_day_is_still_suspended_at_twenty() -> None:
    # A quiet day ends a lockout's delays, never the count toward suspension.
    assert guesses_before_suspension(AttemptGate(), days=30) == SUSPEND_AFTER


def test_links_naming_no_share_spend_no_budget_and_leave_real_lockouts_alone() -> None:
    gate = AttemptGate(budget=PinBudget(per_window=7), share_lockout=Lockout(max_entries=5))
    assert admit_all(gate, 6, share="real", client="guesser") == 6
    assert gate.share_lockout.check("real", 1.0) > 0
    # A flood of made-up links from many addresses: every one answered, none hashed or budgeted.
    strangers = [
        gate.admit(f"unknown:{n}", f"203.0.113.{n % 250}", 1.0, known=False) for n in range(500)
    ]
    assert all(isinstance(a, Admission) and not a.known for a in strangers)
    assert gate.share_lockout.check("real", 1.0) > 0  # still locked: nothing was evicted
    verdict = gate.settle(strangers[0], correct=True, now=1.0)  # type: ignore[arg-type]
    assert not verdict.correct
    assert isinstance(gate.admit("other", "viewer", 1.0), Admission)  # the 7th of 7
    # The whole's budget spent: a made-up link is refused as a share's link would be.
    assert gate.admit("unknown:y", "198.51.100.200", 2.0, known=False) == Refusal(wait=58.0)
    assert gate.admit("another", "198.51.100.201", 2.0) == Refusal(wait=58.0)
    # The same made-up link tried again and again locks like a real one: nothing tells them apart.
    repeated = [gate.admit("unknown:x", f"198.51.100.{n}", 62.0, known=False) for n in range(7)]
    assert [isinstance(a, Admission) for a in repeated] == [True] * 6 + [False]


def test_made_up_links_never_lock_their_client_out() -> None:
    gate = AttemptGate()
    # Sixty made-up links from the address a viewer shares (a café's): the viewer may still try.
    for n in range(60):
        assert isinstance(gate.admit(f"unknown:{n}", "café", 1.0, known=False), Admission)
    assert isinstance(gate.admit("real", "café", 1.0), Admission)


def test_made_up_links_are_answered_one_check_apart_per_link() -> None:
    queue = StandInQueue(max_entries=2)
    # A burst at one link ends as a share's checks would: one after another.
    assert [queue.due("a", 10.0, 0.5) for _ in range(3)] == [10.5, 11.0, 11.5]
    # Another link waits for none of them, and a link quiet since waits for nothing.
    assert queue.due("b", 10.0, 0.5) == 10.5
    assert queue.due("a", 20.0, 0.5) == 20.5
    # Memory bounded: the longest-quiet link is forgotten first.
    queue.due("c", 20.0, 0.5)
    assert queue.due("b", 20.0, 0.5) == 20.5


def test_one_share_spends_only_its_own_allowance() -> None:
    gate = AttemptGate(client_lockout=Lockout(free_failures=1000))
    # One viewer's right PIN again and again: past the share's allowance, refused at once.
    outcomes = []
    for n in range(40):
        admitted = gate.admit("mallory", "198.51.100.1", float(n))
        outcomes.append(isinstance(admitted, Admission))
        if isinstance(admitted, Admission):
            assert gate.settle(admitted, correct=True, now=float(n)).correct
    assert outcomes.count(True) == 6
    # Her right PINs gave their checks back to the whole: every other share has all of it.
    others = [gate.admit(f"share-{n}", f"192.0.2.{n}", 40.0) for n in range(30)]
    assert all(isinstance(a, Admission) for a in others)
    assert gate.admit("share-x", "192.0.2.99", 40.0) == Refusal(wait=60.0)
    # A share past its own allowance takes none of the whole's.
    budgeted = AttemptGate(budget=PinBudget(per_window=7), client_lockout=Lockout(free_failures=99))
    assert admit_all(budgeted, 30, share="guessed", client="many") == 6
    assert isinstance(budgeted.admit("another", "elsewhere", 0.0), Admission)


def test_the_count_toward_suspension_is_handed_over_and_taken_back() -> None:
    gate = AttemptGate()
    verdicts = []
    for correct in (False, False, True, True):
        admitted = gate.admit("s", "viewer", 0.0)
        assert isinstance(admitted, Admission)
        verdicts.append(gate.settle(admitted, correct=correct, now=0.0))
        if verdicts[-1].recounted:
            stored = gate.wrong_pins()
        if len(verdicts) == 2:
            assert gate.wrong_pins() == {"s": 2}
    # Only a change of the count is to be written: a right PIN after a clean one is not.
    assert [verdict.recounted for verdict in verdicts] == [True, True, True, False]
    assert stored == {}
    restarted = AttemptGate()
    restarted.restore_wrong_pins({"s": SUSPEND_AFTER - 1})
    admitted = restarted.admit("s", "guesser", 0.0)
    assert isinstance(admitted, Admission)
    assert restarted.settle(admitted, correct=False, now=0.0).suspend

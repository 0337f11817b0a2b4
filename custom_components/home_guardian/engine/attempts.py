"""PIN attempts that cannot be turned into a weapon: lockouts, budgets and admission.

A PIN check is slow and memory-hard on purpose (scrypt, 128 MiB), so every attempt costs Home
Assistant something and each one is a guess. The rules, decided here and used by the HA layer:

* An attempt is admitted or refused before any hashing. `AttemptGate.admit` looks at the
  share's lockout, the client's lockout and the budgets, and on admission counts the
  attempt as a failure at once, in both lockouts. Whatever happens next (the client hangs up,
  the handler is cancelled, a thousand twins arrive in the same millisecond) the guess has been
  paid for: a burst gets exactly the guesses that the same attempts one after another would
  get, never more. A right PIN then forgives its own client's failures at that share, in both
  lockouts, and nobody else's (`settle`): its client's guesses at other shares stay counted,
  and so do other clients' guesses at this share. The share's lockout keeps who made each of
  its newest failures (AUTHORS_KEPT) for this, and waits afterwards as long as the others'
  failures alone would have made it wait: a guesser locked out at a link, trying again from
  another address, finds the same wait whether or not a viewer logged in meanwhile. A right
  PIN is refused while its share is locked, as any attempt is, and let in once the wait is
  over.
* Both lockouts allow FREE_FAILURES failures, then lock the key for FIRST_DELAY seconds,
  doubling up to MAX_DELAY. One is keyed by share (a guesser anywhere), one by
  `client_key(address)` (one client spraying many shares; an IPv6 host counts by its /64).
* A link that names a share, live or ended (expired, revoked, suspended), is checked the same
  way: the same keys, budgets and queue, and a hash of the same cost (against a stand-in when
  the share has ended), so nothing tells a link holder whether such a link is still live.
* A link that names no share (made up, or ended long enough ago to be forgotten) has nothing
  to guess behind it. It is counted against a lockout and an allowance of its own, keyed by
  the whole token's digest (never a part the caller can choose to share with a real link), in
  tables of their own (`unknown_lockout`, `unknown_budgets`), so that a flood of them cannot
  evict a real share's lockout from memory. It never counts against its client, so that a
  stranger behind a viewer's address cannot lock them out; all that tells is that a link was
  never issued (or is forgotten), never whether an issued one is live.
  It is refused when the whole's budget is spent, as a share's link is, but never spends it,
  and it is never hashed: the HA layer answers it after the time a check would take, queued
  behind the same link's earlier attempts (`StandInQueue`). So strangers' made-up links can
  neither starve viewers nor lengthen their queue.
* Budgets cap the checks started per minute: SHARE_CHECKS_PER_MINUTE per share, and
  PIN_CHECKS_PER_MINUTE for Home Assistant as a whole, well above one share's, so that one
  share's guesser (or its viewer logging in again and again) spends only that share's
  allowance. A right PIN gives its check back to the whole (`settle`): a viewer's own logins
  count toward their share alone. Past a budget, attempts are refused at once (the view answers
  429), so no crowd of addresses can queue unbounded work. How many run at once (their memory)
  is bounded by the HA layer, which holds a slot until the hash has finished, not until the
  client leaves.
* After SUSPEND_AFTER wrong PINs on one share, `settle` says to suspend the share: its owner
  decides, as after a viewer's report. This count is the share's own, not the lockout's: a
  quiet day ends the lockout's delays (a viewer's old typos), never the count, so a guesser
  who rests a day between rounds is stopped at the same twentieth guess. A right PIN takes
  off only its own client's wrong PINs at that share (as far as the per-client record still
  holds them: not across a restart, nor past a day of quiet), so a viewer logging in every day
  hands a guesser nothing; only the owner's word (`forgive`) starts it again. It is counted when
  the check ends (`settle`, which always runs: the check is never cancelled), and the HA layer
  writes it with the shares, so a restart does not start it again either.

Clocks are monotonic seconds, injected. Only the count toward suspension is stored (by the HA
layer, through `wrong_pins` and `restore_wrong_pins`); lockouts and budgets start afresh.
"""

from __future__ import annotations

from collections import OrderedDict, deque
import contextlib
from dataclasses import dataclass
import ipaddress
import threading
from typing import Final

FREE_FAILURES: Final = 5
FIRST_DELAY: Final = 60.0
MAX_DELAY: Final = 3600.0
# A day without failures forgets them: a viewer's rare typos never add up to a lockout.
FORGET_AFTER: Final = 86400.0
MAX_ENTRIES: Final = 10_000
# Legitimate viewers enter a PIN once per visit; 30 a minute for a whole home is generous, and
# at one check at a time (about 0.45 s each) the queue behind them never waits past ~14 s.
PIN_CHECKS_PER_MINUTE: Final = 30
# One share's allowance: a lockout's whole burst (FREE_FAILURES + 1) fits, and one share's
# guesser or restless viewer takes at most a fifth of the whole.
SHARE_CHECKS_PER_MINUTE: Final = 6
BUDGET_WINDOW: Final = 60.0
# With the lockout's growing delays, reaching 20 takes an attacker about nine hours: a
# viewer's typos never get there, a patient guesser always does, and the owner hears of it.
SUSPEND_AFTER: Final = 20
# A share's lockout keeps who made each of its newest failures, so that a right PIN forgives
# only its own address's. Past the count where the wait stops growing (FREE_FAILURES + 7) and
# past SUSPEND_AFTER: at an hour a failure, a viewer's typos leave it only after a day. Older
# failures are folded into a count nobody can forgive. Only shares have such a lockout (a few
# hundred), so it stays under a few MiB.
AUTHORS_KEPT: Final = 32


@dataclass(slots=True)
class _Failures:
    """Failed attempts of one key and when the next attempt is allowed."""

    count: int
    last: float
    allowed_at: float
    # The newest failures' (author, time), oldest first, when the lockout keeps authors (None
    # otherwise: an empty deque costs 760 bytes, times ten thousand addresses); the count and
    # wait of the failures folded out of it, which no right PIN can forgive.
    history: deque[tuple[str | None, float]] | None = None
    base_count: int = 0
    base_allowed_at: float = 0.0


class Lockout:
    """Growing delays after failed PIN attempts, per key; memory bounded.

    After `free_failures` failures each further failure locks the key for `first_delay`
    seconds, doubling up to `max_delay`. A locked key is refused before any PIN is hashed; the
    view answers 429 with Retry-After (never 401, which makes HA ban the address for everyone
    behind it).
    """

    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        forget_after: float = FORGET_AFTER,
        max_entries: int = MAX_ENTRIES,
        authors_kept: int = 0,
    ) -> None:
        """Set the policy; `authors_kept` > 0 keeps who made each of a key's newest failures."""
        self.free_failures = free_failures
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_entries = max_entries
        self.authors_kept = authors_kept
        self._entries: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return how many keys have failures on record."""
        return len(self._entries)

    def check(self, key: str, now: float) -> float:
        """Return the seconds `key` must wait before its next attempt (0 when it may try)."""
        with self._lock:
            entry = self._live(key, now)
            return 0.0 if entry is None else max(0.0, entry.allowed_at - now)

    def failures(self, key: str, now: float) -> int:
        """Return how many failures `key` has on record."""
        with self._lock:
            entry = self._live(key, now)
            return 0 if entry is None else entry.count

    def failure(self, key: str, now: float, author: str | None = None) -> float:
        """Record a failed attempt (by `author`); return the seconds the key must now wait."""
        with self._lock:
            entry = self._live(key, now) or _Failures(
                count=0, last=now, allowed_at=now, base_allowed_at=now
            )
            entry.count += 1
            entry.last = now
            entry.allowed_at = self._after(entry.count, now, entry.allowed_at)
            if self.authors_kept > 0:
                if entry.history is None:
                    entry.history = deque()
                entry.history.append((author, now))
                while len(entry.history) > self.authors_kept:
                    _, at = entry.history.popleft()
                    entry.base_count += 1
                    entry.base_allowed_at = self._after(entry.base_count, at, entry.base_allowed_at)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            # Evict the longest-quiet keys: a flood of new addresses cannot grow memory.
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return max(0.0, entry.allowed_at - now)

    def success(self, key: str) -> None:
        """Forget a key's failures after a correct PIN."""
        with self._lock:
            self._entries.pop(key, None)

    def forgive(self, key: str, count: int, now: float) -> None:
        """Forget `count` of a key's failures; a wait the rest still earn runs on."""
        with self._lock:
            if (entry := self._live(key, now)) is None or count <= 0:
                return
            entry.count = max(0, entry.count - count)
            if entry.count <= self.free_failures:
                # What is left earns no wait: one set by the forgiven failures is lifted.
                entry.allowed_at = min(entry.allowed_at, now)
            if entry.count == 0:
                del self._entries[key]

    def forgive_author(self, key: str, author: str, now: float) -> None:
        """Forget an author's failures at a key, as if they had never been made.

        The key then waits as long as the others' failures alone would have made it wait: a
        right PIN lifts only what its own address added, so a guesser elsewhere sees their
        wait run on unchanged. Needs `authors_kept`; failures folded out of the kept history
        stay counted.
        """
        with self._lock:
            if (entry := self._live(key, now)) is None or entry.history is None:
                return
            kept = [(who, at) for who, at in entry.history if who != author]
            if len(kept) == len(entry.history):
                return
            entry.history = deque(kept)
            entry.count, entry.allowed_at = entry.base_count, entry.base_allowed_at
            for _, at in kept:
                entry.count += 1
                entry.allowed_at = self._after(entry.count, at, entry.allowed_at)
            if entry.count == 0:
                del self._entries[key]

    def _after(self, count: int, at: float, allowed_at: float) -> float:
        """Return when a key may try again after its `count`th failure, made at `at`."""
        excess = count - self.free_failures
        if excess <= 0:
            return allowed_at
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(excess - 1, 62))
        return max(allowed_at, at + delay)

    def _live(self, key: str, now: float) -> _Failures | None:
        """Return a key's record unless it is old enough to forget (then drop it)."""
        entry = self._entries.get(key)
        if entry is not None and now - entry.last >= self.forget_after and now >= entry.allowed_at:
            del self._entries[key]
            return None
        return entry


class PinBudget:
    """At most `per_window` PIN checks started per rolling `window` seconds, for everyone."""

    def __init__(
        self, *, per_window: int = PIN_CHECKS_PER_MINUTE, window: float = BUDGET_WINDOW
    ) -> None:
        """Set the allowance; its memory is one timestamp per allowed check."""
        self.per_window = per_window
        self.window = window
        self._started: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self, now: float) -> float:
        """Take one check and return 0, or return the seconds until one is free (taking none)."""
        with self._lock:
            if (busy := self._wait(now)) > 0:
                return busy
            self._started.append(now)
            return 0.0

    def wait(self, now: float) -> float:
        """Return the seconds until a check is free (0 when one is), taking none."""
        with self._lock:
            return self._wait(now)

    def _wait(self, now: float) -> float:
        """Forget checks past the window; return the seconds until one is free (lock held)."""
        while self._started and now - self._started[0] >= self.window:
            self._started.popleft()
        if len(self._started) >= self.per_window:
            return max(0.001, self._started[0] + self.window - now)
        return 0.0

    def give_back(self, taken_at: float) -> None:
        """Return a check taken at `taken_at` to the allowance."""
        with self._lock, contextlib.suppress(ValueError):
            self._started.remove(taken_at)


class ShareBudgets:
    """A `PinBudget` per share, made on first use; memory bounded like the lockouts."""

    def __init__(
        self,
        *,
        per_window: int = SHARE_CHECKS_PER_MINUTE,
        window: float = BUDGET_WINDOW,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        """Set each share's allowance."""
        self.per_window = per_window
        self.window = window
        self.max_entries = max_entries
        self._budgets: OrderedDict[str, PinBudget] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Take one check of `key`'s allowance and return 0, or return the seconds to wait."""
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                budget = self._budgets[key] = PinBudget(
                    per_window=self.per_window, window=self.window
                )
            self._budgets.move_to_end(key)
            # Only shares that exist take a budget (at most a few hundred): never evicted
            # in practice, and a bound all the same.
            while len(self._budgets) > self.max_entries:
                self._budgets.popitem(last=False)
            return budget.take(now)

    def give_back(self, key: str, taken_at: float) -> None:
        """Return a check of `key` taken at `taken_at` to its allowance."""
        with self._lock:
            if (budget := self._budgets.get(key)) is not None:
                budget.give_back(taken_at)


@dataclass(frozen=True, kw_only=True, slots=True)
class Admission:
    """An attempt let through to a PIN check, already counted as a failure of both keys."""

    share_key: str
    client: str
    # False for a link that names no share: never hashed, and it took none of the whole's budget.
    known: bool = True
    # When the check was taken from the whole budget, to give it back after a right PIN.
    at: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Refusal:
    """An attempt refused before any hashing: wait this long (locked, or the budget is spent)."""

    wait: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """What a finished check means: how long the keys now wait, and whether to suspend."""

    correct: bool
    wait: float
    suspend: bool
    # True when the share's count toward suspension changed: it is to be written.
    recounted: bool = False


class AttemptGate:
    """Admit PIN attempts through both lockouts and the budgets, each counted before its check."""

    def __init__(
        self,
        *,
        share_lockout: Lockout | None = None,
        client_lockout: Lockout | None = None,
        budget: PinBudget | None = None,
        share_budgets: ShareBudgets | None = None,
        suspend_after: int = SUSPEND_AFTER,
    ) -> None:
        """Use the given policies, the defaults above otherwise."""
        # `is None`, not `or`: an empty Lockout has no length and would read as false.
        self.share_lockout = (
            Lockout(authors_kept=AUTHORS_KEPT) if share_lockout is None else share_lockout
        )
        self.client_lockout = Lockout() if client_lockout is None else client_lockout
        self.unknown_lockout = Lockout()
        # Each client's failures per share, never delayed: a right PIN forgives its client only
        # what it got wrong at that share, not its guesses at others. Forgotten no later than
        # the client's own record (every failure here is one there too).
        self.client_share_failures = Lockout(first_delay=0.0, max_delay=0.0)
        self.unknown_budgets = ShareBudgets()
        self.budget = PinBudget() if budget is None else budget
        self.share_budgets = ShareBudgets() if share_budgets is None else share_budgets
        self.suspend_after = suspend_after
        # Wrong PINs per share since its last right one, toward suspension; never aged out.
        self._wrong: OrderedDict[str, int] = OrderedDict()
        # admit() must be atomic across threads as well as on the event loop.
        self._lock = threading.Lock()

    def admit(
        self, share_key: str, client: str, now: float, *, known: bool = True
    ) -> Admission | Refusal:
        """Let an attempt through and count it, or refuse it with how long to wait.

        `known` is False for a link that names no share: its lockout and its allowance are kept
        in tables of their own, it is refused by the whole's budget without spending it, and it
        does not count against its client.
        """
        with self._lock:
            share_lockout = self.share_lockout if known else self.unknown_lockout
            share_budgets = self.share_budgets if known else self.unknown_budgets
            wait = max(share_lockout.check(share_key, now), self.client_lockout.check(client, now))
            if wait > 0:
                return Refusal(wait=wait)
            # Locked attempts above spend nothing; only a check about to run uses a budget, the
            # share's first, so that a share past its own spends none of the whole.
            if (busy := share_budgets.take(share_key, now)) > 0:
                return Refusal(wait=busy)
            if (busy := self.budget.take(now) if known else self.budget.wait(now)) > 0:
                share_budgets.give_back(share_key, now)
                return Refusal(wait=busy)
            if known:
                # Only a share's link counts against its client: a stranger behind the same
                # address (a café's, a carrier's) spraying made-up links locks no viewer out.
                self.client_lockout.failure(client, now)
                self.client_share_failures.failure(_pair(client, share_key), now)
            share_lockout.failure(share_key, now, author=client)
            return Admission(share_key=share_key, client=client, known=known, at=now)

    def forgive(self, share_key: str) -> None:
        """Forget a share's failures, as when its owner resumes it after a suspension."""
        with self._lock:
            self.share_lockout.success(share_key)
            self._wrong.pop(share_key, None)

    def wrong_pins(self) -> dict[str, int]:
        """Return each share's wrong PINs since its last right one, to be stored."""
        with self._lock:
            return dict(self._wrong)

    def restore_wrong_pins(self, counts: dict[str, int]) -> None:
        """Take back the counts stored before a restart."""
        with self._lock:
            for share_key, count in counts.items():
                self._count_wrong(share_key, count)

    def _count_wrong(self, share_key: str, count: int = 1) -> int:
        """Add wrong PINs to a share's count and return it (the caller holds the lock)."""
        total = self._wrong[share_key] = self._wrong.pop(share_key, 0) + count
        # Only shares that exist are counted: a few hundred, a bound all the same.
        while len(self._wrong) > MAX_ENTRIES:
            self._wrong.popitem(last=False)
        return total

    def _forgive_wrong(self, share_key: str, count: int) -> bool:
        """Take wrong PINs off a share's count; return True when it changed (lock held)."""
        held = self._wrong.get(share_key, 0)
        if count <= 0 or held == 0:
            return False
        if held <= count:
            del self._wrong[share_key]
        else:
            self._wrong[share_key] = held - count
        return True

    def settle(self, admission: Admission, *, correct: bool, now: float) -> Verdict:
        """Take a finished check: a right PIN forgives its own failures, a wrong one counts."""
        with self._lock:
            if correct and admission.known:
                # A viewer's own typos are forgiven, and nobody else's: guesses its address
                # made at other shares stay counted, or one right PIN would reopen every share
                # to a sprayer; other addresses' guesses at this share stay counted, or a
                # guesser who finds their wait gone would learn that a viewer logged in.
                pair = _pair(admission.client, admission.share_key)
                own = self.client_share_failures.failures(pair, now)
                self.client_lockout.forgive(admission.client, own, now)
                self.client_share_failures.success(pair)
                self.share_lockout.forgive_author(admission.share_key, admission.client, now)
                # Its own wrong PINs leave the count toward suspension too, never others':
                # a viewer logging in daily must not hand a patient guesser twenty more.
                recounted = self._forgive_wrong(admission.share_key, own - 1)
                self.budget.give_back(admission.at)
                return Verdict(correct=True, wait=0.0, suspend=False, recounted=recounted)
            share_lockout = self.share_lockout if admission.known else self.unknown_lockout
            wait = max(
                share_lockout.check(admission.share_key, now),
                self.client_lockout.check(admission.client, now),
            )
            if not admission.known:
                return Verdict(correct=False, wait=wait, suspend=False)
            suspend = self._count_wrong(admission.share_key) >= self.suspend_after
            return Verdict(correct=False, wait=wait, suspend=suspend, recounted=True)


class StandInQueue:
    """When a check of a link that names no share would end, had it queued like a real one.

    A share's checks run one after another, so a burst at one link is answered one hash apart.
    A link that names no share is never hashed; its answers are spaced the same way, per link,
    so that a burst at a held link tells nothing. Memory bounded like the lockouts.
    """

    def __init__(self, *, max_entries: int = MAX_ENTRIES) -> None:
        """Start with no link queued."""
        self.max_entries = max_entries
        self._free_at: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def due(self, key: str, now: float, seconds: float) -> float:
        """Queue a check of `seconds` for `key` arriving at `now`; return when it ends."""
        with self._lock:
            ends = max(now, self._free_at.pop(key, now)) + seconds
            self._free_at[key] = ends
            while len(self._free_at) > self.max_entries:
                self._free_at.popitem(last=False)
            return ends


def _pair(client: str, share_key: str) -> str:
    """Return the key of one client's failures at one share."""
    return f"{client} {share_key}"


def client_key(address: str) -> str:
    """Return the lockout key of a client address: IPv4 as is, IPv6 by its /64.

    One IPv6 host owns a whole /64 and can change address at will; counting per address would
    hand it billions of fresh attempts.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)

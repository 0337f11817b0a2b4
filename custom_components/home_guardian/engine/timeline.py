"""Let a guardian's time run: count quiet, blind and alert time, and fire what falls due.

Engine time moves only when the guardian is called with a later `now`. On the way it stops at
every wall-clock mark where something happens (a quarter-hour, the start or end of active
hours, the moment a motion source that stays on stops counting) and at every moment a rule
falls due (`limits.py`), so alerts fire at the exact instant they became due even when the
guardian is only called much later. Between two stops nothing changes, so the counters grow
linearly: quiet while something can see and nobody moves, blind while nothing can see, the
open alert's age always. At quarter-hours the routine counts the watched time; at the start
of active hours the night's silence is filed and the day's count starts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from .alerts import Alert, AlertChange, Mode, Reason
from .config import GuardianConfig
from .limits import BLIND_DRAIN, Due, first_due, presence_hold, rules_in_force, silence
from .schedule import (
    QUARTER_HOUR,
    DailySchedule,
    is_quarter_mark,
    next_quarter_hour,
    quarter_of_week,
)
from .sources import SourceBook
from .state import NONE, GuardianState, aware, load

# A quarter-hour counts toward the routine only if something could see for half of it.
_WATCHED_QUARTER: Final = QUARTER_HOUR / 2
# A host without a battery clock sets it from the network minutes after it starts: a forward
# jump that soon after the start tells that the clock was behind for the whole run so far.
_CLOCK_SET_AFTER_START: Final = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class _Stop:
    """The saved engine time a restart resumed from, and the quiet count as it stood then."""

    clock: datetime
    quiet_since: datetime | None
    last_activity: datetime | None
    quiet: timedelta
    day_quiet: timedelta


class Timeline(ABC):
    """A guardian's state, sources and rules over time; subclasses say what firing a rule does."""

    def __init__(self, config: GuardianConfig, state: Mapping[str, Any] | None = None) -> None:
        """Start a new guardian, or continue from `to_dict` data saved earlier."""
        config.validate()
        self._config = config
        self._zone = config.zone
        self._schedule = DailySchedule(
            zone=self._zone,
            active_start=config.active_start,
            active_end=config.active_end,
            deadlines=config.expected_by,
        )
        self._state = load(state) if state is not None else GuardianState()
        self._book = self._source_book()
        # True while catching up on time Home Assistant was not running.
        self._unobserved = False
        # The return from downtime: what fell due while down waits there until what the
        # sources show on return has been read (see `resume`).
        self._held_at: datetime | None = None
        # When this run began watching: instants noted before it come from the saved state.
        self._run_start: datetime | None = None
        # Where a restart resumed from, until the first forward jump; and whether anything
        # has restarted the quiet count since the return (movement read on as it was does not).
        self._stopped_at: _Stop | None = None
        self._moved_since_return = False
        # Whether the clock has jumped forward since this run began.
        self._jumped = False

    def _source_book(self) -> SourceBook:
        """Return a book of sources that keeps what it must remember in the saved state."""
        return SourceBook(
            timedelta(minutes=self._config.motion_stuck_minutes),
            shown=self._state.shown,
            moving_since=self._state.moving_since,
            stuck=self._state.stuck,
            bout_since=self._state.bout_since,
            off_since=self._state.off_since,
            unseen_since=self._state.unseen_since,
            present_since=self._state.present_since,
            room_since=self._state.room_since,
            changed=self._state.changed,
            beats=self._state.beats,
            rests=self._state.rests,
            found_on=self._state.found_on,
        )

    @property
    def can_see(self) -> bool:
        """Tell whether at least one source can see (true before any source is known)."""
        # An alarm button tells a call for help and a presence sensor that someone is there,
        # never that someone moves: within reach while every camera is blind, they see
        # nothing of a silence.
        watching = [
            seeing
            for source, seeing in self._state.sources.items()
            if not self._book.shows_no_activity(source)
        ]
        return not watching or any(watching)

    def evaluate(self, now: datetime) -> list[AlertChange]:
        """Let time run up to `now` and return the alert changes that became due."""
        self._held_at = None
        return self._advance(aware(now), inclusive=True)

    def resume(self, now: datetime) -> list[AlertChange]:
        """Catch up after restoring saved state: the time since it was saved was downtime.

        A rule that fell due while down is due at the return, and what the sources show then
        (read with `baseline`) arrives at that same instant, so it wins, as any event exactly
        at a due time does: someone moving in view on the return is not announced as a
        silence and cleared in the same breath. What is still due fires at `evaluate`.
        """
        now = aware(now)
        self._unobserved = True
        self._held_at = self._run_start = now
        self._jumped = False
        state = self._state
        if state.clock is not None:
            self._stopped_at = _Stop(
                state.clock, state.quiet_since, state.last_activity, state.quiet, state.day_quiet
            )
            self._moved_since_return = False
            self._book.stopped(state.clock)
        try:
            return self._advance(now, inclusive=True)
        finally:
            self._unobserved = False

    def clock_jumped(self, now: datetime) -> list[AlertChange]:
        """Move to `now` after a wall-clock jump that was not real elapsed time.

        Wall-clock boundaries passed on the way (a new day of active hours) still apply; no
        quiet time is added, so neither quiet limits nor deadlines come closer. What this run
        noted of its sources by the clock before the jump moves with it: after a start on a
        clock that was behind (a host without a battery clock, before the network sets it),
        someone present is present since the start, not for the weeks the clock skipped.

        The first jump after a restart may instead tell that the downtime was longer than the
        clock said at the start (a clock restored from the shutdown's time): that much of it
        is downtime, and counts as `resume` counts downtime, unless something happened since
        the start, which shows the silence it belongs to is over. A motion source read on at the
        start, as it was at the stop, was then unseen that much longer: found on, it was no
        movement since the stop.
        """
        now = aware(now)
        if self._state.clock is None or now <= self._state.clock:
            return self._advance(now, inclusive=True)
        skip = now - self._state.clock
        self._book.shift(self._run_start, self._state.clock, skip)
        first, self._jumped = not self._jumped, True
        started = self._run_start
        if first and started is not None and self._state.clock - started <= _CLOCK_SET_AFTER_START:
            self._shift_activity(skip)
        unseen = self._unseen_downtime(skip)
        lived_to = now - unseen
        while (boundary := self._next_boundary(self._state.done or lived_to)) <= lived_to:
            self._state.clock = boundary
            self._cross(boundary)
            self._state.done = boundary
        self._state.clock = lived_to
        self._state.quarter_valid = False
        self._unobserved = unseen > NONE
        try:
            return self._advance(now, inclusive=True)
        finally:
            self._unobserved = False

    def _shift_activity(self, skip: timedelta) -> None:
        """Move the last activity and the quiet's start on by `skip` if this run noted them.

        The clock set soon after the start was `skip` behind: activity seen since the start
        happened that much later (not before the day began, if the clock said so). Later, a
        jump may be time the host did not see (a machine paused): what was seen stays put.
        """
        start, end, stop = self._run_start, self._state.clock, self._stopped_at
        saved = () if stop is None else (stop.quiet_since, stop.last_activity)

        def moved(moment: datetime | None) -> datetime | None:
            """Return `moment` moved on, if this run noted it."""
            if moment is None or start is None or end is None or moment in saved:
                return moment
            return moment + skip if start <= moment <= end else moment

        self._state.last_activity = moved(self._state.last_activity)
        self._state.quiet_since = moved(self._state.quiet_since)

    def _unseen_downtime(self, skip: timedelta) -> timedelta:
        """Return how much of a forward jump of `skip` is downtime the restart did not count."""
        stop, self._stopped_at = self._stopped_at, None
        started = self._run_start
        if stop is None or started is None:
            # A fresh start has no downtime.
            return NONE
        if self._book.unseen_longer(started + skip) and not self._moved_since_return:
            # Read on the return as moving on, and found on by the true time: quiet counts
            # from the stop, as if it had been found on then.
            self._count_quiet_from(stop, self._state.clock or started, started)
        elif stop.quiet_since != self._state.quiet_since:
            # Activity since the start ended its silence.
            return NONE
        # The start's clock said `started`; had it been right, the downtime would have run
        # `skip` longer. Behind the shutdown, the resume counted none of it: take that back.
        return max(NONE, skip - max(NONE, stop.clock - started))

    def _count_quiet_from(self, stop: _Stop, clock: datetime, started: datetime) -> None:
        """Count quiet as it stood at `stop`, plus the time the clock has run since then."""
        # Before the jump, the clock ran from the stop, or from the start if it began behind.
        ran = max(NONE, clock - min(stop.clock, started)) if self.can_see else NONE
        self._state.quiet_since = stop.quiet_since
        self._state.last_activity = stop.last_activity
        self._state.quiet = stop.quiet + ran
        self._state.day_quiet = stop.day_quiet + ran
        self._state.silence_valid = False

    def next_check(self, now: datetime) -> datetime | None:
        """Return when `evaluate` should run next (at the latest), or None if never needed."""
        now = aware(now)
        if self._state.clock is None:
            return None
        wake = self._next_wake(self._state.clock)
        due = self._first_due(self._state.clock, wake)
        return max(min(wake, due[0]) if due else wake, now)

    def catch_up(self, until: datetime) -> list[AlertChange]:
        """Evaluate at every check time before `until`, as a simulated clock would."""
        until = aware(until)
        changes: list[AlertChange] = []
        while (
            self._state.clock is not None
            and (due := self.next_check(self._state.clock)) is not None
        ):
            if due >= until:
                break
            if due <= self._state.clock:
                raise RuntimeError("the guardian's next check does not move forward")
            changes += self.evaluate(due)
        return changes

    # Time running.

    def _advance(self, now: datetime, *, inclusive: bool) -> list[AlertChange]:
        """Run engine time to `now`, firing what falls due (at `now` too when `inclusive`)."""
        changes: list[AlertChange] = []
        if self._state.clock is None or self._state.done is None:
            self._state.clock = self._state.done = now
            day_start = self._schedule.last_active_start(now)
            budget = self._schedule.deadline_budget(day_start)
            if budget is not None and now < day_start + budget:
                # Started after the day began: the unwatched time counts as blind, so today's
                # deadline moves back by it rather than being dropped.
                self._state.day_start = day_start
        elif now < self._state.clock:
            # A backwards jump: no time passes, and the quarter-hour in progress is unreliable.
            self._state.clock = now
            self._state.quarter_valid = False
            self._state.silence_valid = False
        while True:
            boundary = self._next_boundary(self._state.done)
            if boundary <= self._state.clock and (boundary < now or inclusive):
                self._cross(boundary)
                self._state.done = boundary
                continue
            end = min(self._next_boundary(self._state.clock), now)
            due = self._first_due(self._state.clock, end)
            held = self._held_at is not None and now <= self._held_at
            if due is not None and (due[0] < now or inclusive) and not held:
                self._accrue(self._state.clock, due[0])
                self._state.clock = due[0]
                changes += self._fire(due.reason, now, room=due.room)
                continue
            if self._state.clock == now:
                return changes
            self._accrue(self._state.clock, end)
            self._state.clock = end

    def _next_boundary(self, after: datetime) -> datetime:
        """Return the next instant after `after` where something happens by the wall clock."""
        return min(next_quarter_hour(after, self._zone), self._next_wake(after))

    def _next_wake(self, after: datetime) -> datetime:
        """Return the next boundary after which the rules in force change."""
        ends = self._book.stops_counting()
        if (hold := presence_hold(self._config, self._state.mode)) is not None:
            # Motion that stays on stops holding back the presence warnings then.
            ends += [start + hold for start in self._book.moving_starts()]
        return min([self._schedule.next_change(after), *(end for end in ends if end > after)])

    def _accrue(self, start: datetime, end: datetime) -> None:
        """Count the time from `start` to `end`, during which nothing changes."""
        elapsed = end - start
        if elapsed <= NONE:
            return
        # Time with an alert open is still learned from: most alerts end with the person
        # moving, and a routine that skipped them would never learn the lie-in it alerted on.
        if self._unobserved or self._state.mode is not Mode.HOME:
            self._state.quarter_valid = False
            self._state.silence_valid = False
        if self._state.alert is not Alert.NONE:
            self._state.alert_age += elapsed
        if not self.can_see:
            # Never more than the grace: past it, "cannot monitor" is said, and a longer outage
            # must not keep it said for longer once sight is back.
            grace = timedelta(minutes=self._config.blind_grace_minutes)
            self._state.blind = min(self._state.blind + elapsed, grace)
            return
        self._state.blind = max(NONE, self._state.blind - elapsed * BLIND_DRAIN)
        if self._book.moving(start):
            # Someone is moving all along: this is activity, not quiet.
            self._state.last_activity = end
            self._state.quiet_since = end
            self._state.quiet = self._state.day_quiet = NONE
            self._state.silence_valid = True
            return
        # Only time in which a silence could begin tells the routine how often they do.
        self._state.quarter_seeing += elapsed
        self._state.quiet += elapsed
        self._state.day_quiet += elapsed

    def _cross(self, boundary: datetime) -> None:
        """Do what the wall clock asks at `boundary`."""
        # On for too long to be somebody moving: stop counting it until it changes.
        self._book.expire(boundary)
        if is_quarter_mark(boundary, self._zone):
            self._close_quarter(boundary)
        if self._schedule.is_active_start(boundary):
            self._state.day_start = boundary
            if not self._schedule.around_the_clock:
                # The night's silence ends here for the routine; the morning's begins. Active
                # around the clock, there is no night: a silence goes on across the day's start.
                self._note_silence(boundary)
                self._state.day_quiet = NONE

    def _close_quarter(self, mark: datetime) -> None:
        """Tally the quarter-hour that ends at `mark` toward the routine's readiness."""
        if self._state.quarter_valid and self._state.quarter_seeing >= _WATCHED_QUARTER:
            self._state.routine.watched(quarter_of_week(mark - QUARTER_HOUR, self._zone))
        self._state.quarter_seeing = NONE
        self._state.quarter_valid = True
        self._state.routine.age_to(mark.astimezone(self._zone).date())

    def _note_silence(self, at: datetime) -> None:
        """File the silence that ends at `at` with the routine, if it was an ordinary one."""
        start, length = silence(self._state, self._schedule, at - timedelta(microseconds=1))
        if (
            self._state.silence_valid
            and start is not None
            and self._state.mode is Mode.HOME
            and self._schedule.is_active(start)
        ):
            self._state.routine.record(quarter_of_week(start, self._zone), length)
        self._state.silence_valid = True

    # Rules.

    def _first_due(self, start: datetime, end: datetime) -> Due | None:
        """Return the first rule to fire between `start` and `end` (nothing changes in between)."""
        rules = rules_in_force(
            self._state,
            self._config,
            self._schedule,
            start,
            seeing=self.can_see,
            moving=self._book.moving(start),
            present_since=self._book.present_since(),
            rooms=self._book.rooms_present(),
            home_moving_since=self._book.moving_since(),
        )
        return first_due(rules, start, end)

    def _restart_quiet(self, now: datetime, *, goes_on: bool = False) -> None:
        """Start counting quiet time afresh from `now` (`goes_on`: for movement read on again)."""
        self._moved_since_return = self._moved_since_return or not goes_on
        self._note_silence(now)
        self._state.quiet_since = now
        self._state.quiet = self._state.day_quiet = NONE

    @abstractmethod
    def _fire(self, reason: Reason, at: datetime, *, room: str | None = None) -> list[AlertChange]:
        """Apply a rule that fell due; the change is stamped `at`, when it could be noticed."""

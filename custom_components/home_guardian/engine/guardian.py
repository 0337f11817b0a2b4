"""Decide when missing activity at home is worth an alert, and never mistake blindness for quiet.

How the guardian decides, in plain words (each part in its own module):

- **Sources** (`sources.py`) are seeing or blind (offline, unavailable, privacy mode, detection
  off) and have a kind: motion counts for as long as it is on (up to `motion_stuck_minutes`
  without a pause, on or flapping), presence is never activity, a change is activity, a level (a
  measured number) counts when something is switched on, and its end only where no motion sensor
  would have seen the hand, without ending an alert (appliances end by themselves), an alarm
  source raises an alarm. A source that switches to a steady beat of its own (a fridge's plug,
  `beats.py`) counts only off that beat. What a source shows when the guardian starts watching
  it, or when it comes back from blindness, is compared with what it last showed: a motion
  source on goes on counting as moving, an alarm source showing a new press raises the alarm,
  and presence or a change source's state is where its next change starts from, never activity
  by itself.
- **Quiet time** is real elapsed time during which at least one source could see and nothing
  happened. Time while every source is blind is not quiet: it does not count toward any limit.
- **Limits and deadlines** (`limits.py`): quiet in active hours counted from the later of the
  last activity and the day's start, quiet at night from the last activity, the day's first
  `expected_by` deadline as seeing time since the day began (so a blind stretch postpones it; a
  guardian that starts after the day began counts the time before as blind), and the learned
  routine (`routine.py`), which can only bring an alert forward and learns whether or not
  `learn` is on.
- **Cannot monitor.** When every source has been blind for `blind_grace_minutes`, the guardian
  raises "cannot_monitor": never an inactivity alert and never a false all-clear. It clears when
  a source sees again. An inactivity alert that is already open stays open while blind.
- **Alarms.** An alarm source turning on raises "alarm" at once at `alarm_level` (or the open
  inactivity alert's level, if higher). Pressed again while open it adds nothing; activity,
  blindness and away mode do not end it; only `acknowledge` does.
- **Escalation.** An inactivity alert starts at level 1 and rises one level at each
  `escalate_after_minutes` delay after it was raised; an alarm rises from its own level on the
  same delays. "Cannot monitor" is a technical problem, not an emergency: it stays at level 1.
- **Clearing.** Activity clears an inactivity alert. `acknowledge` ("I'm OK / handled") clears
  any alert and restarts the quiet count from that moment; acknowledged while blind, it also
  silences "cannot monitor" until a source sees again. An alert clears with level 0.
- **Modes.** `away` pauses everything but an open alarm and clears an inactivity alert.
  `visitors` multiplies both quiet limits by `visitors_factor` and skips deadlines and the
  learned routine. Any change of mode restarts the quiet count, so coming home after a week
  away is not a week of silence.
- **Home Assistant down.** Missing a real incident is worse than one alert too many, so the gap
  counts as if every source kept its seeing state and nothing happened: the quiet count goes on
  through it, and a limit that passed while down fires the moment Home Assistant is back
  (`resume`), stamped with that moment; escalation counts from then. What the sources show on
  the return comes first, as an event exactly at a due time does: a motion sensor that turned
  on while down is someone moving now, so no alert is told and cleared in the same breath.
  Sources are read back in any order: activity elsewhere ends a room alert only if, once all
  are read (at `evaluate`), the room's presence sources are seen off.
  Blind at shutdown, the gap is blind too. A restart never resets the quiet count, and the gap
  is not learned from.
  What is stored, and what is saved of unreadable state, is in `state.py`.
- **Clock changes.** Limits are measured in real elapsed time (aware instants compared in UTC),
  rules in local wall time, so daylight saving neither triggers nor suppresses alerts. A clock
  that jumps backwards adds no elapsed time and clears nothing. A forward jump looks like
  elapsed time, which is right when a machine without a battery clock boots and then syncs; a
  host that knows a jump was not real elapsed time calls `clock_jumped`. In a replayed trace,
  the trace's time is the truth.

How the Home Assistant layer uses it: build `GuardianConfig.from_dict(options)`, create
`InactivityGuardian(config, stored_state)` (or `salvaged` when that raises `StoredStateError`),
call `resume(now)` once, read every source's state with `source_state(..., baseline=True)`
and call `evaluate(now)` (what fell due while down waits for those states), then feed it
`source_state`, `forget_source`, `acknowledge` and `set_mode` as things happen and call
`evaluate` at `next_check(now)`. Every one of these returns the `AlertChange`s it caused,
to fire as events. Entities read `alert`, `level`, `last_activity`, `inactive_for(now)`, `mode`
and `can_see`. Save `to_dict()` after changes, and on shutdown. The guardian never reads the
wall clock: every call takes `now`, an aware datetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .alerts import Alert, AlertChange, Mode, Reason
from .beats import Beat
from .config import GuardianConfig
from .sources import Kind, Meaning
from .state import (
    NONE,
    aware,
    dump,
    salvage,
)
from .timeline import Timeline


class InactivityGuardian(Timeline):
    """Watch activity from sources and raise, escalate and clear alerts by the rules above.

    All datetimes it returns are aware, in UTC. Mutating methods first let time run up to `now`
    (alerts that became due before `now` fire first), then apply the call, then fire what is due
    at `now`: an event that arrives exactly when a limit is reached wins over the limit.
    """

    # How many bouts of activity began since the guardian was created (not stored): a motion
    # sensor's start counts, its end (the same bout) does not.
    activity_seen = 0
    # When activity outside the room of an open room alert was read back after a restart: the
    # room's own presence sensors may be read after it, so it is judged at `evaluate`.
    _elsewhere_on_return: datetime | None = None

    def __init__(self, config: GuardianConfig, state: Mapping[str, Any] | None = None) -> None:
        """Start a new guardian, or continue from `to_dict` data saved earlier."""
        super().__init__(config, state)
        # Presence and alarm sources seeing now, which see nothing of a silence (not stored).
        self._within_reach: set[str] = set()

    # Properties the entities show.

    @property
    def config(self) -> GuardianConfig:
        """Return the options the guardian runs with."""
        return self._config

    @property
    def alert(self) -> Alert:
        """Return the open alert, or Alert.NONE."""
        return self._state.alert

    @property
    def level(self) -> int:
        """Return the alert level: 0 without an alert, then 1, 2, ... as it escalates."""
        return self._state.level

    @property
    def alert_reason(self) -> Reason | None:
        """Return why the open alert was raised or last escalated."""
        return self._state.alert_reason

    @property
    def alert_room(self) -> str | None:
        """Return the room a presence alert is about, if it is about one."""
        return self._state.alert_room

    @property
    def alert_since(self) -> datetime | None:
        """Return when the open alert was raised."""
        return self._state.alert_since

    @property
    def last_activity(self) -> datetime | None:
        """Return when activity was last reported."""
        return self._state.last_activity

    @property
    def mode(self) -> Mode:
        """Return the current mode."""
        return self._state.mode

    @property
    def sources(self) -> dict[str, bool]:
        """Return each known source and whether it is seeing."""
        return {**self._state.sources, **dict.fromkeys(self._within_reach, True)}

    @property
    def known_sources(self) -> frozenset[str]:
        """Return every source the guardian remembers, seeing, blind or not read back yet."""
        return frozenset(self._state.sources) | self._within_reach | self._book.known

    @property
    def routine_ready(self) -> bool:
        """Tell whether the learned routine has enough history to be used."""
        return self._state.routine.ready

    @property
    def self_switching_sources(self) -> dict[str, Beat]:
        """Return the sources that switch to a beat of their own, which only count off it."""
        return self._book.beats

    @property
    def stuck_sources(self) -> frozenset[str]:
        """Return the motion sources busy for too long, which do not count until they pause."""
        return self._book.stuck

    @property
    def found_on_sources(self) -> frozenset[str]:
        """Return the stuck motion sources found on after a spell unseen, not busy too long."""
        return self._book.found_on

    def inactive_for(self, now: datetime) -> timedelta:
        """Return the quiet time at `now`: time since activity during which something could see."""
        now = aware(now)
        if self._state.clock is None:
            return NONE
        start = max([self._state.clock, *self._book.stops_counting()])
        extra = now - start if self.can_see and now > start else NONE
        return self._state.quiet + extra

    # What happens.

    def activity(self, source: str, now: datetime) -> list[AlertChange]:
        """Record activity from `source`; it clears an inactivity alert and restarts quiet time."""
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        self.activity_seen += 1
        self._book.changed(now)
        changes += self._activity(source, now)
        return changes + self._advance(now, inclusive=True)

    def source_state(
        self,
        source: str,
        state: str | None,
        now: datetime,
        *,
        kind: Kind = Kind.MOTION,
        baseline: bool = False,
        room: str | None = None,
        unit: str | None = None,
    ) -> list[AlertChange]:
        """Record the state `source` (in `room`, if known) shows now (None: blind).

        `baseline` marks a state read at start-up rather than a change seen while running:
        it is compared with what the source last showed (see `sources.py`). `unit` is a level
        source's unit of measurement (see `levels.py`).
        """
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        if state is None:
            self._book.place_unseen(source, room)
            return changes + self.set_seeing(source, False, now)
        match self._book.report(source, state, kind, now, baseline=baseline, room=room, unit=unit):
            case Meaning.MOTION_STARTS | Meaning.ACTIVITY:
                self.activity_seen += 1
                changes += self._activity(source, now)
            case Meaning.MOTION_ENDS:
                changes += self._activity(source, now)
            case Meaning.SWITCHED_OFF:
                self.activity_seen += 1
                changes += self._activity(source, now, clears=False)
            case Meaning.MOTION_GOES_ON:
                changes += self._activity(source, now, clears=False, goes_on=True)
            case Meaning.MOVED_UNTIL_STUCK:
                changes += self._moved_until(source, self._book.counted_until(source) or now, now)
            case Meaning.ENDED_UNSEEN:
                changes += self._moved_until(source, self._book.ended_at(source) or now, now)
            case Meaning.ALARM:
                self._seen(source, kind)
                changes += self._sight_changed(now) + self._alarm(now)
            case _:
                self._seen(source, kind)
                changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def _seen(self, source: str, kind: Kind) -> None:
        """Note that `source` sees; one that shows no activity is no sight of the home."""
        if kind in {Kind.PRESENCE, Kind.ALARM}:
            # Not stored as seeing, so that a restart, before the kinds are read back, does not
            # take a downtime as watched by an SOS button while every camera was blind.
            self._state.sources.pop(source, None)
            self._within_reach.add(source)
        else:
            self._within_reach.discard(source)
            self._state.sources[source] = True

    def _alarm(self, now: datetime) -> list[AlertChange]:
        """Open the alarm at its level, unless one is open already (a button pressed again)."""
        if self._state.alert is Alert.ALARM:
            return []
        # An inactivity alert already escalated further keeps its urgency.
        level = max(
            self._config.alarm_level,
            self._state.level if self._state.alert is Alert.INACTIVITY else 0,
        )
        changes = self._raise(Alert.ALARM, Reason.ALARM, now)
        self._state.level = level
        return [replace(changes[0], level=self._state.level)]

    def _activity(
        self, source: str, now: datetime, *, clears: bool = True, goes_on: bool = False
    ) -> list[AlertChange]:
        """Count activity from `source` at `now`; unless told not to, it clears an alert.

        `goes_on`: movement read on again as it was when last seen, no new sign of life.
        """
        self._state.sources[source] = True
        self._state.last_activity = now
        self._restart_quiet(now, goes_on=goes_on)
        changes: list[AlertChange] = []
        room = self._state.alert_room
        # Someone still present in the room an alert is about is not helped by a kettle
        # elsewhere: only activity in that room, or the room empty again, clears it.
        if clears and self._state.alert is Alert.INACTIVITY:
            if room is None or self._book.room(source) == room:
                changes += self._clear(Reason.ACTIVITY, now)
            elif self._held_at is not None:
                # Read back after a restart in any order: whether the room is empty is known
                # once every source has been read, at `evaluate`.
                self._elsewhere_on_return = self._elsewhere_on_return or now
            elif not self._book.present_in(room):
                changes += self._clear(Reason.ACTIVITY, now)
        return changes + self._sight_changed(now)

    def _moved_until(self, source: str, until: datetime, now: datetime) -> list[AlertChange]:
        """Count `source` as moving up to `until`, before `now`: on all along while unseen."""
        self._state.sources[source] = True
        since = self._state.quiet_since
        if since is None or since < until <= now:
            # Quiet since `until` is at most the quiet counted so far (some of it may be blind).
            quiet = min(self._state.quiet, now - until)
            self._moved_since_return = True
            self._state.last_activity = self._state.quiet_since = until
            self._state.quiet = quiet
            self._state.day_quiet = min(self._state.day_quiet, quiet)
            # Its start was found afterwards, not watched: nothing for the routine to learn.
            self._state.silence_valid = False
        return self._sight_changed(now)

    def evaluate(self, now: datetime) -> list[AlertChange]:
        """Let time run up to `now` and return the alert changes that became due.

        After a restart, activity read back from outside the room of an open room alert ends
        it first if every source has been read back and the room is empty (see `_activity`).
        """
        changes: list[AlertChange] = []
        elsewhere, self._elsewhere_on_return = self._elsewhere_on_return, None
        room = self._state.alert_room
        if (
            elsewhere is not None
            and self._state.alert is Alert.INACTIVITY
            and room is not None
            and not self._book.present_in(room)
        ):
            changes += self._clear(Reason.ACTIVITY, elsewhere)
        return changes + super().evaluate(now)

    def set_seeing(self, source: str, seeing: bool, now: datetime) -> list[AlertChange]:
        """Record whether `source` can see; unknown sources are added."""
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        self._state.sources[source] = seeing
        self._within_reach.discard(source)
        if not seeing:
            # A source back from blindness starts from its next change, like at start-up.
            self._book.lost(source, now)
        changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def forget_source(self, source: str, now: datetime) -> list[AlertChange]:
        """Stop counting on `source` (removed from the guardian's options)."""
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        blind_before = not self.can_see
        self._state.sources.pop(source, None)
        self._within_reach.discard(source)
        self._book.forget(source)
        if blind_before and self.can_see:
            # The owner took away what could not see: its blindness is no longer answered for.
            self._state.blind = NONE
        changes += self._sight_changed(now)
        return changes + self._advance(now, inclusive=True)

    def rename_source(self, old: str, new: str) -> None:
        """Carry what is known of `old` over to `new`: the same source under a new name."""
        if old in self._state.sources:
            self._state.sources[new] = self._state.sources.pop(old)
        if old in self._within_reach:
            self._within_reach.discard(old)
            self._within_reach.add(new)
        self._book.rename(old, new)

    def acknowledge(self, now: datetime) -> list[AlertChange]:
        """Take "I'm OK / handled": clear the alert and restart quiet time from `now`.

        The quiet goes on where the alert was "Cannot monitor": that answers for the cameras.
        """
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        if self._state.alert is not Alert.CANNOT_MONITOR:
            # "Handled" to a camera offline says nothing of the person: the quiet goes on, and
            # so does the morning's "expected by", which no one has met.
            self._restart_quiet(now)
            self._book.restart_rooms(now)
        if not self.can_see and self._state.alert is not Alert.NONE:
            # "Handled" while blind covers the blindness too, until a source sees again.
            self._state.blind_acknowledged = True
        changes += self._clear(Reason.ACKNOWLEDGED, now)
        return changes + self._advance(now, inclusive=True)

    def set_mode(self, mode: Mode | str, now: datetime) -> list[AlertChange]:
        """Switch between home, away and visitors; raise ValueError for an unknown mode."""
        mode = Mode(mode)
        now = aware(now)
        changes = self._advance(now, inclusive=False)
        if mode is not self._state.mode:
            if Mode.AWAY in (mode, self._state.mode):
                self._state.blind = NONE
                self._state.blind_acknowledged = False
            self._state.mode = mode
            self._restart_quiet(now)
            self._book.restart_rooms(now)
            # A call for help stays open whoever is thought to be home.
            if mode is Mode.AWAY and self._state.alert is not Alert.ALARM:
                changes += self._clear(Reason.AWAY, now)
        return changes + self._advance(now, inclusive=True)

    def _fire(self, reason: Reason, at: datetime, *, room: str | None = None) -> list[AlertChange]:
        """Apply a rule that fell due; the change is stamped `at`, when it could be noticed."""
        if reason is Reason.BLIND:
            return self._raise(Alert.CANNOT_MONITOR, reason, at)
        if reason is Reason.SEEING:
            # Seen long enough to take the blindness off: nothing of it is left to answer for.
            self._state.blind = NONE
            return self._sight_changed(at)
        if reason is Reason.ESCALATED:
            delay = timedelta(minutes=self._config.escalate_after_minutes[self._state.level - 1])
            self._state.level += 1
            self._state.alert_reason = reason
            # Like a raise: the next step counts from when this one could be told, so steps
            # missed while Home Assistant was down are not all sent at once on its return.
            self._state.alert_age = delay + ((self._state.clock or at) - at)
            return [
                AlertChange(
                    at=at,
                    alert=self._state.alert,
                    level=self._state.level,
                    reason=reason,
                    previous=self._state.alert,
                    room=self._state.alert_room,
                )
            ]
        changes = self._raise(Alert.INACTIVITY, reason, at)
        self._state.alert_room = room
        return [replace(change, room=room) for change in changes]

    def _raise(self, alert: Alert, reason: Reason, at: datetime) -> list[AlertChange]:
        """Open `alert` at level 1."""
        previous = self._state.alert
        self._state.alert = alert
        self._state.level = 1
        self._state.alert_reason = reason
        self._state.alert_since = at
        self._state.alert_room = None
        # Escalation delays count from when somebody could be told (`at`), not from when the
        # rule fell due while Home Assistant was down: the time up to `at` is accrued next.
        self._state.alert_age = (self._state.clock or at) - at
        return [AlertChange(at=at, alert=alert, level=1, reason=reason, previous=previous)]

    def _clear(self, reason: Reason, at: datetime) -> list[AlertChange]:
        """Close the open alert, if any."""
        previous = self._state.alert
        if previous is Alert.NONE:
            return []
        self._state.alert = Alert.NONE
        self._state.level = 0
        self._state.alert_reason = reason
        self._state.alert_since = None
        self._state.alert_room = None
        self._state.alert_age = NONE
        return [AlertChange(at=at, alert=Alert.NONE, level=0, reason=reason, previous=previous)]

    def _sight_changed(self, now: datetime) -> list[AlertChange]:
        """Follow a change in which sources can see."""
        if not self.can_see:
            return []
        # "Handled" while blind covered that blindness only: the next is told again.
        self._state.blind_acknowledged = False
        if self._state.blind > NONE:
            # Blind time still counted ends with the sight that takes it off (`Reason.SEEING`).
            return []
        if self._state.alert is Alert.CANNOT_MONITOR:
            return self._clear(Reason.SEEING, now)
        return []

    # Storage.

    @classmethod
    def salvaged(cls, config: GuardianConfig, data: Any) -> InactivityGuardian:
        """Start from what can be read of state that `__init__` refused (see `state.salvage`)."""
        guardian = cls(config)
        guardian._state = salvage(data)
        guardian._book = guardian._source_book()
        return guardian

    def to_dict(self) -> dict[str, Any]:
        """Return the whole state as JSON-safe data, for HA's Store."""
        return dump(replace(self._state, changed=self._book.last_change))

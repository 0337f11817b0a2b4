"""Say which limits and deadlines are in force, and which of them falls due first.

Each rule is a counter (quiet, blind or alert time so far), the limit it may reach, whether
the counter grows while nothing happens, and the reason an alert gives when it fires:

- in active hours, quiet since the later of the last activity and the day's start may reach
  `inactivity_minutes` (`quiet`); at night, and for a silence that began before the day did,
  quiet since the last activity may reach `night_inactivity_minutes` (`night_quiet`); both are
  multiplied by `visitors_factor` in visitors mode;
- the day's first `expected_by` deadline, as seeing time since the day's start, while nothing
  has happened since (`expected_by`; home mode only). Activity up to `EARLY_START` before the
  day's start counts as the day's: someone up at 06:59 for a 07:00 start is up;
- the learned routine's allowance for the silence in progress (`routine`, see `routine.py`);
- with `presence_limit_minutes` set, someone present (a presence source on) with nothing
  changing may last that long (`presence`): a person on the bathroom floor is still "present".
  In a room with motion or change sources of its own, only their changes count (the alert names
  the room); elsewhere a change anywhere does. A motion sensor that stays on is no change (see
  `sources.py`);
- blindness may last `blind_grace_minutes` before "cannot monitor" (`blind`). Blind time adds
  up, and each minute of sight takes BLIND_DRAIN minutes off it, so a camera that drops out
  again and again is found as surely as one gone for good; sight back for long enough to take
  it all off ends "cannot monitor" (`seeing`);
- an open inactivity alert or alarm rises a level at each `escalate_after_minutes` (`escalated`).

Quiet counts stand still while blind or while a motion source counts as moving. In away mode
nothing is in force but an open alarm's escalation. An open inactivity alert or alarm stops
the quiet rules; an open "cannot monitor" does not, so a silence goes on being judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from .alerts import Alert, Mode, Reason
from .config import GuardianConfig
from .routine import REACH
from .schedule import DailySchedule, quarter_of_week
from .sources import RoomPresence
from .state import NONE, GuardianState

# Each minute of sight takes this many minutes off the blind time counted so far: a source seen
# a minute in every fifteen (a camera on weak Wi-Fi) is "cannot monitor", one seen for more than
# three minutes of every four is not, and after a long outage "cannot monitor" ends a third of
# the grace time (5 minutes at the default) after sight is back, not at its first frame.
BLIND_DRAIN: Final = 3
# Past the day's end, the learned routine judges an evening's silence this long at most: by
# then the household's nights have begun, and a silence is a night for all it knows.
NIGHT_REACH: Final = timedelta(hours=3)
# Up this long before active hours begin is up for the day: an early riser whose last move
# falls a second before the start must not be a missed morning.
EARLY_START: Final = timedelta(minutes=15)


class Rule(NamedTuple):
    """One rule in force: a counter, its limit, whether it grows, the reason, and the room."""

    counter: timedelta
    limit: timedelta
    grows: bool
    reason: Reason
    room: str | None = None


class Due(NamedTuple):
    """A rule that falls due: when, why, and in which room (presence in a room only)."""

    at: datetime
    reason: Reason
    room: str | None = None


def silence(
    state: GuardianState, schedule: DailySchedule, at: datetime
) -> tuple[datetime | None, timedelta]:
    """Return when the silence in progress began and its length, as the rule in force counts."""
    if not schedule.is_active(at) or schedule.around_the_clock:
        # Active around the clock, no day's start cuts a silence short: it is all quiet.
        return state.quiet_since, state.quiet
    day_start = schedule.last_active_start(at)
    since = state.quiet_since
    return (day_start if since is None or since < day_start else since), state.day_quiet


def deadline_budget(
    state: GuardianState, schedule: DailySchedule, start: datetime
) -> timedelta | None:
    """Return the seeing time after which today's deadline is missed, if one is pending."""
    day_start = state.day_start
    if (
        state.mode is not Mode.HOME
        or day_start is None
        or day_start != schedule.last_active_start(start)
        or (state.quiet_since is not None and state.quiet_since >= day_start - EARLY_START)
    ):
        return None
    return schedule.deadline_budget(day_start)


def routine_allowance(
    state: GuardianState, config: GuardianConfig, schedule: DailySchedule, start: datetime
) -> timedelta | None:
    """Return the quiet the learned routine allows the silence in progress, if it applies."""
    if not (config.learn and state.mode is Mode.HOME and state.routine.ready):
        return None
    began, _ = silence(state, schedule, start)
    if began is None:
        return None
    allowance = state.routine.allowance(quarter_of_week(began, schedule.zone))
    if allowance is None:
        return None
    allowance = max(allowance, timedelta(minutes=config.learned_min_minutes))
    if schedule.is_active(start):
        return allowance
    # After the day's end, a silence that began in the evening is judged by the silences that
    # began then (nights that usually begin near it allow it the night; a fall hours before
    # them is no night), if every one of those began in active hours and was filed, and only
    # for the evening: a silence still going NIGHT_REACH past the day's end is a night for all
    # the routine knows, as are one that began too near the day's end (nights that begin after
    # it are not filed) and one that began at night. The night limit and the morning's
    # deadlines judge those: a night ends when the person wakes, whenever that is.
    if not (schedule.is_active(began) and schedule.is_active(began + REACH)):
        return None
    # Due when the seen quiet reaches the allowance: blind time (a camera down all evening,
    # whose "silence" hid the evening) puts it later, past the evening.
    due = start + allowance - state.quiet
    return allowance if due <= schedule.next_change(began) + NIGHT_REACH else None


def presence_rules(
    config: GuardianConfig,
    start: datetime,
    *,
    factor: float,
    seeing: bool,
    present_since: datetime | None,
    rooms: Sequence[RoomPresence],
    home_moving_since: datetime | None = None,
) -> list[Rule]:
    """Return the presence rules: one for the home at large, one for each watched room."""
    if not config.presence_limit_minutes:
        return []
    limit = timedelta(minutes=config.presence_limit_minutes * factor)
    found: list[Rule] = []
    if present_since is not None:
        found.append(_presence_rule(present_since, home_moving_since, start, limit, seeing=seeing))
    for room, since, moving_since in rooms:
        # Unchanged in the room, whatever happens elsewhere in the home.
        found.append(_presence_rule(since, moving_since, start, limit, seeing=seeing, room=room))
    return found


def presence_hold(config: GuardianConfig, mode: Mode) -> timedelta | None:
    """Return how long motion that stays on holds back a presence warning (None: no warning)."""
    if not config.presence_limit_minutes:
        return None
    factor = config.visitors_factor if mode is Mode.VISITORS else 1.0
    return timedelta(minutes=config.presence_limit_minutes * factor)


def _presence_rule(
    since: datetime,
    moving_since: datetime | None,
    start: datetime,
    limit: timedelta,
    *,
    seeing: bool,
    room: str | None = None,
) -> Rule:
    """Return a presence rule; motion on since `moving_since` is movement for `limit` at most.

    Someone cooking or playing may keep a motion sensor on for an hour without a pause, so it
    counts as movement; a sensor stuck on must not hold the warning back for the hours it takes
    to be taken as stuck, so it counts for no longer than the limit itself.
    """
    if not seeing:
        # Nothing that could show a change sees: stillness is not known, however long it lasts.
        return Rule(NONE, limit, False, Reason.PRESENCE, room)
    if moving_since is not None:
        held = moving_since + limit
        if start < held:
            return Rule(NONE, limit, False, Reason.PRESENCE, room)
        since = max(since, held)
    return Rule(max(start - since, NONE), limit, True, Reason.PRESENCE, room)


def rules_in_force(
    state: GuardianState,
    config: GuardianConfig,
    schedule: DailySchedule,
    start: datetime,
    *,
    seeing: bool,
    moving: bool,
    present_since: datetime | None = None,
    rooms: Sequence[RoomPresence] = (),
    home_moving_since: datetime | None = None,
) -> list[Rule]:
    """Return each rule in force at `start`, the fixed rules before the routine."""
    if state.mode is Mode.AWAY and state.alert is not Alert.ALARM:
        return []
    rules: list[Rule] = []
    quiet_grows = seeing and not moving
    if state.alert in {Alert.NONE, Alert.CANNOT_MONITOR}:
        factor = config.visitors_factor if state.mode is Mode.VISITORS else 1.0
        day_limit = timedelta(minutes=config.inactivity_minutes * factor)
        night_limit = timedelta(minutes=config.night_inactivity_minutes * factor)
        active = schedule.is_active(start)
        quiet = state.day_quiet if active else state.quiet
        if active:
            rules.append(Rule(quiet, day_limit, quiet_grows, Reason.QUIET))
        if not active or state.quiet > state.day_quiet:
            # A silence that began before today's active hours keeps the night's count.
            rules.append(Rule(state.quiet, night_limit, quiet_grows, Reason.NIGHT_QUIET))
        if (budget := deadline_budget(state, schedule, start)) is not None:
            # Seeing time since the day began: blind stretches postpone the deadline.
            rules.append(Rule(state.day_quiet, budget, quiet_grows, Reason.EXPECTED_BY))
        if (allowance := routine_allowance(state, config, schedule, start)) is not None:
            rules.append(Rule(quiet, allowance, quiet_grows, Reason.ROUTINE))
        rules += presence_rules(
            config,
            start,
            factor=factor,
            seeing=seeing,
            present_since=present_since,
            rooms=rooms,
            home_moving_since=home_moving_since,
        )
    if state.alert is Alert.NONE and not seeing and not state.blind_acknowledged:
        grace = timedelta(minutes=config.blind_grace_minutes)
        rules.append(Rule(state.blind, grace, True, Reason.BLIND))
    if seeing and state.blind > NONE:
        rules.append(Rule(NONE, state.blind / BLIND_DRAIN, True, Reason.SEEING))
    delays = config.escalate_after_minutes
    if state.alert in {Alert.INACTIVITY, Alert.ALARM} and state.level <= len(delays):
        delay = timedelta(minutes=delays[state.level - 1])
        rules.append(Rule(state.alert_age, delay, True, Reason.ESCALATED))
    return rules


def first_due(rules: list[Rule], start: datetime, end: datetime) -> Due | None:
    """Return the first rule to fire between `start` and `end` (nothing changes in between)."""
    first: Due | None = None
    for counter, limit, grows, reason, room in rules:
        if counter < limit and not grows:
            continue
        # A rule past its limit already (after downtime) was due when its counter reached it:
        # the one that fell due first gives the reason, though all fire at `start`.
        due = start + (limit - counter)
        # Ties go to the rule listed first: the fixed rules before the routine.
        if due <= end and (first is None or due < first[0]):
            first = Due(due, reason, room)
    return first if first is None else first._replace(at=max(first.at, start))

"""Say what a source's state change means for the guardian, by the kind of source it is.

The kinds, in plain words:

- **motion** (a camera's motion sensor, a PIR, Frigate motion): activity for as long as it is
  on, not only when it turns on; turning off is activity too (someone was moving until then).
  A motion source busy for longer than `motion_stuck_minutes` without a pause of
  `STUCK_PAUSE` (on throughout, or on and off: a draught, a fault, a camera watching a
  television) stops counting from then on; nothing it does counts until it has paused (been
  seen off for `STUCK_PAUSE`), and its next turning on then counts again. A fault flaps within
  seconds; a person stays still for a couple of minutes now and then. Time a source is unseen
  is no pause, and no part of its bout unless it was on before and after.
- **presence** (mmWave, occupancy): someone is there. That is not activity: a person lying on
  the floor is still "present". Nor can it see a silence: while every other source is blind,
  the home is blind.
- **change** (doors, contacts, switches, lights, media players, buttons): every change between
  two real states is activity.
- **level** (numeric sensors: power, current, temperature, humidity, light): a switch on is
  activity, a jump clear of the sensor's noise and of its unit's floor; a wobble or a drift
  is not (see `levels.py`). Its switch off is weaker: a kettle boils dry, a washing machine's
  programme runs out, a television's standby timer switches it off hours after the remote was
  last pressed, and such an end would hide a fall or clear an alert. A motion source seeing
  (not stuck) in the level source's room would have seen a hand, and counted it: there the
  end counts for nothing. Where none watches (a home of plugs alone, a plug in no room) the
  end is activity, since a television switched off at bedtime may be all that tells when the
  night began, but it ends no alert (`Meaning.SWITCHED_OFF`). A power plug counts when its
  kettle or television is switched on; a thermometer drifting by a tenth never counts; a
  light sensor counts a lamp switched on in the dark, never daylight's clouds, dawn or dusk.
- **alarm** (a fall detector, an SOS button): turning on, or any new event, raises an alarm at
  once; it is not activity.

A motion, change or level source that switches on and off to a steady beat of its own, day and
night (a fridge's plug, a boiler's pump, a contact that chatters, a motion sensor a heater's
draught sets off), counts only its switches off that beat (see `beats.py`).

A source may have a room (its Home Assistant area). A presence source is judged against the
motion and change sources of its own room, when that room has any: someone in the bathroom is
not kept safe by a kettle in the kitchen. There, only a *change* counts (a motion sensor turning
on or off, a door): a motion sensor that stays on is no sign of movement, since someone present
while nothing in the room changes is exactly the worrying case, whether the sensor is stuck or
holds on over a person lying still. Without a room, or in a room with nothing else to watch, it
is judged against a change anywhere in the home, by the same rule.

When the guardian starts (at start-up, after a restart, a reload or an options change) or a
source comes back from unavailable, what the source shows is compared with what it last showed
while seen (kept in the saved state):

- a presence, change or level source's state then is where its next change starts from, never
  activity by itself: a presence sensor still on after a restart is no sign of life, and a
  door found open may have been open for hours. Only a level source on when last seen and
  found at rest (a plug, whose resting level is kept) ended while unseen: a switch off when it
  was last seen at the earliest, counted as one seen would be (`Meaning.ENDED_UNSEEN`), which
  is why motion sources are read first;
- unseen time is neither a change nor absence: a presence source on before and after keeps
  when it found someone there (kept in the saved state, as is each room's stillness), and a
  source back changes nothing in its room by itself; a motion source on before and off after
  changed its room when it was last seen, at the earliest. While unseen, a presence source
  raises nothing, but still says its room is not empty;
- a motion source on then counts as moving, as it would have had Home Assistant watched: from
  when it turned on if it was on when last seen (so the stuck limit counts from then, and one
  already taken as stuck stays stuck until it changes), else from now (first seen, or turned on
  while unseen). Only one that turned on while unseen is a change, which ends an open alert: one
  still on as it was ends none (a presence alert raised while it was on stays open), and one
  whose stuck limit passed while unseen was moving until then. One on when last seen and found
  on after `STUCK_PAUSE` or more unseen is no sign of movement meanwhile: it may have paused
  unseen, and integrations restore a last state (Zigbee2MQTT republishes its cached
  occupancy). It was moving until last seen, and counts again from its next turning on (it is
  *found on*: stuck until then, but a turning off of any length frees it), in the same bout
  unless it paused. Its turning off is no activity, but its room changed when it was last seen,
  as for one found off. One read on after less than that by a clock that was behind is found on
  when the clock is set (`unseen_longer`), if still on as read. A motion source off then ends
  its bout without being activity;
- an alarm source raises the alarm when it shows something new since last seen: "on" after
  "off", or a new event. One never seen before raises only if it shows "on" (a button held
  down); an event entity's last event seen for the first time is history, not a call. One on
  when last seen and on still raised its alarm already (or was answered): nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum, StrEnum
import math
from typing import Any, Final, NamedTuple

from .beats import Beat, BeatWatch
from .levels import LevelReader, rules_for
from .state import NONE

ON: Final = "on"
OFF: Final = "off"
# A motion source seen off for this long has paused: what it does next is a new bout. A fault
# or a screen flaps within seconds; a person, even one busy at a desk, stays still this long
# now and then. A sensor's hold time is not taken off it: the "on"s that would tell it are as
# long for a fault that stays on, which a short rest would then free.
STUCK_PAUSE: Final = timedelta(minutes=2)

# Binary-sensor device classes whose "on" means somebody is there, not that somebody moves.
_PRESENCE_CLASSES: Final = frozenset({"occupancy", "presence"})
_MOTION_CLASSES: Final = frozenset({"motion", "moving"})


class Kind(StrEnum):
    """What a source's states say about the person watched over."""

    MOTION = "motion"
    PRESENCE = "presence"
    CHANGE = "change"
    LEVEL = "level"
    ALARM = "alarm"


class Meaning(Enum):
    """What one observed state change means."""

    NOTHING = "nothing"
    ACTIVITY = "activity"
    MOTION_STARTS = "motion_starts"
    MOTION_ENDS = "motion_ends"
    # A motion source found on when it is first seen again, as it was (or never seen before):
    # moving, but no new bout and no change, so it ends no alert.
    MOTION_GOES_ON = "motion_goes_on"
    # A motion source on before and after a time unseen in which it reached its stuck limit, or
    # long enough to have paused in: moving until then (`SourceBook.counted_until`), stuck since.
    MOVED_UNTIL_STUCK = "moved_until_stuck"
    # A level's switch off no motion source watched: somebody, or the appliance's own timer.
    # Activity, but it ends no alert: a timer's end would tell the family all is well.
    SWITCHED_OFF = "switched_off"
    # A level on when last seen and at rest now: it ended while unseen, when it was last seen
    # at the earliest (`SourceBook.ended_at`), as a motion source's turning off does.
    ENDED_UNSEEN = "ended_unseen"
    ALARM = "alarm"


def kind_for(domain: str, device_class: str | None, *, numeric: bool = False) -> Kind:
    """Return the kind a source has unless its owner says otherwise.

    `numeric` tells that the source reports a measured number (a unit, a state class, or a
    number for a state).
    """
    if domain == "binary_sensor" and device_class in _MOTION_CLASSES:
        return Kind.MOTION
    if domain == "binary_sensor" and device_class in _PRESENCE_CLASSES:
        return Kind.PRESENCE
    if domain == "sensor" and numeric:
        return Kind.LEVEL
    return Kind.CHANGE


def meaning(kind: Kind, before: str | None, after: str) -> Meaning:
    """Return what a change from `before` (None: not observed) to `after` means.

    A level source's changes depend on its past readings: `SourceBook` tells them.
    """
    if before is None or before == after:
        return Meaning.NOTHING
    match kind:
        case Kind.MOTION:
            if after == ON:
                return Meaning.MOTION_STARTS
            return Meaning.MOTION_ENDS if before == ON else Meaning.ACTIVITY
        case Kind.PRESENCE | Kind.LEVEL:
            return Meaning.NOTHING
        case Kind.CHANGE:
            return Meaning.ACTIVITY
        case Kind.ALARM:
            return Meaning.NOTHING if after == OFF else Meaning.ALARM


def _rising(found: Meaning, before: str | None, state: str) -> bool | None:
    """Return whether a switch turned its source on, off (False), or neither told (None)."""
    if found is Meaning.MOTION_STARTS or state == ON:
        return True
    if found is Meaning.MOTION_ENDS or before == ON:
        return False
    return None


class RoomPresence(NamedTuple):
    """Someone present in a room, since when nothing there has changed, and motion still on."""

    room: str
    since: datetime
    # When the latest motion sensor of the room that is still on turned on, if one is.
    moving_since: datetime | None = None


class SourceBook:
    """What each source shows, and which motion sources count as moving.

    What sources last showed, the motion sources' moving-since, bout and stuck marks, and since
    when someone is present and each room unchanged live in the saved state (`shown`,
    `moving_since`, `bout_since`, `off_since`, `stuck`, `present_since`, `room_since`), which
    this book keeps up to date; what each source shows while seeing is known only while running. A
    motion source counts as moving while it can see, from when it turned on until it turns off.
    Its bout of movement runs from a turning on after a pause of STUCK_PAUSE (or its first)
    through every shorter pause; once a bout has lasted `stuck_after`, the source is taken as
    stuck and nothing it does counts until it has paused.
    """

    def __init__(
        self,
        stuck_after: timedelta,
        *,
        shown: dict[str, str],
        moving_since: dict[str, datetime],
        stuck: set[str],
        bout_since: dict[str, datetime],
        off_since: dict[str, datetime],
        unseen_since: dict[str, datetime],
        present_since: dict[str, datetime],
        room_since: dict[str, datetime],
        changed: datetime | None,
        beats: dict[str, BeatWatch],
        rests: dict[str, float],
        found_on: set[str],
    ) -> None:
        """Start from what was saved of each source (the dicts and set are updated in place)."""
        self._stuck_after = stuck_after
        self._states: dict[str, str] = {}
        self._shown = shown
        self._moving_since = moving_since
        self._stuck = stuck
        # The stuck motion sources found on after a spell unseen: a turning on after any turning
        # off counts again. When each one (or one whose limit passed unseen) stopped counting.
        self._found_on = found_on
        self._counted_until: dict[str, datetime] = {}
        # The motion sources read on again, as when last seen (the time here), after a spell
        # unseen too short to be found on: a clock that jumps on later may show it was longer.
        self._carried_on: dict[str, datetime] = {}
        # When each motion source's bout of movement began, and when it last turned off.
        self._bout_since = bout_since
        self._off_since = off_since
        # Since when each source has been unseen (blind, or Home Assistant stopped): time that
        # is part of no bout and of no pause.
        self._unseen_since = unseen_since
        # Since when each source that went blind while running has been blind (not while Home
        # Assistant was stopped, whose downtime the guardian counts as lived; one found blind
        # at a start, from then): while a room's own sources were all blind, nothing is known
        # of its stillness.
        self._went_blind: dict[str, datetime] = {}
        # When each presence source last seen on found someone there, kept while it is unseen:
        # a blind sensor says neither that someone left nor that someone came.
        self._present_since = present_since
        self._kinds: dict[str, Kind] = {}
        self._rooms: dict[str, str] = {}
        # What each level source's readings have taught so far (not stored).
        self._levels: dict[str, LevelReader] = {}
        # When each room's quiet began: its last activity, or the restart of every count.
        self._room_since = room_since
        # When anything in the home last changed, for someone present outside a watched room.
        self._changed = changed
        # Each source's switches that count, and the beat of one that switches itself.
        self._beats = beats
        # Each plug's resting level, kept through restarts (see `_level`).
        self._rests = rests
        # When each level source that ended while unseen was last seen on.
        self._ended_at: dict[str, datetime] = {}

    @property
    def last_change(self) -> datetime | None:
        """Return when anything in the home last changed, as presence outside a room counts it."""
        return self._changed

    @property
    def known(self) -> frozenset[str]:
        """Return the sources whose last state is remembered."""
        return frozenset(self._shown)

    @property
    def beats(self) -> dict[str, Beat]:
        """Return the sources that switch to a beat of their own, with their beats."""
        return {source: watch.beat for source, watch in self._beats.items() if watch.beat}

    @property
    def stuck(self) -> frozenset[str]:
        """Return the motion sources busy for too long, which count again after a pause."""
        return frozenset(self._stuck)

    @property
    def found_on(self) -> frozenset[str]:
        """Return the stuck motion sources found on after a spell unseen, not busy too long."""
        return frozenset(self._found_on)

    def _counting(self) -> dict[str, datetime]:
        """Return the motion sources that count as moving (seeing, on), with when they began."""
        return {
            source: start
            for source, start in self._moving_since.items()
            if source in self._states and source not in self._stuck
        }

    def report(
        self,
        source: str,
        state: str,
        kind: Kind,
        now: datetime,
        *,
        baseline: bool,
        room: str | None = None,
        unit: str | None = None,
    ) -> Meaning:
        """Note what `source` (in `room`, if known) shows at `now` and return what that means.

        `unit` is a level source's unit of measurement, which sets its smallest switch.
        """
        before = None if baseline else self._states.get(source)
        returning = source not in self._states
        unseen_from = self._unseen_since.pop(source, None)
        last = self._shown.get(source)
        self._states[source] = state
        self._shown[source] = state
        self._kinds[source] = kind
        self._place(source, room, now, new=last is None)
        self._note_presence(source, kind, before, state, now)
        if kind is Kind.LEVEL:
            found = self._level(source, before, state, now, unit, last)
            if before is None and self._levels[source].ended:
                found = self._ended_unseen(source, room, unseen_from or now)
        elif before is None:
            found = self._seen_again(source, kind, last, state, now, unseen_from)
        else:
            found = meaning(kind, before, state)
            if kind is Kind.MOTION and found is not Meaning.NOTHING:
                if state != ON and source in self._found_on:
                    # It moved at some time since it was last seen: its room changed then at
                    # the earliest, as when found off. No activity: a state restored may be
                    # put right without anybody moving.
                    self._note_change(room, self._counted_until.get(source, now))
                found = self._in_bout(source, state, found, now)
        found = self._off_beat(source, found, now, _rising(found, before, state))
        if found in {
            Meaning.MOTION_STARTS,
            Meaning.MOTION_ENDS,
            Meaning.ACTIVITY,
            Meaning.SWITCHED_OFF,
        }:
            self._moving_since.pop(source, None)
            self._changed = now
            if room is not None:
                self._room_since[room] = now
        if found is Meaning.MOTION_STARTS:
            self._moving_since[source] = now
        if returning and kind is Kind.MOTION and last == ON != state and source not in self._stuck:
            # Turned off while unseen, when it was last seen at the earliest: the room changed.
            self._note_change(room, now if unseen_from is None else min(unseen_from, now))
        self._room_was_unseen(source, kind, room, unseen_from, now)
        return found

    def _note_presence(
        self, source: str, kind: Kind, before: str | None, state: str, now: datetime
    ) -> None:
        """Note since when a presence source has found someone there, if it has."""
        if kind is not Kind.PRESENCE or state != ON:
            self._present_since.pop(source, None)
        elif before != ON:
            # Someone there since this change; on before and after a time unseen (blind, or
            # Home Assistant stopped), since they were first seen there.
            self._present_since.setdefault(source, now)

    def _off_beat(self, source: str, found: Meaning, now: datetime, rising: bool | None) -> Meaning:
        """Return what a source's switch counts for: nothing on its own beat (see `beats.py`).

        A level's switch off counts for nothing where a motion source would have seen the hand,
        and ends no alert elsewhere: appliances end by themselves (a kettle boiled, a programme
        run, a television's standby timer). A switch on and off told together (one reading
        while on) counts in full: somebody switched it on.
        """
        if found not in {Meaning.ACTIVITY, Meaning.MOTION_STARTS, Meaning.MOTION_ENDS}:
            return found
        if (reader := self._levels.get(source)) is not None:
            # A level's switch is on or off by what its reader now takes it for.
            rising = reader.on
        # Counted or not, every switch is a step of the source's beat.
        if self._beats.setdefault(source, BeatWatch()).own(now, rising):
            # A motion sensor turning off on its beat is not moving, even after an odd start.
            self._moving_since.pop(source, None)
            return Meaning.NOTHING
        if reader is not None and reader.ended:
            return Meaning.NOTHING if self._hand_watched(source) else Meaning.SWITCHED_OFF
        return found

    def _hand_watched(self, source: str) -> bool:
        """Tell whether a motion source would have seen a hand switch `source` off.

        That is a seeing motion source not taken as stuck in `source`'s room. A source in no
        room is watched by none: a sensor elsewhere in the home does not see its hand.
        """
        room = self._rooms.get(source)
        return room is not None and any(
            self._kinds.get(other) is Kind.MOTION
            and other not in self._stuck
            and self._rooms.get(other) == room
            for other in self._states
            if other != source
        )

    def _home_was_unseen(
        self, source: str, kind: Kind, unseen_from: datetime | None, now: datetime
    ) -> None:
        """Leave out of the home's stillness the time none of its sources could see a change.

        As in a room (see `_room_was_unseen`): someone present outside a watched room while every
        camera was off the Wi-Fi was not seen lying still for that long.
        """
        shows = {Kind.MOTION, Kind.CHANGE, Kind.LEVEL}
        if unseen_from is None or kind not in shows:
            return
        if any(self._kinds.get(other) in shows for other in self._states if other != source):
            return
        # Nothing seen changing yet (a first start): still since someone was first found there.
        still = self._changed
        if still is None:
            seeing = (
                since for other, since in self._present_since.items() if other in self._states
            )
            still = min(seeing, default=unseen_from)
        self._changed = max(still, now - max(NONE, unseen_from - still))

    def _room_was_unseen(
        self, source: str, kind: Kind, room: str | None, unseen_from: datetime | None, now: datetime
    ) -> None:
        """Leave out of a room's stillness the time none of its own sources could see it.

        A room's stillness counts only while it is watched: back from a blind spell in which no
        other motion or change source of the room could see, `source` finds the room as still
        as it was seen to be before, no stiller (a Wi-Fi drop over both of a bathroom's sensors
        while someone is in it is no stretch of their lying still).
        """
        if (blind_from := self._went_blind.pop(source, None)) is None:
            return
        # Blind since before a stop: unseen from then. Found blind at the start: the downtime
        # before was lived, the blindness after it was not.
        unseen_from = blind_from if unseen_from is None else max(unseen_from, blind_from)
        self._home_was_unseen(source, kind, unseen_from, now)
        if (
            room is None
            or kind not in {Kind.MOTION, Kind.CHANGE}
            or (since := self._room_since.get(room)) is None
        ):
            return
        others = (
            other
            for other, place in self._rooms.items()
            if place == room and other != source and other in self._states
        )
        if any(self._kinds.get(other) in {Kind.MOTION, Kind.CHANGE} for other in others):
            return
        self._room_since[room] = max(since, now - max(NONE, unseen_from - since))

    def _note_change(self, room: str | None, at: datetime) -> None:
        """Note that the home (and `room`) changed at `at`, unless a later change is noted."""
        self._changed = at if self._changed is None else max(self._changed, at)
        if room is not None:
            self._room_since[room] = max(at, self._room_since.get(room, at))

    def _in_bout(self, source: str, state: str, found: Meaning, now: datetime) -> Meaning:
        """Return what a motion source's change counts for: nothing once its bout is too long."""
        # Changed since read on again: not as it was when last seen.
        self._carried_on.pop(source, None)
        if state == ON:
            self._begin_bout(source, now)
        else:
            self._off_since[source] = now
        # A bout noted in the future began, as far as can be known, now (a clock set back).
        start = self._bout_since[source] = min(self._bout_since.setdefault(source, now), now)
        if source in self._stuck or start + self._stuck_after <= now:
            self._stuck.add(source)
            self._moving_since.pop(source, None)
            return Meaning.NOTHING
        return found

    def _begin_bout(self, source: str, now: datetime) -> None:
        """Note a motion source turning on: a new bout after a pause, else the same goes on.

        One found on after a spell unseen counts again from any turning on, in the same bout
        unless it paused: a flapping fault found on must not start its 4 hours afresh.
        """
        off = self._off_since.pop(source, None)
        if source in self._found_on:
            self._found_on.discard(source)
            self._stuck.discard(source)
        # A pause that ends before it began (a clock set back) was not seen whole.
        if source in self._bout_since and (off is None or now - off < STUCK_PAUSE):
            return
        self._bout_since[source] = now
        self._stuck.discard(source)

    def _place(self, source: str, room: str | None, now: datetime, *, new: bool) -> None:
        """Note the room `source` is in; a source never seen before restarts its stillness."""
        if room is None:
            self._rooms.pop(source, None)
            return
        self._rooms[source] = room
        if new or room not in self._room_since:
            # The room's stillness is only known from now. A source back from blindness (or a
            # restart) changes nothing by itself: unseen time is neither activity nor absence.
            self._room_since[room] = max(now, self._room_since.get(room, now))

    def place_unseen(self, source: str, room: str | None) -> None:
        """Note the room of a source found blind, so that a room it says is occupied is known."""
        if room is not None:
            self._rooms[source] = room

    def _level(  # noqa: PLR0917 - a reading, and what was known of its source
        self,
        source: str,
        before: str | None,
        state: str,
        now: datetime,
        unit: str | None,
        last: str | None,
    ) -> Meaning:
        """Return whether a level source's reading is something switched (see `levels.py`).

        A plug's resting level (a unit with a floor, not light, whose rest daylight moves) is
        kept through restarts, and what it `last` showed is read against it first: a television
        on when Home Assistant stopped is still on after the restart, and its end is seen, or
        found at rest it ended while unseen. A sensor without a unit learns its wobble afresh
        from its first readings, and a resting level from before would be learned as wobble.
        """
        rules = rules_for(unit)
        kept = rules.floor > 0 and rules.ceiling == math.inf
        reader = self._levels.get(source)
        if reader is None:
            rest = self._rests.get(source) if kept else None
            reader = self._levels[source] = LevelReader(rules=rules, standby=rest)
            if rest is not None and last is not None and before is None:
                reader.read(last, now, found=True)
        reader.rules = rules
        # The same state again (only its attributes changed) is no new reading.
        switched = before != state and reader.read(state, now, found=before is None)
        if kept and reader.standby is not None and not reader.on:
            self._rests[source] = reader.standby
        elif not kept:
            self._rests.pop(source, None)
        return Meaning.ACTIVITY if switched else Meaning.NOTHING

    def _ended_unseen(self, source: str, room: str | None, last_seen: datetime) -> Meaning:
        """Return what a level's end while unseen counts for: as a switch off seen (`_off_beat`).

        It counts as activity when `source` was `last_seen`, unless a motion source now watches
        its room (then it is taken as the appliance's own timer, as a switch off seen is).
        """
        if self._hand_watched(source):
            return Meaning.NOTHING
        self._ended_at[source] = last_seen
        self._note_change(room, last_seen)
        return Meaning.ENDED_UNSEEN

    def ended_at(self, source: str) -> datetime | None:
        """Return when a level source that ended while unseen was last seen on."""
        return self._ended_at.get(source)

    def _seen_again(  # noqa: PLR0917 - a state found, and what was known of its source
        self,
        source: str,
        kind: Kind,
        last: str | None,
        state: str,
        now: datetime,
        unseen_from: datetime | None,
    ) -> Meaning:
        """Return what a state found at start-up or back from blindness means (see above).

        `unseen_from` is since when the source was not seen (unavailable, or while stopped).
        """
        if kind is Kind.ALARM:
            # Never seen: only a button held down is a call now; an old event is history.
            return meaning(kind, last if last is not None else OFF if state == ON else None, state)
        if kind is not Kind.MOTION:
            return Meaning.NOTHING
        # Carried on before a spell blind since: last seen before both.
        carried = self._carried_on.pop(source, None)
        if state != ON or last != ON:
            unseen = NONE if unseen_from is None else max(NONE, now - unseen_from)
            self._changed_unseen(source, last, state, now, unseen)
        if state != ON or source in self._stuck:
            return Meaning.NOTHING
        counted = source in self._moving_since and last == ON
        start = self._moving_since.setdefault(source, now)
        limit = self._bout_since.setdefault(source, start) + self._stuck_after
        # Long enough unseen to have paused, and maybe only a state restored: found on.
        found_on = last == ON and unseen_from is not None and now - unseen_from >= STUCK_PAUSE
        if found_on or limit <= now:
            found_from = unseen_from if found_on else None
            return self._stopped_unseen(source, limit, now, found_from, counted=counted)
        if last is not None and last != ON:
            # Turned on while unseen: somebody moved, a bout begins now.
            return Meaning.MOTION_STARTS
        if unseen_from is not None:
            self._carried_on[source] = carried or unseen_from
        return Meaning.MOTION_GOES_ON

    def unseen_longer(self, returned: datetime) -> bool:
        """Read again the motion sources carried on at `returned`, now known to be the return.

        After a restart on a clock behind (a host without a battery clock, before the network
        sets it), the first jump tells when the return really was: one still on as it was read
        then, unseen for `STUCK_PAUSE` or more by the true time, was found on. Return whether
        one was.
        """
        carried, self._carried_on = self._carried_on, {}
        found = False
        for source, last_seen in carried.items():
            if returned - last_seen < STUCK_PAUSE or source not in self._moving_since:
                continue
            limit = self._bout_since.get(source, self._moving_since[source]) + self._stuck_after
            self._stopped_unseen(source, limit, returned, last_seen, counted=True)
            found = True
        return found

    def _stopped_unseen(
        self,
        source: str,
        limit: datetime,
        now: datetime,
        found_from: datetime | None,
        *,
        counted: bool,
    ) -> Meaning:
        """Note a motion source on before and after a time unseen that stopped counting meanwhile.

        It stopped at its stuck `limit`, as it would have been seen, or, `found_from` being when
        it was last seen, found on then. It was moving until then if it was `counted` when last
        seen, and is stuck from then.
        """
        until = limit
        if found_from is not None:
            until = min(found_from, limit)
            self._moving_since.pop(source, None)
            self._stuck.add(source)
            self._found_on.add(source)
            # Whether it paused unseen is not known: the time unseen is no part of its bout.
            if source in self._bout_since:
                self._bout_since[source] += now - found_from
        else:
            self.expire(now)
        self._counted_until[source] = until
        return Meaning.MOVED_UNTIL_STUCK if counted else Meaning.NOTHING

    def _changed_unseen(
        self, source: str, last: str | None, state: str, now: datetime, unseen: timedelta
    ) -> None:
        """Note a motion source off now (`last` shown before), or turned on while unseen.

        Any time on seen before is over, and the time unseen belongs to no bout and to no pause
        (only a source on throughout, as far as can be known, goes on as it was).
        """
        self._moving_since.pop(source, None)
        for table in (self._bout_since, self._off_since):
            if source in table:
                table[source] += unseen
        if state != ON:
            if last == ON:
                # Turned off while unseen: paused since now at the latest.
                self._off_since[source] = now
        else:
            # Turned on while unseen: a new bout only after a pause as long as one seen.
            self._begin_bout(source, now)

    def lost(self, source: str, now: datetime) -> None:
        """Note that a source went blind: it counts no more, but what it last showed is kept."""
        if source in self._states:
            self._went_blind.setdefault(source, self._unseen_since.setdefault(source, now))
        else:
            # Found blind at a start (or on its first state): nothing is seen of its room
            # from now on, whatever the time before was.
            self._went_blind.setdefault(source, now)
        self._states.pop(source, None)

    def stopped(self, at: datetime) -> None:
        """Note that Home Assistant stopped at `at`: every source was unseen from then.

        One unseen since before the stop went blind while running: its room's stillness is
        still unknown from then (`_went_blind` itself is not stored).
        """
        self._went_blind.update(
            (source, since) for source, since in self._unseen_since.items() if since < at
        )
        for source in self._shown:
            self._unseen_since.setdefault(source, at)

    def forget(self, source: str) -> None:
        """Forget a source entirely (no longer followed)."""
        self._states.pop(source, None)
        self._present_since.pop(source, None)
        self._unseen_since.pop(source, None)
        self._went_blind.pop(source, None)
        self._shown.pop(source, None)
        self._moving_since.pop(source, None)
        self._bout_since.pop(source, None)
        self._off_since.pop(source, None)
        self._stuck.discard(source)
        self._found_on.discard(source)
        self._counted_until.pop(source, None)
        self._carried_on.pop(source, None)
        self._kinds.pop(source, None)
        self._rooms.pop(source, None)
        self._levels.pop(source, None)
        self._beats.pop(source, None)
        self._rests.pop(source, None)
        self._ended_at.pop(source, None)

    def rename(self, old: str, new: str) -> None:
        """Carry all that is known of source `old` over to `new`."""
        tables: tuple[dict[str, Any], ...] = (
            self._states,
            self._shown,
            self._moving_since,
            self._bout_since,
            self._off_since,
            self._unseen_since,
            self._present_since,
            self._kinds,
            self._rooms,
            self._levels,
            self._beats,
            self._rests,
            self._carried_on,
        )
        for table in tables:
            if old in table:
                table[new] = table.pop(old)
        for marks in (self._stuck, self._found_on):
            if old in marks:
                marks.discard(old)
                marks.add(new)

    def shows_no_activity(self, source: str) -> bool:
        """Tell whether `source` can show no activity at all (an alarm or presence source)."""
        return self._kinds.get(source) in {Kind.ALARM, Kind.PRESENCE}

    def room(self, source: str) -> str | None:
        """Return the room `source` is in, if known."""
        return self._rooms.get(source)

    def _watched_rooms(self) -> set[str]:
        """Return the rooms that have a seeing motion or change source of their own."""
        # A room whose own sources are all blind cannot tell stillness from blindness. A level
        # source (a thermometer, a plug) switches too rarely to tell that a room is still.
        return {
            room
            for source, room in self._rooms.items()
            if source in self._states and self._kinds.get(source) in {Kind.MOTION, Kind.CHANGE}
        }

    def changed(self, now: datetime) -> None:
        """Note activity reported without a state (an activity event): the home changed."""
        self._changed = now

    def present_since(self) -> datetime | None:
        """Return since when someone has been present outside a watched room with no change."""
        # As in a room, a motion sensor that stays on is no change: see `rooms_present`.
        watched = self._watched_rooms()
        since = min(
            (
                since
                for source, since in self._present_since.items()
                if source in self._states and self._rooms.get(source) not in watched
            ),
            default=None,
        )
        if since is None or self._changed is None:
            return since
        return max(since, self._changed)

    def present_in(self, room: str) -> bool:
        """Tell whether a presence source in `room` says someone is there, or did until unseen."""
        return any(self._rooms.get(source) == room for source in self._present_since)

    def rooms_present(self) -> list[RoomPresence]:
        """Return each watched room where someone is present, and since when it is unchanged."""
        # A motion sensor that stays on is movement for no longer than the presence limit (see
        # `limits.presence_rules`): someone present while the room's sensors show nothing new
        # is the very case to warn about, stuck sensor or not, and a long unbroken "on" is
        # either a stuck sensor or someone who never pauses.
        watched = self._watched_rooms()
        found: dict[str, datetime] = {}
        for source, since in self._present_since.items():
            if source not in self._states:
                # Unseen, it raises nothing; seen on again, its count goes on.
                continue
            if (room := self._rooms.get(source)) in watched and room is not None:
                found[room] = min(since, found.get(room, since))
        return [
            RoomPresence(
                room, max(since, self._room_since.get(room, since)), self.moving_since(room)
            )
            for room, since in sorted(found.items())
        ]

    def moving_since(self, room: str | None = None) -> datetime | None:
        """Return when the latest motion source still counting (in `room`, or anywhere) began."""
        return max(
            (
                start
                for source, start in self._counting().items()
                if room is None or self._rooms.get(source) == room
            ),
            default=None,
        )

    def moving_starts(self) -> list[datetime]:
        """Return when each motion source still counting as moving turned on."""
        return list(self._counting().values())

    def restart_rooms(self, now: datetime) -> None:
        """Start every room's quiet afresh from `now` (acknowledged, or a change of mode)."""
        for room in self._room_since:
            self._room_since[room] = now
        self._changed = now

    def shift(self, start: datetime | None, end: datetime, by: timedelta) -> None:
        """Move every instant noted from `start` (None: any) to `end` on by `by`.

        After a wall-clock jump that was not lived through, so that no duration measured
        from one of them (present for, moving for) takes the jump in.
        """

        def moved(moment: datetime) -> datetime:
            """Return `moment` moved on, if it lies in the span that moves."""
            inside = (start is None or start <= moment) and moment <= end
            return moment + by if inside else moment

        tables = (
            self._moving_since,
            self._bout_since,
            self._off_since,
            self._unseen_since,
            self._present_since,
            self._room_since,
        )
        # Not `_carried_on`: when each was last seen before the return, by the saved state.
        for table in (*tables, self._went_blind):
            for key, moment in table.items():
                table[key] = moved(moment)
        if self._changed is not None:
            self._changed = moved(self._changed)

    def counted_until(self, source: str) -> datetime | None:
        """Return when `source`, found stuck after a spell unseen, stopped counting as moving."""
        return self._counted_until.get(source)

    def stops_counting(self) -> list[datetime]:
        """Return when each moving source stops counting, if it stays on."""
        return [
            self._bout_since.get(source, start) + self._stuck_after
            for source, start in self._counting().items()
        ]

    def moving(self, at: datetime) -> bool:
        """Tell whether a motion source counts as moving from `at` to the next boundary."""
        return any(end > at for end in self.stops_counting())

    def expire(self, boundary: datetime) -> None:
        """Take motion sources in a bout since `stuck_after` before `boundary` as stuck.

        A stuck source seen off for a pause by then is stuck no more.
        """
        for source, start in list(self._counting().items()):
            if self._bout_since.get(source, start) + self._stuck_after <= boundary:
                del self._moving_since[source]
                self._stuck.add(source)
        for source in list(self._stuck):
            off = self._off_since.get(source)
            if off is not None and source in self._states and off + STUCK_PAUSE <= boundary:
                self._stuck.discard(source)
                self._found_on.discard(source)

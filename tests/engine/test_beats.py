"""Tests for sources that switch to a beat of their own: a fridge's plug hides no silence."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_guardian.engine.alerts import Alert, AlertChange
from custom_components.home_guardian.engine.beats import (
    BEAT_SLACK,
    BEAT_SPREAD,
    FORGOTTEN_AFTER,
    LONGEST_STEP,
    BeatWatch,
)
from custom_components.home_guardian.engine.config import GuardianConfig
from custom_components.home_guardian.engine.guardian import InactivityGuardian
from custom_components.home_guardian.engine.sources import Kind
from custom_components.home_guardian.engine.state import StoredStateError

ZONE = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 2, 0, 0, tzinfo=ZONE)
READ_EVERY = timedelta(seconds=30)
PLUG = "sensor.fridge_power"
HALL = "binary_sensor.hall_motion"
# Where every source of these homes is: a motion sensor there would see a hand at the plug.
KITCHEN = "kitchen"
CONFIG: dict[str, Any] = {
    "active_start": "07:00",
    "active_end": "22:00",
    "inactivity_minutes": 180,
    "night_inactivity_minutes": 720,
    "expected_by": [],
    "escalate_after_minutes": [],
    "learn": False,
    "time_zone": "Europe/Berlin",
}
# A state of a source: when, which, what it shows, its kind.
Reading = tuple[datetime, str, str, Kind]


def new_guardian() -> InactivityGuardian:
    """Return a guardian with a three-hour limit by day and twelve hours by night."""
    return InactivityGuardian(GuardianConfig.from_dict(CONFIG))


def fridge(
    rng: random.Random,
    start: datetime,
    hours: float,
    *,
    doors: tuple[datetime, ...] = (),
    runs: tuple[float, float] = (18, 24),
    rests: tuple[float, float] = (28, 38),
) -> list[Reading]:
    """Return a fridge's plug read every 30 s: runs at about 90 W, rests at about 1 W.

    Each run and rest lasts a random number of minutes within `runs` and `rests`; a door opened
    (a moment in `doors`) during a rest lets warm air in, and the compressor starts then.
    """
    found: list[Reading] = []
    waiting = sorted(doors)
    running, moment, end = False, start, start + timedelta(hours=hours)
    switch_at = start + timedelta(minutes=rng.uniform(*rests))
    while moment < end:
        opened = bool(waiting) and waiting[0] <= moment
        if opened:
            waiting.pop(0)
        if moment >= switch_at or (opened and not running):
            running = not running
            switch_at = moment + timedelta(minutes=rng.uniform(*(runs if running else rests)))
        watts = 90 + rng.gauss(0, 3) if running else max(0.0, 1 + rng.gauss(0, 0.3))
        found.append((moment, PLUG, f"{watts:.1f}", Kind.LEVEL))
        moment += READ_EVERY
    return found


def play(
    guardian: InactivityGuardian, readings: list[Reading], shown: dict[str, str] | None = None
) -> list[AlertChange]:
    """Give the guardian each new state in time order, as Home Assistant would; return changes.

    `shown` holds what each source showed before (a source's first state is read at start-up).
    """
    changes: list[AlertChange] = []
    shown = {} if shown is None else shown
    for moment, source, state, kind in sorted(readings, key=lambda reading: reading[0]):
        if shown.get(source) == state:
            continue
        baseline = source not in shown
        shown[source] = state
        unit = "W" if kind is Kind.LEVEL else None
        changes += guardian.source_state(
            source, state, moment, kind=kind, baseline=baseline, unit=unit, room=KITCHEN
        )
    return changes


def pulses(
    rng: random.Random,
    source: str,
    kind: Kind,
    span: timedelta,
    *,
    on: tuple[float, float],
    rests: tuple[float, float],
) -> list[Reading]:
    """Return a source off at the start, then on for `on` seconds after each `rests` minutes."""
    readings: list[Reading] = [(START, source, "off", kind)]
    moment = START
    while moment < START + span:
        moment += timedelta(minutes=rng.uniform(*rests))
        off = moment + timedelta(seconds=rng.uniform(*on))
        readings += [(moment, source, "on", kind), (off, source, "off", kind)]
    return readings


def moving(moments: list[datetime]) -> list[Reading]:
    """Return the hall's motion sensor on for a minute at each moment, else off."""
    readings: list[Reading] = [(START, HALL, "off", Kind.MOTION)]
    for moment in moments:
        readings += [
            (moment, HALL, "on", Kind.MOTION),
            (moment + timedelta(minutes=1), HALL, "off", Kind.MOTION),
        ]
    return readings


def day_of_someone(rng: random.Random, start: datetime, end: datetime) -> list[datetime]:
    """Return the moments someone walks through the hall: every 5 to 90 minutes."""
    moments, moment = [], start
    while moment < end:
        moments.append(moment)
        moment += timedelta(minutes=rng.uniform(5, 90))
    return moments


@pytest.mark.parametrize("seed", range(5))
def test_a_fridge_that_runs_all_day_hides_no_fall(seed: int) -> None:
    """A fall at 08:00 on the second morning is told three hours later, the fridge running on."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    fell = START + timedelta(days=1, hours=8)
    awake = day_of_someone(rng, START + timedelta(hours=7), START + timedelta(hours=22))
    awake += day_of_someone(rng, START + timedelta(days=1, hours=7), fell)
    guardian = new_guardian()
    changes = play(guardian, fridge(rng, START, 40) + moving(awake))
    last_moved = awake[-1] + timedelta(minutes=1)
    raised = [change for change in changes if change.alert is Alert.INACTIVITY]
    assert raised
    # Told at the first reading after the limit (the engine runs on the states it is given).
    assert last_moved + timedelta(minutes=180) <= raised[0].at < last_moved + timedelta(minutes=181)
    assert set(guardian.self_switching_sources) == {PLUG}
    cycle = guardian.self_switching_sources[PLUG].cycle
    assert timedelta(minutes=46) <= cycle <= timedelta(minutes=62)


def test_a_fridge_counts_while_its_beat_is_learned_and_its_door_counts_after() -> None:
    """The first cycles count; then only a compressor started early by the door does."""
    rng = random.Random(11)  # noqa: S311 - a simulation, not a secret
    door = START + timedelta(hours=12)
    guardian = new_guardian()
    play(guardian, fridge(rng, START, 4))
    assert guardian.last_activity is not None
    assert guardian.self_switching_sources == {}
    readings = fridge(rng, START, 24, doors=(door,))
    # With a motion sensor seeing the home, and without one (the plug the only source).
    ends: list[datetime | None] = []
    for hall in ([(START, HALL, "off", Kind.MOTION)], []):
        guardian = new_guardian()
        shown: dict[str, str] = {}
        play(guardian, [reading for reading in hall + readings if reading[0] < door], shown)
        assert set(guardian.self_switching_sources) == {PLUG}
        learned = guardian.last_activity
        assert learned is not None
        assert learned < START + timedelta(hours=9, minutes=30)
        # Opened in the middle of a rest, the door starts the compressor: its switch on counts,
        # a second reading later. The runs and rests after that run do not.
        after = [reading for reading in readings if reading[0] >= door]
        play(guardian, [reading for reading in after if reading[0] <= door + READ_EVERY], shown)
        assert guardian.last_activity == door + READ_EVERY
        play(guardian, [reading for reading in after if reading[0] > door + READ_EVERY], shown)
        ends.append(guardian.last_activity)
    # The end of that run counts only where no motion sensor would have seen a hand switch it.
    assert ends[0] == door + READ_EVERY
    run_end = next(
        moment
        for moment, _, state, _ in readings
        if moment > door and float(state) < 10  # at rest, about 1 W
    )
    assert ends[1] == run_end


def test_a_contact_that_chatters_counts_only_a_door_really_opened() -> None:
    """A contact on for 1 to 3 s every 18 to 24 minutes; a door opened for 45 s counts twice."""
    rng = random.Random(3)  # noqa: S311 - a simulation, not a secret
    door = "binary_sensor.back_door"
    readings = pulses(rng, door, Kind.CHANGE, timedelta(hours=12), on=(1, 3), rests=(18, 24))
    moment = readings[-1][0]
    guardian = new_guardian()
    shown: dict[str, str] = {}
    play(guardian, readings, shown)
    assert set(guardian.self_switching_sources) == {door}
    quiet_from = guardian.last_activity
    assert quiet_from is not None
    # Opened by a person eight minutes after the last chatter began and closed 45 s later.
    opened = moment + timedelta(minutes=8)
    closed = opened + timedelta(seconds=45)
    later = closed + timedelta(minutes=15)
    play(
        guardian,
        [
            (opened, door, "on", Kind.CHANGE),
            (closed, door, "off", Kind.CHANGE),
            (later, door, "on", Kind.CHANGE),
            (later + timedelta(seconds=1), door, "off", Kind.CHANGE),
        ],
        shown,
    )
    assert guardian.activity_seen >= 2
    assert guardian.last_activity == closed


def test_a_motion_sensor_a_heater_sets_off_hides_no_fall() -> None:
    """A PIR on for a minute every 16 to 23 minutes, day and night: a fall is still told."""
    rng = random.Random(4)  # noqa: S311 - a simulation, not a secret
    pir = "binary_sensor.living_room_motion"
    readings = pulses(rng, pir, Kind.MOTION, timedelta(days=2), on=(60, 65), rests=(16, 23))
    fell = START + timedelta(days=1, hours=10)
    awake = day_of_someone(rng, START + timedelta(hours=7), START + timedelta(hours=22))
    awake += day_of_someone(rng, START + timedelta(days=1, hours=7), fell)
    guardian = new_guardian()
    due = awake[-1] + timedelta(minutes=181)
    before = [reading for reading in readings + moving(awake) if reading[0] < due]
    assert all(change.alert is not Alert.INACTIVITY for change in play(guardian, before))
    # Asked at the limit, as Home Assistant's timer asks: three hours after the last movement.
    (raised,) = guardian.evaluate(due)
    assert (raised.alert, raised.at) == (Alert.INACTIVITY, due)
    assert set(guardian.self_switching_sources) == {pir}
    assert guardian.stuck_sources == frozenset()


@pytest.mark.parametrize("seed", range(20))
def test_things_people_switch_never_keep_a_beat(seed: int) -> None:
    """A kettle, a television and a lamp used as people do, for a month: every switch counts."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    guardian = new_guardian()
    things = ("switch.kettle", "media_player.tv", "light.hall")
    readings: list[Reading] = [(START, source, "off", Kind.CHANGE) for source in things]
    uses = 0
    for source, most, minutes in zip(things, (6, 3, 10), ((2, 4), (20, 180), (1, 30)), strict=True):
        free = START
        for day in range(30):
            moment = START + timedelta(days=day, hours=rng.uniform(6.5, 9))
            for _ in range(rng.randint(1, most)):
                moment = max(moment, free + timedelta(minutes=1))
                free = moment + timedelta(minutes=rng.uniform(*minutes))
                readings += [
                    (moment, source, "on", Kind.CHANGE),
                    (free, source, "off", Kind.CHANGE),
                ]
                uses += 1
                moment = free + timedelta(minutes=rng.uniform(10, 240))
    play(guardian, readings)
    assert guardian.self_switching_sources == {}
    assert guardian.activity_seen == 2 * uses


def test_a_beat_is_kept_through_a_restart_and_forgotten_when_the_plug_feeds_a_kettle() -> None:
    """Saved and read back, the beat holds; a day without a switch on it forgets it."""
    rng = random.Random(5)  # noqa: S311 - a simulation, not a secret
    guardian = new_guardian()
    readings = [(START, HALL, "off", Kind.MOTION), *fridge(rng, START, 14)]
    play(guardian, [reading for reading in readings if reading[0] < START + timedelta(hours=11)])
    assert set(guardian.self_switching_sources) == {PLUG}
    stored = json.loads(json.dumps(guardian.to_dict()))
    restarted = InactivityGuardian(guardian.config, stored)
    assert restarted.self_switching_sources == guardian.self_switching_sources
    counted = restarted.activity_seen
    rest = [reading for reading in readings if reading[0] >= START + timedelta(hours=11)]
    restart = START + timedelta(hours=11)
    found = [(restart, HALL, "off", Kind.MOTION), (restart, PLUG, "0.9", Kind.LEVEL)]
    play(restarted, [*found, *rest])
    assert restarted.activity_seen == counted
    # The plug now feeds a kettle: 2 kW for three minutes, ten times a day. Every boil counts
    # when switched on; a day after the fridge last kept its beat, the beat is forgotten.
    kettle: list[Reading] = [(START + timedelta(hours=15), PLUG, "1.0", Kind.LEVEL)]
    uses = 0
    on = START + timedelta(hours=16)
    while on < START + timedelta(hours=14) + FORGOTTEN_AFTER + timedelta(hours=5):
        kettle += [
            (on, PLUG, "2010.0", Kind.LEVEL),
            (on + READ_EVERY, PLUG, "2003.5", Kind.LEVEL),
            (on + timedelta(minutes=3), PLUG, "1.0", Kind.LEVEL),
        ]
        uses += 1
        on += timedelta(hours=rng.uniform(0.5, 5))
    forgotten = START + timedelta(hours=14) + FORGOTTEN_AFTER
    shown: dict[str, str] = {PLUG: "0.9", HALL: "off"}
    play(restarted, [reading for reading in kettle if reading[0] < forgotten], shown)
    assert set(restarted.self_switching_sources) == {PLUG}
    play(restarted, [reading for reading in kettle if reading[0] >= forgotten], shown)
    assert restarted.self_switching_sources == {}
    assert restarted.activity_seen == counted + uses


def beat_after(steps: list[float]) -> BeatWatch:
    """Return a watch that saw a switch at the start and then after each of `steps` seconds."""
    watch, moment = BeatWatch(), START
    watch.own(moment)
    for step in steps:
        moment += timedelta(seconds=step)
        watch.own(moment)
    return watch


def test_a_beat_needs_eight_steady_hours_of_six_cycles_at_least() -> None:
    """Runs and rests each within 1.5 times of one another, for eight hours, no step over four."""
    # Twenty minutes on, thirty off: 9 cycles are 7.5 hours, 10 make it.
    steady = [20 * 60, 30 * 60] * 10
    assert beat_after(steady[:-1]).beat is None
    beat = beat_after(steady).beat
    assert beat is not None
    assert beat.cycle == timedelta(minutes=50)
    # Six cycles of eighty minutes are eight hours; five are not.
    assert beat_after([30 * 60, 50 * 60] * 6).beat is not None
    # Five cycles of 96 minutes last eight hours too, but are too few.
    assert beat_after([36 * 60, 60 * 60] * 5).beat is None
    assert beat_after([36 * 60, 60 * 60] * 6).beat is not None
    # Runs of 20 and 30 minutes by turns (1.5 times) still make a beat; a second more does not.
    widest = 20 * 60 * BEAT_SPREAD + BEAT_SLACK
    for longest, found in ((widest, True), (widest + 1, False)):
        varied = [step for n in range(10) for step in (longest if n % 2 else 20 * 60, 30 * 60)]
        assert (beat_after(varied).beat is not None) is found
    # Nor do steps over four hours, however steady.
    long = LONGEST_STEP.total_seconds()
    assert beat_after([long + 1] * 12).beat is None
    assert beat_after([long] * 12).beat is not None
    # A switch that tells no direction keeps it as long after the last as a run or a rest, give
    # or take 1.5 times (between them too); a switch off only as long as a run, on as a rest.
    assert beat.runs == (20 * 60, 20 * 60)
    assert beat.keeps(20 * 60 / BEAT_SPREAD - BEAT_SLACK, None)
    assert not beat.keeps(20 * 60 / BEAT_SPREAD - BEAT_SLACK - 1, None)
    assert beat.keeps(25 * 60, None)
    assert beat.keeps(30 * 60 * BEAT_SPREAD + BEAT_SLACK, None)
    assert not beat.keeps(30 * 60 * BEAT_SPREAD + BEAT_SLACK + 1, None)
    assert beat.keeps(20 * 60 / BEAT_SPREAD - BEAT_SLACK, rising=False)
    assert not beat.keeps(20 * 60 / BEAT_SPREAD - BEAT_SLACK, rising=True)
    assert beat.keeps(30 * 60 * BEAT_SPREAD + BEAT_SLACK, rising=True)
    assert not beat.keeps(30 * 60 * BEAT_SPREAD + BEAT_SLACK, rising=False)


def test_an_afternoon_of_steady_use_is_no_beat_and_a_break_starts_the_stretch_afresh() -> None:
    """Four hours of a door every 25 minutes keep no beat; one odd step restarts the count."""
    assert beat_after([50, 25 * 60 - 50] * 10).beat is None
    # Seven steady hours, a door opened out of step, then seven more: still no beat.
    broken = (
        [20 * 60, 30 * 60] * 8 + [5 * 60] + [25 * 60, 20 * 60, 30 * 60] + [20 * 60, 30 * 60] * 7
    )
    watch = beat_after(broken)
    assert watch.beat is None
    assert beat_after([*broken, 20 * 60, 30 * 60, 20 * 60]).beat is None
    assert beat_after([*broken, 20 * 60, 30 * 60, 20 * 60, 30 * 60]).beat is not None


def test_a_clock_set_back_is_no_step_and_damaged_beats_are_refused() -> None:
    """A switch before the last one starts afresh; a stored beat must be readable and aware."""
    watch = BeatWatch()
    assert not watch.own(START)
    assert not watch.own(START - timedelta(minutes=5))
    assert watch.steps == 0
    # Two switches told at the same instant make no step, and keep the stretch.
    steady = beat_after([20 * 60, 30 * 60] * 5)
    assert steady.last is not None
    assert not steady.own(steady.last)
    assert steady.steps == 10
    assert BeatWatch.from_dict(watch.to_dict()) == watch
    assert BeatWatch.from_dict(BeatWatch().to_dict()) == BeatWatch()
    with pytest.raises(ValueError, match="zone"):
        BeatWatch.from_dict({**watch.to_dict(), "last": "2026-03-02T00:00:00"})
    guardian = new_guardian()
    play(guardian, fridge(random.Random(1), START, 10))  # noqa: S311
    stored = json.loads(json.dumps(guardian.to_dict()))
    assert stored["beats"][PLUG]["beat"] is not None
    for damaged in (
        {PLUG: {"last": None}},
        ["not a table"],
        {PLUG: {**stored["beats"][PLUG], "beat": [1]}},
        {PLUG: {**stored["beats"][PLUG], "halves": [[1, 2, 3], None]}},
    ):
        with pytest.raises(StoredStateError):
            InactivityGuardian(guardian.config, {**stored, "beats": damaged})

"""Simulate month-long household routines and measure the inactivity guardian on them.

Run from the repository root: .venv/bin/python -m benchmarks.guardian_month [--seed 1] [--months 3]

Thirteen simulated households live 14 days of warm-up and then 30 measured days in
Europe/Berlin, across the end (or, for one, the start) of daylight saving time. They differ the
way people do: an early riser, a late sleeper, an irregular one with long naps; naps that end
just before, on and just after an hour mark; a weekly outing nobody tells the guardian about; a
shift worker whose hours swap every week and who is at work (mode away) on weekdays; two
residents with different rhythms; long television evenings that keep the camera's motion sensor
on for hours; a cat that sets the camera off day and night; a week away. Their days are bouts of
movement and still spells whose length depends on the time of day, night-time toilet visits, a
trip (mode away), three visits (mode visitors; on one the person goes out with the visitors for
hours), three daytime camera outages and one overnight outage. The guardian sees exactly what a
camera would: activity while seeing, nothing while blind, the television's motion as a motion
source that stays on. Each household is simulated for several months (different seeds) and the
figures are pooled.

Printed: inactivity alerts per measured month with nothing wrong (false alerts), "cannot
monitor" alerts (true: the camera was down), and time to alert for incidents injected on every
ordinary measured day when the person is at home: a fall at mid-morning, no wake-up (measured
from the household's usual wake-up time) and a fall in the evening; median and worst over the
days, with and without the learned routine. An incident stops every person's movement (in a
two-person home, the home goes quiet); a pet goes on moving, and a television that was on stays
on. Each incident branches from the undisturbed month through the guardian's own saved state,
as a restart would.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
import json
import random
import statistics
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.home_guardian.engine.alerts import Alert, AlertChange
from custom_components.home_guardian.engine.config import GuardianConfig
from custom_components.home_guardian.engine.guardian import InactivityGuardian
from custom_components.home_guardian.engine.sources import Kind

ZONE = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2024, 10, 7)  # a Monday; daylight saving time ends on 27 October
SATURDAY = 5
SPRING = date(2025, 3, 10)  # a Monday; daylight saving time starts on 30 March
WARMUP_DAYS = 14
MEASURED_DAYS = 30
CAMERA = "living_room"
HORIZON = timedelta(hours=40)
INCIDENTS = ("mid-morning fall", "no wake-up", "evening fall")


@dataclass(frozen=True, kw_only=True, slots=True)
class Household:
    """How one simulated person lives, and how the family set up the guardian."""

    name: str
    wake: float  # hours after midnight
    wake_sd: float
    bed: float  # hours after the day's midnight, past 24 for after midnight
    bed_sd: float
    still: tuple[float, float, float]  # mean still minutes: morning, afternoon, evening
    longest_still: float  # minutes; families set inactivity_minutes above this
    nap_chance: float
    nap_minutes: tuple[float, float]
    night_visits: float
    mid_morning: float  # hour of the injected mid-morning fall
    evening: float  # hour of the injected evening fall
    options: dict[str, Any]
    nap_window: tuple[float, float] = (13.0, 15.0)  # hours in which a nap may begin
    # A nap that ends at a set wall time: (hour, earliest and latest minutes after it).
    nap_end: tuple[float, float, float] | None = None
    outing: tuple[int, float, float] | None = None  # weekday, hour, hours out; no mode set
    shift: tuple[float, float] | None = None  # wake and bed of the other week's shift
    work: tuple[tuple[float, float], tuple[float, float]] | None = None  # (hour, hours) a week
    partner: tuple[float, float, float, float] | None = None  # wake, sd, bed, sd
    tv: tuple[float, float] | None = None  # hours of the evening with the TV's motion on
    pet_minutes: float = 0.0  # mean minutes between a pet's movements, day and night
    away_days: int = 2
    first_day: date = FIRST_DAY


_EARLY: dict[str, Any] = {
    "active_start": "06:00",
    "active_end": "21:30",
    "inactivity_minutes": 180,
    "night_inactivity_minutes": 720,
    "expected_by": ["08:00"],
}
_DAY: dict[str, Any] = {
    "active_start": "07:00",
    "active_end": "23:00",
    "inactivity_minutes": 180,
    "night_inactivity_minutes": 720,
    "expected_by": ["09:30"],
}
_EARLY_RISER = Household(
    name="early riser",
    wake=6.0,
    wake_sd=0.33,
    bed=21.0,
    bed_sd=0.5,
    still=(12.0, 30.0, 40.0),
    longest_still=140.0,
    nap_chance=0.4,
    nap_minutes=(40.0, 100.0),
    night_visits=1.0,
    mid_morning=10.5,
    evening=19.0,
    options=_EARLY,
)
_NAPPER = Household(
    name="nap ends after 15:00",
    wake=7.5,
    wake_sd=0.4,
    bed=22.5,
    bed_sd=0.5,
    still=(15.0, 30.0, 40.0),
    longest_still=120.0,
    nap_chance=0.9,
    nap_minutes=(0.0, 0.0),
    nap_window=(13.25, 13.75),
    nap_end=(15.0, 1.0, 9.0),
    night_visits=1.0,
    mid_morning=10.5,
    evening=20.0,
    options=_DAY,
)

HOUSEHOLDS = (
    _EARLY_RISER,
    Household(
        name="late sleeper",
        wake=9.5,
        wake_sd=0.66,
        bed=24.5,
        bed_sd=0.66,
        still=(15.0, 30.0, 45.0),
        longest_still=150.0,
        nap_chance=0.2,
        nap_minutes=(30.0, 90.0),
        night_visits=0.7,
        mid_morning=11.5,
        evening=21.0,
        options={
            "active_start": "09:00",
            "active_end": "01:00",
            "inactivity_minutes": 180,
            "night_inactivity_minutes": 720,
            "expected_by": ["11:30"],
        },
    ),
    Household(
        name="irregular",
        wake=7.5,
        wake_sd=1.25,
        bed=23.0,
        bed_sd=1.0,
        still=(20.0, 45.0, 50.0),
        longest_still=200.0,
        nap_chance=0.6,
        nap_minutes=(60.0, 170.0),
        night_visits=1.5,
        mid_morning=10.5,
        evening=20.0,
        options={
            "active_start": "07:00",
            "active_end": "23:00",
            "inactivity_minutes": 240,
            "night_inactivity_minutes": 720,
            "expected_by": ["10:30"],
        },
    ),
    replace(_NAPPER, name="nap ends before 15:00", nap_end=(15.0, -9.0, -1.0)),
    replace(_NAPPER, name="nap ends on 15:00", nap_end=(15.0, -2.0, 2.0)),
    # The weekly outing: Sunday late morning, out for two hours, nobody says so; the family
    # knows and allows four quiet hours.
    replace(_NAPPER, outing=(6, 10.75, 2.0), options={**_DAY, "inactivity_minutes": 240}),
    replace(
        _EARLY_RISER,
        name="weekly market",
        outing=(2, 9.5, 2.5),
        nap_chance=0.3,
        evening=19.5,
        options={**_EARLY, "inactivity_minutes": 240},
    ),
    Household(
        name="shift worker",
        wake=5.0,
        wake_sd=0.25,
        bed=21.5,
        bed_sd=0.4,
        shift=(10.5, 25.5),
        work=((6.0, 8.5), (14.0, 8.5)),
        still=(15.0, 30.0, 40.0),
        longest_still=120.0,
        nap_chance=0.3,
        nap_minutes=(30.0, 90.0),
        night_visits=0.5,
        mid_morning=11.0,
        evening=21.0,
        options={
            "active_start": "05:00",
            "active_end": "02:00",
            # On the late shift the morning is asleep: the family allows six quiet hours.
            "inactivity_minutes": 360,
            "night_inactivity_minutes": 720,
            "expected_by": [],
        },
    ),
    Household(
        name="two residents",
        wake=6.5,
        wake_sd=0.5,
        bed=22.0,
        bed_sd=0.5,
        partner=(9.0, 0.75, 24.0, 0.75),
        still=(20.0, 40.0, 45.0),
        longest_still=150.0,
        nap_chance=0.4,
        nap_minutes=(40.0, 120.0),
        night_visits=1.0,
        mid_morning=10.5,
        evening=20.0,
        options=_DAY,
    ),
    replace(_NAPPER, name="TV evenings", nap_chance=0.3, nap_end=None, tv=(19.0, 22.0)),
    replace(_EARLY_RISER, name="cat", pet_minutes=45.0),
    replace(_NAPPER, name="week away, spring DST", away_days=7, first_day=SPRING, nap_end=None),
)


@dataclass(frozen=True, kw_only=True, slots=True, order=True)
class Event:
    """Something the guardian is told: activity, a source going blind or seeing, a mode."""

    at: datetime
    kind: str
    value: str = ""


@dataclass(kw_only=True, slots=True)
class Month:
    """A simulated stretch of life: events, which days are ordinary, when each day started."""

    events: list[Event]
    ordinary_days: list[int]
    first_day: date
    wake: dict[int, datetime] = field(default_factory=dict)
    bed: dict[int, datetime] = field(default_factory=dict)
    away: list[tuple[datetime, datetime]] = field(default_factory=list)

    def at_home(self, moment: datetime) -> bool:
        """Tell whether the guardian is watching at `moment` (not in mode away)."""
        return not any(start <= moment < end for start, end in self.away)


def local(day: int, hours: float, first_day: date = FIRST_DAY) -> datetime:
    """Return the instant `hours` of wall time after midnight starting day `day`, in UTC."""
    midnight = datetime.combine(first_day + timedelta(days=day), time(0), tzinfo=ZONE)
    # Wall-clock arithmetic: people keep to the clock on the wall, across DST changes too.
    return (midnight + timedelta(hours=hours)).astimezone(UTC)


def day_activity(rng: random.Random, person: Household, wake: float, bed: float) -> list[float]:
    """Return the hours (after the day's midnight) with activity between waking and bed."""
    hours: list[float] = []
    at = wake
    napped = False
    while at < bed:
        bout_end = min(at + (3 + rng.expovariate(1 / 18)) / 60, bed)
        while at < bout_end:
            hours.append(at)
            at += rng.uniform(0.5, 6.0) / 60
        hour = at % 24
        low, high = person.nap_window
        if not napped and low <= hour < high and rng.random() < person.nap_chance:
            napped = True
            if person.nap_end is None:
                still = rng.uniform(*person.nap_minutes)
            else:
                end_hour, earliest, latest = person.nap_end
                still = (end_hour - hour) * 60 + rng.uniform(earliest, latest)
        else:
            mean = person.still[0 if hour < 12 else 1 if hour < 18 else 2]
            still = min(rng.expovariate(1 / mean), person.longest_still)
        at = bout_end + still / 60
    hours.append(bed)
    return hours


def simulate(person: Household, seed: int) -> Month:  # noqa: C901, PLR0912, PLR0915
    """Simulate warm-up plus measured days of one household."""
    rng = random.Random(f"{person.name}/{seed}")  # noqa: S311 - a simulation, not a secret
    first = person.first_day

    def at(day: int, hours: float) -> datetime:
        """Return the household's wall time `hours` into day `day`."""
        return local(day, hours, first)

    days = WARMUP_DAYS + MEASURED_DAYS + 2
    usual = [(person.wake, person.bed)] * (days + 1)
    if person.shift is not None:
        # Every other week the other shift.
        usual = [
            (person.wake, person.bed) if (day // 7) % 2 == 0 else person.shift
            for day in range(days + 1)
        ]
    wake = [usual[day][0] + rng.gauss(0, person.wake_sd) for day in range(days + 1)]
    bed = [usual[day][1] + rng.gauss(0, person.bed_sd) for day in range(days + 1)]
    measured = list(range(WARMUP_DAYS, WARMUP_DAYS + MEASURED_DAYS))
    trip = rng.choice(measured[2 : -2 - person.away_days])
    trip_days = set(range(trip, trip + person.away_days + 1))
    visits = rng.sample([d for d in measured if min(abs(d - t) for t in trip_days) > 1], 3)
    outage_days = rng.sample(
        [d for d in measured if min(abs(d - t) for t in trip_days) > 1 and d not in visits], 4
    )
    special = {*trip_days, *visits, *outage_days, *(d + 1 for d in outage_days)}
    moments: list[tuple[float, int]] = []  # (hours, day)
    for day in range(days):
        moments.extend((hour, day) for hour in day_activity(rng, person, wake[day], bed[day]))
        if person.partner is not None:
            p_wake, p_wake_sd, p_bed, p_bed_sd = person.partner
            moments.extend(
                (hour, day)
                for hour in day_activity(
                    rng,
                    person,
                    p_wake + rng.gauss(0, p_wake_sd),
                    p_bed + rng.gauss(0, p_bed_sd),
                )
            )
        night_end = 24 + wake[day + 1]
        for _ in range(_poisson(rng, person.night_visits)):
            start = rng.uniform(bed[day] + 1, night_end - 1)
            moments.extend((start + k / 60, day) for k in range(4))
    activity = [Event(at=at(day, hour), kind="activity") for hour, day in moments]
    blind: list[tuple[datetime, datetime]] = []
    for day in outage_days[:3]:
        start = rng.uniform(9, 17)
        blind.append((at(day, start), at(day, start + rng.uniform(1, 4))))
    blind.append((at(outage_days[3], 23.5), at(outage_days[3], 30.5)))
    # The trip: away from 10:00 until 16:00 a few days later; nobody moves at home.
    away = [(at(trip, 10), at(trip + person.away_days, 16))]
    outings: list[tuple[datetime, datetime]] = []
    for day in range(days):
        weekday = (first + timedelta(days=day)).weekday()
        on_trip = trip <= day <= trip + person.away_days
        if person.work is not None and weekday < SATURDAY and not on_trip:
            hour, hours = person.work[(day // 7) % 2]
            away.append((at(day, hour), at(day, hour + hours)))
        if person.outing is not None and weekday == person.outing[0]:
            outings.append(
                (at(day, person.outing[1]), at(day, person.outing[1] + person.outing[2]))
            )
    modes = []
    for leave, back in away:
        modes += [
            Event(at=leave, kind="mode", value="away"),
            Event(at=back, kind="mode", value="home"),
        ]
    for number, day in enumerate(visits):
        modes.append(Event(at=at(day, 12), kind="mode", value="visitors"))
        modes.append(Event(at=at(day, 18.5), kind="mode", value="home"))
        activity.extend(Event(at=at(day, 12 + k / 30), kind="activity") for k in range(180))
        if number == 0:
            # A day out with the visitors, without anyone switching the mode to away.
            outings.append((at(day, 13), at(day, 17.5)))
    absent = [*away, *outings]
    if person.tv is not None:
        # The camera sees the television: its motion sensor stays on all evening.
        for day in range(days):
            on, off = (at(day, hour + rng.uniform(-0.25, 0.25)) for hour in person.tv)
            if not any(a <= on < b or a <= off < b for a, b in absent):
                activity += [Event(at=on, kind="on"), Event(at=off, kind="off")]
    events = [
        e
        for e in activity
        if not any(a <= e.at < b for a, b in absent) and not any(a <= e.at < b for a, b in blind)
    ]
    if person.pet_minutes:
        # A pet moves whether anybody is home or not.
        pet_at = at(0, 0)
        while pet_at < at(days, 0):
            pet_at += timedelta(minutes=rng.expovariate(1 / person.pet_minutes))
            if not any(a <= pet_at < b for a, b in blind):
                events.append(Event(at=pet_at, kind="pet"))
    for goes, returns in blind:
        events += [
            Event(at=goes, kind="blind", value=CAMERA),
            Event(at=returns, kind="seeing", value=CAMERA),
        ]
    events += modes
    events.sort()
    # Incidents go on ordinary days whose neighbours are ordinary too.
    ordinary = [d for d in measured if not special & {d - 1, d, d + 1}]
    month = Month(events=events, ordinary_days=ordinary, first_day=first, away=away)
    for day in range(days):
        month.wake[day] = at(day, wake[day])
        month.bed[day] = at(day, bed[day])
    return month


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a small Poisson count."""
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def drive(
    guardian: InactivityGuardian,
    events: Iterable[Event],
    until: datetime,
    snapshots: Iterable[datetime] = (),
) -> tuple[list[AlertChange], dict[datetime, dict[str, Any]]]:
    """Feed events to the guardian as Home Assistant would; keep its saved state at `snapshots`."""
    changes: list[AlertChange] = []
    saved: dict[datetime, dict[str, Any]] = {}
    pending = sorted(snapshots)
    for event in [*events, Event(at=until, kind="end")]:
        while pending and pending[0] <= event.at:
            moment = pending.pop(0)
            changes += guardian.catch_up(moment) + guardian.evaluate(moment)
            saved[moment] = json.loads(json.dumps(guardian.to_dict()))
        changes += guardian.catch_up(event.at)
        match event.kind:
            case "activity" | "pet":
                changes += guardian.activity(CAMERA, event.at)
            case "on" | "off":
                changes += guardian.source_state(CAMERA, event.kind, event.at, kind=Kind.MOTION)
            case "blind" | "seeing":
                changes += guardian.set_seeing(event.value, event.kind == "seeing", event.at)
            case "mode":
                changes += guardian.set_mode(event.value, event.at)
            case _:
                changes += guardian.evaluate(event.at)
    return changes, saved


@dataclass(kw_only=True, slots=True)
class Result:
    """Figures for one household with learning on or off."""

    false_alerts: int = 0
    cannot_monitor: int = 0
    times: dict[str, list[timedelta | None]] = field(default_factory=dict)


def incident(
    config: GuardianConfig,
    month: Month,
    saved: dict[str, Any],
    branch: datetime,
    *,
    start: datetime,
) -> timedelta | None:
    """Replay from `branch` with no activity after `start`; return the time to the first alert."""
    guardian = InactivityGuardian(config, saved)
    # As at start-up, the camera's motion sensor starts from what it shows (off at 16:00).
    guardian.source_state(CAMERA, "off", branch, kind=Kind.MOTION, baseline=True)
    # Nobody moves after `start`: no activity, no television switched on or off, and no
    # phone leaving for work to set the mode (a planned trip never falls on incident days).
    events = [
        e
        for e in month.events
        if branch < e.at < start + HORIZON
        and (e.kind not in {"activity", "on", "off", "mode"} or e.at < start)
    ]
    # The person was last active at `start`.
    events = sorted([*events, Event(at=start, kind="activity")])
    changes, _ = drive(guardian, events, start + HORIZON)
    for change in changes:
        if change.alert is Alert.INACTIVITY and change.level == 1 and change.at >= start:
            return change.at - start
    return None


def measure(person: Household, month: Month, learn: bool) -> Result:
    """Run the undisturbed month, then each incident on each ordinary day."""
    config = GuardianConfig.from_dict(
        {**person.options, "learn": learn, "escalate_after_minutes": [30], "time_zone": ZONE.key}
    )
    first_day = month.first_day
    branches = {day: local(day - 1, 16, first_day) for day in month.ordinary_days}
    end = local(WARMUP_DAYS + MEASURED_DAYS, 0, first_day)
    changes, saved = drive(
        InactivityGuardian(config), month.events, end, snapshots=branches.values()
    )
    first = local(WARMUP_DAYS, 0, first_day)
    result = Result()
    for change in changes:
        if change.at >= first and change.level == 1:
            if change.alert is Alert.INACTIVITY:
                result.false_alerts += 1
            elif change.alert is Alert.CANNOT_MONITOR:
                result.cannot_monitor += 1
    rng = random.Random(f"incidents/{person.name}")  # noqa: S311 - a simulation, not a secret
    result.times = {name: [] for name in INCIDENTS}
    for day, branch in branches.items():
        state = saved[branch]
        fall = local(day, person.mid_morning + rng.uniform(-0.5, 0.5), first_day)
        if month.at_home(fall):
            result.times["mid-morning fall"].append(
                incident(config, month, state, branch, start=fall)
            )
        usual_wake = local(day, _usual_wake(person, day), first_day)
        # Asleep since last night's bedtime and never up again: no activity after going to bed.
        if month.at_home(usual_wake):
            no_wake = incident(config, month, state, branch, start=month.bed[day - 1])
            result.times["no wake-up"].append(
                None if no_wake is None else month.bed[day - 1] + no_wake - usual_wake
            )
        fall = local(day, person.evening + rng.uniform(-0.5, 0.5), first_day)
        if month.at_home(fall):
            result.times["evening fall"].append(incident(config, month, state, branch, start=fall))
    return result


def _usual_wake(person: Household, day: int) -> float:
    """Return the household's usual wake-up hour on `day` (the week's shift, if any)."""
    if person.shift is not None and (day // 7) % 2:
        return person.shift[0]
    return person.wake


def duration(value: timedelta | None) -> str:
    """Write a duration as h:mm."""
    if value is None:
        return "missed"
    minutes = round(value.total_seconds() / 60)
    sign = "-" if minutes < 0 else ""
    return f"{sign}{abs(minutes) // 60}h{abs(minutes) % 60:02d}"


def summary(times: list[timedelta | None]) -> str:
    """Write the median and worst time to alert."""
    found = [t for t in times if t is not None]
    missed = len(times) - len(found)
    if not found:
        return "missed"
    median = statistics.median_low(found)
    text = f"{duration(median)} ({duration(max(found))})"
    return text + (f", {missed} missed" if missed else "")


def main() -> None:
    """Simulate every household with learning off and on and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="seed of the first month")
    parser.add_argument("--months", type=int, default=3, help="months simulated per household")
    arguments = parser.parse_args()
    print(
        f"{arguments.months} simulated months per household (seeds {arguments.seed}.."
        f"{arguments.seed + arguments.months - 1}); time to alert: median (worst)\n"
    )
    print(
        "| household | learning | false alerts / month | cannot monitor / month | mid-morning fall "
        "| no wake-up (after usual wake) | evening fall | incidents of each kind |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for person in HOUSEHOLDS:
        months = [simulate(person, arguments.seed + n) for n in range(arguments.months)]
        for learn in (False, True):
            total = Result(times={name: [] for name in INCIDENTS})
            for month in months:
                result = measure(person, month, learn)
                total.false_alerts += result.false_alerts
                total.cannot_monitor += result.cannot_monitor
                for name in INCIDENTS:
                    total.times[name] += result.times[name]
            print(
                f"| {person.name} | {'on' if learn else 'off'} "
                f"| {total.false_alerts / len(months):.2f} "
                f"| {total.cannot_monitor / len(months):.2f} "
                + "".join(f"| {summary(total.times[name])} " for name in INCIDENTS)
                + f"| {len(total.times[INCIDENTS[0]])} |"
            )


if __name__ == "__main__":
    main()

"""Simulate month-long household routines and measure the inactivity guardian on them.

Run from the repository root: .venv/bin/python -m benchmarks.guardian_month [--seed 1] [--months 3]

Three simulated households (an early riser, a late sleeper whose active hours wrap midnight, an
irregular one with long naps) live 14 days of warm-up and then 30 measured days in
Europe/Berlin, across the end of daylight saving time. Their days are bouts of movement and
still spells whose length depends on the time of day, night-time toilet visits, a two-night
trip (mode away), three visits (mode visitors; on one the person goes out with the visitors
for hours), three daytime camera outages and one overnight outage. The guardian sees exactly
what a camera would: activity while seeing, nothing while blind. Each household is simulated
for several months (different seeds) and the figures are pooled.

Printed: inactivity alerts per measured month with nothing wrong (false alerts), "cannot
monitor" alerts (true: the camera was down), and time to alert for incidents injected on every
ordinary measured day: a fall at mid-morning, no wake-up (measured from the household's usual
wake-up time) and a fall in the evening; median and worst over the days, with and without the
learned routine. Each incident branches from the undisturbed month through the guardian's own
saved state, as a restart would.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import json
import random
import statistics
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.home_guardian.engine.guardian import (
    Alert,
    AlertChange,
    GuardianConfig,
    InactivityGuardian,
)

ZONE = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2024, 10, 7)  # a Monday; daylight saving time ends on 27 October
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


HOUSEHOLDS = (
    Household(
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
        options={
            "active_start": "06:00",
            "active_end": "21:30",
            "inactivity_minutes": 180,
            "night_inactivity_minutes": 720,
            "expected_by": ["08:00"],
        },
    ),
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
    wake: dict[int, datetime] = field(default_factory=dict)
    bed: dict[int, datetime] = field(default_factory=dict)


def local(day: int, hours: float) -> datetime:
    """Return the instant `hours` of wall time after midnight starting day `day`, in UTC."""
    midnight = datetime.combine(FIRST_DAY + timedelta(days=day), time(0), tzinfo=ZONE)
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
        if not napped and 13 <= hour < 15 and rng.random() < person.nap_chance:
            napped = True
            still = rng.uniform(*person.nap_minutes)
        else:
            mean = person.still[0 if hour < 12 else 1 if hour < 18 else 2]
            still = min(rng.expovariate(1 / mean), person.longest_still)
        at = bout_end + still / 60
    hours.append(bed)
    return hours


def simulate(person: Household, seed: int) -> Month:
    """Simulate warm-up plus measured days of one household."""
    rng = random.Random(f"{person.name}/{seed}")  # noqa: S311 - a simulation, not a secret
    days = WARMUP_DAYS + MEASURED_DAYS + 2
    wake = [person.wake + rng.gauss(0, person.wake_sd) for _ in range(days + 1)]
    bed = [person.bed + rng.gauss(0, person.bed_sd) for _ in range(days + 1)]
    measured = list(range(WARMUP_DAYS, WARMUP_DAYS + MEASURED_DAYS))
    trip = rng.choice(measured[2:-4])
    visits = rng.sample([d for d in measured if abs(d - trip) > 3], 3)
    outage_days = rng.sample([d for d in measured if abs(d - trip) > 3 and d not in visits], 4)
    special = {trip, trip + 1, trip + 2, *visits, *outage_days, *(d + 1 for d in outage_days)}
    moments: list[tuple[float, int]] = []  # (hours, day)
    for day in range(days):
        moments.extend((hour, day) for hour in day_activity(rng, person, wake[day], bed[day]))
        night_end = 24 + wake[day + 1]
        for _ in range(_poisson(rng, person.night_visits)):
            start = rng.uniform(bed[day] + 1, night_end - 1)
            moments.extend((start + k / 60, day) for k in range(4))
    activity = [Event(at=local(day, hour), kind="activity") for hour, day in moments]
    blind: list[tuple[datetime, datetime]] = []
    for day in outage_days[:3]:
        start = rng.uniform(9, 17)
        blind.append((local(day, start), local(day, start + rng.uniform(1, 4))))
    blind.append((local(outage_days[3], 23.5), local(outage_days[3], 30.5)))
    # The trip: away from 10:00 until 16:00 two days later; nobody moves at home.
    away = (local(trip, 10), local(trip + 2, 16))
    outings: list[tuple[datetime, datetime]] = [away]
    modes = [
        Event(at=away[0], kind="mode", value="away"),
        Event(at=away[1], kind="mode", value="home"),
    ]
    for number, day in enumerate(visits):
        modes.append(Event(at=local(day, 12), kind="mode", value="visitors"))
        modes.append(Event(at=local(day, 18.5), kind="mode", value="home"))
        activity.extend(Event(at=local(day, 12 + k / 30), kind="activity") for k in range(180))
        if number == 0:
            # A day out with the visitors, without anyone switching the mode to away.
            outings.append((local(day, 13), local(day, 17.5)))
    events = [
        e
        for e in activity
        if not any(a <= e.at < b for a, b in outings) and not any(a <= e.at < b for a, b in blind)
    ]
    for start, end in blind:
        events += [
            Event(at=start, kind="blind", value=CAMERA),
            Event(at=end, kind="seeing", value=CAMERA),
        ]
    events += modes
    events.sort()
    # Incidents go on ordinary days whose neighbours are ordinary too.
    ordinary = [d for d in measured if not special & {d - 1, d, d + 1}]
    month = Month(events=events, ordinary_days=ordinary)
    for day in range(days):
        month.wake[day] = local(day, wake[day])
        month.bed[day] = local(day, bed[day])
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
            case "activity":
                changes += guardian.activity(CAMERA, event.at)
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
    events = [
        e
        for e in month.events
        if branch < e.at < start + HORIZON and (e.kind != "activity" or e.at < start)
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
    branches = {day: local(day - 1, 16) for day in month.ordinary_days}
    end = local(WARMUP_DAYS + MEASURED_DAYS, 0)
    changes, saved = drive(
        InactivityGuardian(config), month.events, end, snapshots=branches.values()
    )
    first = local(WARMUP_DAYS, 0)
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
        fall = local(day, person.mid_morning + rng.uniform(-0.5, 0.5))
        result.times["mid-morning fall"].append(incident(config, month, state, branch, start=fall))
        usual_wake = local(day, person.wake)
        # Asleep since last night's bedtime and never up again: no activity after going to bed.
        no_wake = incident(config, month, state, branch, start=month.bed[day - 1])
        result.times["no wake-up"].append(
            None if no_wake is None else month.bed[day - 1] + no_wake - usual_wake
        )
        fall = local(day, person.evening + rng.uniform(-0.5, 0.5))
        result.times["evening fall"].append(incident(config, month, state, branch, start=fall))
    return result


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

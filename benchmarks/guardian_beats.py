"""Measure how sources that switch by themselves are told from things people switch.

Run from the repository root: .venv/bin/python -m benchmarks.guardian_beats [--days 30]

Each profile is one source, alone, through the guardian's own rules for the given days (a fridge
or a freezer read every 30 seconds as a level in W, contacts and switches as changes, a motion
sensor as motion), with Home
Assistant restarted once a day at a random time. Devices that switch themselves vary their runs
and rests at random within the ranges given; people's things are used at random times. Printed
for each: the hours until the source was found to keep a beat (never: -), the switches made and
counted as activity a day after that (before it, every switch counts), and the longest quiet the
guardian saw. A device should count nothing once found; people's things should count every
switch and never be found.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
import json
import random

from benchmarks.guardian_levels import EVERY, OPTIONS as LEVEL_OPTIONS, START
from custom_components.home_guardian.engine.config import GuardianConfig
from custom_components.home_guardian.engine.guardian import InactivityGuardian
from custom_components.home_guardian.engine.sources import Kind

DAY = timedelta(days=1)
OPTIONS = {**LEVEL_OPTIONS, "time_zone": "UTC"}

# A profile's switches: (when, on or off), in time order, over the days asked for.
type Switches = Callable[[random.Random, int], list[tuple[datetime, bool]]]


def cycling(runs: tuple[float, float], rests: tuple[float, float], doors: int = 0) -> Switches:
    """Return a device that runs and rests for random minutes within the ranges, day and night.

    `doors` a day, at random hours from 07:00 to 22:00, start a run early if it is resting (a
    fridge's door letting warm air in).
    """

    def switches(rng: random.Random, days: int) -> list[tuple[datetime, bool]]:
        """Return the device's switches."""
        opened = sorted(
            START + timedelta(days=day, hours=rng.uniform(7, 22))
            for day in range(days)
            for _ in range(doors)
        )
        found, moment, running = [], START, False
        while moment < START + days * DAY:
            length = timedelta(minutes=rng.uniform(*(rests if not running else runs)))
            ends = moment + length
            if not running and opened and opened[0] < ends:
                early = opened.pop(0)
                ends = max(early, moment + EVERY)
            running = not running
            found.append((ends, running))
            moment = ends
        return found

    return switches


def used(
    times: tuple[int, int], minutes: tuple[float, float], hours: tuple[float, float]
) -> Switches:
    """Return a thing people use `times` a day (at random), for random `minutes`, within `hours`."""

    def switches(rng: random.Random, days: int) -> list[tuple[datetime, bool]]:
        """Return the thing's switches."""
        found: list[tuple[datetime, bool]] = []
        free = START
        for day in range(days):
            count = rng.randint(*times)
            starts = sorted(rng.uniform(*hours) for _ in range(count))
            for hour in starts:
                on = max(START + timedelta(days=day, hours=hour), free + EVERY)
                free = on + timedelta(minutes=rng.uniform(*minutes))
                found += [(on, True), (free, False)]
        return found

    return switches


def garden(rng: random.Random, days: int) -> list[tuple[datetime, bool]]:
    """Return a back door used every 20 to 30 minutes all afternoon, open 40 to 60 s each time."""
    found: list[tuple[datetime, bool]] = []
    for day in range(days):
        moment = START + timedelta(days=day, hours=14)
        while moment < START + timedelta(days=day, hours=18):
            found += [(moment, True), (moment + timedelta(seconds=rng.uniform(40, 60)), False)]
            moment += timedelta(minutes=rng.uniform(20, 30))
    return found


def hallway(rng: random.Random, days: int) -> list[tuple[datetime, bool]]:
    """Return a hall's motion sensor holding 90 s, passed every 45-75 min from 07:00 to 22:00."""
    found: list[tuple[datetime, bool]] = []
    for day in range(days):
        moment = START + timedelta(days=day, hours=7, minutes=rng.uniform(0, 30))
        while moment < START + timedelta(days=day, hours=22):
            found += [(moment, True), (moment + timedelta(seconds=90), False)]
            moment += timedelta(minutes=rng.uniform(45, 75))
    return found


def readings(
    rng: random.Random, switches: list[tuple[datetime, bool]], days: int, watts: float
) -> Iterator[tuple[datetime, str]]:
    """Return a plug's readings every 30 s: `watts` while on, about 1 W while off."""
    pending = iter(switches)
    upcoming = next(pending, None)
    running = False
    moment = START
    while moment < START + days * DAY:
        while upcoming is not None and upcoming[0] <= moment:
            running = upcoming[1]
            upcoming = next(pending, None)
        level = rng.gauss(watts, watts * 0.03) if running else max(0.0, rng.gauss(1, 0.3))
        yield moment, f"{level:.1f}"
        moment += EVERY


PROFILES: list[tuple[str, Kind, float, Switches]] = [
    ("fridge, runs 18-24 min, rests 28-38 min", Kind.LEVEL, 90, cycling((18, 24), (28, 38))),
    (
        "fridge, the same, door opened 15 times a day",
        Kind.LEVEL,
        90,
        cycling((18, 24), (28, 38), 15),
    ),
    ("fridge, runs 15-30 min, rests 25-50 min", Kind.LEVEL, 90, cycling((15, 30), (25, 50))),
    ("freezer, runs 30-40 min, rests 60-80 min", Kind.LEVEL, 120, cycling((30, 40), (60, 80))),
    (
        "dehumidifier, runs 40-55 min, rests 90-120 min",
        Kind.LEVEL,
        250,
        cycling((40, 55), (90, 120)),
    ),
    ("boiler pump relay, on 8-11 min, off 12-16 min", Kind.CHANGE, 0, cycling((8, 11), (12, 16))),
    (
        "contact chattering, on 1-3 s, off 15-22 min",
        Kind.CHANGE,
        0,
        cycling((1 / 60, 3 / 60), (15, 22)),
    ),
    (
        "contact chattering, off 5-40 min (irregular)",
        Kind.CHANGE,
        0,
        cycling((1 / 60, 3 / 60), (5, 40)),
    ),
    (
        "motion sensor a heater sets off, on 60-65 s, off 16-23 min",
        Kind.MOTION,
        0,
        cycling((1, 65 / 60), (16, 23)),
    ),
    ("kettle plug, 3-8 uses a day", Kind.LEVEL, 2000, used((3, 8), (2, 4), (6.5, 22))),
    ("television plug, 1-3 a day, 20-180 min", Kind.LEVEL, 80, used((1, 3), (20, 180), (8, 23))),
    ("hall light, 5-15 a day, 1-30 min", Kind.CHANGE, 0, used((5, 15), (1, 30), (6, 23.5))),
    ("front door, 2-10 a day, open 5-60 s", Kind.CHANGE, 0, used((2, 10), (5 / 60, 1), (7, 21))),
    ("back door to the garden every 20-30 min, 14:00-18:00", Kind.CHANGE, 0, garden),
    ("hall motion, held 90 s, passed every 45-75 min, 07:00-22:00", Kind.MOTION, 0, hallway),
]


def run(
    kind: Kind, watts: float, switches: Switches, days: int, seed: int
) -> tuple[float | None, int, int, timedelta]:
    """Return hours until a beat was found, switches made and counted after, the longest quiet."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    config = GuardianConfig.from_dict(OPTIONS)
    guardian = InactivityGuardian(config)
    made = switches(rng, days)
    if kind is Kind.LEVEL:
        states = list(readings(rng, made, days, watts))
    else:
        states = [(START, "off"), *((moment, "on" if on else "off") for moment, on in made)]
    restarts = sorted(START + timedelta(days=day, hours=rng.uniform(0, 24)) for day in range(days))
    found_at: datetime | None = None
    counted = made_after = 0
    longest, quiet_from, baseline, last_state = timedelta(0), START, True, ""
    switch_times = iter(moment for moment, _ in made)
    for moment, state in states:
        if restarts and restarts[0] <= moment:
            restarts.pop(0)
            guardian = InactivityGuardian(config, json.loads(json.dumps(guardian.to_dict())))
            guardian.resume(moment)
            baseline = True
        if state == last_state and not baseline:
            continue
        seen = guardian.activity_seen
        unit = "W" if kind is Kind.LEVEL else None
        guardian.source_state("source", state, moment, kind=kind, baseline=baseline, unit=unit)
        baseline, last_state = False, state
        if found_at is None and guardian.self_switching_sources:
            found_at = moment
        if guardian.activity_seen > seen:
            longest = max(longest, moment - quiet_from)
            quiet_from = moment
            counted += found_at is not None
    longest = max(longest, START + days * DAY - quiet_from)
    if found_at is not None:
        made_after = sum(1 for moment in switch_times if moment > found_at)
    hours = None if found_at is None else (found_at - START) / timedelta(hours=1)
    return hours, made_after, counted, longest


def main() -> None:
    """Print one line per profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    days = arguments.days
    print(
        f"| source ({days} days, a restart a day) | beat found after | switched a day after |",
        end="",
    )
    print(" counted a day after | longest quiet |")
    print("|---|---|---|---|---|")
    for name, kind, watts, switches in PROFILES:
        hours, made, counted, longest = run(kind, watts, switches, days, arguments.seed)
        found = "-" if hours is None else f"{hours:.1f} h"
        left = days - (hours or 0) / 24
        rate = f"{made / left:.1f}" if hours is not None else "-"
        counted_rate = f"{counted / left:.2f}" if hours is not None else "-"
        quiet = longest / timedelta(hours=1)
        print(f"| {name} | {found} | {rate} | {counted_rate} | {quiet:.1f} h |")


if __name__ == "__main__":
    main()

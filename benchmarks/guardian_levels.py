"""Measure how numeric sensors read as levels hide silences and how they tell appliances.

Run from the repository root: .venv/bin/python -m benchmarks.guardian_levels [--days 30]

Each profile is a sensor read every 30 seconds for the given days, through the guardian's own
rules (kind level, with or without its unit), restarted every day at a random time. Printed for
each: how many readings counted as activity per day and the longest quiet the guardian saw,
where a motion sensor in the same area that never turns on watches too, and how many counted
with the sensor alone. A sensor that only wobbles should count nothing, so the longest quiet is
the whole run; one with an appliance should count once per use where a motion sensor watches
(switched on; its end, which appliances often make by themselves, counts only where nothing
would have seen a hand), twice with the sensor alone, and never while it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import json
import random

from custom_components.home_guardian.engine.config import GuardianConfig
from custom_components.home_guardian.engine.guardian import InactivityGuardian
from custom_components.home_guardian.engine.sources import Kind

START = datetime(2026, 3, 2, tzinfo=UTC)
EVERY = timedelta(seconds=30)
OPTIONS = {
    "expected_by": [],
    "escalate_after_minutes": [],
    "inactivity_minutes": 10080,
    "night_inactivity_minutes": 10080,
    "learn": False,
}

type Reading = Callable[[random.Random, int], float]
# How many times the simulated appliances were really switched on, counted as they are.
USES = [0]


# The area of the sensor, and of the motion sensor that watches it.
AREA = "kitchen"


def standby(level: float, wobble: float) -> Reading:
    """Return a plug resting at `level` watts, wobbling by `wobble` (never below zero)."""
    return lambda rng, _n: max(0.0, rng.gauss(level, wobble))


def spiky(level: float) -> Reading:
    """Return a plug at rest with a heavy-tailed wobble: now and then a spike of a few watts."""
    return lambda rng, _n: max(
        0.0, level + rng.expovariate(1.0) * (3 if rng.random() < 0.01 else 0.3)
    )


def drift(base: float, swing: float, wobble: float) -> Reading:
    """Return a slow daily swing (a room's temperature, humidity) with a small wobble."""
    period = 2880  # readings in a day

    def read(rng: random.Random, n: int) -> float:
        """Return one reading."""
        phase = (n % period) / period
        return base + swing * abs(2 * phase - 1) + rng.gauss(0, wobble)

    return read


def appliance(rest: Reading, power: tuple[float, float], uses: float, minutes: float) -> Reading:
    """Return a plug at rest switched on `uses` times a day for `minutes`, drawing `power`."""
    state = {"left": 0}

    def read(rng: random.Random, n: int) -> float:
        """Return one reading."""
        if state["left"] == 0 and rng.random() < uses / 2880:
            state["left"] = max(1, round(minutes * 2))
            USES[0] += 1
        if state["left"] > 0:
            state["left"] -= 1
            return rng.uniform(*power)
        return rest(rng, n)

    return read


# A day of readings, and where the sun rises and sets in it (a March day, in hours).
DAY = 2880
SUNRISE, SUNSET = 6.5, 18.0
# At night a window sensor sees a street lamp, or the moon: a fraction of a lux.
NIGHT_LUX = 0.3


def daylight(peak: float, cloud: float = 1 / 3) -> Reading:
    """Return daylight on a sensor: `peak` lx in sun, `cloud` of it behind a cloud, dark at night.

    Dawn and dusk take an hour each, the light multiplying evenly (0.3 lx to `peak`); clouds
    come and go every four minutes on average, the light jumping at once, as a window sees it.
    """
    state = {"sun": 1.0}

    def read(rng: random.Random, n: int) -> float:
        """Return one reading."""
        hour = (n % DAY) / (DAY / 24)
        if rng.random() < 1 / 8:
            state["sun"] = cloud if state["sun"] == 1.0 else 1.0
        rising = min(1.0, max(0.0, hour - (SUNRISE - 0.5)))
        setting = min(1.0, max(0.0, (SUNSET + 0.5) - hour))
        part = min(rising, setting)
        light = NIGHT_LUX * (peak / NIGHT_LUX) ** part
        return max(0.0, (NIGHT_LUX + (light - NIGHT_LUX) * state["sun"]) * rng.gauss(1, 0.02))

    return read


def lamp(ambient: Reading, lux: float, uses: float, minutes: float) -> Reading:
    """Return `ambient` light with a lamp adding `lux`, switched on `uses` times a day at random."""
    state = {"left": 0}

    def read(rng: random.Random, n: int) -> float:
        """Return one reading."""
        if state["left"] == 0 and rng.random() < uses / DAY:
            state["left"] = max(1, round(minutes * 2))
            USES[0] += 1
        added = 0.0
        if state["left"] > 0:
            state["left"] -= 1
            added = lux * rng.gauss(1, 0.01)
        return ambient(rng, n) + added

    return read


def scheduled(ambient: Reading, times: list[tuple[float, float]], added: Reading) -> Reading:
    """Return `ambient` light plus `added` between each pair of hours of every day."""

    def read(rng: random.Random, n: int) -> float:
        """Return one reading."""
        hour = (n % DAY) / (DAY / 24)
        extra = 0.0
        for start, end in times:
            if abs(hour - start) < 1e-9:
                USES[0] += 1
            if start <= hour < end:
                extra = added(rng, n)
        return ambient(rng, n) + extra

    return read


def sparse(reading: Reading, every: int) -> Reading:
    """Return `reading` sent only every `every` readings (a sensor read every few minutes)."""
    state = {"value": 0.0}

    def read(rng: random.Random, n: int) -> float:
        """Return one reading, the last one sent until the next is due."""
        value = reading(rng, n)
        if n % every == 0:
            state["value"] = value
        return state["value"]

    return read


def screen(rng: random.Random, _n: int) -> float:
    """Return a television's light on a sensor: each reading another scene, some of them dark."""
    return rng.uniform(0.0, 3.0) if rng.random() < 0.15 else rng.uniform(5.0, 60.0)


PROFILES: list[tuple[str, str | None, int, Reading]] = [
    ("plug at 1.5 W, wobble 0.8 W", "W", 1, standby(1.5, 0.8)),
    ("plug at 1.5 W, wobble 0.8 W, no unit", None, 1, standby(1.5, 0.8)),
    ("plug near 0 W, wobble 0.15 W, no unit", None, 1, standby(0.0, 0.15)),
    ("plug at 4 W, wobble 2 W", "W", 1, standby(4.0, 2.0)),
    ("plug at 0.3 W with spikes", "W", 1, spiky(0.3)),
    ("plug at 0.3 W with spikes, no unit", None, 1, spiky(0.3)),
    ("thermometer 20-23 °C", "°C", 1, drift(20.0, 3.0, 0.05)),
    ("outdoor thermometer -1..+1 °C", "°C", 1, drift(-1.0, 2.0, 0.1)),
    ("outdoor thermometer -1..+1 °C, no unit", None, 1, drift(-1.0, 2.0, 0.1)),
    ("hygrometer 45-65 %", "%", 1, drift(45.0, 20.0, 1.0)),
    ("kettle 1.8-2.2 kW, 6 uses a day", "W", 1, appliance(standby(1.0, 0.4), (1800, 2200), 6, 3)),
    ("television 35-140 W, 2 a day", "W", 1, appliance(standby(0.5, 0.1), (35, 140), 2, 120)),
    ("television, spiky plug", "W", 1, appliance(spiky(0.3), (35, 140), 2, 120)),
    ("lamp 6 W, 3 uses a day", "W", 1, appliance(standby(0.3, 0.1), (5.8, 6.2), 3, 60)),
    ("kettle, no unit", None, 1, appliance(standby(1.0, 0.4), (1800, 2200), 6, 3)),
    ("window, clouds 700-2,100 lx, dawn and dusk", "lx", 1, daylight(2100)),
    ("dim room, clouds 15-45 lx by day", "lx", 1, daylight(45)),
    ("dark hallway, lamp 150 lx 4 times a day", "lx", 1, lamp(daylight(10), 150, 4, 5)),
    (
        "room 300-900 lx by day, lamp 200 lx at noon, dusk to 23:00",
        "lx",
        1,
        scheduled(daylight(900), [(12.0, 12.5), (17.75, 23.0)], lambda rng, _n: rng.gauss(200, 2)),
    ),
    ("television 0-60 lx, 19:00-22:00", "lx", 1, scheduled(daylight(300), [(19, 22)], screen)),
    ("window, heavy clouds 260-2,100 lx", "lx", 1, daylight(2100, cloud=1 / 8)),
    ("window, read every 5 minutes", "lx", 1, sparse(daylight(2100), 10)),
    (
        "dark hallway, lamp 20 min, read every 5 min",
        "lx",
        1,
        sparse(lamp(daylight(10), 150, 4, 20), 10),
    ),
]


def run(
    unit: str | None, reading: Reading, days: int, seed: int, *, watched: bool
) -> tuple[int, int, timedelta]:
    """Return the readings counted, the switches made, and the longest quiet seen.

    `watched` adds a motion sensor in the sensor's area that never turns on, as in a home where
    a hand switching the appliance off would have been seen.
    """
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    config = GuardianConfig.from_dict({**OPTIONS, "time_zone": "UTC"})
    guardian = InactivityGuardian(config)
    restarts = {round(rng.uniform(0, 2880)) + 2880 * day for day in range(days)}
    counted, longest, last_state = 0, timedelta(0), ""
    quiet_from = START
    baseline = True
    for n in range(days * 2880):
        moment = START + n * EVERY
        if n in restarts:
            stored = json.loads(json.dumps(guardian.to_dict()))
            guardian = InactivityGuardian(config, stored)
            guardian.resume(moment)
            baseline = True
        state = f"{reading(rng, n):.1f}"
        if state == last_state and not baseline:
            continue
        if watched and baseline:
            guardian.source_state(
                "motion", "off", moment, kind=Kind.MOTION, baseline=True, room=AREA
            )
        seen = guardian.activity_seen
        guardian.source_state(
            "plug", state, moment, kind=Kind.LEVEL, baseline=baseline, unit=unit, room=AREA
        )
        baseline, last_state = False, state
        if guardian.activity_seen > seen:
            counted += 1
            longest = max(longest, moment - quiet_from)
            quiet_from = moment
    longest = max(longest, START + days * 2880 * EVERY - quiet_from)
    return counted, len(restarts), longest


def main() -> None:
    """Print one line per profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unit", help="only the sensors read in this unit (lx: light)")
    arguments = parser.parse_args()
    days = arguments.days
    print(f"| sensor ({days} days, a reading every 30 s) | counted a day |", end="")
    print(" switched on a day | longest quiet | counted a day, the sensor alone |")
    print("|---|---|---|---|---|")
    for name, unit, _, reading in PROFILES:
        if arguments.unit is not None and unit != arguments.unit:
            continue
        USES[0] = 0
        counted, _, longest = run(unit, reading, days, arguments.seed, watched=True)
        uses = USES[0] / days
        alone, _, _ = run(unit, reading, days, arguments.seed, watched=False)
        hours = longest / timedelta(hours=1)
        print(f"| {name} | {counted / days:.2f} | {uses:.2f} | {hours:.1f} h", end="")
        print(f" | {alone / days:.2f} |")


if __name__ == "__main__":
    main()

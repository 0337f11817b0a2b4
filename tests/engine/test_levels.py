"""Tests for reading light (lx) as a level: lamps count, daylight and screens do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.home_guardian.engine.levels import (
    SCREEN_DARK,
    LevelReader,
    LevelRules,
    rules_for,
)

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def switches(values: list[float], *, every: float = 30, unit: str = "lx") -> list[int]:
    """Read `values` one every `every` seconds; return the indexes of the readings that switch.

    As in Home Assistant, a reading the same as the last is no new state and is not read.
    """
    reader = LevelReader(rules=rules_for(unit))
    found, last = [], ""
    for index, value in enumerate(values):
        state = f"{value:.1f}"
        moment = START + timedelta(seconds=every * index)
        if state != last and reader.read(state, moment, found=False):
            found.append(index)
        last = state
    return found


def dawn(low: float, high: float, readings: int) -> list[float]:
    """Return light multiplying evenly from `low` to `high` over `readings` readings."""
    return [low * (high / low) ** (n / (readings - 1)) for n in range(readings)]


def test_only_light_has_rules_of_its_own() -> None:
    """Power, temperature and sensors without a unit keep the plain rules and their floors."""
    assert rules_for("W") == LevelRules(floor=5.0)
    assert rules_for("°C") == LevelRules(floor=1.0)
    assert rules_for(None) == LevelRules()
    light = rules_for("lx")
    assert light.floor == 10.0
    assert light.ceiling < 1000


def test_dawn_clouds_and_dusk_at_a_window_never_count() -> None:
    """Dawn, the sun in and out of clouds (700 to 2,100 lx) all day, then dusk: no switch."""
    clouds = [2100.0 if (n // 8) % 2 else 700.0 for n in range(600)]
    day = [0.3] * 20 + dawn(0.3, 700, 120) + clouds + dawn(700, 0.3, 120) + [0.3] * 20
    assert switches(day) == []
    # Read every 5 minutes, dawn multiplies the light by 2.3 at every reading: no switch either.
    assert switches([0.3] * 5 + dawn(0.3, 700, 10) + [700.0] * 5, every=300) == []


def test_the_sun_out_of_a_cloud_in_a_dim_room_is_no_lamp() -> None:
    """A room that daylight lights dimly (15 to 45 lx) stays quiet; a lamp there counts."""
    clouds = [45.0 if (n // 6) % 2 else 15.0 for n in range(240)]
    assert switches(clouds) == []
    lamp = [15.0] * 10 + [165.0, 166.0] * 5 + [15.0] * 10
    assert switches(lamp) == [11, 20]


def test_a_lamp_in_a_dark_hallway_counts_on_and_off() -> None:
    """2 lx to 150 lx: on once a second reading confirms it, off at the first dark reading."""
    assert switches([2.0] * 10 + [152.0, 151.0, 150.5] + [2.0] * 5) == [11, 13]
    # A car's headlights for one reading are no lamp.
    assert switches([2.0] * 10 + [80.0] + [2.0] * 5) == []


def test_a_lamp_at_dusk_stays_on_while_the_daylight_behind_it_fades() -> None:
    """Switched on at 40 lx, the lamp's 200 lx hold as dusk falls; its switch off counts."""
    fading = [200.0 + light for light in dawn(43.0, 0.3, 60)]
    readings = dawn(90.0, 43.0, 20) + fading + [200.0] * 20 + [0.3] * 5
    assert switches(readings) == [21, 100]


def test_a_lamp_in_a_sunlit_room_is_not_seen_but_switched_off_in_the_dark_it_is() -> None:
    """The price of not counting clouds: a lamp in daylight is daylight, until the dark shows it."""
    day = [600.0] * 10 + [800.0] * 10 + [600.0] * 10 + [800.0] * 10
    dusk = [200.0 + light for light in dawn(600.0, 0.3, 120)]
    assert switches(day + dusk + [200.0] * 10) == []
    # Switched off once the room is dark: the bright light gone at once is the lamp.
    assert switches(day + dusk + [200.0] * 10 + [0.3] * 3) == [170]


def test_a_screen_flickering_all_evening_counts_on_and_off_once() -> None:
    """Each reading another scene, dark ones among them: one switch on, then one off at its end."""
    scenes = [40.0, 12.0, 55.0, 1.5, 30.0, 2.0, 1.0, 48.0, 20.0, 0.8, 0.9, 1.1, 35.0] * 20
    # A dark room sends nothing new: the end counts at its next reading, SCREEN_DARK or later.
    dark = round(SCREEN_DARK.total_seconds() / 30)
    readings = [0.5] * 10 + scenes + [0.5] * dark + [0.6]
    assert switches(readings) == [11, len(readings) - 1]
    assert switches([0.5] * 10 + scenes + [0.5] * (dark - 2) + [0.6]) == [11]
    # Told only at dawn, hours later, it is taken quietly (where an end counts, it would be a
    # sign of life hours late), and the dawn after it is no switch on.
    late = [0.5] * 10 + scenes + [0.5] * 600 + [0.6, 0.8]
    assert switches(late) == [11]
    # Switched off for longer, then on again: the bright reading after the dark counts the
    # switch off, the one after it the new switch on.
    again = [0.5] * 10 + scenes + [0.5] * (dark + 2) + [40.0, 45.0]
    assert switches(again) == [11, len(again) - 2, len(again) - 1]

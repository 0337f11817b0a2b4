"""Say what a source's state change means for the guardian, by the kind of source it is.

The kinds, in plain words:

- **motion** (a camera's motion sensor, a PIR, Frigate motion): activity for as long as it is
  on, not only when it turns on; turning off is activity too (someone was moving until then).
  A motion source that stays on longer than `motion_stuck_minutes` (a draught, a fault, a
  camera watching a television) stops counting from then on; its next change counts again.
- **presence** (mmWave, occupancy): someone is there. That is not activity: a person lying on
  the floor is still "present". Its changes only tell that the source can see.
- **change** (doors, contacts, appliances, lights, power, buttons): every change between two
  real states is activity.
- **alarm** (a fall detector, an SOS button): turning on, or any new event, raises an alarm at
  once; it is not activity.

Only a change observed while running means anything: the state a source has when the guardian
starts (at start-up, after a restart, a reload or an options change) or when it comes back
from unavailable is where the next change starts from, never activity or an alarm by itself.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Final

ON: Final = "on"
OFF: Final = "off"

# Binary-sensor device classes whose "on" means somebody is there, not that somebody moves.
_PRESENCE_CLASSES: Final = frozenset({"occupancy", "presence"})
_MOTION_CLASSES: Final = frozenset({"motion", "moving"})


class Kind(StrEnum):
    """What a source's states say about the person watched over."""

    MOTION = "motion"
    PRESENCE = "presence"
    CHANGE = "change"
    ALARM = "alarm"


class Meaning(Enum):
    """What one observed state change means."""

    NOTHING = "nothing"
    ACTIVITY = "activity"
    MOTION_STARTS = "motion_starts"
    MOTION_ENDS = "motion_ends"
    ALARM = "alarm"


def kind_for(domain: str, device_class: str | None) -> Kind:
    """Return the kind a source has unless its owner says otherwise."""
    if domain == "binary_sensor" and device_class in _MOTION_CLASSES:
        return Kind.MOTION
    if domain == "binary_sensor" and device_class in _PRESENCE_CLASSES:
        return Kind.PRESENCE
    return Kind.CHANGE


def meaning(kind: Kind, before: str | None, after: str) -> Meaning:
    """Return what a change from `before` (None: not observed) to `after` means."""
    if before is None or before == after:
        return Meaning.NOTHING
    match kind:
        case Kind.MOTION:
            if after == ON:
                return Meaning.MOTION_STARTS
            return Meaning.MOTION_ENDS if before == ON else Meaning.ACTIVITY
        case Kind.PRESENCE:
            return Meaning.NOTHING
        case Kind.CHANGE:
            return Meaning.ACTIVITY
        case Kind.ALARM:
            return Meaning.NOTHING if after == OFF else Meaning.ALARM

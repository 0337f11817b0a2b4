"""What a guardian can say: its modes, alerts, the reasons for them, and their changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Mode(StrEnum):
    """How the household is living right now."""

    HOME = "home"
    AWAY = "away"
    VISITORS = "visitors"


class Alert(StrEnum):
    """The guardian's open alert, if any."""

    NONE = "none"
    INACTIVITY = "inactivity"
    CANNOT_MONITOR = "cannot_monitor"
    ALARM = "alarm"


class Reason(StrEnum):
    """Why an alert was raised, escalated or cleared."""

    QUIET = "quiet"
    NIGHT_QUIET = "night_quiet"
    EXPECTED_BY = "expected_by"
    ROUTINE = "routine"
    BLIND = "blind"
    ESCALATED = "escalated"
    ACTIVITY = "activity"
    ACKNOWLEDGED = "acknowledged"
    SEEING = "seeing"
    AWAY = "away"
    ALARM = "alarm"
    PRESENCE = "presence"


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertChange:
    """One change of the guardian's alert: raised, escalated or cleared (alert NONE, level 0).

    `previous` is the alert before the change, so a clearing says what ended; `room` is the
    room (area) a presence alert is about, if it is about one.
    """

    at: datetime
    alert: Alert
    level: int
    reason: Reason
    previous: Alert = Alert.NONE
    room: str | None = None

    @property
    def event(self) -> str:
        """Return "inactivity", "cannot_monitor", "alarm" or "cleared", as events name it."""
        return "cleared" if self.alert is Alert.NONE else self.alert.value

"""Logbook entries for guardian alerts and shared views, so everyone can see what happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_ALERT, EVENT_VIEW

# Logbook texts are not translated by Home Assistant; they stay short and plain.
_MESSAGES = {
    "inactivity": "raised an inactivity alert, level {level}",
    "cannot_monitor": "cannot monitor: every source is blind",
    "alarm": "raised an alarm: somebody asked for help, level {level}",
    "cleared": "cleared its alert ({reason})",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the guardian's alert events."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        """Return the logbook entry of one alert change."""
        data = event.data
        message = _MESSAGES.get(data.get("alert", ""), "changed its alert").format(
            level=data.get("level"), reason=data.get("reason") or "cleared"
        )
        if data.get("test"):
            message = f"sent a test alert ({message})"
        return {
            LOGBOOK_ENTRY_NAME: data.get("name", "Home Guardian"),
            LOGBOOK_ENTRY_MESSAGE: message,
        }

    @callback
    def describe_view(event: Event) -> dict[str, Any]:
        """Return the logbook entry of a share viewer arriving or leaving."""
        data = event.data
        verb = "started watching" if data.get("watching") else "stopped watching"
        entry = {
            LOGBOOK_ENTRY_NAME: data.get("viewer_name", "A viewer"),
            LOGBOOK_ENTRY_MESSAGE: f"{verb} {data.get('name', 'a camera')} through a share",
        }
        if data.get("entity_id"):
            entry["entity_id"] = data["entity_id"]
        return entry

    async_describe_event(DOMAIN, EVENT_ALERT, describe)
    async_describe_event(DOMAIN, EVENT_VIEW, describe_view)

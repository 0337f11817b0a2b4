"""Diagnostics of a camera or a guardian, with every credential redacted, also inside URLs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .config_flow import URL_FIELDS
from .coordinator import HomeGuardianConfigEntry
from .engine.urls import redact_url
from .guardian import GuardianCoordinator

TO_REDACT = {CONF_PASSWORD, CONF_USERNAME}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeGuardianConfigEntry
) -> dict[str, Any]:
    """Return the settings and health, safe to paste into a public bug report."""
    runtime = entry.runtime_data
    if isinstance(runtime, GuardianCoordinator):
        return {
            "entry": {"title": entry.title, "options": dict(entry.options)},
            # Entity ids and times only: the guardian keeps no picture and no secret.
            "state": runtime.guardian.to_dict(),
        }
    coordinator = runtime
    data = {
        key: redact_url(value) if key in URL_FIELDS else value for key, value in entry.data.items()
    }
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(data, TO_REDACT),
            "options": dict(entry.options),
        },
        "analysis_stream": coordinator.source.address.redacted(),
        "source_camera": None
        if coordinator.source_camera is None
        else {
            "entity_id": coordinator.source_camera.entity_id,
            "read_by": coordinator.source_camera.mode,
            "seconds_between_pictures": coordinator.source.poll_interval,
        },
        "status": asdict(coordinator.source.status),
        "available": coordinator.last_update_success,
    }

"""Constants for Home Guardian."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "home_guardian"
LOGGER = logging.getLogger(__package__)

CONF_STREAM_URL: Final = "stream_url"
CONF_SUBSTREAM_URL: Final = "substream_url"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
CONF_LIVE_VIEW: Final = "live_view"

LIVE_VIEW_STREAM: Final = "stream"
LIVE_VIEW_FRAMES: Final = "frames"
DEFAULT_LIVE_VIEW: Final = LIVE_VIEW_STREAM

# How long the flow and setup wait for a first frame: a camera that has not answered by then
# is not worth keeping a user or Home Assistant's start waiting for.
PROBE_TIMEOUT: Final = 15.0
SETUP_TIMEOUT: Final = 10.0
# Frames older than this mean the camera is gone, whatever the connection claims.
STALE_AFTER: Final = 10.0
STATUS_INTERVAL: Final = timedelta(seconds=2)
# An outage this long is worth a repair issue rather than just an unavailable entity.
REPAIR_AFTER: Final = timedelta(minutes=30)
SNAPSHOT_POLL_INTERVAL: Final = 2.0

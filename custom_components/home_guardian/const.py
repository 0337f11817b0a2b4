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

# A camera read through a camera entity Home Assistant already has, rather than by URL.
CONF_CAMERA_ENTITY: Final = "camera_entity"
CONF_READ_MODE: Final = "read_mode"
READ_STREAM: Final = "stream"
READ_PICTURES: Final = "pictures"
CONF_PICTURES_PER_SECOND: Final = "pictures_per_second"
DEFAULT_PICTURES_PER_SECOND: Final = 1.0

LIVE_VIEW_STREAM: Final = "stream"
LIVE_VIEW_FRAMES: Final = "frames"
DEFAULT_LIVE_VIEW: Final = LIVE_VIEW_STREAM

# How long the config flow waits for a first frame; setup never waits for the camera.
PROBE_TIMEOUT: Final = 15.0
# Frames older than this mean the camera is gone, whatever the connection claims.
STALE_AFTER: Final = 10.0
STATUS_INTERVAL: Final = timedelta(seconds=2)
# An outage this long is worth a repair issue rather than just an unavailable entity.
REPAIR_AFTER: Final = timedelta(minutes=30)
SNAPSHOT_POLL_INTERVAL: Final = 2.0

CONF_MOTION_DETECTION: Final = "motion_detection"
CONF_SENSITIVITY: Final = "sensitivity"
# Shown to users in percent of the picture; the engine takes a fraction.
CONF_MIN_OBJECT_SIZE: Final = "min_object_size"
CONF_ANALYSIS_FPS: Final = "analysis_fps"
CONF_IGNORE_ZONES: Final = "ignore_zones"
CONF_ONLY_ZONES: Final = "only_zones"
DEFAULT_MOTION_DETECTION: Final = True
DEFAULT_SENSITIVITY: Final = 50
DEFAULT_MIN_OBJECT_SIZE: Final = 0.1
DEFAULT_ANALYSIS_FPS: Final = 5.0
# Shared pictures go out at this rate: enough to see a room, little CPU per camera.
SHARE_FPS: Final = 5.0
# Options that the running camera applies at once; any other option change reloads the entry.
# Privacy zones reload: every running share's filter must start again from the new zones.
LIVE_OPTIONS: Final = frozenset(
    {
        CONF_MOTION_DETECTION,
        CONF_SENSITIVITY,
        CONF_MIN_OBJECT_SIZE,
        CONF_ANALYSIS_FPS,
        CONF_IGNORE_ZONES,
        CONF_ONLY_ZONES,
        CONF_PICTURES_PER_SECOND,
        "sharing",
    }
)

EVENT_MOTION: Final = "home_guardian_motion"
# While motion lasts, new moving regions reach entities at most this often: attributes stay calm.
REGIONS_UPDATE_INTERVAL: Final = 1.0

# A config entry is either a camera or a guardian; camera entries predate the key.
CONF_KIND: Final = "kind"
KIND_CAMERA: Final = "camera"
KIND_GUARDIAN: Final = "guardian"

CONF_SOURCES: Final = "sources"
CONF_ACTIVE_START: Final = "active_start"
CONF_ACTIVE_END: Final = "active_end"
CONF_INACTIVITY_MINUTES: Final = "inactivity_minutes"
CONF_NIGHT_INACTIVITY_MINUTES: Final = "night_inactivity_minutes"
CONF_EXPECTED_BY: Final = "expected_by"
CONF_ESCALATE_AFTER_MINUTES: Final = "escalate_after_minutes"
CONF_LEARN: Final = "learn"
CONF_BLIND_GRACE_MINUTES: Final = "blind_grace_minutes"
CONF_VISITORS_FACTOR: Final = "visitors_factor"
# The owner's choice of kind per source (motion, presence, change, alarm), over the derived one.
CONF_SOURCE_KINDS: Final = "source_kinds"
CONF_MOTION_STUCK_MINUTES: Final = "motion_stuck_minutes"
# Sources that raise an alarm at once (a fall detector, an SOS button), and its level.
CONF_ALARM_SOURCES: Final = "alarm_sources"
CONF_ALARM_LEVEL: Final = "alarm_level"
# Someone present (mmWave, occupancy) this long with no activity at all is a warning; 0: off.
CONF_PRESENCE_LIMIT_MINUTES: Final = "presence_limit_minutes"

EVENT_ALERT: Final = "home_guardian_alert"
# Once a day, at the first activity of the day: the wake-up, the night and yesterday.
EVENT_DAILY_SUMMARY: Final = "home_guardian_daily_summary"
# The day's counts may wait this long to reach the disk; a lost minute of counts is harmless.
SUMMARY_SAVE_DELAY: Final = 60.0
SERVICE_ACKNOWLEDGE: Final = "acknowledge"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
# Time left for the guardian's store to catch up after a burst of activity.
GUARDIAN_SAVE_DELAY: Final = 10.0

# Sharing: off until the owner allows it, per camera.
CONF_SHARING: Final = "sharing"
CONF_PRIVACY_ZONES: Final = "privacy_zones"
EVENT_VIEW: Final = "home_guardian_view"
EVENT_SHARE_REPORTED: Final = "home_guardian_share_reported"
SERVICE_CREATE_SHARE: Final = "create_share"
SERVICE_REVOKE_SHARE: Final = "revoke_share"
SERVICE_RESUME_SHARE: Final = "resume_share"
SERVICE_LIST_SHARES: Final = "list_shares"

"""A guardian's runtime: HA states in, the engine's decisions out as entities, events, storage."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
import os
from pathlib import Path
import shutil
from typing import Any, Final

from homeassistant.components.sensor import ATTR_STATE_CLASS
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_RESTORED,
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_CORE_CONFIG_UPDATE,
    EVENT_HOMEASSISTANT_STOP,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.event import (
    async_call_later,
    async_track_entity_registry_updated_event,
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ALARM_SOURCES,
    CONF_SOURCE_KINDS,
    CONF_SOURCES,
    DOMAIN,
    EVENT_ALERT,
    EVENT_DAILY_SUMMARY,
    GUARDIAN_SAVE_DELAY,
    LOGGER,
    SUMMARY_SAVE_DELAY,
)
from .engine.alerts import Alert, AlertChange, Mode, Reason
from .engine.clock import ClockWatch, elapsed_seconds
from .engine.config import GuardianConfig
from .engine.guardian import InactivityGuardian
from .engine.levels import number
from .engine.schedule import DailySchedule
from .engine.sources import STUCK_PAUSE, Kind, kind_for
from .engine.state import StoredStateError
from .engine.summary import DailySummary, DaySummary
from .stores import READ_ANY_VERSION

STORAGE_VERSION = 1
# Fired by Home Assistant's automation integration at each run, with the run's context.
EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
# Enough runs for a busy home's last minutes; a change made by an older run is still told by
# its context's parent (see AutomationRuns.made), unless a time trigger started it.
AUTOMATION_RUNS_KEPT: Final = 1000
# A device an automation set going reports its end later, in a context of its own (past five
# seconds, Home Assistant no longer gives its state the run's): a cover, a lock, a valve left
# in one of these states. Its changes without a user this soon after are the automation's.
GOING_STATES: Final = frozenset({"opening", "closing", "locking", "unlocking"})
AUTOMATION_FINISH: Final = timedelta(minutes=2)
# The inactive-for sensor moves on this often; finer would only fill the recorder.
INACTIVE_FOR_REFRESH = timedelta(minutes=1)
# Other integrations' entities (ZHA, MQTT) often come after Home Assistant has started: what
# fell due while it was down waits this long after the start for sources not there yet, and no
# longer, since a source that never comes is blind.
START_GRACE: Final = timedelta(seconds=60)
# The reason of a test alert's event: no rule of the guardian's raised it.
TEST_REASON: Final = "test"
# A guardian's repair issues, each named with its entry id after this.
GUARDIAN_ISSUES: Final = (
    "guardian_source_missing",
    "guardian_state_unreadable",
    "guardian_deadline_ignored",
    "guardian_source_beats",
)
# The name of the copy kept beside a saved state that could not be read.
UNREADABLE_SUFFIX: Final = ".unreadable"
# Options that are not the engine's own.
_NOT_ENGINE_OPTIONS = frozenset({CONF_SOURCES, CONF_SOURCE_KINDS, CONF_ALARM_SOURCES})


def guardian_config(hass: HomeAssistant, options: Mapping[str, Any]) -> GuardianConfig:
    """Return the engine's config for a guardian's options, in Home Assistant's time zone."""
    return GuardianConfig.from_dict(_engine_options(hass, options))


def stored_guardian_config(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> tuple[GuardianConfig, tuple[time, ...]]:
    """Return the config to run a guardian with, and the saved deadlines it must leave out."""
    return GuardianConfig.from_stored(_engine_options(hass, options))


def _engine_options(hass: HomeAssistant, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the engine's options among a guardian's, in Home Assistant's time zone."""
    engine_options = {
        key: value for key, value in options.items() if key not in _NOT_ENGINE_OPTIONS
    }
    return {**engine_options, "time_zone": hass.config.time_zone}


def renamed_options(options: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """Return a guardian's options with source `old` called `new` wherever it is named."""
    renamed = dict(options)
    for key in (CONF_SOURCES, CONF_ALARM_SOURCES):
        if names := renamed.get(key):
            renamed[key] = [new if name == old else name for name in names]
    if kinds := renamed.get(CONF_SOURCE_KINDS):
        renamed[CONF_SOURCE_KINDS] = {
            new if name == old else name: kind for name, kind in kinds.items()
        }
    return renamed


def _copy_if_present(path: Path, backup: Path) -> None:
    """Copy the store's file aside, readable by its owner alone; a store in memory has none."""
    with suppress(FileNotFoundError), path.open("rb") as source:
        # The copy holds what the store does: as private, whatever the umask or a file before.
        descriptor = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as target:
            # Owned by the file object first, so that a failing chmod leaks no descriptor.
            os.fchmod(target.fileno(), 0o600)
            shutil.copyfileobj(source, target)


async def async_remove_guardian_data(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed guardian's stores, the copy of an unreadable one, and its issues."""
    for name in ("guardian", "summary"):
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, store_key(name, entry_id))
        path = Path(store.path)
        await store.async_remove()
        await hass.async_add_executor_job(
            _remove_if_present, path.with_name(f"{path.name}{UNREADABLE_SUFFIX}")
        )
    for issue in GUARDIAN_ISSUES:
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry_id}")


def source_area(hass: HomeAssistant, source: str) -> str | None:
    """Return the area a source is in: the entity's own, else its device's."""
    entity = er.async_get(hass).async_get(source)
    if entity is None:
        return None
    if entity.area_id is not None:
        return entity.area_id
    if entity.device_id is not None and (device := dr.async_get(hass).async_get(entity.device_id)):
        return device.area_id
    return None


def store_key(name: str, entry_id: str) -> str:
    """Return the key of a guardian's store: its state ("guardian") or its daily summary."""
    return f"{DOMAIN}.{name}.{entry_id}"


def _remove_if_present(path: Path) -> None:
    """Delete a file; one that is not there is gone already."""
    with suppress(FileNotFoundError):
        path.unlink()


def not_come_yet(state: State | None) -> bool:
    """Return True for a source without a state, or only the entity registry's stand-in."""
    # The registry shows an entity that its integration has not added yet as unavailable and
    # restored; the real entity replaces that state when it comes.
    return state is None or (
        state.state == STATE_UNAVAILABLE and state.attributes.get(ATTR_RESTORED) is True
    )


def derived_kind(hass: HomeAssistant, source: str) -> Kind:
    """Return the kind an entity's domain and device class give it."""
    return kind_of(source, hass.states.get(source))


def kind_of(source: str, state: State | None) -> Kind:
    """Return the kind a source's domain, device class and readings give it."""
    if state is None:
        return kind_for(source.partition(".")[0], None)
    # A unit or a state class marks a measured number even while it shows no number. A running
    # total (a water or gas meter) never falls back to a standby: each of its steps is a change.
    total = state.attributes.get(ATTR_STATE_CLASS) in RUNNING_TOTALS
    numeric = not total and (
        ATTR_UNIT_OF_MEASUREMENT in state.attributes
        or ATTR_STATE_CLASS in state.attributes
        or number(state.state) is not None
    )
    return kind_for(
        source.partition(".")[0], state.attributes.get(ATTR_DEVICE_CLASS), numeric=numeric
    )


class AutomationRuns:
    """The contexts of the latest automation runs, to tell a change an automation made.

    An automation's actions carry its run's context, and anything run from them (a script) a
    context whose parent is the run's. A time, sun or time-pattern trigger gives the run a
    context with no parent and no user, like a device's own change, so the runs are followed
    by their `automation_triggered` events.
    """

    def __init__(self, *, keep: int = AUTOMATION_RUNS_KEPT) -> None:
        """Start with no run seen."""
        self.keep = keep
        self._runs: OrderedDict[str, None] = OrderedDict()
        # When an automation set each source going, while its device may still be finishing.
        self._finishing: dict[str, datetime] = {}

    @callback
    def ran(self, event: Event) -> None:
        """Note an automation run's context."""
        self._runs[event.context.id] = None
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)

    def made(self, state: State) -> bool:
        """Tell whether a state was written by an automation (or a script it ran), not somebody.

        Besides the runs seen, a context with a parent and no user is an automation's or a
        script's: a person's own change (the app, a voice assistant) carries their user, and a
        device's own has no parent. A device's own change within AUTOMATION_FINISH of an
        automation setting it going (a cover "closing") is the device finishing that.
        """
        context = state.context
        if (
            context.id in self._runs
            or context.parent_id in self._runs
            or (context.parent_id is not None and context.user_id is None)
        ):
            if state.state in GOING_STATES:
                self._finishing[state.entity_id] = state.last_updated
            else:
                self._finishing.pop(state.entity_id, None)
            return True
        started = self._finishing.get(state.entity_id)
        if started is None or context.user_id is not None:
            self._finishing.pop(state.entity_id, None)
            return False
        if state.last_updated - started > AUTOMATION_FINISH:
            del self._finishing[state.entity_id]
            return False
        if state.state not in GOING_STATES:
            # Finished: what the device does next is somebody's again.
            del self._finishing[state.entity_id]
        return True


# State classes of sensors that only ever add up (SensorStateClass.TOTAL and TOTAL_INCREASING).
RUNNING_TOTALS: Final = frozenset({"total", "total_increasing"})


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardianSnapshot:
    """What the guardian's entities show, taken after every change."""

    alert: Alert
    level: int
    reason: Reason | None
    alert_since: datetime | None
    # The area a presence alert is about (id and name), if it is about one.
    alert_room: str | None
    alert_room_name: str | None
    last_activity: datetime | None
    inactive_for: timedelta
    mode: Mode
    can_see: bool
    sources: Mapping[str, bool]
    wake_up: datetime | None
    activity_today: int
    usual_activity: float | None
    night_activity: int


type GuardianConfigEntry = ConfigEntry[GuardianCoordinator]


class OneWritePending:
    """Write a store within a delay of the first change, whatever changes follow it."""

    def __init__(
        self, store: Store[dict[str, Any]], data: Callable[[], dict[str, Any]], delay: float
    ) -> None:
        """Write what `data` returns to `store`, `delay` seconds after the first change."""
        self._store = store
        self._data = data
        self._delay = delay
        self._pending = False

    def soon(self) -> None:
        """Write within the delay; a change while a write is pending joins that write."""
        # Asking the store again would push its write back each time: a source that changes
        # every few seconds would keep the data from ever reaching the disk before a power cut.
        if not self._pending:
            self._pending = True
            self._store.async_delay_save(self._data_to_save, self._delay)

    async def now(self) -> None:
        """Write at once; this write replaces the pending one."""
        self._pending = False
        await self._store.async_save(self._data())

    def _data_to_save(self) -> dict[str, Any]:
        """Return the data as it is when the store writes it."""
        self._pending = False
        return self._data()


class StoreFromNewerVersionError(Exception):
    """The guardian's store was written by a newer version of Home Guardian."""

    def __init__(self, data: Any) -> None:
        """Keep the stored data, from which the guardian still takes what it can."""
        super().__init__("stored by a newer version")
        self.data = data


class GuardianStore(Store[dict[str, Any]]):
    """The guardian's store, which never rewrites state from a version it does not know."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Refuse state of another version, leaving the file as it is."""
        raise StoreFromNewerVersionError(old_data)


class GuardianCoordinator(DataUpdateCoordinator[GuardianSnapshot]):
    """Feed a guardian with the states of its sources and publish what it decides."""

    config_entry: GuardianConfigEntry

    def __init__(self, hass: HomeAssistant, entry: GuardianConfigEntry) -> None:
        """Prepare the guardian; it starts watching in async_start."""
        super().__init__(hass, LOGGER, config_entry=entry, name=entry.title)
        # Alarm sources are followed like the others; what their states mean differs.
        self.alarm_sources: list[str] = list(entry.options.get(CONF_ALARM_SOURCES) or [])
        self.sources: list[str] = list(
            dict.fromkeys([*entry.options.get(CONF_SOURCES, []), *self.alarm_sources])
        )
        # Options saved before deadlines outside active hours were refused may still hold one.
        self.config, self._left_out = stored_guardian_config(hass, entry.options)
        # Private, as Home Assistant's own records of the home are: when someone is up and about.
        self._store = GuardianStore(
            hass,
            STORAGE_VERSION,
            store_key("guardian", entry.entry_id),
            private=True,
            **READ_ANY_VERSION,
        )
        self.guardian = InactivityGuardian(self.config)
        self._summary_store = GuardianStore(
            hass,
            STORAGE_VERSION,
            store_key("summary", entry.entry_id),
            private=True,
            **READ_ANY_VERSION,
        )
        self.summary = DailySummary(self._active_hours())
        # The guardian and summary are replaced by the stored ones at start: read them late.
        self._state_saves = OneWritePending(self._store, self._state_data, GUARDIAN_SAVE_DELAY)
        self._summary_saves = OneWritePending(
            self._summary_store, self._summary_data, SUMMARY_SAVE_DELAY
        )
        self._cancel_timer: Callable[[], None] | None = None
        self._stop_following: Callable[[], None] | None = None
        self._due: datetime | None = None
        self._clock = ClockWatch(elapsed_seconds)
        self._stuck_logged: frozenset[str] = frozenset()
        # The sources told to switch to a beat of their own (None: nothing told yet this run).
        self._beats_told: frozenset[str] | None = None
        self._missing: list[str] = []
        self._odd_states: set[str] = set()
        # Sources seen reporting numbers: a word from one later is a skipped reading, not a change.
        self._numeric: set[str] = set()
        # The last reading of each running total, to tell its meter starting again from a step.
        self._totals: dict[str, float] = {}
        self._automations = AutomationRuns()
        # The reading each running total last fell from, until its next reading.
        self._fell_from: dict[str, float] = {}
        # While set, the guardian is starting: the instant of its return, at which it reads
        # what its sources show, and the sources it still waits for (see async_start).
        self._return: datetime | None = None
        self._late: set[str] = set()
        self._started = False
        self._cancel_grace: Callable[[], None] | None = None
        # Set up while Home Assistant starts, a source not there yet may only be late (ZHA, MQTT
        # add theirs after the start): it is missing once the grace is over. Set up later, by an
        # edit of the sources, every other integration's entities are there: it is missing now.
        self._set_up_at_start = False

    async def async_start(self) -> None:
        """Restore the saved state, catch up on the downtime and start following sources."""
        self._async_tell_left_out()
        # Downtime is real time and counts (see resume); jumps count only from here on.
        now, _ = self._now()
        try:
            stored = await self._store.async_load()
        except StoreFromNewerVersionError as err:
            await self._async_keep_unreadable(err.data)
        else:
            if stored is not None:
                try:
                    self.guardian = InactivityGuardian(self.config, stored)
                except StoredStateError:
                    await self._async_keep_unreadable(stored)
        try:
            summary = await self._summary_store.async_load()
        except StoreFromNewerVersionError:
            summary = None  # Counts of a few days, not worth a repair issue: start afresh.
        self.summary = DailySummary(self._active_hours(), summary)
        changes = self.guardian.resume(now)
        known = set(self.guardian.known_sources)
        for source in known - set(self.sources):
            changes += self.guardian.forget_source(source, now)
        # What the sources show on the return is read at its instant, the engine held there,
        # including the states of sources that come a little later and anything seen meanwhile:
        # a limit passed while down is told only after, so someone moving on the return wins.
        self._return = now
        self._set_up_at_start = self.hass.state is not CoreState.running
        found = {source: self.hass.states.get(source) for source in self.sources}
        for source, state in sorted(found.items(), key=lambda item: self._read_later(*item)):
            if self._not_shown_yet(source, state):
                self._late.add(source)
            else:
                # Compared with what it last showed: motion still on goes on counting, an alarm
                # pressed meanwhile raises, presence still on is no sign of life (sources.py).
                changes += self._observe(source, state, now, baseline=True)
        entry = self.config_entry
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_AUTOMATION_TRIGGERED, self._automations.ran)
        )
        self._stop_following = async_track_state_change_event(
            self.hass, self.sources, self._async_source_changed
        )
        entry.async_on_unload(self._async_stop_following)
        entry.async_on_unload(
            async_track_entity_registry_updated_event(
                self.hass, self.sources, self._async_source_renamed
            )
        )
        entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_tick, INACTIVE_FOR_REFRESH, cancel_on_shutdown=True
            )
        )
        entry.async_on_unload(self._cancel_scheduled)
        entry.async_on_unload(
            self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)
        )
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._async_core_config_updated)
        )
        self._publish(changes, now)
        # Entities of other integrations may still be on their way while Home Assistant starts.
        entry.async_on_unload(async_at_started(self.hass, self._async_started))

    @callback
    def _async_started(self, hass: HomeAssistant) -> None:
        """Finish the start once every source has come, or after a grace for the late ones."""
        self._started = True
        self._async_check_missing(hass)
        if not self._late:
            self._async_end_return()
            return
        LOGGER.debug("%s: waiting for %s", self.name, ", ".join(sorted(self._late)))
        self._cancel_grace = async_call_later(hass, START_GRACE, self._async_grace_over)
        self.config_entry.async_on_unload(self._cancel_waiting)

    @callback
    def _async_grace_over(self, _now: datetime) -> None:
        """Start without the sources that have not come: they are blind, and missing."""
        self._cancel_grace = None
        self._async_end_return()
        self._async_check_missing(self.hass)

    @callback
    def _cancel_waiting(self) -> None:
        """Stop waiting for late sources (all came, or the guardian stops)."""
        if self._cancel_grace is not None:
            self._cancel_grace()
            self._cancel_grace = None

    @callback
    def _async_end_return(self) -> None:
        """Let time run from the return: tell what is still due, and follow the clock again."""
        if self._return is None:
            return
        now, changes = self._now()
        changes += self._stop_waiting()
        self._publish(changes + self.guardian.evaluate(now), now)

    def _stop_waiting(self) -> list[AlertChange]:
        """Read the sources still missing as blind, at the return; the start is over."""
        if (at := self._return) is None:
            return []
        changes: list[AlertChange] = []
        for source in sorted(self._late):
            changes += self._observe(source, None, at, baseline=True)
        self._return = None
        self._late.clear()
        self._cancel_waiting()
        return changes

    def _not_shown_yet(self, source: str, state: State | None) -> bool:
        """Tell whether the start waits for what `source` shows: it has shown nothing yet.

        That is a source not added yet, or, while Home Assistant starts, one that can show
        activity and is unavailable or unknown: many integrations' entities are so for their
        first seconds (MQTT's until their availability message, a Zigbee sensor until it
        reports), and what they show next is what they showed on the return. A source that is
        so on a reload is taken as it is, as is a presence or alarm source (an event entity
        never pressed stays unknown), which cannot show that somebody is up.
        """
        if state is None or not_come_yet(state):
            return True
        return (
            self._set_up_at_start
            and state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN)
            and self.source_kind(source, state) in {Kind.MOTION, Kind.CHANGE, Kind.LEVEL}
        )

    def _engine_time(self, now: datetime) -> datetime:
        """Return the time to give the engine: the return's instant while the start lasts."""
        return self._return or now

    @callback
    def _async_core_config_updated(self, _event: Event) -> None:
        """Reload in Home Assistant's new time zone, the one active hours and deadlines are in."""
        # Kept until a restart, the old zone would put the night where the day is.
        if self.hass.config.time_zone != self.config.time_zone:
            LOGGER.info("%s: the time zone is now %s", self.name, self.hass.config.time_zone)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    async def _async_keep_unreadable(self, data: Any) -> None:
        """Carry on with what the stored state still tells, keeping a copy of it and saying so."""
        self.guardian = InactivityGuardian.salvaged(self.config, data)
        path = Path(self._store.path)
        backup = path.with_name(f"{path.name}{UNREADABLE_SUFFIX}")
        # The file as it was stays beside the new one, for a newer version or for a look.
        await self.hass.async_add_executor_job(_copy_if_present, path, backup)
        LOGGER.warning(
            "%s: the saved guardian state is damaged or from a newer version; carrying on with "
            "what it tells (a copy is kept as %s)",
            self.name,
            backup,
        )
        self._async_warn("guardian_state_unreadable", {"backup": str(backup)})

    @callback
    def _async_tell_left_out(self) -> None:
        """Say which saved deadlines fall outside active hours and are ignored, or withdraw it."""
        if not self._left_out:
            self._async_warn("guardian_deadline_ignored", None)
            return
        deadlines = ", ".join(f"{clock:%H:%M}" for clock in self._left_out)
        LOGGER.warning(
            "%s: expected-by %s outside active hours, ignored until changed", self.name, deadlines
        )
        self._async_warn(
            "guardian_deadline_ignored",
            {
                "deadlines": deadlines,
                "active_start": f"{self.config.active_start:%H:%M}",
                "active_end": f"{self.config.active_end:%H:%M}",
            },
        )

    @callback
    def _async_warn(self, key: str, placeholders: dict[str, str] | None) -> None:
        """Raise this guardian's repair issue `key` with `placeholders`, or withdraw it (None)."""
        issue_id = f"{key}_{self.config_entry.entry_id}"
        if placeholders is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"name": self.config_entry.title, **placeholders},
        )

    def _now(self) -> tuple[datetime, list[AlertChange]]:
        """Return the time, and what a forward jump of the clock since the last look changed."""
        now = dt_util.utcnow()
        if (before := self._clock.jumped_forward(now)) is not None:
            # NTP setting the clock of a host without a battery-backed clock, at boot: the
            # hours skipped were never lived through, so they must not count as quiet; the
            # time really lived up to the jump does.
            LOGGER.warning("%s: the clock jumped forward; the gap is not quiet time", self.name)
            # The return's instant was read on the clock before the jump: the start ends here.
            changes = self._stop_waiting()
            return now, changes + self.guardian.evaluate(before) + self.guardian.clock_jumped(now)
        return now, []

    @callback
    def _async_source_changed(self, event: Event[EventStateChangedData]) -> None:
        """Tell the guardian what a source's new state means."""
        source, new = event.data["entity_id"], event.data["new_state"]
        if source in self._late and self._not_shown_yet(source, new):
            return
        now, changes = self._now()
        counted = self.guardian.activity_seen
        if source in self._late:
            # Come during the start: what it shows is what it showed on the return.
            self._late.discard(source)
            changes += self._observe(source, new, self._engine_time(now), baseline=True)
        else:
            changes += self._observe(source, new, self._engine_time(now))
        if self.guardian.activity_seen > counted:
            if (day := self.summary.activity(now)) is not None:
                self._fire_summary(day)
                # Told once: a power cut a moment later must not send the morning message again.
                self._in_background(self._summary_saves.now())
            else:
                self._summary_saves.soon()
        self._publish(changes, now)
        if self.hass.is_running:
            self._async_check_missing(self.hass)
        if self._started and self._return is not None and not self._late:
            self._async_end_return()

    @callback
    def _async_source_renamed(self, event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        """Follow a source given a new entity ID, keeping what it last showed."""
        data = event.data
        if data["action"] != "update" or (old := data.get("old_entity_id")) is None:
            return
        new = data["entity_id"]
        LOGGER.info("%s: %s is now called %s; following it", self.name, old, new)
        # What it showed goes with it, so a motion sensor on through the rename goes on counting.
        self.guardian.rename_source(old, new)
        options = renamed_options(self.config_entry.options, old, new)
        # New options reload the guardian, which then follows the new name.
        self.hass.config_entries.async_update_entry(self.config_entry, options=options)

    @callback
    def _async_check_missing(self, _hass: HomeAssistant) -> None:
        """Raise a repair issue while sources do not exist (removed or renamed), once."""
        missing = [
            source
            for source in self.sources
            if self.hass.states.get(source) is None
            and not (self._set_up_at_start and source in self._late)
        ]
        if missing == self._missing:
            return
        self._missing = missing
        if not missing:
            self._async_warn("guardian_source_missing", None)
            return
        LOGGER.warning(
            "%s: %s not found; counted as blind until back", self.name, ", ".join(missing)
        )
        self._async_warn("guardian_source_missing", {"sources": ", ".join(missing)})

    def _read_later(self, source: str, state: State | None) -> bool:
        """Tell whether a source is read after the motion sources when the guardian starts.

        A plug found at rest that was on when Home Assistant stopped ended unseen; whether a
        motion source in its area would have seen a hand is known once those are read.
        """
        return self.source_kind(source, state) is not Kind.MOTION

    def source_kind(self, source: str, state: State | None) -> Kind:
        """Return what a source's states mean: the owner's choice, else its domain and class."""
        if source in self.alarm_sources:
            return Kind.ALARM
        chosen = self.config_entry.options.get(CONF_SOURCE_KINDS, {}).get(source)
        if chosen in set(Kind):
            return Kind(chosen)
        kind = kind_of(source, state)
        if kind is Kind.LEVEL:
            self._numeric.add(source)
        elif source in self._numeric and kind is Kind.CHANGE:
            return Kind.LEVEL
        return kind

    def _observe(
        self, source: str, new: State | None, now: datetime, *, baseline: bool = False
    ) -> list[AlertChange]:
        """Hand one state to the guardian: blind when unavailable or unknown, else its value."""
        blind = new is None or new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        value = None if blind or new is None else new.state
        kind = self.source_kind(source, new)
        if (
            kind in {Kind.MOTION, Kind.PRESENCE}
            and value not in {None, STATE_ON, STATE_OFF}
            and source not in self._odd_states
        ):
            # A sensor whose states are not on and off cannot say "moving" or "present".
            self._odd_states.add(source)
            LOGGER.warning(
                "%s: %s is read as %s but shows %r, which is neither on nor off",
                self.name,
                source,
                kind,
                value,
            )
        if (
            kind is Kind.LEVEL
            and value is not None
            and number(value) is None
            and source not in self._odd_states
        ):
            # Skipped, not blind: the next number is compared with the last one.
            self._odd_states.add(source)
            LOGGER.warning(
                "%s: %s is read as a level but shows %r, which is not a number; skipped",
                self.name,
                source,
                value,
            )
        if kind is Kind.CHANGE and new is not None and self._automations.made(new):
            # A light or a switch an automation turned is the automation, not somebody; the
            # next change is judged from here.
            baseline = True
        if kind is Kind.CHANGE and self._total_started_again(source, new, value):
            # A running total falling is its meter starting again (steps today at midnight, a
            # utility meter's new cycle), nothing used: where its next step starts from.
            baseline = True
        unit = new.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if new is not None else None
        return self.guardian.source_state(
            source,
            value,
            now,
            kind=kind,
            baseline=baseline,
            room=source_area(self.hass, source),
            unit=unit if isinstance(unit, str) else None,
        )

    def _total_started_again(self, source: str, new: State | None, value: str | None) -> bool:
        """Tell whether a running total's reading fell (or came back from a fall); keep it."""
        if new is None or new.attributes.get(ATTR_STATE_CLASS) not in RUNNING_TOTALS:
            return False
        if value is None or (reading := number(value)) is None:
            return False
        last = self._totals.get(source)
        self._totals[source] = reading
        if last is not None and reading < last:
            self._fell_from[source] = last
            return True
        # Back at the very reading it fell from: a glitch of the meter ending, nothing used.
        return self._fell_from.pop(source, None) == reading

    def _room_name(self, room: str | None) -> str | None:
        """Return an area's name as the owner gave it, or its id if it is gone."""
        if room is None:
            return None
        area = ar.async_get(self.hass).async_get_area(room)
        return area.name if area is not None else room

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Move the inactive-for sensor on, and notice jumps of the clock within a minute."""
        now, changes = self._now()
        # A motion sensor that stays on moves the last activity on without any state change;
        # while the start lasts, time stays at the return.
        if self._return is None:
            changes += self.guardian.evaluate(now)
        if changes:
            self._publish(changes, now)
        else:
            self._note_stuck_sources()
            self._async_tell_beats()
            self.async_set_updated_data(self._snapshot(now))

    @callback
    def _async_due(self, now: datetime) -> None:
        """Run the guardian when it asked to be woken."""
        self._cancel_timer = None
        now, changes = self._now()
        self._publish(changes + self.guardian.evaluate(now), now)

    @callback
    def async_acknowledge(self) -> None:
        """Take "I'm OK / handled" from a family member."""
        now, changes = self._now()
        changes += self.guardian.acknowledge(self._engine_time(now))
        self._publish(changes, now, save_now=True)

    @callback
    def async_set_mode(self, mode: Mode) -> None:
        """Switch between home, away and visitors."""
        now, changes = self._now()
        changes += self.guardian.set_mode(mode, self._engine_time(now))
        self._publish(changes, now, save_now=True)

    @callback
    def async_test_alert(self) -> None:
        """Fire a test alert event, so the family can check that notifications arrive."""
        # Every key of a real alert is there, so an automation is tested on the data it gets.
        self.hass.bus.async_fire(
            EVENT_ALERT,
            {
                **self._event_base(),
                "alert": Alert.INACTIVITY.value,
                "level": 1,
                "reason": TEST_REASON,
                "room": None,
                "area_id": None,
                "test": True,
            },
        )

    def _publish(
        self, changes: list[AlertChange], now: datetime, *, save_now: bool = False
    ) -> None:
        """Fire the changes as events, save, refresh entities and set the next wake-up."""
        for change in changes:
            LOGGER.info(
                "%s: %s (level %s, %s)", self.name, change.event, change.level, change.reason
            )
            self.hass.bus.async_fire(
                EVENT_ALERT,
                {
                    **self._event_base(),
                    "alert": change.event,
                    "level": change.level,
                    "reason": change.reason.value,
                    "room": self._room_name(change.room),
                    "area_id": change.room,
                    "test": False,
                },
            )
        # An alert, an acknowledgement or a mode must survive a power cut a moment later;
        # activity alone may wait for the save delay.
        self._save_soon(at_once=save_now or bool(changes))
        self._note_stuck_sources()
        self._async_tell_beats()
        self.async_set_updated_data(self._snapshot(now))
        if self._return is None:
            self._schedule(now)

    def _note_stuck_sources(self) -> None:
        """Log once when a motion source no longer counts: busy too long, or found on."""
        stuck = self.guardian.stuck_sources
        found_on = self.guardian.found_on_sources
        pause = round(STUCK_PAUSE / timedelta(minutes=1))
        for source in sorted(stuck - self._stuck_logged):
            if source in found_on:
                LOGGER.info(
                    "%s: %s was on when last seen and is on again after %s minutes or more "
                    "unseen, which shows no movement meanwhile (an integration may restore its "
                    "last state); it counts as activity again from its next turning on",
                    self.name,
                    source,
                    pause,
                )
                continue
            LOGGER.warning(
                "%s: %s has been on, or on and off, for %s minutes without %s minutes' rest; "
                "it counts as activity again from its first movement after such a rest",
                self.name,
                source,
                round(self.config.motion_stuck_minutes),
                pause,
            )
        self._stuck_logged = stuck

    @callback
    def _async_tell_beats(self) -> None:
        """Say which sources switch to a beat of their own and count only off it, or withdraw it."""
        beats = self.guardian.self_switching_sources
        if frozenset(beats) == self._beats_told:
            return
        for source in sorted(set(beats) - (self._beats_told or frozenset())):
            LOGGER.warning(
                "%s: %s switches on and off by itself, about every %s minutes; "
                "only its switches off that beat count as activity",
                self.name,
                source,
                round(beats[source].cycle / timedelta(minutes=1)),
            )
        self._beats_told = frozenset(beats)
        if not beats:
            self._async_warn("guardian_source_beats", None)
            return
        told = ", ".join(
            f"{source} ({round(beat.cycle / timedelta(minutes=1))} min)"
            for source, beat in sorted(beats.items())
        )
        self._async_warn("guardian_source_beats", {"sources": told})

    def _save_soon(self, *, at_once: bool) -> None:
        """Write the state within the save delay (at once when asked); changes join that write."""
        if at_once:
            self._in_background(self._state_saves.now())
        else:
            self._state_saves.soon()

    def _state_data(self) -> dict[str, Any]:
        """Return the guardian's state to write."""
        return self.guardian.to_dict()

    def _summary_data(self) -> dict[str, Any]:
        """Return the daily summary's memory to write."""
        return self.summary.to_dict()

    def _in_background(self, write: Coroutine[Any, Any, None]) -> None:
        """Run a write without holding up the event that caused it."""
        self.config_entry.async_create_background_task(self.hass, write, "home_guardian save")

    def _fire_summary(self, day: DaySummary) -> None:
        """Tell automations how the night went and when the day began."""

        def moment(value: datetime | None) -> str | None:
            """Write an instant in local time, as a message shows it."""
            return dt_util.as_local(value).isoformat() if value else None

        self.hass.bus.async_fire(
            EVENT_DAILY_SUMMARY,
            {
                "config_entry_id": self.config_entry.entry_id,
                "name": self.config_entry.title,
                "wake_up": moment(day.wake_up),
                "usual_wake_up": moment(day.usual_wake_up),
                "usual": day.usual,
                "night_activity": day.night_activity,
                "yesterday_activity": day.yesterday_activity,
                "usual_activity": day.usual_activity,
            },
        )

    def _active_hours(self) -> DailySchedule:
        """Return the guardian's active hours."""
        return DailySchedule(
            zone=self.config.zone,
            active_start=self.config.active_start,
            active_end=self.config.active_end,
        )

    def _event_base(self) -> dict[str, Any]:
        """Return what identifies this guardian, and its last activity, in its events."""
        last = self.guardian.last_activity
        return {
            "config_entry_id": self.config_entry.entry_id,
            "name": self.config_entry.title,
            "last_activity": last.isoformat() if last else None,
        }

    def _snapshot(self, now: datetime) -> GuardianSnapshot:
        """Return what entities show now."""
        guardian = self.guardian
        return GuardianSnapshot(
            alert=guardian.alert,
            level=guardian.level,
            reason=guardian.alert_reason,
            alert_since=guardian.alert_since,
            alert_room=guardian.alert_room,
            alert_room_name=self._room_name(guardian.alert_room),
            last_activity=guardian.last_activity,
            inactive_for=guardian.inactive_for(now),
            mode=guardian.mode,
            can_see=guardian.can_see,
            sources=guardian.sources,
            wake_up=self.summary.wake_up,
            activity_today=self.summary.activity_today,
            usual_activity=(
                self.summary.usual_activity(weekday)
                if (weekday := self.summary.weekday) is not None
                else None
            ),
            night_activity=self.summary.night_activity,
        )

    def _schedule(self, now: datetime) -> None:
        """Wake up when the guardian next needs to look, and not before."""
        due = self.guardian.next_check(now)
        if due == self._due and self._cancel_timer is not None:
            return
        self._cancel_scheduled()
        self._due = due
        if due is not None:
            self._cancel_timer = async_track_point_in_utc_time(self.hass, self._async_due, due)

    @callback
    def _cancel_scheduled(self) -> None:
        """Cancel the pending wake-up."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    @callback
    def _async_stop_following(self) -> None:
        """Stop following the sources' states (once: at shutdown or unload, whichever is first)."""
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None

    async def _async_stop(self, _event: Event) -> None:
        """Stop deciding and write the state as Home Assistant shuts down."""
        # A state changing during the write would otherwise be decided on and then lost.
        self._async_stop_following()
        self._cancel_scheduled()
        self._cancel_waiting()
        await self.async_save()

    async def async_save(self) -> None:
        """Write the state now, as on unload."""
        await self._store.async_save(self.guardian.to_dict())
        await self._summary_store.async_save(self.summary.to_dict())

    async def _async_update_data(self) -> GuardianSnapshot:
        """Return the current snapshot; the guardian pushes, it is never polled."""
        return self._snapshot(dt_util.utcnow())

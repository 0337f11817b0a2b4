"""A camera's motion detection: the engine's detector on shared frames, as HA state and events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import json
import time
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ANALYSIS_FPS,
    CONF_IGNORE_ZONES,
    CONF_MIN_OBJECT_SIZE,
    CONF_MOTION_DETECTION,
    CONF_ONLY_ZONES,
    CONF_SENSITIVITY,
    DEFAULT_ANALYSIS_FPS,
    DEFAULT_MIN_OBJECT_SIZE,
    DEFAULT_MOTION_DETECTION,
    DEFAULT_SENSITIVITY,
    EVENT_MOTION,
    LOGGER,
    REGIONS_UPDATE_INTERVAL,
)
from .engine.geometry import Box, parse_polygons
from .engine.motion import ANALYSIS_HEIGHT, AnalysisPace, MotionDetector, MotionSettings

if TYPE_CHECKING:
    from .engine.frame_source import FrameSource
    from .engine.frames import Frame


type RegionListener = Callable[[tuple[Box, ...], float, bool], None]


def motion_settings(options: Mapping[str, Any]) -> MotionSettings:
    """Return the detector settings of a camera's options; zones are stored as JSON text."""
    return MotionSettings(
        sensitivity=int(options.get(CONF_SENSITIVITY, DEFAULT_SENSITIVITY)),
        min_object_size=float(options.get(CONF_MIN_OBJECT_SIZE, DEFAULT_MIN_OBJECT_SIZE)) / 100,
        ignore_zones=parse_zones(options.get(CONF_IGNORE_ZONES)),
        only_zones=parse_zones(options.get(CONF_ONLY_ZONES)),
    )


def parse_zones(raw: object) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Parse zones typed as JSON text (or already parsed); raise ValueError when malformed."""
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            return ()
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValueError(f"zones are not valid JSON: {err.msg}") from None
    return parse_polygons(raw)


@dataclass(kw_only=True, slots=True)
class MotionState:
    """What entities show of a camera's motion."""

    enabled: bool
    active: bool = False
    # False from a (re)connection until the detector has judged a frame: "no motion" before
    # anything was looked at would be a guess, so the sensor stays unavailable until then.
    analysed: bool = False
    regions: tuple[Box, ...] = ()
    last_motion: datetime | None = None
    # Monotonic time regions were last published, to keep attribute updates calm.
    regions_published: float = field(default=-REGIONS_UPDATE_INTERVAL, repr=False)


@dataclass(slots=True)
class _Run:
    """One detector's life on a camera's frames, from a start or an option change."""

    number: int
    detector: MotionDetector
    pace: AnalysisPace
    # A run that replaced another during motion keeps the sensor's state until it can judge
    # motion itself: a new detector warms up and confirms before it may say "nothing moves".
    inherits: bool = False
    judging_since: float | None = None


class CameraMotion:
    """Run motion detection on a camera's frames in its reader thread and publish the result.

    The detector runs while detection is enabled or while anyone else watches its regions (the
    privacy filters of running shares): the switch turns off the sensor and its events, never
    what hides people from a share's viewers.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        source: FrameSource,
        options: Mapping[str, Any],
        *,
        name: str,
        on_change: Callable[[], None],
        event_data: Callable[[], dict[str, Any]],
    ) -> None:
        """Prepare detection with the camera's options; nothing runs before start()."""
        self.hass = hass
        self.name = name
        self._source = source
        self.settings = motion_settings(options)
        self._fps = float(options.get(CONF_ANALYSIS_FPS, DEFAULT_ANALYSIS_FPS))
        self._on_change = on_change
        self._event_data = event_data
        self.state = MotionState(
            enabled=bool(options.get(CONF_MOTION_DETECTION, DEFAULT_MOTION_DETECTION))
        )
        self._started = False
        self._unsubscribe: Callable[[], None] | None = None
        self._current: _Run | None = None
        # Each run has its own detector; results of a run that was stopped are dropped.
        self._run = 0
        self._region_listeners: list[RegionListener] = []

    @property
    def fps(self) -> float:
        """Return how many frames a second are analysed."""
        return self._fps

    @property
    def running(self) -> bool:
        """Return True while a detector analyses this camera's frames."""
        return self._unsubscribe is not None

    @property
    def current_detector(self) -> MotionDetector | None:
        """Return the detector of the current run, None while none runs."""
        return None if self._current is None else self._current.detector

    @callback
    def start(self) -> None:
        """Analyse frames from now on, while detection is enabled or regions are watched."""
        self._started = True
        self._follow_needs()

    @callback
    def stop(self) -> None:
        """Stop analysing frames; motion ends at once since nothing is watched any more."""
        self._started = False
        self._end_run()
        if self.state.active:
            self._publish(self._run, active=False, regions=())

    @callback
    def apply(self, options: Mapping[str, Any]) -> None:
        """Apply changed detection options at once, without touching the camera connection.

        New settings need a new detector, which learns the scene again; until it can judge
        motion itself, the sensor keeps its state, so ongoing motion neither ends nor starts
        again. A new analysis rate alone needs only a new pace.
        """
        settings = motion_settings(options)
        fps = float(options.get(CONF_ANALYSIS_FPS, DEFAULT_ANALYSIS_FPS))
        if settings != self.settings:
            self.settings, self._fps = settings, fps
            if self.running:
                analysed = self.state.analysed
                self._end_run()
                self._begin_run(inherits=True)
                self.state.analysed = analysed
        elif fps != self._fps:
            self._fps = fps
            if self._current is not None:
                self._current.pace = AnalysisPace(fps)
        self.set_enabled(bool(options.get(CONF_MOTION_DETECTION, DEFAULT_MOTION_DETECTION)))

    @callback
    def set_enabled(self, enabled: bool) -> None:
        """Turn the sensor and its events on or off without touching the camera connection."""
        if enabled == self.state.enabled:
            return
        if not enabled and self.state.active:
            # Motion ends for the sensor and whoever follows its events.
            self._publish(self._run, active=False, regions=())
        self.state.enabled = enabled
        self._follow_needs()
        LOGGER.info("%s: motion detection %s", self.name, "enabled" if enabled else "disabled")
        self._on_change()

    @callback
    def _follow_needs(self) -> None:
        """Run the detector exactly while the sensor or a region listener needs it."""
        needed = self._started and (self.state.enabled or bool(self._region_listeners))
        if needed and not self.running:
            self._begin_run(inherits=False)
        elif not needed and self.running:
            self._end_run()

    @callback
    def _begin_run(self, *, inherits: bool) -> None:
        """Start a detector of the current settings on the source's frames."""
        self._run += 1
        if not inherits:
            self.state.analysed = False
        run = self._current = _Run(
            self._run,
            MotionDetector(self.settings),
            AnalysisPace(self._fps),
            inherits=inherits and self.state.active,
        )
        # Every frame is offered; the pace picks the few that are analysed.
        self._unsubscribe = self._source.add_frame_listener(lambda frame: self._analyse(run, frame))

    @callback
    def _end_run(self) -> None:
        """Stop the current detector; whatever it still hands over is dropped."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._current = None
        self._run += 1

    @callback
    def add_region_listener(self, listener: RegionListener) -> Callable[[], None]:
        """Call `listener` on the event loop with every analysed frame's moving regions.

        It gets the regions, the frame's monotonic time and whether the detector had settled
        (not warming up or re-learning after a change of light).
        """
        self._region_listeners.append(listener)
        self._follow_needs()

        def remove() -> None:
            self._region_listeners.remove(listener)
            self._follow_needs()

        return remove

    def _analyse(self, run: _Run, frame: Frame) -> None:
        """Analyse a due frame in the reader thread and hand changes to the event loop."""
        detector = run.detector
        if not run.pace.due(frame.monotonic, detector):
            return
        size = (frame.width, frame.height)
        result = detector.process(frame.grey(ANALYSIS_HEIGHT), frame.monotonic, size=size)
        active: bool | None = detector.active
        if run.inherits:
            if run.judging_since is None and result.rejected != "warmup":
                run.judging_since = frame.monotonic
            judged_long = (
                run.judging_since is not None
                and frame.monotonic - run.judging_since >= self.settings.hold_seconds
            )
            # Motion the run before saw ends only when this one has looked long enough to say.
            if active or judged_long:
                run.inherits = False
            else:
                active = None
        state = self.state
        regions_due = time.monotonic() - state.regions_published >= REGIONS_UPDATE_INTERVAL
        # Reading the state from this thread is a hint only; the loop decides what changed.
        changed = active is not None and active != state.active
        if changed or (active and regions_due) or self._region_listeners:
            self.hass.loop.call_soon_threadsafe(
                self._publish,
                run.number,
                active,
                result.regions,
                frame.wall,
                frame.monotonic,
                result.rejected is None,
            )
        if not state.analysed and result.rejected != "warmup":
            # After the frame's own outcome, so the sensor's first state is this frame's.
            self.hass.loop.call_soon_threadsafe(self._mark_analysed, run.number)

    @callback
    def forget_analysis(self) -> None:
        """Make the sensor unavailable until a frame after an outage has been judged."""
        if self.state.analysed:
            self.state.analysed = False
            self._on_change()

    @callback
    def _mark_analysed(self, run: int) -> None:
        """Make the sensor available once the detector has judged a frame of this run."""
        if run == self._run and not self.state.analysed:
            self.state.analysed = True
            self._on_change()

    @callback
    def _publish(  # noqa: PLR0917 - one frame's outcome, handed over from the reader thread
        self,
        run: int,
        active: bool | None,
        regions: tuple[Box, ...],
        wall: float | None = None,
        at: float | None = None,
        settled: bool = True,
    ) -> None:
        """Update the state, tell entities, and fire an event when motion starts or ends.

        `active` None keeps the sensor's state (a new run that cannot judge yet); regions go to
        region listeners whether or not the sensor is enabled.
        """
        if run != self._run:
            return
        if at is not None:
            for listener in list(self._region_listeners):
                listener(regions, at, settled)
        if self.state.enabled:
            self._show(self.state.active if active is None else active, regions, wall)

    @callback
    def _show(self, active: bool, regions: tuple[Box, ...], wall: float | None) -> None:
        """Update the sensor's state, and fire an event when motion starts or ends."""
        state = self.state
        started, ended = active and not state.active, state.active and not active
        now = time.monotonic()
        due = now - state.regions_published >= REGIONS_UPDATE_INTERVAL
        refresh = active and bool(regions) and due
        if started or refresh:
            state.regions = regions or state.regions
            state.regions_published = now
        if started:
            moment = dt_util.utcnow() if wall is None else dt_util.utc_from_timestamp(wall)
            state.last_motion = moment.replace(microsecond=0)
        if ended:
            state.regions = ()
        state.active = active
        if started or ended:
            self.hass.bus.async_fire(
                EVENT_MOTION,
                {
                    **self._event_data(),
                    "motion": active,
                    "regions": [box.as_list() for box in state.regions],
                },
            )
        if started or ended or refresh:
            self._on_change()

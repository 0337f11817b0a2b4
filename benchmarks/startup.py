"""Measure how long a real Home Assistant takes to start with cameras that never answer.

Run from the repository root: .venv/bin/python -m benchmarks.startup [--runs 3] [--json]
Starts `hass` from this virtualenv on a fresh configuration holding one camera entry: none, a
camera that accepts TCP and never answers, and one whose host name does not resolve. It reads
"Home Assistant initialized in" from the log, stops Home Assistant with SIGTERM while the camera
still hangs, and counts the tracebacks logged. Every scenario should start as fast as no camera.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
import json
from pathlib import Path
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from tests.cameras.servers import SilentServer, free_port

ROOT = Path(__file__).resolve().parents[1]
HASS = Path(sys.executable).with_name("hass")
INITIALIZED = re.compile(r"Home Assistant initialized in ([0-9.]+)s")
START_LIMIT = 120.0


def write_config(config: Path, integration: Path, url: str | None) -> None:
    """Write a minimal configuration with our integration and, when `url` is set, one camera."""
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "home_guardian").symlink_to(integration)
    (config / "configuration.yaml").write_text(
        f"http:\n  server_host: 127.0.0.1\n  server_port: {free_port()}\nlogger:\n  default: info\n"
    )
    entries = []
    if url is not None:
        now = datetime.now(UTC).isoformat()
        entries.append(
            {
                "entry_id": "01JSTARTUPBENCHMARKCAMERA0",
                "version": 1,
                "minor_version": 1,
                "domain": "home_guardian",
                "title": "Porch",
                "data": {"stream_url": url, "username": "", "password": ""},
                "options": {},
                "pref_disable_new_entities": False,
                "pref_disable_polling": False,
                "source": "user",
                "unique_id": None,
                "disabled_by": None,
                "created_at": now,
                "modified_at": now,
                "discovery_keys": {},
                "subentries": [],
            }
        )
    storage = config / ".storage"
    storage.mkdir()
    (storage / "core.config_entries").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 5,
                "key": "core.config_entries",
                "data": {"entries": entries},
            }
        )
    )


def run_once(integration: Path, url: str | None) -> tuple[float, int, float]:
    """Start and stop Home Assistant once; return start seconds, tracebacks and stop seconds."""
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory)
        write_config(config, integration, url)
        log = config / "run.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [str(HASS), "--config", str(config), "--skip-pip", "--log-no-color"],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            started = time.monotonic()
            seconds = None
            while seconds is None and time.monotonic() - started < START_LIMIT:
                time.sleep(0.1)
                if match := INITIALIZED.search(log.read_text(errors="replace")):
                    seconds = float(match.group(1))
            # Stop at once: a hung camera is still being waited for, if anything waits for it.
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            stop_seconds = time.monotonic() - stopping
        text = log.read_text(errors="replace")
        if seconds is None:
            raise RuntimeError(f"Home Assistant did not start:\n{text[-3000:]}")
        ours = [line for line in text.splitlines() if "Traceback" in line]
        return seconds, len(ours), stop_seconds


def main() -> int:
    """Run every scenario and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--integration",
        type=Path,
        default=ROOT / "custom_components" / "home_guardian",
        help="the integration's folder, to compare versions",
    )
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args()
    if not HASS.exists() or shutil.which("ffmpeg") is None:
        print("hass or ffmpeg is missing", file=sys.stderr)
        return 1
    hung = SilentServer()
    scenarios = {
        "no_camera": None,
        "hung_camera": f"rtsp://127.0.0.1:{hung.port}/stream",
        "unresolvable_host": "rtsp://porch-camera.invalid/stream",
    }
    figures: dict[str, Any] = {}
    run_once(args.integration.resolve(), None)  # a first start compiles and caches; not counted
    try:
        # Rounds interleave the scenarios, so that load from elsewhere weighs on each alike.
        runs: dict[str, list[tuple[float, int, float]]] = {name: [] for name in scenarios}
        for _ in range(args.runs):
            for name, url in scenarios.items():
                runs[name].append(run_once(args.integration.resolve(), url))
        for name, results in runs.items():
            starts = [result[0] for result in results]
            figures[name] = {
                "initialized_seconds_median": round(statistics.median(starts), 2),
                "initialized_seconds": starts,
                "tracebacks": sum(result[1] for result in results),
                "stop_seconds_max": round(max(result[2] for result in results), 2),
            }
            print(name, figures[name], flush=True)
    finally:
        hung.stop()
    base = figures["no_camera"]["initialized_seconds_median"]
    for name in ("hung_camera", "unresolvable_host"):
        figures[name]["delay_vs_no_camera"] = round(
            figures[name]["initialized_seconds_median"] - base, 2
        )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

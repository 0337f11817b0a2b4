"""Add the demo camera, and a guardian watching its motion, to a development Home Assistant, once.

Usage: python scripts/demo_camera.py CONFIG_DIR RTSP_URL
Nothing is added once the configuration has any Home Guardian entry: a demo camera or guardian
deleted in the UI stays deleted. Delete every Home Guardian entry to have both added again.
Home Assistant reads `.storage/core.config_entries` at start; an entry written here in the
store's oldest layout is brought up to date by Home Assistant's own migration.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import sys
from typing import Any
import uuid

DOMAIN = "home_guardian"
TITLE = "Demo camera"
GUARDIAN = "Demo home"


def new_entry(
    content: dict[str, Any],
    title: str,
    data: dict[str, Any],
    options: dict[str, Any],
    unique_id: str | None,
) -> dict[str, Any]:
    """Return a config entry in the layout of the store's version."""
    entry: dict[str, Any] = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": DOMAIN,
        "title": title,
        "data": data,
        "options": options,
        "source": "user",
        "unique_id": unique_id,
        "disabled_by": None,
        "pref_disable_new_entities": None,
        "pref_disable_polling": None,
    }
    if content.get("minor_version", 1) >= 3:  # noqa: PLR2004 - the store's layout versions
        entry["created_at"] = entry["modified_at"] = "1970-01-01T00:00:00+00:00"
    if content.get("minor_version", 1) >= 4:  # noqa: PLR2004
        entry["discovery_keys"] = {}
    if content.get("minor_version", 1) >= 5:  # noqa: PLR2004
        entry["subentries"] = []
    return entry


def main() -> int:
    """Write the demo camera and a guardian watching it, unless Home Guardian has any entry."""
    config_dir, url = Path(sys.argv[1]), sys.argv[2]
    store = config_dir / ".storage" / "core.config_entries"
    unique_id = hashlib.sha256(url.encode()).hexdigest()[:24]
    if store.exists():
        content = json.loads(store.read_text())
    else:
        content = {"version": 1, "minor_version": 1, "key": "core.config_entries"}
        content["data"] = {"entries": []}
    entries = content["data"]["entries"]
    if any(e["domain"] == DOMAIN for e in entries):
        # Whatever the owner kept, deleted or added since is theirs: nothing comes back.
        return 0
    data = {"stream_url": url, "username": "", "password": ""}
    entries.append(new_entry(content, TITLE, data, {}, unique_id))
    data = {"kind": "guardian", "name": GUARDIAN}
    options = {"sources": ["binary_sensor.demo_camera_motion"], "learn": True}
    entries.append(new_entry(content, GUARDIAN, data, options, None))
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(content, indent=2))
    print(f"added {TITLE} ({url}) and {GUARDIAN}, a guardian watching the demo camera's motion")
    return 0


if __name__ == "__main__":
    sys.exit(main())

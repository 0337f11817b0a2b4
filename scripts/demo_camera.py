"""Add the demo camera to a development Home Assistant's config entries, once.

Usage: python scripts/demo_camera.py CONFIG_DIR RTSP_URL
Home Assistant reads `.storage/core.config_entries` at start; an entry written here in the
store's oldest layout is brought up to date by Home Assistant's own migration.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import sys
import uuid

DOMAIN = "home_guardian"
TITLE = "Demo camera"


def main() -> int:
    """Write the demo entry unless a Home Guardian camera with that URL exists."""
    config_dir, url = Path(sys.argv[1]), sys.argv[2]
    store = config_dir / ".storage" / "core.config_entries"
    unique_id = hashlib.sha256(url.encode()).hexdigest()[:24]
    if store.exists():
        content = json.loads(store.read_text())
    else:
        content = {"version": 1, "minor_version": 1, "key": "core.config_entries"}
        content["data"] = {"entries": []}
    entries = content["data"]["entries"]
    if any(e["domain"] == DOMAIN and e.get("unique_id") == unique_id for e in entries):
        return 0
    entry = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": DOMAIN,
        "title": TITLE,
        "data": {"stream_url": url, "username": "", "password": ""},
        "options": {},
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
    entries.append(entry)
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(content, indent=2))
    print(f"added {TITLE} ({url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every store of Home Guardian's shares: reading a file from a newer version."""

from __future__ import annotations

import inspect
from typing import Any, Final

from homeassistant.helpers.storage import Store

# Newer Home Assistant versions refuse a newer file before the migration hook, where each of
# our stores reads what it can and leaves the file as it is; this lets the file through there
# (older versions, without the parameter, always call the hook).
READ_ANY_VERSION: Final[dict[str, Any]] = (
    {"max_readable_version": 1 << 30}
    if "max_readable_version" in inspect.signature(Store.__init__).parameters
    else {}
)

"""Make the integration's engine importable as `engine` without loading Home Assistant.

The integration's folder itself must not go on sys.path: its platform files (select.py,
logbook.py...) would shadow modules of the standard library.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys

ENGINE = Path(__file__).resolve().parents[1] / "custom_components" / "home_guardian" / "engine"


def load_engine() -> None:
    """Register the engine folder as the top-level package `engine`."""
    if "engine" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "engine", ENGINE / "__init__.py", submodule_search_locations=[str(ENGINE)]
    )
    assert spec is not None  # noqa: S101 - the file is part of this repository
    assert spec.loader is not None  # noqa: S101
    module = importlib.util.module_from_spec(spec)
    sys.modules["engine"] = module
    spec.loader.exec_module(module)

"""What the project's commands share: one-line usage errors, and how they pace a video."""

from __future__ import annotations

import argparse
from typing import NoReturn

# Analysed frames a second, as the integration's default; and the rate assumed for a video
# that states none.
DEFAULT_FPS = 5.0
FALLBACK_RATE = 25.0


class UsageError(Exception):
    """The command line or its input cannot be used."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as scripts reading stderr expect."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block."""
        raise UsageError(message)

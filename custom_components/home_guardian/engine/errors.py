"""Why a camera could not be read, in terms users can act on."""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    """Why a stream could not be read; the values are translation keys."""

    CANNOT_CONNECT = "cannot_connect"
    TIMEOUT = "timeout"
    INVALID_AUTH = "invalid_auth"
    NOT_FOUND = "not_found"
    NOT_VIDEO = "not_video"
    TOO_LARGE = "too_large"
    # Cameras read through another camera (a Home Assistant entity) fail in their own ways.
    SOURCE_UNAVAILABLE = "source_unavailable"
    UNSUPPORTED_STREAM = "unsupported_stream"
    NO_PICTURE = "no_picture"
    # Pictures that still come, but show nothing: the camera froze, or its lens is covered.
    SAME_PICTURE = "same_picture"
    BLANK_PICTURE = "blank_picture"


class StreamError(Exception):
    """A stream could not be opened or read, for a reason users can act on."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        """Keep the problem and a short detail that never contains credentials."""
        super().__init__(f"{problem}: {detail}" if detail else str(problem))
        self.problem = problem

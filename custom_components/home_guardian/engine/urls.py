"""Camera URLs: validation, credentials kept apart from the address, and redaction for logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

STREAM_SCHEMES: Final = frozenset({"rtsp", "rtsps", "http", "https"})
# The port each scheme uses when a URL names none: written or not, it is the same stream.
DEFAULT_PORTS: Final = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
REDACTED: Final = "**REDACTED**"
# Query keys that cheap cameras use to carry credentials in snapshot URLs.
SECRET_QUERY_KEYS: Final = frozenset(
    {
        "user",
        "username",
        "usr",
        "pass",
        "password",
        "pwd",
        "passwd",
        "token",
        "auth",
        "key",
        "loginuse",
        "loginpas",
    }
)


class InvalidUrlError(ValueError):
    """A URL that cannot be a camera address; `reason` is a translation key."""

    def __init__(self, reason: str) -> None:
        """Keep the reason; the URL itself is never part of the message."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamAddress:
    """A camera URL without credentials, and the credentials to use with it."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        """Return the URL's scheme in lower case."""
        return urlsplit(self.url).scheme.lower()

    def url_with_credentials(self) -> str:
        """Return the URL with the credentials inside, for FFmpeg only: never log it."""
        if not self.username:
            return self.url
        parts = urlsplit(self.url)
        userinfo = quote(self.username, safe="")
        if self.password:
            userinfo += ":" + quote(self.password, safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))

    def redacted(self) -> str:
        """Return the URL as it may appear in logs and diagnostics."""
        return redact_url(self.url)


def parse_camera_url(raw: str) -> StreamAddress:
    """Validate a URL a user typed and move any credentials in it out of the address."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidUrlError("invalid_url") from None
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise InvalidUrlError("unsupported_scheme")
    if not parts.hostname or " " in text or (port is not None and not 0 < port < 65536):  # noqa: PLR2004
        raise InvalidUrlError("invalid_url")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    clean = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))
    return StreamAddress(
        url=clean,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def stream_identity(url: str) -> str:
    """Return the text naming the stream a URL addresses, however it is written; no credentials.

    Scheme and host count in any case and a scheme's default port as no port. Host names are
    not resolved: looking them up would make the answer depend on the network of the moment.
    A text that is no camera URL names only itself.
    """
    try:
        clean = parse_camera_url(url).url
    except InvalidUrlError:
        return url
    parts = urlsplit(clean)
    if parts.port is None or parts.port != DEFAULT_PORTS.get(parts.scheme):
        return clean
    # The URL is clean, without userinfo: what follows the last colon is the port.
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))


def redact_url(url: str) -> str:
    """Hide the userinfo and credential-like query values of a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        f"{key}={REDACTED}" if key.lower() in SECRET_QUERY_KEYS and sep else pair
        for pair in parts.query.split("&")
        if pair
        for key, sep, _ in [pair.partition("=")]
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))

"""Tests for camera URL parsing, credentials and redaction."""

from __future__ import annotations

import pytest

from custom_components.home_guardian.engine.urls import (
    InvalidUrlError,
    StreamAddress,
    parse_camera_url,
    redact_url,
    stream_identity,
)


def test_credentials_move_out_of_the_url() -> None:
    """Credentials typed into a URL are taken out of it and decoded."""
    address = parse_camera_url("  RTSP://admin:p%40ss%20w@Camera.local:554/live?ch=1#x ")
    assert address.url == "rtsp://camera.local:554/live?ch=1"
    assert address.username == "admin"
    assert address.password == "p@ss w"
    assert "p@ss" not in repr(address)


def test_credentials_go_back_in_quoted() -> None:
    """FFmpeg gets the credentials back, quoted so that any character works."""
    address = StreamAddress(url="rtsp://[fe80::1]:554/s", username="a:b", password="p/@ w")
    assert address.url_with_credentials() == "rtsp://a%3Ab:p%2F%40%20w@[fe80::1]:554/s"
    assert StreamAddress(url="http://h/x", username="u").url_with_credentials() == "http://u@h/x"
    assert StreamAddress(url="http://h/x").url_with_credentials() == "http://h/x"


def test_ipv6_host_keeps_brackets() -> None:
    """IPv6 camera addresses survive parsing."""
    assert parse_camera_url("rtsp://[fe80::1]:8554/s").url == "rtsp://[fe80::1]:8554/s"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ftp://host/x", "unsupported_scheme"),
        ("host/x", "unsupported_scheme"),
        ("rtsp://", "invalid_url"),
        ("rtsp://host:0/x", "invalid_url"),
        ("rtsp://host:70000/x", "invalid_url"),
        ("rtsp://host:port/x", "invalid_url"),
        ("http://ho st/x", "invalid_url"),
    ],
)
def test_invalid_urls(raw: str, reason: str) -> None:
    """Bad URLs are refused with a reason that is a translation key, never echoing the URL."""
    with pytest.raises(InvalidUrlError) as err:
        parse_camera_url(raw)
    assert err.value.reason == reason
    assert str(err.value) == reason


def test_redaction() -> None:
    """Userinfo and credential-like query values are hidden; the rest stays readable."""
    assert redact_url("rtsp://u:p@h:554/s") == "rtsp://**REDACTED**@h:554/s"
    assert (
        redact_url("http://h/snap.cgi?loginuse=admin&loginpas=x&res=1&flag")
        == "http://h/snap.cgi?loginuse=**REDACTED**&loginpas=**REDACTED**&res=1&flag"
    )
    assert redact_url("http://[::1/x") == "**REDACTED**"
    assert StreamAddress(url="rtsp://h/s?pwd=1", password="z").redacted() == (
        "rtsp://h/s?pwd=**REDACTED**"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("rtsp://camera.local/live", "RTSP://Camera.LOCAL:554/live"),
        ("rtsp://camera.local/live", "rtsp://admin:secret@camera.local/live"),
        ("rtsps://camera.local/live", "rtsps://camera.local:322/live"),
        ("http://camera.local/video.mjpg", "http://camera.local:80/video.mjpg"),
        ("https://camera.local/video.mjpg", "HTTPS://user@camera.local:443/video.mjpg"),
        ("rtsp://[fe80::1]/s", "rtsp://[FE80::1]:554/s"),
    ],
)
def test_one_stream_written_two_ways_has_one_identity(first: str, second: str) -> None:
    """Case of scheme and host, a default port and credentials do not make another stream."""
    assert stream_identity(first) == stream_identity(second) == first
    assert "secret" not in stream_identity(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("rtsp://camera.local/live", "rtsp://camera.local:8554/live"),
        ("http://camera.local/video.mjpg", "https://camera.local/video.mjpg"),
        ("rtsp://camera.local/live", "rtsp://camera.local/LIVE"),
        ("rtsp://camera.local/live", "rtsp://192.168.1.20/live"),
    ],
)
def test_other_streams_keep_other_identities(first: str, second: str) -> None:
    """Another port, scheme, path or host name is another stream; names are never resolved."""
    assert stream_identity(first) != stream_identity(second)


def test_a_text_that_is_no_url_names_itself() -> None:
    """Something that cannot be parsed is left as it is rather than refused."""
    assert stream_identity("not a url") == "not a url"

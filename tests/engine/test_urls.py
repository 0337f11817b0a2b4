"""Tests for camera URL parsing, credentials and redaction."""

from __future__ import annotations

import pytest

from custom_components.home_guardian.engine.urls import (
    InvalidUrlError,
    StreamAddress,
    parse_camera_url,
    redact_url,
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

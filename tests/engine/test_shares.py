"""Share tokens, PINs, schedules, lockout and their storage."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta
import hashlib
import json
import string
from zoneinfo import ZoneInfo

import pytest

from custom_components.home_guardian.engine import shares as shares_module
from custom_components.home_guardian.engine.privacy import PrivacyLevel
from custom_components.home_guardian.engine.shares import (
    MAX_SHARE_DAYS,
    STORAGE_VERSION,
    TYPICAL_HASH_SECONDS,
    PinHasher,
    Share,
    ShareError,
    ShareRegistry,
    ShareState,
    SuspendCause,
    ViewerState,
    hash_token,
    parse_schedule,
    viewer_state,
)
from custom_components.home_guardian.engine.watermark import share_code

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
BERLIN = "Europe/Berlin"
WEEKDAYS_0830_1630 = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "16:30"}
]


def viewable(share: Share, now: datetime) -> bool:
    """Return True when the share shows pictures now, its camera online and sharing allowed."""
    return viewer_state(share, now, sharing_allowed=True, camera_online=True) is ViewerState.LIVE


@pytest.fixture(scope="module")
def hasher() -> PinHasher:
    """Return a cheap hasher: the real cost is tested once, on its own."""
    return PinHasher(log2_n=8, r=8, p=1)


@pytest.fixture
def registry(hasher: PinHasher) -> ShareRegistry:
    """Return an empty registry with the cheap hasher."""
    return ShareRegistry(hasher)


def make(registry: ShareRegistry, **overrides: object) -> tuple[Share, str, str | None]:
    """Create a week-long share of a test camera, with overrides."""
    options: dict[str, object] = {
        "camera": "entry-1",
        "viewer_name": "Grandma",
        "now": NOW,
        "duration": timedelta(days=7),
    }
    options.update(overrides)
    return registry.create(**options)  # type: ignore[arg-type]


def local(zone: str, *args: int) -> datetime:
    """Return an aware local time."""
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


# --- Tokens and ids ---------------------------------------------------------------------------


def test_tokens_carry_256_bits_and_are_kept_only_as_hashes(registry: ShareRegistry) -> None:
    tokens = set()
    for _ in range(20):
        share, token, pin = make(registry)
        assert len(token) == 43
        assert set(token) <= set(string.ascii_letters + string.digits + "-_")
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
        assert share.token_hash == hashlib.sha256(token.encode()).hexdigest()
        # The public id is separate randomness, not a piece of the token or of its hash.
        assert share.share_id not in token
        assert share.share_id not in share.token_hash
        assert pin is not None
        tokens.add(token)
    assert len(tokens) == 20
    assert len({s.share_id for s in registry.shares()}) == 20


def test_storage_and_lists_never_hold_a_token_or_pin(registry: ShareRegistry) -> None:
    created = [make(registry, viewer_name=f"Viewer {n}") for n in range(3)]
    stored = json.dumps(registry.to_dict())
    listed = json.dumps([share.public() for share in registry.shares()])
    for share, token, pin in created:
        for text in (stored, listed):
            assert token not in text
            assert f'"{pin}"' not in text
        assert share.token_hash in stored
        assert share.pin_hash in stored
        assert share.token_hash not in listed
        assert share.pin_hash not in listed
    assert "hash" not in listed
    assert registry.to_dict()["version"] == STORAGE_VERSION


def test_lists_carry_the_caption_code_which_is_not_stored(registry: ShareRegistry) -> None:
    share, token, _ = make(registry)
    (listed,) = [share.public() for share in registry.shares()]
    assert listed["code"] == share_code(share.share_id)
    assert share.public()["code"] == listed["code"]
    # Derived from the public id, never from the token: a viewer's caption tells nothing secret.
    assert listed["code"] != share_code(token)
    assert "code" not in share.to_dict()
    assert Share.from_dict(share.to_dict()).public() == share.public()


def test_repr_hides_hashes(registry: ShareRegistry) -> None:
    share, _, _ = make(registry)
    text = repr(share)
    assert share.token_hash not in text
    assert share.pin_hash not in text
    assert "Grandma" in text


# --- Lookup -----------------------------------------------------------------------------------


def test_lookup_finds_an_active_share(registry: ShareRegistry) -> None:
    share, token, _ = make(registry)
    assert registry.lookup(token, NOW) == share
    assert viewable(share, NOW)
    assert registry.get(share.share_id) == share
    assert len(registry) == 1


def test_unknown_wrong_expired_and_revoked_tokens_look_the_same(
    registry: ShareRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    share, token, _ = make(registry)
    expired, expired_token, _ = make(registry, duration=timedelta(hours=1))
    revoked, revoked_token, _ = make(registry)
    registry.revoke(revoked.share_id)
    later = NOW + timedelta(hours=2)

    hashed: list[str] = []
    real_hash = shares_module.hash_token

    def counting(token: str) -> str:
        hashed.append(token)
        return real_hash(token)

    monkeypatch.setattr(shares_module, "hash_token", counting)
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for candidate in ("no-such-token", wrong, expired_token, revoked_token, "", "x" * 10_000):
        assert registry.lookup(candidate, later) is None
    # Every answer came from the same path: the token is hashed, then looked up.
    assert len(hashed) == 6
    assert registry.lookup(None, later) is None  # type: ignore[arg-type]
    assert registry.lookup(token, later) == share
    assert registry.lookup(expired_token, expired.expires_at - timedelta(seconds=1)) == expired


def test_suspended_share_answers_as_unknown(registry: ShareRegistry) -> None:
    share, token, _ = make(registry)
    suspended = registry.suspend(share.share_id, "someone here did not agree", NOW)
    assert registry.lookup(token, NOW) is None
    assert suspended.state is ShareState.SUSPENDED
    assert suspended.suspended_for is SuspendCause.REPORT
    assert suspended.reported_reason == "someone here did not agree"
    assert suspended.reported_at == NOW
    assert not viewable(suspended, NOW)
    assert registry.get(share.share_id) == suspended


def test_wrong_pins_suspend_without_a_reason_and_resume_clears_the_cause(
    registry: ShareRegistry,
) -> None:
    share, token, _ = make(registry)
    suspended = registry.suspend_for_wrong_pins(share.share_id, NOW)
    assert suspended.suspended_for is SuspendCause.WRONG_PINS
    assert suspended.reported_reason is None
    # A later report does not overwrite why the share first stopped.
    assert registry.suspend(share.share_id, "late report", NOW).suspended_for is (
        SuspendCause.WRONG_PINS
    )
    assert registry.lookup(token, NOW) is None
    resumed = registry.resume(share.share_id)
    assert resumed.suspended_for is None
    assert registry.lookup(token, NOW) == resumed


# --- PINs -------------------------------------------------------------------------------------


def test_generated_pin_has_six_digits_and_verifies(registry: ShareRegistry) -> None:
    pins = set()
    for _ in range(10):
        share, _, pin = make(registry)
        assert pin is not None
        assert len(pin) == 6
        assert pin.isdigit()
        assert registry.verify_pin(share, pin)
        assert not registry.verify_pin(share, f"{(int(pin) + 1) % 10**6:06d}")
        pins.add(pin)
    assert len(pins) > 1


def test_a_pin_is_taken_in_any_keyboards_digits(registry: ShareRegistry) -> None:
    share, _, pin = make(registry)
    wrong = f"{(int(pin) + 1) % 10**6:06d}"

    def script(text: str, zero: str) -> str:
        """Write ASCII digits in the script whose zero is `zero`."""
        return "".join(chr(ord(zero) + int(digit)) for digit in text)

    # A Chinese or Japanese keyboard in full-width mode, Arabic and Persian phones, Devanagari,
    # and the spaces a paste brings along.
    for typed in (
        script(pin, "\uff10"),
        script(pin, "\u0660"),
        script(pin, "\u06f0"),
        script(pin, "\u0966"),
        f"\u3000{pin}\u00a0",
    ):
        assert registry.verify_pin(share, typed), typed
    assert not registry.verify_pin(share, script(wrong, "\uff10"))
    assert not registry.verify_pin(share, f"{pin[:3]} {pin[3:]}x")


def test_pins_are_always_generated(registry: ShareRegistry) -> None:
    # A chosen PIN would travel through an action call, which the recorder keeps in plain text.
    with pytest.raises(TypeError):
        make(registry, pin="27182818")
    share, _, pin = make(registry)
    assert not registry.verify_pin(share, pin[:-1])
    assert not registry.verify_pin(share, "")
    assert not registry.verify_pin(share, None)  # type: ignore[arg-type]


def test_no_share_costs_a_full_check(
    registry: ShareRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kwargs: int) -> bytes:
        calls.append(kwargs["n"])
        return real(password, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "scrypt", counting)
    share, _, pin = make(registry)
    assert pin is not None
    calls.clear()
    assert not registry.verify_pin(None, pin)
    assert not registry.verify_pin(share, "000000" if pin != "000000" else "111111")
    # Both ran scrypt with the same cost: timing tells no missing share from a wrong PIN.
    assert calls == [2**8, 2**8]


def test_owasp_parameters_are_the_default_and_stored_with_the_hash() -> None:
    hasher = PinHasher()
    stored = hasher.hash("314159")
    assert stored.startswith("$scrypt$ln=17,r=8,p=1$")
    assert hasher.verify(stored, "314159")


def test_the_first_hash_here_replaces_the_desktop_guess_of_its_time() -> None:
    """A machine twice as slow as a desktop learns so from its first hash, not its tenth."""
    hasher = PinHasher(log2_n=8, r=8, p=1)
    assert (hasher.typical_seconds, hasher.measured) == (TYPICAL_HASH_SECONDS, False)
    assert not hasher.verify(None, "123456")
    assert hasher.measured
    # A hash at this cost takes about a millisecond, not the desktop's default cost's 0.45 s.
    assert hasher.typical_seconds < TYPICAL_HASH_SECONDS / 10


def test_hashes_are_salted(hasher: PinHasher) -> None:
    first, second = hasher.hash("123456"), hasher.hash("123456")
    assert first != second
    assert hasher.verify(first, "123456")
    assert hasher.verify(second, "123456")
    # Each hash carries its cost: a hasher set to another still checks it.
    assert PinHasher(log2_n=9, r=8, p=1).verify(first, "123456")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "$pbkdf2$i=1$AAAA$AAAA",
        "$scrypt$ln=8,r=8$AAAA$AAAA",
        "$scrypt$ln=x,r=8,p=1$AAAA$AAAA",
        "$scrypt$ln=30,r=8,p=1$AAAA$AAAA",
        "$scrypt$ln=20,r=32,p=1$AAAA$AAAA",  # 4 GiB: refused before scrypt runs
        "$scrypt$ln=8,r=8,p=1$A!A$AAAA",
        "$scrypt$ln=8,r=8,p=1$AAAA$",
    ],
)
def test_malformed_hashes_never_verify(hasher: PinHasher, stored: str) -> None:
    assert not hasher.verify(stored, "123456")


# --- Schedules --------------------------------------------------------------------------------


def test_weekday_window_opens_and_closes_on_local_time(registry: ShareRegistry) -> None:
    share, _, _ = make(registry, schedule=WEEKDAYS_0830_1630, time_zone=BERLIN)
    monday = (2026, 11, 23)
    assert not viewable(share, local(BERLIN, *monday, 8, 29))
    assert viewable(share, local(BERLIN, *monday, 8, 30))
    assert viewable(share, local(BERLIN, *monday, 16, 29))
    assert not viewable(share, local(BERLIN, *monday, 16, 30))
    assert not viewable(share, local(BERLIN, 2026, 11, 28, 12, 0))  # Saturday
    schedule = share.schedule
    assert schedule is not None
    assert schedule.window_at(local(BERLIN, *monday, 12, 0)) == (
        local(BERLIN, *monday, 8, 30),
        local(BERLIN, *monday, 16, 30),
    )
    assert schedule.window_at(local(BERLIN, *monday, 17, 0)) is None
    assert schedule.next_opening(local(BERLIN, 2026, 11, 28, 12, 0)) == local(
        BERLIN, 2026, 11, 30, 8, 30
    )


def test_overnight_window_belongs_to_the_day_it_starts(registry: ShareRegistry) -> None:
    share, _, _ = make(
        registry,
        schedule=[{"days": ["fri"], "start": "22:00", "end": "06:00"}],
        time_zone=BERLIN,
    )
    friday, saturday = (2026, 11, 27), (2026, 11, 28)
    assert not viewable(share, local(BERLIN, *friday, 21, 59))
    assert viewable(share, local(BERLIN, *friday, 23, 0))
    assert viewable(share, local(BERLIN, *saturday, 5, 59))
    assert not viewable(share, local(BERLIN, *saturday, 6, 0))
    assert not viewable(share, local(BERLIN, 2026, 11, 26, 23, 0))  # Thursday night
    assert share.schedule is not None
    window = share.schedule.window_at(local(BERLIN, *friday, 23, 0))
    assert window is not None
    assert window[1] == local(BERLIN, *saturday, 6, 0)


@pytest.mark.parametrize(
    ("night", "hours"),
    [((2026, 3, 28), 7), ((2026, 10, 24), 9)],  # spring forward, fall back
)
def test_overnight_window_across_dst_keeps_wall_clock_hours(
    registry: ShareRegistry, night: tuple[int, int, int], hours: int
) -> None:
    share, _, _ = make(
        registry,
        now=local(BERLIN, *night, 12, 0),
        schedule=[{"days": ["sat"], "start": "22:00", "end": "06:00"}],
        time_zone=BERLIN,
    )
    start = local(BERLIN, *night, 22, 0)
    assert share.schedule is not None
    window = share.schedule.window_at(start)
    assert window is not None
    end = window[1]
    assert end.astimezone(ZoneInfo(BERLIN)).hour == 6
    assert end - start == timedelta(hours=hours)
    assert viewable(share, end - timedelta(minutes=1))
    assert not viewable(share, end)


def test_window_in_the_spring_gap_starts_at_the_real_instant(registry: ShareRegistry) -> None:
    share, _, _ = make(
        registry,
        now=datetime(2026, 3, 28, tzinfo=UTC),
        schedule=[{"days": ["sun"], "start": "02:30", "end": "08:00"}],
        time_zone=BERLIN,
    )
    # 02:30 does not exist on 29 March in Berlin; 01:30 UTC is where it would have been.
    assert not viewable(share, datetime(2026, 3, 29, 1, 29, tzinfo=UTC))
    assert viewable(share, datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert viewable(share, datetime(2026, 3, 29, 5, 59, tzinfo=UTC))  # 07:59 CEST
    assert not viewable(share, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))


def test_adjoining_windows_stay_open_across_midnight(registry: ShareRegistry) -> None:
    every_day = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00"}]
    every_day[0]["end"] = "24:00"
    share, _, _ = make(registry, schedule=every_day, time_zone=BERLIN)
    midnight = local(BERLIN, 2026, 11, 24, 0, 0)
    assert viewable(share, midnight - timedelta(seconds=1))
    assert viewable(share, midnight)
    chained, _, _ = make(
        registry,
        schedule=[
            {"days": ["mon"], "start": "22:00", "end": "24:00"},
            {"days": ["tue"], "start": "00:00", "end": "06:00"},
        ],
        time_zone=BERLIN,
    )
    assert viewable(chained, midnight - timedelta(seconds=1))
    assert viewable(chained, midnight)
    assert viewable(chained, local(BERLIN, 2026, 11, 24, 5, 59))
    assert not viewable(chained, local(BERLIN, 2026, 11, 24, 6, 0))


def test_expiry_inside_a_window_ends_the_share(registry: ShareRegistry) -> None:
    share, _, _ = make(
        registry,
        duration=timedelta(hours=2),
        schedule=WEEKDAYS_0830_1630,
        time_zone="UTC",
    )
    end = NOW + timedelta(hours=2)
    assert viewable(share, end - timedelta(seconds=1))
    assert viewer_state(share, end, sharing_allowed=True, camera_online=True) is (
        ViewerState.EXPIRED
    )


def test_schedule_forms_that_ha_selectors_produce() -> None:
    schedule = parse_schedule(
        [
            {"days": "sat", "start": time(9, 0), "end": "12:00:00"},
            {"days": ["Sunday"], "start": "10:00", "end": "24:00"},
        ],
        BERLIN,
    )
    assert schedule is not None
    assert schedule.as_dict() == {
        "time_zone": BERLIN,
        "windows": [
            {"days": ["sat"], "start": "09:00", "end": "12:00"},
            {"days": ["sun"], "start": "10:00", "end": "24:00"},
        ],
    }
    # The stored form reads back, and its own zone wins.
    assert parse_schedule(schedule.as_dict(), "UTC") == schedule
    assert parse_schedule(None, BERLIN) is None
    assert parse_schedule([], BERLIN) is None


@pytest.mark.parametrize(
    ("raw", "zone", "key"),
    [
        ("mon 08:00-09:00", "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": "8:30", "end": "09:00"}], "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": "08:30", "end": "25:00"}], "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": "24:00", "end": "09:00"}], "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": "09:00", "end": "09:00"}], "UTC", "invalid_schedule"),
        ([{"days": ["funday"], "start": "08:00", "end": "09:00"}], "UTC", "invalid_schedule"),
        ([{"days": [], "start": "08:00", "end": "09:00"}], "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": 8, "end": "09:00"}], "UTC", "invalid_schedule"),
        (["mon"], "UTC", "invalid_schedule"),
        ([{"days": ["mon"], "start": "08:00", "end": "09:00"}] * 29, "UTC", "invalid_schedule"),
        (WEEKDAYS_0830_1630, "Mars/Olympus", "invalid_time_zone"),
        (WEEKDAYS_0830_1630, "../etc/passwd", "invalid_time_zone"),
    ],
)
def test_bad_schedules_are_refused(raw: object, zone: str, key: str) -> None:
    with pytest.raises(ShareError) as err:
        parse_schedule(raw, zone)
    assert err.value.translation_key == key


# --- Creation rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"viewer_name": "  "}, "invalid_viewer_name"),
        ({"viewer_name": "x" * 65}, "invalid_viewer_name"),
        ({"viewer_name": 7}, "invalid_viewer_name"),
        ({"camera": ""}, "invalid_camera"),
        ({"expires_at": NOW + timedelta(days=1)}, "invalid_expiry"),  # and a duration
        ({"duration": None}, "invalid_expiry"),  # neither
        ({"duration": None, "expires_at": NOW.replace(tzinfo=None)}, "invalid_expiry"),
        ({"now": NOW.replace(tzinfo=None)}, "invalid_expiry"),  # a naive clock
        ({"duration": timedelta(0)}, "expiry_in_past"),
        ({"duration": None, "expires_at": NOW - timedelta(seconds=1)}, "expiry_in_past"),
        ({"duration": timedelta(days=MAX_SHARE_DAYS, seconds=1)}, "expiry_too_far"),
        ({"privacy": "everything"}, "invalid_privacy"),
        ({"schedule": "always"}, "invalid_schedule"),
    ],
)
def test_bad_requests_are_refused(
    registry: ShareRegistry, overrides: dict[str, object], key: str
) -> None:
    with pytest.raises(ShareError) as err:
        make(registry, **overrides)
    assert err.value.translation_key == key
    assert isinstance(err.value, ValueError)
    assert len(registry) == 0


def test_accepted_request_is_cleaned_and_kept(registry: ShareRegistry) -> None:
    expiry = NOW + timedelta(days=MAX_SHARE_DAYS)
    share, _, _ = make(
        registry,
        viewer_name="  Anna\u0000 and\n Ben ",
        duration=None,
        expires_at=expiry,
        privacy="faces",
    )
    assert share.viewer_name == "Anna and Ben"
    assert share.expires_at == expiry
    assert share.privacy is PrivacyLevel.FACES
    assert share.state is ShareState.ACTIVE
    assert share.created_at == NOW


def test_the_number_of_shares_is_bounded(
    registry: ShareRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shares_module, "MAX_SHARES", 2)
    make(registry)
    make(registry)
    with pytest.raises(ShareError) as err:
        make(registry)
    assert err.value.translation_key == "too_many_shares"


# --- Owner decisions --------------------------------------------------------------------------


def test_revoke_suspend_and_resume(registry: ShareRegistry) -> None:
    share, token, _ = make(registry)
    first = registry.suspend(share.share_id, "I should not be seeing this", NOW)
    again = registry.suspend(share.share_id, "second report", NOW + timedelta(minutes=1))
    assert again == first
    assert again.reported_reason == "I should not be seeing this"
    resumed = registry.resume(share.share_id)
    assert resumed.state is ShareState.ACTIVE
    assert resumed.reported_reason == "I should not be seeing this"  # kept on record
    assert registry.lookup(token, NOW) == resumed
    revoked = registry.revoke(share.share_id)
    assert revoked.state is ShareState.REVOKED
    assert registry.lookup(token, NOW) is None
    assert registry.shares()[0].public()["state"] == "revoked"
    for action in (
        lambda: registry.resume(share.share_id),
        lambda: registry.suspend(share.share_id, "late report", NOW),
    ):
        with pytest.raises(ShareError) as err:
            action()
        assert err.value.translation_key == "share_revoked"


@pytest.mark.parametrize("action", ["revoke", "resume", "suspend"])
def test_unknown_share_ids_are_refused(registry: ShareRegistry, action: str) -> None:
    call = getattr(registry, action)
    arguments = ("nope", "reason", NOW) if action == "suspend" else ("nope",)
    with pytest.raises(ShareError) as err:
        call(*arguments)
    assert err.value.translation_key == "unknown_share"


def test_report_reason_must_be_short_text(registry: ShareRegistry) -> None:
    share, _, _ = make(registry)
    with pytest.raises(ShareError) as err:
        registry.suspend(share.share_id, "x" * 201, NOW)
    assert err.value.translation_key == "invalid_report_reason"


def test_purge_forgets_expired_shares(registry: ShareRegistry) -> None:
    short, short_token, _ = make(registry, duration=timedelta(hours=1))
    long, long_token, _ = make(registry, camera="entry-2")
    revoked, _, _ = make(registry, duration=timedelta(hours=1))
    registry.revoke(revoked.share_id)
    assert registry.purge_expired(NOW) == []
    assert sorted(registry.purge_expired(NOW + timedelta(hours=1))) == sorted(
        [short.share_id, revoked.share_id]
    )
    assert registry.get(short.share_id) is None
    # Gone means gone, even for a clock that runs behind.
    assert registry.lookup(short_token, NOW) is None
    assert registry.lookup(long_token, NOW) == long
    assert registry.shares() == (long,)


# --- Persistence ------------------------------------------------------------------------------


def test_round_trip_through_json(registry: ShareRegistry, hasher: PinHasher) -> None:
    share, token, pin = make(registry, schedule=WEEKDAYS_0830_1630, time_zone=BERLIN)
    other, _, other_pin = make(registry, privacy="none")
    registry.suspend(other.share_id, "did not agree", NOW)
    restored, unread = ShareRegistry.from_stored(json.loads(json.dumps(registry.to_dict())), hasher)
    assert unread == []
    assert restored.shares() == registry.shares()
    found = restored.lookup(token, NOW)
    assert found == share
    assert pin is not None
    assert restored.verify_pin(found, pin)
    suspended = restored.get(other.share_id)
    assert suspended is not None
    assert suspended.state is ShareState.SUSPENDED
    assert suspended.suspended_for is SuspendCause.REPORT
    assert suspended.reported_at == NOW
    assert restored.verify_pin(suspended, other_pin)


def test_shares_suspended_before_causes_were_stored_read_as_reported(
    registry: ShareRegistry,
) -> None:
    share, _, _ = make(registry)
    registry.suspend(share.share_id, "did not agree", NOW)
    data = registry.to_dict()
    del data["shares"][0]["suspended_for"]
    restored = ShareRegistry.from_stored(data)[0].get(share.share_id)
    assert restored is not None
    assert restored.suspended_for is SuspendCause.REPORT


def _stored(registry: ShareRegistry) -> dict[str, object]:
    make(registry)
    return registry.to_dict()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(version=STORAGE_VERSION + 1),
        lambda d: d.update(shares="nope"),
    ],
)
def test_storage_that_is_not_ours_is_refused(registry: ShareRegistry, damage: object) -> None:
    data = _stored(registry)
    damage(data)  # type: ignore[operator]
    with pytest.raises(ShareError) as err:
        ShareRegistry.from_stored(data)
    assert err.value.translation_key == "invalid_storage"


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(shares=["nope"]),
        lambda d: d["shares"][0].pop("token_hash"),
        lambda d: d["shares"][0].update(token_hash="abc"),
        lambda d: d["shares"][0].update(pin_hash="123456"),
        lambda d: d["shares"][0].update(expires_at="2026-12-01T00:00:00"),
        lambda d: d["shares"][0].update(created_at="yesterday"),
        lambda d: d["shares"][0].update(state="maybe"),
        lambda d: d["shares"][0].update(schedule={"windows": "x", "time_zone": "UTC"}),
    ],
)
def test_damaged_records_are_not_read(registry: ShareRegistry, damage: object) -> None:
    data = _stored(registry)
    damage(data)  # type: ignore[operator]
    restored, unread = ShareRegistry.from_stored(data)
    assert restored.shares() == ()
    assert unread == data["shares"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["shares"][0].pop("token_hash"),
        lambda d: d["shares"][0].update(created_at="yesterday"),
        lambda d: d["shares"].__setitem__(0, "nope"),
    ],
)
def test_a_damaged_record_costs_only_its_own_share(registry: ShareRegistry, damage: object) -> None:
    first, _, _ = make(registry)
    second, token, _ = make(registry)
    data = registry.to_dict()
    data["shares"].sort(key=lambda raw: raw["share_id"] != first.share_id)
    damage(data)  # type: ignore[operator]
    kept = data["shares"][0]
    restored, unread = ShareRegistry.from_stored(data)
    assert restored.shares() == (second,)
    assert restored.lookup(token, NOW) == second
    assert unread == [kept]


def test_a_removed_share_is_gone_by_id_and_token(registry: ShareRegistry) -> None:
    share, token, _ = make(registry)
    registry.remove(share.share_id)
    assert registry.get(share.share_id) is None
    assert registry.lookup(token, NOW) is None
    registry.remove(share.share_id)  # removing twice is harmless
    assert len(registry) == 0


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ShareError):
        ShareRegistry.from_stored([])  # type: ignore[arg-type]


def test_hash_token_is_sha256_hex() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    assert len(hash_token("\ud800")) == 64  # a lone surrogate from a hostile URL does not raise

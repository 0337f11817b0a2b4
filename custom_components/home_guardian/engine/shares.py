"""Shares of a camera with outsiders: tokens, PINs, schedules, states and their storage.

Everything here is plain Python over injected clocks; the HA layer wraps it. How the pieces fit:

* `ShareRegistry.create` validates a request, makes a 256-bit token, a six-digit PIN and a short
  public share id, hashes the PIN and returns the plain token and PIN once; only hashes are kept.
* A viewer arrives with a token: `ShareRegistry.lookup` finds the share (or None), the attempt
  goes through `attempts.AttemptGate` (lockouts and budgets, counted before hashing), then
  `PinHasher.verify` (slow, in the executor). A token that names no share is never hashed.
* `viewer_state` says what a viewer sees now: the picture, a pause (hours, the owner's switch,
  the camera) or an end (revoked, expired, suspended). The HA layer asks it before every
  picture it sends, and closes a share's streams at once when `revoke` or `suspend` names it.
* `to_dict` and `ShareRegistry.from_stored` write and read HA's Store: hashes only; a damaged
  record costs only its own share.

Wall-clock `now` arguments are aware datetimes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import hashlib
import hmac
import re
import secrets
import threading
from time import perf_counter
from typing import Any, Final
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .privacy import PrivacyLevel
from .text import one_line
from .watermark import share_code

STORAGE_VERSION: Final = 1

# 32 random bytes: 256 bits, far past the 128 the issue asks for; 43 URL-safe characters.
TOKEN_BYTES: Final = 32
# Longer input is no token of ours; capping it keeps a hostile URL from costing a long hash.
MAX_TOKEN_LENGTH: Final = 256
# The public id names a share in lists, events and logs; it is not a secret and grants nothing.
SHARE_ID_BYTES: Final = 6
MAX_SHARES: Final = 500
MAX_SHARE_DAYS: Final = 366
MAX_VIEWER_NAME: Final = 64
MAX_REPORT_REASON: Final = 200
MAX_WINDOWS: Final = 28

PIN_DIGITS: Final = 6
# Input past this many characters cannot be a PIN of ours; it is cut before hashing.
MAX_PIN_LENGTH: Final = 24

# scrypt at OWASP's first recommendation (N=2^17, r=8, p=1): about 0.45 s and 128 MiB on a
# desktop core. Memory-hard beats PBKDF2 here because a PIN has few digits and HA backups
# (which carry .storage) end up in clouds: PBKDF2 falls to a GPU in minutes for six digits,
# scrypt at 128 MiB does not. The parameters are written into every hash, so raising them
# later needs no migration: old hashes still verify.
# The memory is why the HA layer bounds how many run at once (see sharing.PIN_CHECKS_AT_ONCE).
SCRYPT_LOG2_N: Final = 17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
# What a hash at the defaults takes on a desktop core, until this machine's own are measured.
TYPICAL_HASH_SECONDS: Final = 0.45
KEY_BYTES: Final = 32
# A stored hash asking for more than this is corrupt or hostile, not ours: refuse it. There is
# room to raise the cost fourfold (N=2^19 at r=8 takes 512 MiB).
MAX_SCRYPT_LOG2_N: Final = 20
MAX_SCRYPT_MEMORY: Final = 1 << 30

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# fullmatch and [0-9]: "$" would accept a trailing newline and "\d" any script's digits.
_HHMM: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class ShareError(ValueError):
    """A share request or stored share that is not acceptable; the HA layer translates the key."""

    def __init__(self, translation_key: str, message: str | None = None) -> None:
        """Remember the translation key; the message is for logs and developers."""
        super().__init__(message or translation_key)
        self.translation_key = translation_key


class ShareState(StrEnum):
    """Whether a share may be used."""

    ACTIVE = "active"
    # A viewer reported it: nobody sees anything until the owner resumes or revokes it.
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class ReportReason(StrEnum):
    """What a viewer may report; fixed choices, so no stranger's words reach the owner."""

    NOT_FOR_ME = "not_for_me"
    NO_CONSENT = "no_consent"


class SuspendCause(StrEnum):
    """Why a share waits for its owner."""

    # Its viewer said they should not see it, or that someone on camera did not agree.
    REPORT = "report"
    # Too many wrong PINs: someone holding the link is guessing.
    WRONG_PINS = "wrong_pins"


# --- Schedules -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """Allowed hours on some days of the week; an end not after the start runs past midnight."""

    days: frozenset[int]  # 0 is Monday, as datetime.weekday()
    start: time
    # None is the end of the day (written "24:00").
    end: time | None

    @property
    def overnight(self) -> bool:
        """Return True when the window ends on the day after it starts."""
        return self.end is not None and self.end <= self.start

    def bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Return the window opened on `day` in UTC; DST gaps shift it, folds take the first."""
        start = datetime.combine(day, self.start, tzinfo=zone)
        if self.end is None:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            end_day = day + timedelta(days=1) if self.overnight else day
            end = datetime.combine(end_day, self.end, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def as_dict(self) -> dict[str, Any]:
        """Return the window in the form `parse_schedule` reads."""
        return {
            "days": [WEEKDAYS[d] for d in sorted(self.days)],
            "start": self.start.strftime("%H:%M"),
            "end": "24:00" if self.end is None else self.end.strftime("%H:%M"),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    """Weekly windows in one time zone, outside which a share shows nothing."""

    windows: tuple[Window, ...]
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        """Return the time zone the windows' hours are in."""
        return ZoneInfo(self.time_zone)

    def window_at(self, now: datetime) -> tuple[datetime, datetime] | None:
        """Return the (UTC start, UTC end) of the window open at `now`, or None."""
        zone = self.zone
        today = now.astimezone(zone).date()
        # Comparisons in UTC: within one zone Python compares wall times and ignores DST folds.
        instant = now.astimezone(UTC)
        for day in (today - timedelta(days=1), today):
            for window in self.windows:
                if day.weekday() not in window.days:
                    continue
                start, end = window.bounds(day, zone)
                if start <= instant < end:
                    return start, end
        return None

    def contains(self, now: datetime) -> bool:
        """Return True when `now` falls inside a window."""
        return self.window_at(now) is not None

    def next_opening(self, now: datetime) -> datetime | None:
        """Return when a window next opens after `now` (within eight days), or None."""
        zone = self.zone
        instant = now.astimezone(UTC)
        today = instant.astimezone(zone).date()
        starts = [
            window.bounds(today + timedelta(days=offset), zone)[0]
            for offset in range(8)
            for window in self.windows
            if (today + timedelta(days=offset)).weekday() in window.days
        ]
        later = [start for start in starts if start > instant]
        return min(later) if later else None

    def as_dict(self) -> dict[str, Any]:
        """Return the schedule as plain data for storage and for the list action."""
        return {"time_zone": self.time_zone, "windows": [w.as_dict() for w in self.windows]}


def _parse_time(raw: object, *, end: bool) -> time | None:
    """Read "HH:MM" (or "24:00" for an end); accept datetime.time as HA's time selector gives."""
    if isinstance(raw, time):
        return raw.replace(second=0, microsecond=0, tzinfo=None)
    if not isinstance(raw, str):
        raise ShareError("invalid_schedule", "times are HH:MM strings")
    text = raw.strip()
    if end and text == "24:00":
        return None
    # HA's time selector sends HH:MM:SS; seconds are dropped, windows are minute-precise.
    if len(text) == 8 and text.endswith(":00"):  # noqa: PLR2004
        text = text[:5]
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ShareError("invalid_schedule", f"not a time of day: {raw!r}")
    return time(int(match[1]), int(match[2]))


def _parse_days(raw: object) -> frozenset[int]:
    """Read weekday names ("mon".."sun", as HA's weekday selector gives them)."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence) or not raw:
        raise ShareError("invalid_schedule", "each window needs a list of days")
    days: set[int] = set()
    for name in raw:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ShareError("invalid_schedule", f"not a day of the week: {name!r}")
        days.add(WEEKDAYS.index(key))
    return frozenset(days)


def parse_schedule(raw: object, time_zone: str) -> Schedule | None:
    """Validate weekly windows like [{"days": ["mon"], "start": "08:30", "end": "16:30"}].

    An empty value means no schedule (the share works at any hour until it expires). Also accepts
    {"time_zone": ..., "windows": [...]}, the stored form, whose zone then wins.
    """
    if raw is None or raw in ([], (), {}, ""):
        return None
    if isinstance(raw, Mapping):
        time_zone = str(raw.get("time_zone", time_zone))
        raw = raw.get("windows")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ShareError("invalid_time_zone", f"unknown time zone {time_zone!r}") from err
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise ShareError("invalid_schedule", "a schedule is a list of windows")
    if len(raw) > MAX_WINDOWS:
        raise ShareError("invalid_schedule", f"at most {MAX_WINDOWS} windows")
    windows: list[Window] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ShareError("invalid_schedule", "each window has days, start and end")
        start = _parse_time(item.get("start"), end=False)
        end = _parse_time(item.get("end"), end=True)
        if start is None or end == start:
            raise ShareError("invalid_schedule", "a window must not be empty")
        windows.append(Window(days=_parse_days(item.get("days")), start=start, end=end))
    return Schedule(windows=tuple(windows), time_zone=time_zone)


# --- PINs ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    """Encode bytes as unpadded base64, as PHC strings do."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64."""
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def new_pin() -> str:
    """Return a random PIN of PIN_DIGITS digits (leading zeros allowed)."""
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


class PinHasher:
    """Hash and check PINs with scrypt; parameters travel inside each hash ($scrypt$ln,r,p$...).

    Both methods are slow on purpose (about 0.45 s and 128 MiB each at the defaults) and
    synchronous: call them in an executor, never on the event loop, and only a few at a time,
    each holding its slot until the hash has finished, so that no burst can exhaust memory.
    """

    def __init__(
        self, *, log2_n: int = SCRYPT_LOG2_N, r: int = SCRYPT_R, p: int = SCRYPT_P
    ) -> None:
        """Use the given cost for new hashes; weaker settings are for tests only."""
        self.log2_n, self.r, self.p = log2_n, r, p
        # Checking a PIN for no share runs scrypt against this random stand-in: the same work
        # as a real check, and nothing can match it (verify also refuses it outright).
        stand_in = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(KEY_BYTES)
        self._dummy = f"$scrypt$ln={log2_n},r={r},p={p}${_b64(stand_in[0])}${_b64(stand_in[1])}"
        # How long a hash takes here, learned from every hash run (until then, a desktop's).
        self.typical_seconds = TYPICAL_HASH_SECONDS
        self.measured = False

    def hash(self, pin: str) -> str:
        """Return a salted scrypt hash of the PIN with its parameters."""
        salt = secrets.token_bytes(SALT_BYTES)
        key = self._timed_scrypt(pin, salt, self.log2_n, self.r, self.p)
        return f"$scrypt$ln={self.log2_n},r={self.r},p={self.p}${_b64(salt)}${_b64(key)}"

    def _timed_scrypt(self, pin: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
        """Run scrypt and fold its duration into `typical_seconds`."""
        started = perf_counter()
        key = _scrypt(pin, salt, log2_n, r, p)
        elapsed = perf_counter() - started
        if not self.measured:
            # The first hash here replaces the desktop's guess, which may be twice too fast.
            self.typical_seconds, self.measured = elapsed, True
        else:
            # A moving average: one slow hash (a busy moment) moves it only a little.
            self.typical_seconds += (elapsed - self.typical_seconds) * 0.25
        return key

    def verify(self, pin_hash: str | None, pin: str) -> bool:
        """Return True when `pin` matches; with no hash, spend the same time and return False.

        Passing None for an unknown, revoked or suspended share keeps them indistinguishable by
        timing from a wrong PIN.
        """
        parsed = _parse_pin_hash(self._dummy if pin_hash is None else pin_hash)
        if parsed is None:
            return False
        log2_n, r, p, salt, expected = parsed
        key = self._timed_scrypt(pin if isinstance(pin, str) else "", salt, log2_n, r, p)
        return hmac.compare_digest(key, expected) and pin_hash is not None


def pin_as_digits(typed: str) -> str:
    """Return a typed PIN in ASCII digits, without the spaces around it.

    A keyboard in full-width mode (Chinese, Japanese) or set to Arabic, Persian or Devanagari
    digits types the right PIN in other code points; read as they are, they would count as a
    wrong guess toward the lockout. Any other character is kept, and cannot match.
    """
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char for char in typed.strip()
    )


def _scrypt(pin: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    """Run scrypt with just enough memory allowed for its parameters."""
    n = 1 << log2_n
    # OpenSSL needs 128*r*(n+p+2) bytes and refuses anything over maxmem (32 MiB by default).
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    # Bytes past the digits cannot match a PIN; cap them so a huge body costs nothing extra.
    secret = pin_as_digits(pin[: MAX_PIN_LENGTH * 4])[:MAX_PIN_LENGTH].encode(
        "utf-8", "surrogatepass"
    )
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=KEY_BYTES)


def _parse_pin_hash(text: str) -> tuple[int, int, int, bytes, bytes] | None:
    """Split "$scrypt$ln=..,r=..,p=..$salt$key"; return None for anything else."""
    parts = text.split("$") if isinstance(text, str) else []
    if len(parts) != 5 or parts[0] or parts[1] != "scrypt":  # noqa: PLR2004
        return None
    try:
        params = dict(item.split("=", 1) for item in parts[2].split(","))
        log2_n, r, p = int(params["ln"]), int(params["r"]), int(params["p"])
        salt, key = _unb64(parts[3]), _unb64(parts[4])
    except (KeyError, ValueError):
        return None
    if not (1 <= log2_n <= MAX_SCRYPT_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16 and key):  # noqa: PLR2004
        return None
    if 128 * r * (1 << log2_n) > MAX_SCRYPT_MEMORY:
        return None
    return log2_n, r, p, salt, key


# --- Shares ----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Return the SHA-256 of a token, hex.

    A fast hash is right for tokens: they hold 256 random bits, so there is nothing to guess
    and no dictionary to slow down; a KDF would only hand attackers a cheap way to burn CPU.
    """
    data = token[:MAX_TOKEN_LENGTH].encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Share:
    """One viewer's permission to watch one camera; immutable, replaced when its state changes."""

    share_id: str
    camera: str  # opaque key the HA layer chooses (e.g. the config entry id)
    viewer_name: str
    created_at: datetime
    expires_at: datetime
    schedule: Schedule | None = None
    privacy: PrivacyLevel = PrivacyLevel.PEOPLE
    # Hashes stay out of repr so that logging a share can never leak them.
    token_hash: str = field(repr=False)
    pin_hash: str = field(repr=False)
    state: ShareState = ShareState.ACTIVE
    reported_reason: str | None = None
    reported_at: datetime | None = None
    suspended_for: SuspendCause | None = None

    def public(self) -> dict[str, Any]:
        """Return what the owner may see: everything but the hashes, JSON-ready.

        `code` is what the share's pictures carry in their caption: a leaked picture's code
        finds its share here.
        """
        return {
            "share_id": self.share_id,
            "code": share_code(self.share_id),
            "camera": self.camera,
            "viewer_name": self.viewer_name,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "schedule": None if self.schedule is None else self.schedule.as_dict(),
            "privacy": str(self.privacy),
            "state": str(self.state),
            "reported_reason": self.reported_reason,
            "reported_at": None if self.reported_at is None else self.reported_at.isoformat(),
            "suspended_for": None if self.suspended_for is None else str(self.suspended_for),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the stored form: the public fields plus the two hashes, never a secret."""
        # The code is derived from the id whenever it is shown; storing it would only go stale.
        stored = {key: value for key, value in self.public().items() if key != "code"}
        return {**stored, "token_hash": self.token_hash, "pin_hash": self.pin_hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Share:
        """Rebuild a share from its stored form; raise ShareError when it is malformed."""
        try:
            reported_at, reason = data.get("reported_at"), data.get("reported_reason")
            token_hash = str(data["token_hash"])
            pin_hash = str(data["pin_hash"])
            if len(token_hash) != 64 or _parse_pin_hash(pin_hash) is None:  # noqa: PLR2004
                raise ShareError("invalid_storage", "a stored hash is malformed")
            return cls(
                share_id=str(data["share_id"]),
                camera=str(data["camera"]),
                viewer_name=str(data["viewer_name"]),
                created_at=_aware(datetime.fromisoformat(data["created_at"])),
                expires_at=_aware(datetime.fromisoformat(data["expires_at"])),
                schedule=parse_schedule(data.get("schedule"), "UTC"),
                privacy=PrivacyLevel(data.get("privacy", PrivacyLevel.PEOPLE)),
                token_hash=token_hash,
                pin_hash=pin_hash,
                state=ShareState(data.get("state", ShareState.ACTIVE)),
                reported_reason=None if reason is None else str(reason),
                reported_at=None
                if reported_at is None
                else _aware(datetime.fromisoformat(reported_at)),
                suspended_for=_suspend_cause(data),
            )
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, ShareError):
                raise
            raise ShareError("invalid_storage", f"stored share is malformed: {err}") from err


def _suspend_cause(data: Mapping[str, Any]) -> SuspendCause | None:
    """Read why a stored share is suspended; shares stored before causes were kept were reported."""
    cause = data.get("suspended_for")
    if cause is not None:
        return SuspendCause(cause)
    if data.get("state") == ShareState.SUSPENDED:
        return SuspendCause.REPORT
    return None


def _aware(moment: datetime) -> datetime:
    """Return the datetime if it carries a time zone; raise ShareError otherwise."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ShareError("invalid_expiry", "times must carry a time zone")
    return moment


def _clean_text(raw: object, limit: int, translation_key: str) -> str:
    """Strip control characters and surrounding space; refuse empty or overlong text."""
    if not isinstance(raw, str):
        raise ShareError(translation_key, "text expected")
    text = one_line(raw)
    if not text or len(text) > limit:
        raise ShareError(translation_key, f"between 1 and {limit} characters")
    return text


class ViewerState(StrEnum):
    """What a viewer's page shows: the picture, or why there is none."""

    LIVE = "live"
    OUTSIDE_HOURS = "outside_hours"
    SHARING_OFF = "sharing_off"
    CAMERA_OFFLINE = "camera_offline"
    # The three ends: the share will not come back (suspended: not without its owner).
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUSPENDED = "suspended"


ENDED: Final = frozenset({ViewerState.REVOKED, ViewerState.EXPIRED, ViewerState.SUSPENDED})


def viewer_state(  # noqa: PLR0911 - one answer per state, in order of precedence
    share: Share | None,
    now: datetime,
    *,
    sharing_allowed: bool,
    camera_online: bool,
    camera_exists: bool = True,
) -> ViewerState:
    """Return what a viewer of `share` sees now; a forgotten share has expired.

    Ends come first (they are final for the viewer), then the owner's switch, the share's
    hours, and last the camera: "outside the hours" is the truer answer at night even when
    the camera happens to be off. A camera its owner removed never comes back: its shares are
    revoked, whatever their record says.
    """
    if share is None:
        return ViewerState.EXPIRED
    if share.state is ShareState.REVOKED or not camera_exists:
        return ViewerState.REVOKED
    if now >= share.expires_at:
        return ViewerState.EXPIRED
    if share.state is ShareState.SUSPENDED:
        return ViewerState.SUSPENDED
    if not sharing_allowed:
        return ViewerState.SHARING_OFF
    if share.schedule is not None and not share.schedule.contains(now):
        return ViewerState.OUTSIDE_HOURS
    return ViewerState.LIVE if camera_online else ViewerState.CAMERA_OFFLINE


class ShareRegistry:
    """All shares of one HA instance, indexed by public id and by token hash.

    Thread-safe: `create` may run in an executor (it hashes a PIN) while the event loop looks
    tokens up.
    """

    def __init__(self, hasher: PinHasher | None = None) -> None:
        """Start empty; `hasher` makes and checks PIN hashes (OWASP settings by default)."""
        self.hasher = hasher or PinHasher()
        self._shares: dict[str, Share] = {}
        self._by_token: dict[str, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return the number of shares kept, revoked ones included until they expire."""
        return len(self._shares)

    def get(self, share_id: str) -> Share | None:
        """Return a share by its public id."""
        return self._shares.get(share_id)

    def shares(self) -> tuple[Share, ...]:
        """Return every share, oldest first."""
        return tuple(sorted(self._shares.values(), key=lambda s: (s.created_at, s.share_id)))

    def create(
        self,
        *,
        camera: str,
        viewer_name: str,
        now: datetime,
        expires_at: datetime | None = None,
        duration: timedelta | None = None,
        schedule: object = None,
        time_zone: str = "UTC",
        privacy: str = PrivacyLevel.PEOPLE,
    ) -> tuple[Share, str, str]:
        """Create a share; return it, its token and its PIN.

        Give exactly one of `expires_at` (aware) and `duration`; the expiry must lie in the
        future and at most MAX_SHARE_DAYS ahead: there is no share without an end. `schedule` is
        what `parse_schedule` reads, in `time_zone`. Slow (it hashes the PIN): run it in an
        executor. The token and PIN are returned once and kept nowhere. PINs are always
        generated: one chosen by the owner would have to travel through an action call, which
        Home Assistant records in its database in plain text.
        """
        _aware(now)
        if not isinstance(camera, str) or not camera:
            raise ShareError("invalid_camera", "a share needs a camera")
        name = _clean_text(viewer_name, MAX_VIEWER_NAME, "invalid_viewer_name")
        if (expires_at is None) == (duration is None):
            raise ShareError("invalid_expiry", "give either expires_at or duration")
        expiry = _aware(expires_at) if expires_at is not None else now + (duration or timedelta())
        if expiry <= now:
            raise ShareError("expiry_in_past", "a share must expire in the future")
        if expiry - now > timedelta(days=MAX_SHARE_DAYS):
            raise ShareError("expiry_too_far", f"a share lasts at most {MAX_SHARE_DAYS} days")
        try:
            level = PrivacyLevel(privacy)
        except ValueError as err:
            raise ShareError("invalid_privacy", f"unknown privacy level {privacy!r}") from err
        parsed_schedule = parse_schedule(schedule, time_zone)
        plain_pin = new_pin()

        token = secrets.token_urlsafe(TOKEN_BYTES)
        pin_hash = self.hasher.hash(plain_pin)
        with self._lock:
            if len(self._shares) >= MAX_SHARES:
                raise ShareError("too_many_shares", f"at most {MAX_SHARES} shares")
            share_id = secrets.token_urlsafe(SHARE_ID_BYTES)
            while share_id in self._shares:  # pragma: no cover - 48 random bits rarely collide
                share_id = secrets.token_urlsafe(SHARE_ID_BYTES)
            share = Share(
                share_id=share_id,
                camera=camera,
                viewer_name=name,
                created_at=now,
                expires_at=expiry,
                schedule=parsed_schedule,
                privacy=level,
                token_hash=hash_token(token),
                pin_hash=pin_hash,
            )
            self._shares[share_id] = share
            self._by_token[share.token_hash] = share_id
        return share, token, plain_pin

    def lookup(self, token: str, now: datetime) -> Share | None:
        """Return the share a token opens, or None for unknown, expired, revoked and suspended ones.

        All four take the same path and give the same answer: a suspended share waits for its
        owner, and until then its link is as dead as an unknown one (a PIN guessed against it
        proves nothing and opens nothing).
        """
        share = self.named_by(token)
        if share is None or share.state is not ShareState.ACTIVE or now >= share.expires_at:
            return None
        return share

    def named_by(self, token: str) -> Share | None:
        """Return the share a token names, whatever its state, or None when it names none.

        The lookup is by hash: a dictionary probe on a SHA-256 the caller cannot steer, so its
        timing tells nothing about stored tokens.
        """
        digest = hash_token(token) if isinstance(token, str) else ""
        share = self._shares.get(self._by_token.get(digest, ""))
        if share is None or not hmac.compare_digest(share.token_hash, digest):
            return None
        return share

    def get_active(self, share_id: str, now: datetime) -> Share | None:
        """Return a share by its public id if it is active and not expired."""
        share = self._shares.get(share_id)
        if share is None or share.state is not ShareState.ACTIVE or now >= share.expires_at:
            return None
        return share

    def verify_pin(self, share: Share | None, pin: str) -> bool:
        """Check a PIN for a share, or burn the same time for None; slow, run it in an executor."""
        return self.hasher.verify(None if share is None else share.pin_hash, pin)

    def revoke(self, share_id: str) -> Share:
        """Revoke a share for good; its token stops working at once. Return the revoked share."""
        return self._replace(share_id, state=ShareState.REVOKED)

    def suspend(self, share_id: str, reason: str, now: datetime) -> Share:
        """Suspend a share because its viewer reported it; only the owner can resume it.

        Suspending a suspended share keeps the first suspension's cause, reason and time.
        """
        reason_text = _clean_text(reason, MAX_REPORT_REASON, "invalid_report_reason")
        return self._suspend(share_id, now, SuspendCause.REPORT, reason_text)

    def suspend_for_wrong_pins(self, share_id: str, now: datetime) -> Share:
        """Suspend a share someone is guessing the PIN of; only the owner can resume it."""
        return self._suspend(share_id, now, SuspendCause.WRONG_PINS, None)

    def _suspend(
        self, share_id: str, now: datetime, cause: SuspendCause, reason: str | None
    ) -> Share:
        """Suspend a share for a cause, unless it is already suspended."""
        _aware(now)
        with self._lock:
            share = self._existing(share_id)
            if share.state is ShareState.SUSPENDED:
                return share
            self._refuse_revoked(share)
            return self._store(
                dataclasses.replace(
                    share,
                    state=ShareState.SUSPENDED,
                    suspended_for=cause,
                    reported_reason=reason,
                    reported_at=now,
                )
            )

    def resume(self, share_id: str) -> Share:
        """Let a suspended share work again (the owner's decision); keep the report on record."""
        with self._lock:
            share = self._existing(share_id)
            self._refuse_revoked(share)
            return self._store(
                dataclasses.replace(share, state=ShareState.ACTIVE, suspended_for=None)
            )

    def purge_expired(self, now: datetime) -> list[str]:
        """Forget shares past their expiry, revoked ones too; return their ids."""
        with self._lock:
            gone = [s.share_id for s in self._shares.values() if now >= s.expires_at]
            for share_id in gone:
                share = self._shares.pop(share_id)
                self._by_token.pop(share.token_hash, None)
        return gone

    def to_dict(self) -> dict[str, Any]:
        """Return the registry for HA's Store: hashes only, never a token or a PIN."""
        return {"version": STORAGE_VERSION, "shares": [s.to_dict() for s in self.shares()]}

    @classmethod
    def from_stored(
        cls, data: Mapping[str, Any], hasher: PinHasher | None = None
    ) -> tuple[ShareRegistry, list[Any]]:
        """Rebuild every share that can be read; return them and the records that cannot.

        One damaged record costs only that share. Raise ShareError when the container itself
        cannot be read (not this format's version, no list of shares).
        """
        if not isinstance(data, Mapping) or data.get("version") != STORAGE_VERSION:
            raise ShareError("invalid_storage", "unknown share storage version")
        raw_shares = data.get("shares")
        if not isinstance(raw_shares, list):
            raise ShareError("invalid_storage", "shares must be a list")
        registry = cls(hasher)
        unread: list[Any] = []
        for raw in raw_shares:
            try:
                share = Share.from_dict(raw) if isinstance(raw, Mapping) else None
            except ShareError:
                share = None
            if share is None:
                unread.append(raw)
                continue
            registry._shares[share.share_id] = share
            registry._by_token[share.token_hash] = share.share_id
        return registry, unread

    def remove(self, share_id: str) -> None:
        """Forget a share entirely, as if it had never been made (one that could not be saved)."""
        with self._lock:
            if (share := self._shares.pop(share_id, None)) is not None:
                self._by_token.pop(share.token_hash, None)

    def _replace(self, share_id: str, **changes: Any) -> Share:
        """Store a changed copy of a share under the lock."""
        with self._lock:
            return self._store(dataclasses.replace(self._existing(share_id), **changes))

    def _existing(self, share_id: str) -> Share:
        """Return a share or raise ShareError("unknown_share")."""
        share = self._shares.get(share_id)
        if share is None:
            raise ShareError("unknown_share", "no share with that id")
        return share

    @staticmethod
    def _refuse_revoked(share: Share) -> None:
        """Raise when a revoked share is asked to change: revocation is final."""
        if share.state is ShareState.REVOKED:
            raise ShareError("share_revoked", "a revoked share cannot change")

    def _store(self, share: Share) -> Share:
        """Put a share back in the index (the caller holds the lock)."""
        self._shares[share.share_id] = share
        return share

"""Keep camera passwords out of Home Assistant's storage in plain text.

Config entries are plain JSON that users paste into forums and copy into backups. A password is
sealed with a key kept in a separate, owner-only store file, so that file and the entries must
both leak before a camera's password does.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .stores import READ_ANY_VERSION

SEALED_PREFIX = "sealed:"
KEY_STORE_VERSION = 1
_CIPHER: HassKey[Fernet] = HassKey(f"{DOMAIN}_cipher")


class UnsealError(Exception):
    """A sealed password could not be opened, as when its key file was lost."""


class KeyUnavailableError(UnsealError):
    """The key file exists but cannot be read; it is left as it is rather than replaced."""


class _NewerStoreError(Exception):
    """The key file was written by a newer version; carries what it holds, unconverted."""

    def __init__(self, version: int, data: dict[str, Any], *, compatible: bool) -> None:
        """Keep the major version found, the data as read, and whether only the minor is newer."""
        super().__init__(version)
        self.version = version
        self.data = data
        self.compatible = compatible


class _KeyStore(Store[dict[str, Any]]):
    """The key file's store, which reads a newer file without ever rewriting it."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Refuse to convert a newer file, before Store would save over it."""
        if (old_major_version, old_minor_version) > (self.version, self.minor_version):
            raise _NewerStoreError(
                old_major_version, old_data, compatible=old_major_version == self.version
            )
        return old_data


async def async_get_cipher(hass: HomeAssistant) -> Fernet:
    """Return the cipher, creating its key on first use.

    A key file that a newer version wrote is read as far as it can be and never rewritten, so a
    downgrade loses nothing. A key file that cannot be used is left untouched for a backup to
    replace: a new key would make every sealed password unreadable for good. A file that is not
    even JSON is moved aside by Home Assistant itself, with its own repair issue.
    """
    if (cipher := hass.data.get(_CIPHER)) is not None:
        return cipher
    store = _KeyStore(
        hass,
        KEY_STORE_VERSION,
        f"{DOMAIN}.key",
        private=True,
        atomic_writes=True,
        **READ_ANY_VERSION,
    )
    data: object
    try:
        data = await store.async_load()
    except _NewerStoreError as newer:
        # A newer minor version only adds what this one can ignore; a major one needs telling.
        if not newer.compatible:
            _raise_issue(hass, store, "key_store_newer", str(newer.version))
        data = newer.data
    if data is None:
        data = {"key": Fernet.generate_key().decode()}
        await store.async_save(data)
    try:
        cipher = Fernet(str(data["key"]).encode())
    except (KeyError, TypeError, ValueError) as err:
        _raise_issue(hass, store, "key_store_unreadable", type(err).__name__)
        raise KeyUnavailableError(store.path) from None
    hass.data[_CIPHER] = cipher
    return cipher


async def async_remove_key(hass: HomeAssistant) -> None:
    """Delete the key file and forget the key: no entry is left whose password it opens."""
    # A camera added later in this run must not seal with a key that is no longer on disk.
    hass.data.pop(_CIPHER, None)
    await Store[dict[str, Any]](hass, KEY_STORE_VERSION, f"{DOMAIN}.key").async_remove()
    for issue in ("key_store_newer", "key_store_unreadable"):
        ir.async_delete_issue(hass, DOMAIN, issue)


def _raise_issue(hass: HomeAssistant, store: Store[Any], issue: str, detail: str) -> None:
    """Tell the user, once per kind, what is wrong with the key file and what was done."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=issue,
        translation_placeholders={"path": store.path, "detail": detail},
    )


def seal(cipher: Fernet, password: str) -> str:
    """Return the password sealed for storage; an empty password stays empty."""
    if not password:
        return ""
    return SEALED_PREFIX + cipher.encrypt(password.encode()).decode()


def is_sealed(stored: str) -> bool:
    """Return True when a stored password needs the key to be read."""
    return stored.startswith(SEALED_PREFIX)


def unseal(cipher: Fernet, stored: str) -> str:
    """Return the password from its stored form; raise UnsealError when it cannot be opened."""
    if not is_sealed(stored):
        return stored  # typed before sealing existed, or empty
    try:
        return cipher.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
    except InvalidToken as err:
        raise UnsealError from err

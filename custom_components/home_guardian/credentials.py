"""Keep camera passwords out of Home Assistant's storage in plain text.

Config entries are plain JSON that users paste into forums and copy into backups. A password is
sealed with a key kept in a separate, owner-only store file, so that file and the entries must
both leak before a camera's password does.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

SEALED_PREFIX = "sealed:"
_CIPHER: HassKey[Fernet] = HassKey(f"{DOMAIN}_cipher")


class UnsealError(Exception):
    """A sealed password could not be opened, as when its key file was lost."""


async def async_get_cipher(hass: HomeAssistant) -> Fernet:
    """Return the cipher, creating its key on first use."""
    if (cipher := hass.data.get(_CIPHER)) is not None:
        return cipher
    store: Store[dict[str, str]] = Store(hass, 1, f"{DOMAIN}.key", private=True, atomic_writes=True)
    data = await store.async_load()
    if data is None:
        data = {"key": Fernet.generate_key().decode()}
        await store.async_save(data)
    cipher = hass.data[_CIPHER] = Fernet(data["key"].encode())
    return cipher


def seal(cipher: Fernet, password: str) -> str:
    """Return the password sealed for storage; an empty password stays empty."""
    if not password:
        return ""
    return SEALED_PREFIX + cipher.encrypt(password.encode()).decode()


def unseal(cipher: Fernet, stored: str) -> str:
    """Return the password from its stored form; raise UnsealError when it cannot be opened."""
    if not stored.startswith(SEALED_PREFIX):
        return stored  # typed before sealing existed, or empty
    try:
        return cipher.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
    except InvalidToken as err:
        raise UnsealError from err

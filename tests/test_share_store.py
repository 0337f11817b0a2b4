"""Tests for the share file's faults: damaged records, a newer version, writes that fail."""

from __future__ import annotations

import copy
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_guardian.const import DOMAIN
from custom_components.home_guardian.engine.shares import PinHasher, ShareRegistry, ShareState
from custom_components.home_guardian.sharing import _ShareStore, async_get_sharing
from tests.cameras.servers import RtspCamera
from tests.common import camera_entry, set_up_entry

KEY = "home_guardian.shares"
CAMERA = "camera.living_room"
SWITCH = "switch.living_room_sharing_allowed"
# Home Assistant's own writer, before the test harness swaps it for an in-memory one.
REAL_WRITE = Store._async_write_data
REAL_LOAD = Store._async_load


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration."""


def stored_shares(entry: MockConfigEntry, count: int) -> list[dict[str, Any]]:
    """Return `count` share records as this version stores them, for the camera of `entry`."""
    registry = ShareRegistry(PinHasher(log2_n=10))
    for number in range(count):
        registry.create(
            camera=entry.entry_id,
            viewer_name=f"Viewer {number}",
            now=dt_util.utcnow(),
            duration=timedelta(hours=1),
        )
    shares: list[dict[str, Any]] = registry.to_dict()["shares"]
    return shares


def share_file(version: int, shares: list[Any]) -> dict[str, Any]:
    """Return the share file as Home Assistant's Store writes it."""
    return {
        "version": version,
        "minor_version": 1,
        "key": KEY,
        "data": {"version": 1, "shares": shares},
    }


async def allow_sharing(hass: HomeAssistant) -> None:
    """Let the camera be shared, with cheap PIN hashes and an HTTPS address like a real home."""
    async_get_sharing(hass).registry.hasher = PinHasher(log2_n=10)
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await hass.config.async_update(external_url="https://home.example.org")


async def create_share(hass: HomeAssistant) -> dict[str, Any]:
    """Call create_share and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_share",
        {ATTR_ENTITY_ID: CAMERA, "viewer_name": "Anna", "duration": {"hours": 1}},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def has_issue(hass: HomeAssistant, issue_id: str) -> bool:
    """Return True when the integration has raised this repair issue."""
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None


async def test_a_damaged_record_costs_only_its_own_share(
    hass: HomeAssistant, hass_storage: dict[str, Any], rtsp_camera: RtspCamera
) -> None:
    """Good shares load beside a damaged one, which stays in the file exactly as it was."""
    entry = camera_entry(rtsp_camera.url)
    good = stored_shares(entry, 2)
    damaged = {**good[0], "share_id": "damaged", "token_hash": "not a hash"}
    hass_storage[KEY] = share_file(1, [good[0], damaged, good[1], "not a record"])
    await set_up_entry(hass, entry)
    sharing = async_get_sharing(hass)

    assert {share.share_id for share in sharing.registry.shares()} == {
        good[0]["share_id"],
        good[1]["share_id"],
    }
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "share_store_damaged")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["detail"] == "2"

    # Changes are saved, and the records this version cannot read are written back untouched.
    await hass.services.async_call(
        DOMAIN, "revoke_share", {"share_id": good[0]["share_id"]}, blocking=True
    )
    records = hass_storage[KEY]["data"]["shares"]
    assert damaged in records
    assert "not a record" in records
    assert len(records) == 4
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_newer_file_loads_what_it_can_and_is_never_written(
    hass: HomeAssistant, hass_storage: dict[str, Any], rtsp_camera: RtspCamera
) -> None:
    """A file from a newer version: cameras load, its shares work, and it is left as it is."""
    entry = camera_entry(rtsp_camera.url)
    newer = share_file(2, stored_shares(entry, 1))
    hass_storage[KEY] = copy.deepcopy(newer)
    await set_up_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    sharing = async_get_sharing(hass)
    [kept] = sharing.registry.shares()
    assert has_issue(hass, "share_store_newer")
    await allow_sharing(hass)

    # No share is handed out that the file cannot keep.
    with pytest.raises(HomeAssistantError) as refused:
        await create_share(hass)
    assert refused.value.translation_key == "share_not_saved"
    assert [share.share_id for share in sharing.registry.shares()] == [kept.share_id]

    # A revoke holds at once, and the owner is told it does not outlast a restart.
    with pytest.raises(HomeAssistantError) as revoked:
        await hass.services.async_call(
            DOMAIN, "revoke_share", {"share_id": kept.share_id}, blocking=True
        )
    assert revoked.value.translation_key == "share_change_not_saved"
    assert sharing.registry.get(kept.share_id).state is ShareState.REVOKED  # type: ignore[union-attr]
    await hass.async_block_till_done()
    assert hass_storage[KEY] == newer
    await hass.config_entries.async_unload(entry.entry_id)


async def test_no_link_is_handed_out_for_a_share_that_cannot_be_written(
    hass: HomeAssistant, rtsp_camera: RtspCamera, tmp_path: Path
) -> None:
    """A real write that fails refuses the share; once the disk takes it, shares are saved."""
    entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
    await allow_sharing(hass)
    sharing = async_get_sharing(hass)
    path = tmp_path / ".storage" / KEY
    # Where the share file should go, something that cannot be replaced: a folder with content.
    (path / "taken").mkdir(parents=True)
    mocked_write = Store._async_write_data

    async def write(store: Store[Any], *args: Any) -> None:
        """Write the share file for real, in the test's folder; other stores stay in memory.

        Home Assistant 2025.4 passes the path and the data, newer versions the data alone.
        """
        if store.key == KEY:
            await REAL_WRITE(store, *args)
        else:
            await mocked_write(store, *args)

    with (
        patch.object(Store, "_async_write_data", write),
        patch.object(sharing._store, "path", str(path)),
    ):
        with pytest.raises(HomeAssistantError) as refused:
            await create_share(hass)
        assert refused.value.translation_key == "share_not_saved"
        assert sharing.registry.shares() == ()
        assert has_issue(hass, "share_store_not_written")

        (path / "taken").rmdir()
        path.rmdir()
        share = await create_share(hass)
        [stored] = json.loads(path.read_text())["data"]["shares"]
        assert stored["share_id"] == share["share_id"]
        assert not has_issue(hass, "share_store_not_written")

        # A revoke that cannot be written still ends the share now, and the owner is told.
        path.unlink()
        (path / "taken").mkdir(parents=True)
        with pytest.raises(HomeAssistantError) as revoked:
            await hass.services.async_call(
                DOMAIN, "revoke_share", {"share_id": share["share_id"]}, blocking=True
            )
        assert revoked.value.translation_key == "share_change_not_saved"
        assert sharing.registry.get(share["share_id"]).state is ShareState.REVOKED  # type: ignore[union-attr]
        assert has_issue(hass, "share_store_not_written")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_file_that_cannot_be_read_is_left_alone(
    hass: HomeAssistant, rtsp_camera: RtspCamera, tmp_path: Path
) -> None:
    """A share file the system cannot read: cameras load, no share is made, nothing is written."""
    path = tmp_path / ".storage" / KEY
    (path / "taken").mkdir(parents=True)
    mocked_load = Store._async_load

    async def load(store: Store[Any]) -> Any:
        """Read the share file for real, from the test's folder; other stores stay in memory."""
        return await (REAL_LOAD if store.key == KEY else mocked_load)(store)

    with (
        patch.object(Store, "_async_load", load),
        patch.object(_ShareStore, "path", str(path)),
    ):
        entry = await set_up_entry(hass, camera_entry(rtsp_camera.url))
        assert entry.state is ConfigEntryState.LOADED
        assert has_issue(hass, "share_store_unreadable")
        await allow_sharing(hass)
        with pytest.raises(HomeAssistantError) as refused:
            await create_share(hass)
        assert refused.value.translation_key == "share_not_saved"
        await hass.async_block_till_done()
        assert [item.name for item in path.iterdir()] == ["taken"]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("disabled_by", [ConfigEntryDisabler.USER, None])
async def test_removing_a_camera_never_set_up_forgets_its_shares(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    disabled_by: ConfigEntryDisabler | None,
) -> None:
    """A camera removed before sharing ever started this run still takes its links with it."""
    # Disabled, or simply never loaded: either way the integration has not started.
    removed = MockConfigEntry(domain=DOMAIN, title="Hall", disabled_by=disabled_by)
    other = MockConfigEntry(domain=DOMAIN, title="Garden", disabled_by=ConfigEntryDisabler.USER)
    removed.add_to_hass(hass)
    other.add_to_hass(hass)
    kept = stored_shares(other, 2)
    gone = stored_shares(removed, 2)
    hass_storage[KEY] = share_file(1, [gone[0], kept[0], "not a record", gone[1], kept[1]])
    # What was learned of each camera's empty room, saved in an earlier run.
    scenes = {entry.entry_id: f"{DOMAIN}.scene.{entry.entry_id}" for entry in (removed, other)}
    for key in scenes.values():
        hass_storage[key] = {"version": 1, "key": key, "data": {"format": 1}}

    assert (await hass.config_entries.async_remove(removed.entry_id))["require_restart"] is False
    await hass.async_block_till_done()

    # The other camera's shares and the record this version cannot read are kept as they were.
    *shares, unread = hass_storage[KEY]["data"]["shares"]
    assert sorted(shares, key=lambda record: record["share_id"]) == sorted(
        kept, key=lambda record: record["share_id"]
    )
    assert unread == "not a record"
    # The picture of the removed camera's room goes with it; the other camera's stays.
    assert scenes[removed.entry_id] not in hass_storage
    assert scenes[other.entry_id] in hass_storage
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]

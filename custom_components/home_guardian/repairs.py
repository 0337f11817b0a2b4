"""Repairs for suspended shares: the owner resumes or revokes them here, no ids typed."""

from __future__ import annotations

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult

from .engine.shares import ShareError, ShareState
from .sharing import ShareStoreError, async_get_sharing, share_issue_placeholders


class SuspendedShareFlow(RepairsFlow):
    """Offer the owner of a suspended share its two outcomes."""

    def __init__(self, share_id: str) -> None:
        """Remember which share the issue is about."""
        self.share_id = share_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Show what happened and the two choices."""
        sharing = async_get_sharing(self.hass)
        share = sharing.registry.get(self.share_id)
        if share is None or share.state is not ShareState.SUSPENDED:
            # Decided elsewhere meanwhile (an action, another browser) or expired and forgotten.
            return self.async_abort(reason="share_decided")
        names = sharing.camera_names(share)
        return self.async_show_menu(
            step_id="init",
            menu_options=["resume", "revoke"],
            description_placeholders=share_issue_placeholders(share.viewer_name, names),
        )

    async def async_step_resume(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Let the share work again."""
        return await self._async_decide(resume=True)

    async def async_step_revoke(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """End the share for good."""
        return await self._async_decide(resume=False)

    async def _async_decide(self, *, resume: bool) -> FlowResult:
        """Apply and write the owner's decision; finishing the flow withdraws the issue."""
        sharing = async_get_sharing(self.hass)
        try:
            await sharing.async_decide(self.share_id, resume=resume)
        except ShareError:
            return self.async_abort(reason="share_decided")
        except ShareStoreError:
            return self.async_abort(
                reason="share_change_not_saved",
                description_placeholders={"path": sharing.store_path},
            )
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the flow of a suspended share's issue."""
    return SuspendedShareFlow(str((data or {}).get("share_id", "")))

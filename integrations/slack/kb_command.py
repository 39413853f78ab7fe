"""``/kb`` for admins in Slack: ephemeral Block Kit answers; anyone else is refused, except
``/kb review`` in an agent channel (any agent grades the bot's answers there)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from integrations import kb_admin
from integrations.composition import Services
from integrations.slack.blocks import text_blocks
from integrations.slack.review import SlackReview

logger = logging.getLogger(__name__)


def add_modal(channel: str) -> dict[str, Any]:
    def field(block_id: str, label: str, multiline: bool, limit: int) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": multiline,
                "max_length": limit,
            },
        }

    return {
        "type": "modal",
        "callback_id": "tandem_kb_add",
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": "Add an article"},
        "submit": {"type": "plain_text", "text": "Add"},
        "blocks": [
            field("title", "Title (the question it answers)", False, 150),
            field("answer", "Answer", True, 3000),
        ],
    }


class KbCommand:
    """Args:
    services: The running service.
    client: The Slack Web API client.
    """

    def __init__(self, *, services: Services, client: AsyncWebClient) -> None:
        self.services, self.client = services, client
        self.settings = services.settings.slack
        self.review = SlackReview(services=services)

    def agent_channels(self) -> set[str]:
        """Where cards are posted: any agent there may review the bot's answers."""
        default = self.settings.default_channel
        return {*self.settings.routes.values(), *([default] if default else [])}

    async def is_admin(self, user: str) -> bool:
        if user in self.settings.admin_user_ids:
            return True
        if self.settings.admin_group:
            try:
                members = await self.client.usergroups_users_list(
                    usergroup=self.settings.admin_group
                )
                return user in (members.get("users") or [])
            except Exception:
                logger.warning("could not read the /kb admin group")
        return False

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond | None = None
    ) -> None:
        await ack()  # within 3 s; the answer follows as an ephemeral message
        user, channel = command["user_id"], command["channel_id"]
        name, argument = kb_admin.parse(command.get("text", ""))
        reviewer = name == "review" and channel in self.agent_channels()
        admin = not reviewer and await self.is_admin(user)
        if name == "review" and (reviewer or admin):
            blocks = await self.review.next_blocks()
            await self._post(channel, user, "Review a bot answer", blocks, respond)
            return
        if not admin:
            await self._reply(
                channel,
                user,
                kb_admin.Reply("Not allowed", ["Only knowledge admins can use /kb."]),
                respond,
            )
            return
        if name == "add" and not argument:
            await self.client.views_open(trigger_id=command["trigger_id"], view=add_modal(channel))
            return
        if (working := kb_admin.started(name, argument)) is not None:
            await self._reply(channel, user, working, respond)
        try:
            reply = await kb_admin.run(self.services, name, argument, user)
        except Exception as failure:  # the admin sees what went wrong, the app keeps running
            logger.exception("/kb failed")
            reply = kb_admin.Reply("Failed", [str(failure)])
        await self._reply(channel, user, reply, respond)

    async def on_add_submitted(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if not await self.is_admin(user):
            await ack(response_action="errors", errors={"title": "Only admins can add articles."})
            return
        await ack()
        values = body["view"]["state"]["values"]
        title = values["title"]["value"]["value"]
        answer = values["answer"]["value"]["value"]
        article_id = await kb_admin.add_article(self.services, title, answer, user)
        await self._reply(
            body["view"]["private_metadata"],
            user,
            kb_admin.Reply("Added", [f"article '{article_id}' is live"]),
        )

    async def _reply(
        self,
        channel: str,
        user: str,
        reply: kb_admin.Reply,
        respond: AsyncRespond | None = None,
    ) -> None:
        """An ephemeral answer; where Slack refuses one (a DM, a channel the bot has not
        joined) it goes through the command's ``response_url`` instead."""
        await self._post(channel, user, reply.title, text_blocks(reply.title, reply.lines), respond)

    async def _post(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]],
        respond: AsyncRespond | None = None,
    ) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks
            )
        except SlackApiError:
            if respond is None:
                raise
            await respond(text=text, blocks=blocks, response_type="ephemeral")

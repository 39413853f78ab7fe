"""Slack as an agent channel: a slack-bolt ``AsyncApp`` on the service's aiohttp server.

Every click, modal and thread reply becomes one domain ``AgentAction``; bolt verifies each
request's signature and we acknowledge before doing slow work (Slack's 3-second limit)."""

from __future__ import annotations

import asyncio
import logging
import re
from html import unescape
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import ActionKind, AgentAction
from bot.errors import TandemError
from integrations.composition import Services
from integrations.learning import TagError, tag_article
from integrations.slack.blocks import NOT_IN_KB, edit_modal
from integrations.slack.cards import slack_relay
from integrations.slack.kb_command import KbCommand

logger = logging.getLogger(__name__)
# "Also send to channel" and a reply with a file are replies too.
RELAYED_SUBTYPES = {None, "thread_broadcast", "file_share"}
BUTTONS = {
    "tandem_approve": ActionKind.APPROVE,
    "tandem_take_over": ActionKind.TAKE_OVER,
    "tandem_regenerate": ActionKind.REGENERATE,
    "tandem_hand_back": ActionKind.HAND_BACK,
    "tandem_resolve": ActionKind.RESOLVE,
}


def web_client(services: Services) -> AsyncWebClient:
    """A Web API client on the configured base URL that honours 429 ``Retry-After``."""
    slack = services.settings.slack
    assert slack.bot_token is not None
    client = AsyncWebClient(token=slack.bot_token.get_secret_value(), base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


class SlackChannel:
    """The Slack adapter: bolt listeners, the card relay and the /kb command.

    Args:
        services: The running service.
    """

    def __init__(self, *, services: Services) -> None:
        slack = services.settings.slack
        assert slack.signing_secret is not None
        self.services = services
        self.client = web_client(services)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=slack.signing_secret.get_secret_value(),
            request_verification_enabled=True,
        )
        self.cards = slack_relay(services, self.client)
        self.kb = KbCommand(services=services, client=self.client)
        self._names: dict[str, str] = {}
        self._relay: asyncio.Task[None] | None = None
        self._socket_mode: Any = None
        self._register()

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._relay = asyncio.create_task(self.cards.run(), name="slack-cards")

    async def connect_socket_mode(self) -> None:
        """Receive events over Socket Mode (``TANDEM_SLACK__APP_TOKEN``) instead of HTTP."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        token = self.services.settings.slack.app_token
        if token is None:
            raise ValueError("Socket Mode needs TANDEM_SLACK__APP_TOKEN")
        self._socket_mode = AsyncSocketModeHandler(self.app, token.get_secret_value())
        await self._socket_mode.connect_async()

    async def close(self) -> None:
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        await self.cards.drain()
        if self._relay is not None:
            self._relay.cancel()
            await asyncio.gather(self._relay, return_exceptions=True)
        await self.cards.close()

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: events, interactivity and slash commands."""
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # -- listeners -----------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.action(re.compile("^tandem_(approve|take_over|regenerate|hand_back|resolve)$"))(
            self.on_button
        )
        app.action("tandem_edit")(self.on_edit)
        app.action("tandem_tag")(self.on_tag)
        app.view("tandem_edit")(self.on_edit_submitted)
        app.event("message")(self.on_message)
        app.command("/kb")(self.kb.on_command)
        app.action(re.compile("^tandem_review_(right|wrong)$"))(self.kb.review.on_grade)
        app.action("tandem_review_article")(self.kb.review.on_pick)
        app.view("tandem_kb_add")(self.kb.on_add_submitted)

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        kind = BUTTONS[action["action_id"]]
        typed, version = _draft_box(body)
        text = typed if kind is ActionKind.APPROVE else None
        await self._act(body, action["value"], kind, text, version=version)

    async def on_tag(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "This was …": the agent picked the article that answers the escalation."""
        await ack()
        escalation_id, _, article = action["selected_option"]["value"].partition("|")
        user = body["user"]["id"]
        try:
            tagged = await tag_article(
                engine=self.services.engine,
                learning=self.services.learning,
                knowledge_base=self.services.knowledge_base,
                settings=self.services.settings.learning,
                escalation_id=escalation_id,
                article_id=None if article == NOT_IN_KB else article,
                agent=user,
                agent_name=await self._name(user),
                channel="slack",
                metrics=self.services.metrics,
            )
            message = (
                "Thanks: the question now belongs to that article."
                if tagged.accepted
                else "Thanks: an admin will review the tag."
            )
        except (TagError, TandemError) as failure:
            message = str(failure)
        channel = (body.get("channel") or {}).get("id")
        if channel:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=message)

    async def on_edit(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        card = await self.services.engine.card(action["value"])
        await self.client.views_open(
            trigger_id=body["trigger_id"], view=edit_modal(card, _draft_input(body))
        )

    async def on_edit_submitted(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        text = view["state"]["values"]["reply"]["text"]["value"] or ""
        if not text.strip():
            await ack(response_action="errors", errors={"reply": "Write a reply first."})
            return
        await ack()
        await self._act(
            body, view["private_metadata"], ActionKind.SEND, text, key=f"slack-view:{view['id']}"
        )

    async def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A reply in a card's thread: relayed to the customer if its author holds the
        conversation, else kept as an internal note."""
        thread = event.get("thread_ts")
        if event.get("subtype") not in RELAYED_SUBTYPES:  # edits, deletions, joins, bots
            return
        if not thread or event.get("bot_id") or not event.get("user"):
            return
        post = await self.cards.posts.by_ref(event["channel"], thread)
        if post is None:
            return
        agent = await self._name(event["user"])
        try:
            await self.services.engine.thread_reply(
                post.escalation_id,
                agent,
                "slack",
                _reply_text(event),
                key=f"slack-msg:{event['channel']}:{event['ts']}",
                agent_id=f"slack:{event['user']}",
            )
        except TandemError as failure:
            logger.warning("a thread reply was not relayed", extra={"error": str(failure)})

    # -- helpers -------------------------------------------------------------------------------
    async def _act(
        self,
        body: dict[str, Any],
        escalation_id: str,
        kind: ActionKind,
        text: str | None,
        key: str | None = None,
        version: int | None = None,
    ) -> None:
        user = body["user"]["id"]
        agent = await self._name(user)
        action = AgentAction(kind, agent, "slack", text, key, f"slack:{user}", version)
        try:
            result = await self.services.engine.act(escalation_id, action)
            message = result.message if result.outcome != "done" else None
        except TandemError as failure:
            message = str(failure)
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        if message and channel:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=message)

    async def _name(self, user: str) -> str:
        """The agent's Slack display name (shown to customers); cached."""
        if user not in self._names:
            try:
                info = await self.client.users_info(user=user)
                profile = info["user"].get("profile", {})
                self._names[user] = (
                    profile.get("display_name") or info["user"].get("real_name") or user
                )
            except Exception:  # users:read missing or Slack down: the id still identifies
                logger.warning("could not read a Slack user's name", extra={"user": user})
                return user
        return self._names[user]


def _reply_text(event: dict[str, Any]) -> str:
    """The reply's text; shared files are described (their content stays in Slack)."""
    text = unescape(event.get("text", ""))
    names = [str(f.get("name") or f.get("title") or "a file") for f in event.get("files") or []]
    if names:
        shared = f"(the agent shared a file: {', '.join(names)})"
        text = f"{text}\n{shared}" if text.strip() else shared
    return text


def _draft_box(body: dict[str, Any]) -> tuple[str | None, int | None]:
    """The card's draft box as the agent left it, and the draft version it shows (its block id
    is ``draft:N``); ``(None, None)`` when the card has none."""
    values = (body.get("state") or {}).get("values") or {}
    for block_id, inputs in values.items():
        if block_id.startswith("draft:") and "draft" in inputs:
            value = inputs["draft"].get("value")
            number = block_id.removeprefix("draft:")
            return (
                None if value is None else str(value),
                int(number) if number.isdigit() else None,
            )
    return None, None


def _draft_input(body: dict[str, Any]) -> str | None:
    return _draft_box(body)[0]

"""Keep Slack in step with the engine: post a card for each escalation to its routed channel,
update it in place after every change, and relay customer messages and live-assist notes into
its thread. Posting failures are retried with backoff; the escalation stays on the desk."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.card import EscalationCard
from bot.conversation import Kind, Message
from bot.events import AGENTS, AgentEvent
from bot.text import clip
from config import SlackSettings
from integrations.background import Background
from integrations.composition import Services
from integrations.relay import follow, thread_messages
from integrations.retry import with_backoff
from integrations.slack.blocks import escalation_blocks, escape
from integrations.storage.posts import PostStore

logger = logging.getLogger(__name__)
THREAD_KINDS = {
    Kind.CUSTOMER: "*Customer:* {text}",
    Kind.SUGGESTION: ":bulb: *Assist (internal, not sent to the customer):* {text}",
    Kind.WARNING: ":warning: *Frustration warning (internal):* {text}",
}


def route(card: EscalationCard, settings: SlackSettings) -> str | None:
    """The channel for a card: the first routing rule that matches one of its reasons (so a
    sensitive case goes where sensitive cases go), its intent, or its top article's id or tags;
    else the default channel."""
    top = card.articles[:1]
    keys = [
        *card.reasons,
        card.summary.intent,
        *(a.article_id for a in top),
        *(tag for a in top for tag in a.tags),
    ]
    for key in keys:
        if key in settings.routes:
            return settings.routes[key]
    return settings.default_channel


class SlackCards:
    """Args:
    services: The running service.
    client: A Web API client (its base URL comes from ``TANDEM_SLACK__API_URL``).
    """

    def __init__(self, *, services: Services, client: AsyncWebClient) -> None:
        self.services = services
        self.settings = services.settings.slack
        self.client = client
        self.posts = PostStore(services.store, "slack")
        self.background = Background()

    async def run(self) -> None:
        """Follow the engine's agent events until cancelled; first retry unposted cards."""
        for post in await self.posts.unposted():
            self.background.spawn(self._post_with_retries(post.escalation_id, post.channel))
        await follow(self.services.bus, AGENTS, self.on_event, "the Slack relay")

    async def on_event(self, raw: dict[str, Any]) -> None:
        event = AgentEvent.from_dict(raw)
        escalation_id = event.escalation_id
        if event.opened:
            card = await self.services.engine.card(escalation_id)
            channel = route(card, self.settings)
            if channel is None:
                logger.error(
                    "no Slack channel for an escalation; set TANDEM_SLACK__DEFAULT_CHANNEL"
                )
                return
            if await self.posts.claim(escalation_id, channel):
                self.background.spawn(self._post_with_retries(escalation_id, channel))
            return
        post = await self.posts.of(escalation_id)
        if post is None or post.ref is None:
            return  # the card is not posted yet; it will show the latest state when it is
        # Redraw the card in place (who did what; spent buttons removed), then the thread.
        card = await self.services.engine.card(escalation_id)
        await self.client.chat_update(
            channel=post.channel, ts=post.ref, blocks=self._blocks(card), text=self._text(card)
        )
        await self._relay(post.channel, post.ref, event)

    async def _post_with_retries(self, escalation_id: str, channel: str) -> None:
        async def attempt() -> None:
            card = await self.services.engine.card(escalation_id)
            response = await self.client.chat_postMessage(
                channel=channel, blocks=self._blocks(card), text=self._text(card)
            )
            await self.posts.posted(escalation_id, str(response["ts"]))
            logger.info("escalation card posted to Slack", extra={"channel": channel})

        await with_backoff(
            attempt,
            what="posting a Slack card",
            failed=lambda _: self.services.metrics.card_failures.labels("slack").inc(),
            retry_on=(SlackApiError, SlackClientError, OSError),
        )

    async def _relay(self, channel: str, thread: str, event: AgentEvent) -> None:
        posts = self.posts
        for message in await thread_messages(self.services.store, posts, event, THREAD_KINDS):
            await self.client.chat_postMessage(
                channel=channel, thread_ts=thread, text=self._thread_text(message)
            )

    @staticmethod
    def _thread_text(message: Message) -> str:
        return clip(THREAD_KINDS[message.kind].format(text=escape(message.text)), 3900)

    def _blocks(self, card: EscalationCard) -> list[dict[str, Any]]:
        return escalation_blocks(card, mention=self.settings.mention_group)

    @staticmethod
    def _text(card: EscalationCard) -> str:
        return clip(f"Escalation: {card.summary.goal}", 300)

    async def close(self) -> None:
        await self.background.cancel()

"""Slack as a ``CardSurface``: a card per escalation in its routed channel, redrawn in place
after every change, with customer messages and live-assist notes in its thread. The shared
``CardRelay`` decides when; this module only knows how to do it on Slack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Collection
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import wording
from bot.card import EscalationCard
from bot.conversation import Kind, Message
from bot.text import clip
from config import SlackSettings
from integrations.composition import Services
from integrations.relay import CardRelay, TransientError, retry_after_header, transient_status
from integrations.slack.blocks import escalation_blocks, escape
from integrations.storage.posts import Post

logger = logging.getLogger(__name__)
THREAD_KINDS = {
    Kind.CUSTOMER: "*Customer:* {text}",
    Kind.SUGGESTION: ":bulb: *Assist (internal, not sent to the customer):* {text}",
    Kind.WARNING: ":warning: *Frustration warning (internal):* {text}",
}
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


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


def transient(error: Exception) -> TransientError | None:
    """The retryable form of a Slack failure: transport errors, 429 and 5xx."""
    if isinstance(error, SlackApiError):
        response = error.response
        if transient_status(response.status_code):
            return TransientError(str(error), retry_after=retry_after_header(response.headers))
        return None
    if isinstance(error, TRANSPORT_ERRORS):
        return TransientError(str(error))
    return None


async def retryable(call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Await a Web API call; a failure worth retrying is raised as ``TransientError``."""
    try:
        return await call
    except Exception as error:
        transient_error = transient(error)
        if transient_error is None:
            raise
        raise transient_error from error


class SlackCards:
    """Args:
    client: A Web API client (its base URL comes from ``TANDEM_SLACK__API_URL``).
    settings: Routing and the group cards mention.
    """

    name = "slack"
    thread_kinds: Collection[Kind] = THREAD_KINDS

    def __init__(self, *, client: AsyncWebClient, settings: SlackSettings) -> None:
        self.client = client
        self.settings = settings

    async def route(self, card: EscalationCard) -> str | None:
        channel = route(card, self.settings)
        if channel is None:
            logger.error("no Slack channel for an escalation; set TANDEM_SLACK__DEFAULT_CHANNEL")
        return channel

    async def post(self, channel: str, card: EscalationCard) -> str:
        response = await retryable(
            self.client.chat_postMessage(
                channel=channel, blocks=self._blocks(card), text=self._text(card)
            )
        )
        return str(response["ts"])

    async def update(self, post: Post, card: EscalationCard) -> None:
        await retryable(
            self.client.chat_update(
                channel=post.channel,
                ts=str(post.ref),
                blocks=self._blocks(card),
                text=self._text(card),
            )
        )

    async def reply(self, post: Post, message: Message) -> None:
        await retryable(
            self.client.chat_postMessage(
                channel=post.channel, thread_ts=post.ref, text=self._thread_text(message)
            )
        )

    async def announce(self, post: Post, card: EscalationCard) -> None:
        group = self.settings.mention_group
        text = wording.reannounced(card.wait_minutes, card.priority_label)
        await retryable(
            self.client.chat_postMessage(
                channel=post.channel,
                thread_ts=post.ref,
                reply_broadcast=True,  # shown in the channel too, not only in the thread
                text=f"<!subteam^{group}> {text}" if group else text,
            )
        )

    @staticmethod
    def _thread_text(message: Message) -> str:
        return clip(THREAD_KINDS[message.kind].format(text=escape(message.text)), 3900)

    def _blocks(self, card: EscalationCard) -> list[dict[str, Any]]:
        return escalation_blocks(card, mention=self.settings.mention_group)

    @staticmethod
    def _text(card: EscalationCard) -> str:
        return clip(f"Escalation: {card.summary.goal}", 300)


def slack_relay(services: Services, client: AsyncWebClient) -> CardRelay:
    """The card relay for Slack."""
    return CardRelay(
        engine=services.engine,
        store=services.store,
        bus=services.bus,
        metrics=services.metrics,
        surface=SlackCards(client=client, settings=services.settings.slack),
    )

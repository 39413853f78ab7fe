"""Teams and Bot Framework on the service's aiohttp server: ``POST /api/messages`` through
botbuilder's ``CloudAdapter`` (JWT-validated when an app id is set), escalation cards posted
proactively into the agent channel and refreshed in place, thread relays, and replies to
customers who came in over a Bot Framework channel."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationReference,
    Mention,
)
from msrest.exceptions import ClientRequestError, HttpOperationError
from tenacity import RetryCallState

from bot import wording
from bot.card import EscalationCard
from bot.conversation import INTERNAL_KINDS, Kind, Message
from bot.events import CUSTOMERS, CustomerEvent
from integrations.background import Background, repeat
from integrations.composition import Services
from integrations.relay import (
    DRAIN_SECONDS,
    CardRelay,
    Follower,
    TransientError,
    retry_after_header,
    retrying,
    transient_status,
)
from integrations.storage.posts import Post
from integrations.storage.references import ReferenceStore
from integrations.teams.auth import authenticate, install
from integrations.teams.bot import TandemTeamsBot
from integrations.teams.cards import escalation_card

logger = logging.getLogger(__name__)
AGENT_CHANNEL = "agent-channel"
CUSTOMER_RETRY_SECONDS = 120.0  # a reply to a Bot Framework customer is retried this long
# How long a replica holds a conversation's outbox, renewed before every attempt: long enough
# for one wait between attempts (at most 120 s) and one attempt (msrest times out at 100 s).
# A replica that dies holding it holds up that conversation's replies this long at most.
OUTBOX_LEASE_SECONDS = 300.0
MAX_REPLY_AGE = timedelta(hours=6)  # a reply still not delivered by then is given up (logged)
# Every public kind but the customer's own words: a kind added later reaches them too.
TO_CUSTOMERS = {k.value for k in Kind if k not in INTERNAL_KINDS and k is not Kind.CUSTOMER}
THREAD_KINDS = {
    Kind.CUSTOMER: "**Customer:** {text}",
    Kind.SUGGESTION: "💡 **Assist (internal, not sent to the customer):** {text}",
    Kind.WARNING: "⚠️ **Frustration warning (internal):** {text}",
}


@dataclass(frozen=True)
class AdapterConfig:
    """What ``ConfigurationBotFrameworkAuthentication`` reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def transient(error: Exception) -> TransientError | None:
    """The retryable form of a Bot Connector failure: transport errors, 429 and 5xx."""
    if isinstance(error, HttpOperationError):
        response = error.response
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        if transient_status(status):
            headers = getattr(response, "headers", None)
            return TransientError(str(error), retry_after=retry_after_header(headers))
        return None
    # ClientRequestError: msrest's wrapper of a transport failure (refused, reset, timed out)
    # or of its own retries running out on 5xx.
    if isinstance(error, (ClientRequestError, aiohttp.ClientError, OSError, asyncio.TimeoutError)):
        return TransientError(str(error))
    return None


class _OutboxLost(Exception):
    """Another replica has taken a conversation's outbox over."""


class TeamsChannel:
    """The Teams adapter, and the ``CardSurface`` its ``CardRelay`` drives.

    Args:
        services: The running service.
    """

    name = "teams"
    thread_kinds: Collection[Kind] = THREAD_KINDS

    def __init__(self, *, services: Services) -> None:
        teams = services.settings.teams
        self.services = services
        self.app_id = teams.app_id
        password = teams.app_password.get_secret_value() if teams.app_password else ""
        config = AdapterConfig(
            teams.app_id,
            password,
            "SingleTenant" if teams.tenant_id else "MultiTenant",
            teams.tenant_id or "",
        )
        install()
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
        self.adapter.on_turn_error = self._on_error
        self.bot = TandemTeamsBot(self)
        self.relay = CardRelay(
            engine=services.engine,
            store=services.store,
            bus=services.bus,
            metrics=services.metrics,
            surface=self,
        )
        self.posts = self.relay.posts
        self.references = ReferenceStore(services.store)
        self.background = Background()
        # Replies to Bot Framework customers: each is delivered with retries in its own task,
        # one conversation's in order, so a slow or failing conversation holds up no other.
        self.customers = Follower(
            services.bus, CUSTOMERS, self._to_customer, "replies to Bot Framework customers"
        )
        self.deliveries = Background()
        self.sweeper = Background()  # takes up replies nobody is delivering
        self.turns = Background()  # customers' messages being handled after their 201
        self._in_order: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /api/messages``. With an app id the token is checked before anything else;
        and anything that fails before the bot gets the turn is a 401 with nothing processed."""
        if self.app_id:
            try:
                body = await request.json()
                await authenticate(
                    self.adapter.bot_framework_authentication,
                    body,
                    request.headers.get("Authorization", ""),
                )
            except (PermissionError, ValueError):
                raise web.HTTPUnauthorized() from None
        turn = _Started(self.bot)
        try:
            response = await self.adapter.process(request, turn)
        except Exception as failure:
            if turn.started:
                raise
            logger.warning(
                "a Bot Framework request was refused",
                extra={"error": f"{type(failure).__name__}: {failure}"[:300]},
            )
            return web.json_response(
                {"error": {"code": "unauthorized", "message": "invalid Bot Framework token"}},
                status=401,
            )
        return response or web.Response(status=201)

    async def start(self) -> None:
        self.background.spawn(self.relay.run())
        self.background.spawn(self.customers.run())
        interval = self.services.settings.server.recovery_sweep_seconds
        self.sweeper.spawn(
            repeat("replies to deliver taken up", interval, self.sweep_outbox, at_once=True)
        )

    async def close(self) -> None:
        """Let the turns under way answer, and their replies and card updates go out (up to
        ``DRAIN_SECONDS`` in all), then stop."""
        deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
        await self.sweeper.cancel()
        await self.turns.settle(DRAIN_SECONDS)
        await asyncio.gather(self.relay.drain(), self._drain_customers(deadline))
        await self.turns.cancel()
        await self.background.cancel()
        await self.deliveries.cancel()
        await self.relay.close()

    async def _drain_customers(self, deadline: float) -> None:
        # Deliveries keep arriving while the follower runs (other replicas' events too), so
        # settle until none is under way or the time is up.
        loop = asyncio.get_running_loop()
        await self.customers.drain(max(0.0, deadline - loop.time()))
        while self.deliveries.busy and loop.time() < deadline:
            await self.deliveries.settle(deadline - loop.time())

    # -- inbound -------------------------------------------------------------------------------
    async def remember_agent_channel(self, activity: Activity, *, replace: bool = True) -> None:
        """Keep the channel's reference as the agent channel (unless one is kept and not
        ``replace``)."""
        if not replace and await self.references.get(AGENT_CHANNEL) is not None:
            return
        reference = TurnContext.get_conversation_reference(activity)
        reference.conversation.id = (reference.conversation.id or "").split(";messageid=")[0]
        reference.activity_id = None
        await self.references.save(AGENT_CHANNEL, reference.serialize())

    async def customer_message(self, activity: Activity, text: str) -> None:
        """Store a Bot Framework customer's message, acknowledge, and answer proactively."""
        key = f"customer:{activity.channel_id}:{activity.conversation.id}"
        known = await self.references.get(key)
        reference = TurnContext.get_conversation_reference(activity).serialize()
        if known is None or known[1] is None:
            name = activity.from_property.name if activity.from_property else None
            conversation, _ = await self.services.engine.start("botframework", name)
            conversation_id = conversation.id
        else:
            conversation_id = known[1]
        await self.references.save(key, reference, conversation_id)
        message = await self.services.engine.receive(conversation_id, text)
        self.turns.spawn(self.services.engine.handle(message))

    async def replace_card(
        self, turn_context: TurnContext, activity_id: str, card: dict[str, Any]
    ) -> None:
        update = MessageFactory.attachment(CardFactory.adaptive_card(card))
        update.id = activity_id
        await turn_context.update_activity(update)

    # -- outbound: the card surface ------------------------------------------------------------
    async def route(self, card: EscalationCard) -> str | None:
        channel = await self.references.get(AGENT_CHANNEL)
        if channel is None:
            logger.error("no Teams agent channel yet: add the app to the agent team")
            return None
        return str(channel[0]["conversation"]["id"])

    async def post(self, channel: str, card: EscalationCard) -> str:
        drawn = escalation_card(card)
        sent: list[str] = []

        async def post(context: TurnContext) -> None:
            response = await context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(drawn))
            )
            sent.append(response.id)

        await self._proactive(await self._agent_reference(), post)
        return sent[0]

    async def update(self, post: Post, card: EscalationCard) -> None:
        drawn = escalation_card(card)

        async def refresh(context: TurnContext) -> None:
            await self.replace_card(context, str(post.ref), drawn)

        await self._proactive(await self._agent_reference(self._thread(post)), refresh)

    async def reply(self, post: Post, message: Message) -> None:
        text = THREAD_KINDS[message.kind].format(text=message.text)

        async def send(context: TurnContext) -> None:
            await context.send_activity(MessageFactory.text(text))

        await self._proactive(await self._agent_reference(self._thread(post)), send)

    async def announce(self, post: Post, card: EscalationCard) -> None:
        activity = mention_activity(
            wording.reannounced(card.wait_minutes, card.priority_label),
            self.services.settings.teams.mention_tag_id,
            self.services.settings.teams.mention_tag_name,
        )

        async def send(context: TurnContext) -> None:
            await context.send_activity(activity)

        await self._proactive(await self._agent_reference(self._thread(post)), send)

    @staticmethod
    def _thread(post: Post) -> str:
        return f"{post.channel};messageid={post.ref}"

    async def _to_customer(self, raw: dict[str, Any]) -> None:
        event = CustomerEvent.from_dict(raw)
        if event.type in TO_CUSTOMERS and event.conversation_id is not None:
            self._flush(event.conversation_id)

    def _flush(self, conversation_id: str) -> None:
        """Deliver the conversation's undelivered replies in a task of their own."""
        lock = self._in_order.setdefault(conversation_id, asyncio.Lock())
        self.deliveries.spawn(self._deliver(conversation_id, lock))

    async def _deliver(self, conversation_id: str, in_order: asyncio.Lock) -> None:
        """Send the conversation's replies after the last delivered one, in order, holding its
        outbox so that no other replica sends them too. Once released, look again: a reply
        stored meanwhile whose event reached a replica that found the outbox held is sent
        here."""
        async with in_order:
            while await self._deliver_held(conversation_id):
                now = datetime.now(UTC)
                if not await self.references.undelivered(
                    TO_CUSTOMERS, now=now, conversation_id=conversation_id
                ):
                    return

    async def _deliver_held(self, conversation_id: str) -> bool:
        """Deliver what is pending while holding the outbox: True when all of it went out,
        False when another replica holds it or a reply is left for the sweep."""
        owner = self.services.engine.owner
        cursor = await self._hold_outbox(conversation_id)
        if cursor is None:
            return False
        try:
            stored = await self.references.for_conversation(conversation_id)
            scanned = cursor  # customers' own messages and internal ones are passed over
            while stored is not None:
                page = await self.services.store.messages(conversation_id, after=scanned)
                if not page:
                    return True
                for message in page:
                    scanned = message.id
                    if message.kind.value not in TO_CUSTOMERS:
                        continue
                    if not await self._deliver_one(stored, message, cursor):
                        return False
                    if not await self.references.delivered(conversation_id, owner, message.id):
                        return False  # another replica has taken the outbox over
                    cursor = message.id
            return True
        finally:
            await self.references.release_delivery(conversation_id, owner)

    async def _hold_outbox(self, conversation_id: str) -> int | None:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=OUTBOX_LEASE_SECONDS)
        owner = self.services.engine.owner
        return await self.references.claim_delivery(conversation_id, owner, until, now=now)

    async def _still_held(self, conversation_id: str, cursor: int) -> None:
        """Renew the hold before an attempt; raise ``_OutboxLost`` when another replica has
        taken the outbox, or moved it on, meanwhile."""
        if await self._hold_outbox(conversation_id) != cursor:
            raise _OutboxLost(conversation_id)

    async def _deliver_one(self, stored: dict[str, Any], message: Message, cursor: int) -> bool:
        """Send one reply, retrying transient failures: True when it is done with (sent,
        refused for good, sent by a replica from before the outbox, or too old), False when
        it is left for the next sweep or the outbox was lost."""
        conversation_id = message.conversation_id
        about = {"conversation": conversation_id, "message_id": message.id}
        if await self.posts.seen(f"out:{message.id}"):
            return True  # a replica of the previous version sent it (a rolling upgrade)
        if datetime.now(UTC) - message.created_at > MAX_REPLY_AGE:
            logger.error("gave up: a reply to a Bot Framework customer is too old", extra=about)
            return True
        try:
            async for attempt in retrying(CUSTOMER_RETRY_SECONDS, self._delivery_failed):
                with attempt:
                    await self._still_held(conversation_id, cursor)
                    await self._send_to_customer(stored, CustomerEvent.of(message))
        except _OutboxLost:
            return False
        except HttpOperationError as failure:  # not retryable: a 4xx but 408 and 429
            logger.error(
                "gave up: the Bot Connector refused a reply to a customer",
                extra=about | {"error": str(failure)[:300]},
            )
            return True
        except Exception as failure:
            logger.warning(
                "a reply to a Bot Framework customer is not delivered yet; the sweep retries it",
                extra=about | {"error": f"{type(failure).__name__}: {failure}"[:300]},
            )
            return False
        return True

    async def sweep_outbox(self) -> int:
        """Deliver the replies no replica is delivering (one died, or gave up after its
        retries); at start and every recovery sweep. Returns the conversations taken up."""
        now = datetime.now(UTC)
        waiting = await self.references.undelivered(
            TO_CUSTOMERS, now=now, since=now - MAX_REPLY_AGE
        )
        for conversation_id in waiting:
            self._flush(conversation_id)
        return len(waiting)

    def _delivery_failed(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        logger.warning(
            "a reply to a Bot Framework customer failed; retrying",
            extra={"attempt": state.attempt_number, "error": str(failure)[:300]},
        )

    async def _send_to_customer(self, stored: dict[str, Any], event: CustomerEvent) -> None:
        text = event.text
        if event.sources:
            links = ", ".join(f"[{s.title}]({s.url})" if s.url else s.title for s in event.sources)
            text += f"\n\nSources: {links}"
        if event.type == "agent_message" and event.author:
            text = f"**{event.author}:** {text}"

        async def send(context: TurnContext) -> None:
            await context.send_activity(MessageFactory.text(text))

        await self._proactive(ConversationReference().deserialize(stored), send)

    # -- plumbing ------------------------------------------------------------------------------
    async def _agent_reference(self, conversation_id: str | None = None) -> ConversationReference:
        stored = await self.references.get(AGENT_CHANNEL)
        if stored is None:
            raise LookupError("no Teams agent channel reference yet")
        reference = ConversationReference().deserialize(stored[0])
        if conversation_id:
            reference.conversation.id = conversation_id
        return reference

    async def _proactive(self, reference: ConversationReference, callback: Any) -> None:
        """Run ``callback`` in a proactive turn; its failure is raised here (the retryable ones
        as ``TransientError``), not swallowed by the adapter's turn-error handler."""
        failures: list[Exception] = []

        async def guarded(context: TurnContext) -> None:
            try:
                await callback(context)
            except Exception as failure:
                failures.append(failure)

        await self.adapter.continue_conversation(reference, guarded, self.app_id or None)
        if failures:
            retryable = transient(failures[0])
            if retryable is not None:
                raise retryable from failures[0]
            raise failures[0]

    async def _on_error(self, context: TurnContext, error: Exception) -> None:
        logger.error("Bot Framework turn failed", exc_info=error)
        if context.activity.type == ActivityTypes.message:
            await context.send_activity(wording.TURN_FAILED)


class TagAccount(ChannelAccount):  # type: ignore[misc]
    """A mentioned Teams tag (a group of people), which Bot Framework's schema lacks."""

    _attribute_map = {**ChannelAccount._attribute_map, "type": {"key": "type", "type": "str"}}

    def __init__(self, *, id: str, name: str) -> None:  # noqa: A002 (the schema's name)
        super().__init__(id=id, name=name)
        self.type = "tag"


def mention_activity(text: str, tag_id: str | None, tag_name: str | None) -> Activity:
    """A message that mentions the agents' tag when one is configured."""
    if not (tag_id and tag_name):
        return MessageFactory.text(text)
    at = f"<at>{tag_name}</at>"
    mention = Mention(mentioned=TagAccount(id=tag_id, name=tag_name), text=at, type="mention")
    activity = MessageFactory.text(f"{at} {text}")
    activity.entities = [mention]
    return activity


class _Started:
    """The bot, noting whether the adapter let a turn reach it (authentication passed)."""

    def __init__(self, bot: TandemTeamsBot) -> None:
        self.bot, self.started = bot, False

    async def on_turn(self, turn_context: TurnContext) -> None:
        self.started = True
        await self.bot.on_turn(turn_context)

"""Teams and Bot Framework on the service's aiohttp server: ``POST /api/messages`` through
botbuilder's ``CloudAdapter`` (JWT-validated when an app id is set), escalation cards posted
proactively into the agent channel and refreshed in place, thread relays, and replies to
customers who came in over a Bot Framework channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.conversation import Kind
from bot.engine import AGENTS_TOPIC, CUSTOMERS_TOPIC
from integrations.background import Background
from integrations.composition import Services
from integrations.relay import follow, thread_messages
from integrations.retry import with_backoff
from integrations.storage.posts import PostStore
from integrations.storage.references import ReferenceStore
from integrations.teams.auth import authenticate, install
from integrations.teams.bot import TandemTeamsBot
from integrations.teams.cards import escalation_card

logger = logging.getLogger(__name__)
AGENT_CHANNEL = "agent-channel"
TO_CUSTOMERS = {"answer", "escalated", "agent_joined", "agent_message", "handed_back", "resolved"}
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


class TeamsChannel:
    """Args:
    services: The running service.
    """

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
        self.posts = PostStore(services.store, "teams")
        self.references = ReferenceStore(services.store)
        self.background = Background()

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /api/messages``."""
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
        response = await self.adapter.process(request, self.bot)
        return response or web.Response(status=201)

    async def start(self) -> None:
        bus = self.services.bus
        self.background.spawn(follow(bus, AGENTS_TOPIC, self._on_agent_event, "the Teams relay"))
        self.background.spawn(
            follow(bus, CUSTOMERS_TOPIC, self._to_customer, "a reply to a Bot Framework customer")
        )
        for post in await self.posts.unposted():
            self.background.spawn(self._post_card(post.escalation_id))

    async def close(self) -> None:
        await self.background.cancel()

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
        self.background.spawn(self.services.engine.handle(message))

    async def replace_card(
        self, turn_context: TurnContext, activity_id: str, card: dict[str, Any]
    ) -> None:
        update = MessageFactory.attachment(CardFactory.adaptive_card(card))
        update.id = activity_id
        await turn_context.update_activity(update)

    # -- outbound ------------------------------------------------------------------------------
    async def _on_agent_event(self, event: dict[str, Any]) -> None:
        escalation_id = str(event["escalation_id"])
        if event["type"] == "opened":
            channel = await self.references.get(AGENT_CHANNEL)
            if channel is None:
                logger.error("no Teams agent channel yet: add the app to the agent team")
                return
            if await self.posts.claim(escalation_id, channel[0]["conversation"]["id"]):
                self.background.spawn(self._post_card(escalation_id))
            return
        post = await self.posts.of(escalation_id)
        if post is None or post.ref is None:
            return
        card = escalation_card(await self.services.engine.card(escalation_id))
        thread = f"{post.channel};messageid={post.ref}"

        async def refresh(context: TurnContext) -> None:
            await self.replace_card(context, str(post.ref), card)

        await self._proactive(await self._agent_reference(thread), refresh)
        await self._relay(thread, event)

    async def _post_card(self, escalation_id: str) -> None:
        async def attempt() -> None:
            card = escalation_card(await self.services.engine.card(escalation_id))
            sent: list[str] = []

            async def post(context: TurnContext) -> None:
                response = await context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(card))
                )
                sent.append(response.id)

            reference = await self._agent_reference()
            await self._proactive(reference, post)
            await self.posts.posted(escalation_id, sent[0])

        await with_backoff(
            attempt,
            what="posting a Teams card",
            failed=lambda _: self.services.metrics.card_failures.labels("teams").inc(),
            retry_on=(Exception,),
        )

    async def _relay(self, thread: str, event: dict[str, Any]) -> None:
        messages = await thread_messages(self.services.store, self.posts, event, THREAD_KINDS)
        if not messages:
            return
        reference = await self._agent_reference(thread)
        for message in messages:
            text = THREAD_KINDS[message.kind].format(text=message.text)

            async def send(context: TurnContext, text: str = text) -> None:
                await context.send_activity(MessageFactory.text(text))

            await self._proactive(reference, send)

    async def _to_customer(self, event: dict[str, Any]) -> None:
        if event.get("type") not in TO_CUSTOMERS:
            return
        stored = await self.references.for_conversation(str(event["conversation_id"]))
        if stored is None or not await self.posts.once(f"out:{event['id']}"):
            return
        text = str(event["text"])
        if event.get("sources"):
            links = ", ".join(
                f"[{s['title']}]({s['url']})" if s.get("url") else s["title"]
                for s in event["sources"]
            )
            text += f"\n\nSources: {links}"
        if event["type"] == "agent_message" and event.get("author"):
            text = f"**{event['author']}:** {text}"

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
        await self.adapter.continue_conversation(reference, callback, self.app_id or None)

    async def _on_error(self, context: TurnContext, error: Exception) -> None:
        logger.error("Bot Framework turn failed", exc_info=error)
        if context.activity.type == ActivityTypes.message:
            await context.send_activity("Sorry, something went wrong. Please try again.")

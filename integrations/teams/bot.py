"""The Bot Framework activity handler: agents in a Teams channel (and their ``kb review``),
admins' ``kb …`` commands, and customers over any Bot Framework channel, told apart by channel
and conversation."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, teams_get_channel_id, teams_get_team_info
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse

from bot.conversation import ActionKind, AgentAction
from bot.errors import TandemError
from integrations import kb_admin
from integrations.composition import Services
from integrations.learning import TagError, tag_article
from integrations.storage.posts import PostStore
from integrations.teams.cards import CONTENT_TYPE, NOT_IN_KB, escalation_card, message_card
from integrations.teams.review import VERB, graded_card, next_review_card

logger = logging.getLogger(__name__)
REVIEW_WHERE = (
    "kb review shows customers' questions: use it in the agent channel, or as an admin in a "
    "1:1 chat with Tandem."
)
THREAD = re.compile(r"^(?P<channel>[^;]+);messageid=(?P<root>.+)$")


class TeamsHost(Protocol):
    """What the handler needs of the Teams channel that serves it (``TeamsChannel``)."""

    services: Services
    posts: PostStore

    async def remember_agent_channel(self, activity: Activity, *, replace: bool = True) -> None: ...

    async def customer_message(self, activity: Activity, text: str) -> None: ...

    async def replace_card(
        self, turn_context: TurnContext, activity_id: str, card: dict[str, Any]
    ) -> None: ...


class TandemTeamsBot(TeamsActivityHandler):  # type: ignore[misc]
    """Args:
    channel: The Teams adapter this handler serves.
    """

    def __init__(self, channel: TeamsHost) -> None:
        self.channel = channel
        self.services = channel.services
        self.settings = channel.services.settings.teams

    # -- who is writing ------------------------------------------------------------------------
    def in_agent_channel(self, activity: Activity) -> bool:
        if activity.channel_id != "msteams":
            return False
        team = teams_get_team_info(activity)
        channel_id = teams_get_channel_id(activity)
        return bool(
            (self.settings.agent_team_id and team and team.id == self.settings.agent_team_id)
            or (self.settings.agent_channel_id and channel_id == self.settings.agent_channel_id)
        )

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if self.in_agent_channel(activity):
            configured = self.settings.agent_channel_id
            if not configured:  # the first team channel met; an admin moves it with `kb here`
                await self.channel.remember_agent_channel(activity, replace=False)
            elif teams_get_channel_id(activity) == configured:
                await self.channel.remember_agent_channel(activity)
        await super().on_turn(turn_context)

    # -- messages ------------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else None
        if value and ("escalation_id" in value or value.get("action") == VERB):
            # an Action.Submit fallback click: only from where cards are shown
            if not self.may_act(activity):
                logger.warning("a card click from outside the agent channel was ignored")
                return
            card = await self.act(turn_context, value)
            if activity.reply_to_id and card is not None:
                await self.channel.replace_card(turn_context, activity.reply_to_id, card)
            return
        text = (TurnContext.remove_recipient_mention(activity) or activity.text or "").strip()
        if activity.channel_id == "msteams" and re.match(r"^kb(\s|$)", text, re.IGNORECASE):
            await self.admin(turn_context, text[2:].strip())
            return
        if self.in_agent_channel(activity):
            await self.thread_reply(turn_context, text)
            return
        if text:
            await self.channel.customer_message(activity, text)

    def is_admin(self, activity: Activity) -> bool:
        who = activity.from_property
        return (
            activity.channel_id == "msteams"
            and who is not None
            and who.aad_object_id in self.settings.admin_object_ids
        )

    def may_act(self, activity: Activity) -> bool:
        """Card clicks and ``kb review``: an agent in the agent channel (or team), or an admin
        in a 1:1 chat with the bot; never a customer, nor a chat others read."""
        if activity.channel_id != "msteams":
            return False
        personal = activity.conversation is not None and (
            activity.conversation.conversation_type == "personal"
        )
        return self.in_agent_channel(activity) or (personal and self.is_admin(activity))

    async def admin(self, turn_context: TurnContext, command: str) -> None:
        who = turn_context.activity.from_property
        name, argument = kb_admin.parse(command)
        is_admin = self.is_admin(turn_context.activity)
        if name == "review":  # any agent grades answers, where no customer reads along
            card = (
                await next_review_card(self.services)
                if self.may_act(turn_context.activity)
                else message_card("Not here", [REVIEW_WHERE])
            )
            await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(card))
            )
            return
        if not is_admin:
            reply = kb_admin.Reply("Not allowed", ["Only knowledge admins can use kb commands."])
        else:
            if name == "here":
                if not self.in_agent_channel(turn_context.activity):
                    await turn_context.send_activity("Say `kb here` in the team channel for cards.")
                    return
                await self.channel.remember_agent_channel(turn_context.activity)
                await turn_context.send_activity("Escalation cards will be posted here.")
                return
            if (working := kb_admin.started(name, argument)) is not None:
                await turn_context.send_activity(working.lines[0])
            try:
                reply = await kb_admin.run(self.services, name, argument, who.name or who.id)
            except Exception as failure:
                logger.exception("kb command failed")
                reply = kb_admin.Reply("Failed", [str(failure)])
        await turn_context.send_activity(
            MessageFactory.attachment(
                CardFactory.adaptive_card(message_card(reply.title, reply.lines))
            )
        )

    async def thread_reply(self, turn_context: TurnContext, text: str) -> None:
        """A reply under a card: to the customer if its author holds the conversation, else an
        internal note."""
        activity = turn_context.activity
        match = THREAD.match(activity.conversation.id or "")
        if not match or not text:
            return
        post = await self.channel.posts.by_ref(match["channel"], match["root"])
        if post is None:
            return
        agent = activity.from_property.name or activity.from_property.id
        try:
            await self.services.engine.thread_reply(
                post.escalation_id,
                agent,
                "teams",
                text,
                key=f"teams-msg:{activity.id}",
                agent_id=agent_id(activity),
            )
        except TandemError as failure:
            logger.warning("a thread reply was not relayed", extra={"error": str(failure)})

    # -- card actions --------------------------------------------------------------------------
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        action = _mapping(_mapping(activity.value).get("action"))
        data = {**_mapping(action.get("data")), "action": action.get("verb")}
        card = await self.act(turn_context, data) if self.may_act(activity) else None
        if card is None:
            error = {"code": "BadRequest", "message": "unknown escalation or action"}
            return InvokeResponse(
                status=200,
                body=AdaptiveCardInvokeResponse(
                    status_code=400, type="application/vnd.microsoft.error", value=error
                ),
            )
        return InvokeResponse(
            status=200,
            body=AdaptiveCardInvokeResponse(status_code=200, type=CONTENT_TYPE, value=card),
        )

    async def tag(
        self, turn_context: TurnContext, escalation_id: str, article: object
    ) -> dict[str, Any] | None:
        """The agent says which article answered the escalation (or none); the refreshed card."""
        sender = turn_context.activity.from_property
        article_id = article if isinstance(article, str) and article != NOT_IN_KB else None
        try:
            await tag_article(
                engine=self.services.engine,
                learning=self.services.learning,
                knowledge_base=self.services.knowledge_base,
                settings=self.services.settings.learning,
                escalation_id=escalation_id,
                article_id=article_id,
                agent=sender.aad_object_id or sender.id,
                agent_name=sender.name or None,
                channel="teams",
                metrics=self.services.metrics,
            )
            return escalation_card(await self.services.engine.card(escalation_id))
        except (TagError, TandemError) as failure:
            logger.warning("a Teams tag failed", extra={"error": str(failure)})
            return None

    async def act(self, turn_context: TurnContext, data: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a card action (or grade an answer under review); returns the refreshed card
        (None for a malformed action)."""
        activity = turn_context.activity
        if data.get("action") == VERB:
            sender = activity.from_property
            return await graded_card(self.services, data, sender.aad_object_id or sender.id)
        escalation_id = str(data.get("escalation_id", ""))
        if data.get("action") == "tag":
            return await self.tag(turn_context, escalation_id, data.get("article"))
        try:
            kind = ActionKind(str(data.get("action")))
        except ValueError:
            return None
        agent = activity.from_property.name or activity.from_property.id
        text = data.get("draft") if kind in (ActionKind.APPROVE, ActionKind.SEND) else None
        version = data.get("version")
        action = AgentAction(
            kind,
            agent,
            "teams",
            text,
            agent_id=agent_id(activity),
            seen_version=version if type(version) is int and version >= 0 else None,
        )
        try:
            result = await self.services.engine.act(escalation_id, action)
            if result.outcome == "refused":
                await turn_context.send_activity(MessageFactory.text(result.message))
            return escalation_card(await self.services.engine.card(escalation_id))
        except TandemError as failure:
            logger.warning("a Teams card action failed", extra={"error": str(failure)})
            return None


def _mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a malformed click)."""
    return value if isinstance(value, dict) else {}


def agent_id(activity: Activity) -> str:
    """The agent's stable id: their Entra (AAD) object id, else the channel account id."""
    person = activity.from_property
    return f"teams:{person.aad_object_id or person.id}"

"""The one outbound card relay every agent channel shares. ``CardRelay`` follows the engine's
agent events and owns routing, claiming (one replica posts a card), posting with retries,
updating the card in place and relaying messages into its thread. A channel only implements
``CardSurface``: how to route, post, update and reply on its platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from functools import partial
from typing import Any, Protocol

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_before_delay,
    wait_random_exponential,
)

from bot import ConversationEngine
from bot.card import EscalationCard
from bot.conversation import Kind, Message
from bot.events import AGENTS, REANNOUNCE, AgentEvent
from bot.metrics import Metrics
from bot.ports import EventBus
from integrations.background import Background
from integrations.storage.posts import Post, PostStore
from integrations.storage.sql_store import SqlStore

logger = logging.getLogger(__name__)
MAX_RETRY_SECONDS = 600.0  # a card not posted by then is retried at the next start
UPDATE_RETRY_SECONDS = 30.0  # one event's redraw and thread messages, retried within this
DRAIN_SECONDS = 10.0  # at shutdown, how long an update under way may take to finish
MAX_WAIT_SECONDS = 120.0


class TransientError(Exception):
    """A platform failure worth retrying (transport, 429, 5xx).

    Args:
        message: What failed.
        retry_after: Seconds the platform asked to wait (``Retry-After``), if it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_header(headers: Any) -> float | None:
    """The seconds in a ``Retry-After`` header, if present and numeric."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def transient_status(status: int | None) -> bool:
    """True for the HTTP statuses worth retrying: 408, 429 and 5xx."""
    return status is not None and (status in (408, 429) or status >= 500)


class CardSurface(Protocol):
    """One agent channel's platform calls. Retryable failures raise ``TransientError``."""

    name: str
    thread_kinds: Collection[Kind]

    async def route(self, card: EscalationCard) -> str | None:
        """The channel for a new card, or None (logged) when there is none."""
        ...

    async def post(self, channel: str, card: EscalationCard) -> str:
        """Post a card; returns its reference (timestamp, activity id)."""
        ...

    async def update(self, post: Post, card: EscalationCard) -> None:
        """Redraw a posted card in place."""
        ...

    async def reply(self, post: Post, message: Message) -> None:
        """Relay one message into the card's thread."""
        ...

    async def announce(self, post: Post, card: EscalationCard) -> None:
        """Announce a card nobody picked up again, mentioning the agents' group if set."""
        ...


async def follow(
    bus: EventBus, topic: str, handle: Callable[[dict[str, Any]], Awaitable[None]], what: str
) -> None:
    """Hand every event on ``topic`` to ``handle`` until cancelled; one failure is logged and
    the relay goes on."""
    async with bus.subscribe(topic) as events:
        async for event in events:
            try:
                await handle(event)
            except Exception:
                logger.exception("%s failed", what, extra={"event": event})


class Follower:
    """``follow`` that shutdown can wait for: ``drain`` lets the event being handled finish.

    A request to a platform cancelled halfway is still sent by its thread, or is lost on its
    way to a customer, so stopping waits for the event under way (up to a timeout).
    """

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        handle: Callable[[dict[str, Any]], Awaitable[None]],
        what: str,
    ) -> None:
        self.bus, self.topic, self.handle, self.what = bus, topic, handle, what
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self) -> None:
        await follow(self.bus, self.topic, self._handle, self.what)

    async def _handle(self, event: dict[str, Any]) -> None:
        self._idle.clear()
        try:
            await self.handle(event)
        finally:
            self._idle.set()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            logger.warning("stopping %s with an event under way", self.what)


def retrying(
    max_seconds: float, before_sleep: Callable[[RetryCallState], None] | None = None
) -> AsyncRetrying:
    """Retry ``TransientError`` with backoff (and the platform's ``Retry-After``) for at most
    ``max_seconds``, then raise the last failure."""
    return AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        wait=_wait,
        stop=stop_before_delay(max_seconds),  # no sleep that would end past the budget
        before_sleep=before_sleep,
        reraise=True,
    )


async def thread_messages(
    store: SqlStore, posts: PostStore, event: AgentEvent, kinds: Collection[Kind]
) -> list[Message]:
    """The messages an agent event names that a card's thread shows (``kinds``) and no replica
    has relayed yet."""
    wanted = set(event.messages)
    if not wanted:
        return []
    messages = await store.messages(event.conversation_id, internal=True, after=min(wanted) - 1)
    return [
        m
        for m in messages
        if m.id in wanted and m.kind in kinds and await posts.once(f"relay:{m.id}")
    ]


def _wait(state: RetryCallState) -> float:
    """Exponential backoff with full jitter, never shorter than the platform's Retry-After."""
    backoff = wait_random_exponential(multiplier=1, max=MAX_WAIT_SECONDS)(state)
    failure = state.outcome.exception() if state.outcome else None
    asked = failure.retry_after if isinstance(failure, TransientError) else None
    return max(backoff, min(asked or 0.0, MAX_WAIT_SECONDS))


class CardRelay:
    """Keeps one agent channel in step with the engine.

    Args:
        engine: Draws cards.
        store: Reads the messages a thread relays.
        bus: Carries the engine's agent events.
        metrics: Counts failed posts.
        surface: The platform.
        max_retry_seconds: How long a card post is retried before it waits for the next start.
    """

    def __init__(
        self,
        *,
        engine: ConversationEngine,
        store: SqlStore,
        bus: EventBus,
        metrics: Metrics,
        surface: CardSurface,
        max_retry_seconds: float = MAX_RETRY_SECONDS,
    ) -> None:
        self.engine = engine
        self.store = store
        self.bus = bus
        self.metrics = metrics
        self.surface = surface
        self.posts = PostStore(store, surface.name)
        self.max_retry_seconds = max_retry_seconds
        self.background = Background()
        self._follower = Follower(bus, AGENTS, self.on_event, f"the {surface.name} relay")

    async def run(self) -> None:
        """Retry the cards no replica posted yet, then follow agent events until cancelled."""
        for post in await self.posts.unposted():
            self.background.spawn(self._post(post.escalation_id, post.channel))
        await self._follower.run()

    async def on_event(self, raw: dict[str, Any]) -> None:
        await self._relay(AgentEvent.from_dict(raw))

    async def _relay(self, event: AgentEvent) -> None:
        if event.opened:
            card = await self.engine.card(event.escalation_id)
            channel = await self.surface.route(card)
            if channel is not None and await self.posts.claim(event.escalation_id, channel):
                self.background.spawn(self._post(event.escalation_id, channel))
            return
        post = await self.posts.of(event.escalation_id)
        if post is None or post.ref is None:
            return  # the card is not posted yet; it will show the latest state when it is
        # Redraw the card in place (who did what; spent buttons removed), then the thread. A
        # failure is retried briefly; a card left stale is redrawn by its next change, and the
        # thread's messages are relayed whether or not the redraw went through.
        # The event's steps share one budget, so an outage holds the relay up for at most that.
        card = await self.engine.card(event.escalation_id)
        deadline = asyncio.get_running_loop().time() + UPDATE_RETRY_SECONDS
        await self._patiently("updating", lambda: self.surface.update(post, card), deadline)
        if event.type == REANNOUNCE and await self.posts.once(
            f"{REANNOUNCE}:{event.escalation_id}:{event.round}"
        ):
            announce = partial(self.surface.announce, post, card)
            await self._patiently("announcing", announce, deadline)
        kinds = self.surface.thread_kinds
        for message in await thread_messages(self.store, self.posts, event, kinds):
            reply = partial(self.surface.reply, post, message)
            await self._patiently("relaying a message to", reply, deadline)

    async def _patiently(
        self, what: str, call: Callable[[], Awaitable[None]], deadline: float
    ) -> None:
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        try:
            async for attempt in retrying(left):
                with attempt:
                    await call()
        except Exception as failure:
            self.metrics.card_failed(self.surface.name)
            logger.error(
                "gave up: %s a %s card",
                what,
                self.surface.name,
                extra={"error": f"{type(failure).__name__}: {failure}"[:300]},
            )

    async def _post(self, escalation_id: str, channel: str) -> None:
        what = f"posting a {self.surface.name} card"
        try:
            async for attempt in retrying(self.max_retry_seconds, self._failed):
                with attempt:
                    card = await self.engine.card(escalation_id)
                    ref = await self.surface.post(channel, card)
                    await self.posts.posted(escalation_id, ref)
        except Exception as failure:
            self.metrics.card_failed(self.surface.name)
            logger.error(
                "gave up: %s; it stays on the desk and is retried at the next start",
                what,
                extra={"error": str(failure)},
            )
            return
        logger.info("escalation card posted", extra={"channel": self.surface.name})

    def _failed(self, state: RetryCallState) -> None:
        self.metrics.card_failed(self.surface.name)
        failure = state.outcome.exception() if state.outcome else None
        logger.warning(
            "posting a %s card failed; it stays on the desk and is retried",
            self.surface.name,
            extra={"attempt": state.attempt_number, "error": str(failure)},
        )

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Let the event being relayed and the cards being posted finish (at most ``timeout``
        seconds): a request cancelled halfway is still sent by its thread, with nobody left to
        read the answer."""
        await self._follower.drain(timeout)
        await self.background.settle(timeout)

    async def close(self) -> None:
        await self.background.cancel()

"""One contract suite for every store backend: memory (a test fake), SQLite and Postgres, and
for the channel posts and conversation references kept beside them in SQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import delete

from bot.conversation import (
    AuditEntry,
    Escalation,
    EscalationStatus,
    Kind,
    State,
    Summary,
)
from bot.errors import StoreConflict, UnknownConversation
from bot.learning import (
    AGENT_CONFIRMED,
    AGENT_CORRECTED,
    CUSTOMER_REJECTED,
    Answered,
    NotedQuestion,
    Verdict,
)
from bot.ports import Change, NewMessage
from bot.queue import Pickup
from integrations.storage import SqlStore, open_store
from integrations.storage.learning import LearningStore
from integrations.storage.posts import PostStore
from integrations.storage.references import ReferenceStore
from integrations.storage.tables import noted_questions
from integrations.web.accounts import AgentAccount
from tests.backing_services import fresh_postgres
from tests.fakes.memory_store import MemoryStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'contract.db'}"
        return
    async with fresh_postgres("tandem_test") as url:
        yield url


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest_asyncio.fixture()
async def sql_store(store_url: str) -> AsyncIterator[SqlStore]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


@pytest_asyncio.fixture(params=["memory", "sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqlStore | MemoryStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    async with database_url(request.param, tmp_path) as url:
        opened = await open_store(url)
        yield opened
        await opened.close()


def escalation_for(conversation_id: str, created: datetime = NOW) -> Escalation:
    return Escalation(
        id=uuid.uuid4().hex,
        conversation_id=conversation_id,
        status=EscalationStatus.OPEN,
        reasons=("low_confidence",),
        summary=Summary(
            "unknown", "Where is my order?", "neutral", "steady", ("Order 1234",), topics=("fraud",)
        ),
        articles=(),
        draft="Hi",
        draft_version=1,
        created_at=created,
    )


async def test_messages_are_ordered_filtered_and_paged(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    first = await store.add_customer_message("c1", "hello")
    await store.apply(
        Change(
            conversation,
            messages=(
                NewMessage(Kind.SUGGESTION, "internal"),
                NewMessage(Kind.ANSWER, "hi there"),
            ),
            handled=first.id,
        )
    )
    public = await store.messages("c1")
    assert [m.kind for m in public] == [Kind.CUSTOMER, Kind.ANSWER]
    assert [m.kind for m in await store.messages("c1", internal=True)] == [
        Kind.CUSTOMER,
        Kind.SUGGESTION,
        Kind.ANSWER,
    ]
    assert [m.text for m in await store.messages("c1", after=first.id)] == ["hi there"]
    assert await store.unhandled_messages() == []
    assert public[0].created_at.tzinfo is not None
    with pytest.raises(UnknownConversation):
        await store.add_customer_message("nope", "hi")


async def test_changes_compare_and_set_on_the_version(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    taken = replace(conversation, state=State.AGENT, holder="Alice")
    other = replace(conversation, state=State.AGENT, holder="Bob")
    results = await asyncio.gather(
        store.apply(Change(taken)), store.apply(Change(other)), return_exceptions=True
    )
    assert sum(isinstance(r, StoreConflict) for r in results) == 1
    stored = await store.conversation("c1")
    assert stored is not None and stored.version == 1 and stored.holder in ("Alice", "Bob")


async def test_a_dedupe_key_writes_once(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    change = Change(
        conversation, messages=(NewMessage(Kind.AGENT_MESSAGE, "once"),), dedupe_key="approve:e1:1"
    )
    assert (await store.apply(change)).applied
    fresh = await store.conversation("c1")
    assert fresh is not None
    assert not (await store.apply(replace(change, conversation=fresh))).applied
    assert [m.text for m in await store.messages("c1")] == ["once"]
    assert await store.has_key("approve:e1:1")


async def test_escalations_audit_and_gaps(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    older = escalation_for("c1", NOW)
    newer = escalation_for("c1", NOW + timedelta(minutes=1))
    entry = AuditEntry("c1", "bot", "bot", "escalate", NOW, older.id, "bot", "escalated")
    await store.apply(Change(conversation, escalation=older, audit=(entry,)))
    conversation = await store.conversation("c1")
    assert conversation is not None
    await store.apply(Change(conversation, escalation=newer))
    assert [e.id for e in await store.escalations([EscalationStatus.OPEN])] == [older.id, newer.id]
    assert await store.waiting_escalations() == 2
    active = await store.active_escalation("c1")
    assert active is not None and active.id == newer.id
    assert (active.summary.key_facts, active.summary.topics) == (("Order 1234",), ("fraud",))
    conversation = await store.conversation("c1")
    assert conversation is not None
    await store.apply(
        Change(
            conversation,
            escalation=replace(
                older, status=EscalationStatus.RESOLVED, draft="Bye", draft_version=2
            ),
        )
    )
    updated = await store.escalation(older.id)
    assert updated is not None and (updated.status, updated.draft) == (
        EscalationStatus.RESOLVED,
        "Bye",
    )
    assert [a.action for a in await store.audit("c1")] == ["escalate"]
    assert await store.escalated_questions(["low_confidence"]) == ["Where is my order?"]
    assert await store.escalated_questions(["not_covered", "low_confidence"]) == [
        "Where is my order?"
    ]
    assert await store.escalated_questions(["not_covered"]) == []
    with pytest.raises(TypeError):
        await store.escalated_questions("low_confidence")
    assert await store.pickups(NOW + timedelta(minutes=5)) == []


async def test_pickups_are_first_actions_since(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    picked = replace(escalation_for("c1", NOW), first_action_at=NOW + timedelta(minutes=4))
    await store.apply(Change(conversation, escalation=picked))
    conversation = await store.conversation("c1")
    assert conversation is not None
    await store.apply(Change(conversation, escalation=escalation_for("c1", NOW)))
    assert await store.pickups(NOW) == [Pickup(NOW, NOW + timedelta(minutes=4))]
    assert await store.pickups(NOW + timedelta(minutes=5)) == []


async def test_near_identical_suggestions_are_counted_not_added(
    store: SqlStore | MemoryStore,
) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    taught = [
        "Can I return the lamp I bought?",
        "can i return the lamp i bought",  # the same once normalised
        "Can I return the lamp I bought online?",  # 6 of 7 words shared: Jaccard 0.86
        "Do you deliver to Iceland?",
    ]
    for i, question in enumerate(taught):
        conversation = replace(conversation, version=conversation.version + (1 if i else 0))
        await store.apply(Change(conversation, suggestion=(question, f"Answer {i}", "Alice")))
    pending = await store.suggestions()
    assert [(s.question, s.count) for s in pending] == [
        ("Can I return the lamp I bought?", 3),
        ("Do you deliver to Iceland?", 1),
    ]
    assert pending[0].answer == "Answer 0", "the first answer stays for the admin to review"
    assert await store.set_suggestion_status(pending[0].id, "pending", "accepted")
    await store.apply(
        Change(
            replace(conversation, version=conversation.version + 1),
            suggestion=(taught[0], "Again", "Bo"),
        )
    )
    assert [s.count for s in await store.suggestions()] == [1, 1], "an accepted one is not counted"


async def test_tags_are_counted_per_kind_and_article(sql_store: SqlStore) -> None:
    learning = LearningStore(sql_store)
    question = "Is the oak table solid wood?"
    ids = [
        await learning.suggest(
            question=question, agent="A", conversation_id="c1", kind="variant", article_id="oak"
        ),
        await learning.suggest(
            question=question + "!",
            agent="B",
            conversation_id="c2",
            kind="variant",
            article_id="oak",
        ),
        await learning.suggest(
            question=question, agent="A", conversation_id="c3", kind="variant", article_id="pine"
        ),
        await learning.suggest(
            question=question, agent="A", conversation_id="c4", kind="not_in_kb"
        ),
    ]
    assert ids[0] == ids[1] and len(set(ids)) == 3
    counted = {s.id: s.count for s in await sql_store.suggestions()}
    assert counted == {ids[0]: 2, ids[2]: 1, ids[3]: 1}
    stored = await learning.suggestion(ids[0])
    assert stored is not None and stored.count == 2


async def test_answers_are_recorded_with_the_change_that_gives_them(sql_store: SqlStore) -> None:
    conversation = await sql_store.create_conversation("c1", "web", "hash", None)
    answer = NewMessage(Kind.ANSWER, "Three to five days.")
    for confidence, at in ((0.91, NOW), (0.74, NOW + timedelta(hours=2))):
        conversation = (await sql_store.conversation("c1")) or conversation
        await sql_store.apply(
            Change(
                conversation,
                messages=(answer,),
                answered=Answered("c1", "delivery", confidence, at),
            )
        )
    learning = LearningStore(sql_store)
    newest, oldest = await learning.answers(10)
    assert [(a.confidence, a.at, a.verdict) for a in (newest, oldest)] == [
        (0.74, NOW + timedelta(hours=2), None),
        (0.91, NOW, None),
    ]
    assert await sql_store.latest_answer("c1") == newest
    assert await sql_store.latest_answer("c2") is None
    assert [a.confidence for a in await learning.answers(1)] == [0.74]
    assert await learning.answers(10, since=NOW + timedelta(hours=1)) == [newest]
    assert await learning.forget_answers(NOW + timedelta(hours=1)) == 1
    assert await learning.answers(10) == [newest]


async def test_noted_questions_are_written_with_their_turn_and_read_by_calibration(
    store: SqlStore | MemoryStore,
) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    # (confidence, calibrated threshold); 0.72 is at the tolerance's edge, in floating point
    noted = [(0.91, 0.70), (0.12, 0.72), (0.55, 0.80), (0.40, 0.71)]
    for confidence, calibrated in noted:
        conversation = (await store.conversation("c1")) or conversation
        await store.apply(Change(conversation, noted=NotedQuestion(confidence, calibrated)))
    stale = replace(conversation, version=0)
    with pytest.raises(StoreConflict):  # a turn that fails notes nothing
        await store.apply(Change(stale, noted=NotedQuestion(0.99, 0.70)))
    # Oldest first; only under a calibrated threshold near the one asked for; the newest kept.
    assert await store.noted_confidences(10, 0.70, 0.02) == [0.91, 0.12, 0.40]
    assert await store.noted_confidences(2, 0.70, 0.02) == [0.12, 0.40]
    assert await store.noted_confidences(10, 0.80, 0.02) == [0.55]
    assert await store.forget_noted(keep=2) == 2
    assert await store.noted_confidences(10, 0.70, 0.5) == [0.55, 0.40]
    assert await store.forget_noted(keep=2) == 0


async def test_forgetting_noted_questions_keeps_the_newest_whatever_the_ids(
    sql_store: SqlStore,
) -> None:
    """Postgres sequences leave gaps (a rolled-back insert, a failover): the newest are kept by
    count, not by id arithmetic."""
    conversation = await sql_store.create_conversation("c1", "web", "hash", None)
    for confidence in (0.1, 0.2, 0.3, 0.4, 0.5):
        conversation = (await sql_store.conversation("c1")) or conversation
        await sql_store.apply(Change(conversation, noted=NotedQuestion(confidence, 0.7)))
    async with sql_store.transaction() as connection:  # a gap among the newest
        await connection.execute(delete(noted_questions).where(noted_questions.c.id == 4))
    assert await sql_store.forget_noted(keep=3) == 1
    assert await sql_store.noted_confidences(10, 0.7, 0.02) == [0.2, 0.3, 0.5]


async def test_a_rejection_lands_once_and_an_agents_latest_verdict_overrides_it(
    sql_store: SqlStore,
) -> None:
    conversation = await sql_store.create_conversation("c1", "web", "hash", None)
    answered = Answered("c1", "delivery", 0.8, NOW)
    await sql_store.apply(Change(conversation, answered=answered))
    stored = await sql_store.latest_answer("c1")
    assert stored is not None and stored.id is not None and stored.verdict is None
    conversation = (await sql_store.conversation("c1")) or conversation
    await sql_store.apply(Change(conversation, verdict=Verdict(stored.id, CUSTOMER_REJECTED)))
    learning = LearningStore(sql_store)
    assert not await learning.judge(Verdict(stored.id, CUSTOMER_REJECTED)), "counted once"
    [judged] = await learning.answers(5)
    assert judged.verdict == CUSTOMER_REJECTED and judged.wrong
    assert await learning.judge(Verdict(stored.id, AGENT_CONFIRMED))
    assert not await learning.judge(Verdict(stored.id, CUSTOMER_REJECTED)), "confirmed stays"
    [confirmed] = await learning.answers(5)
    assert confirmed.verdict == AGENT_CONFIRMED and not confirmed.wrong
    assert await learning.judge(Verdict(stored.id, AGENT_CORRECTED)), "the agent's latest tag"
    [retagged] = await learning.answers(5)
    assert retagged.verdict == AGENT_CORRECTED


async def test_answers_are_drawn_at_random_for_review_and_reviewed(sql_store: SqlStore) -> None:
    """Unreviewed answers with their question are drawn, in random order; a review is the
    latest word (right outranks a rejection), and the first review holds; a reviewed answer is not
    drawn again."""
    conversation = await sql_store.create_conversation("c1", "web", "hash", None)
    for number in range(12):
        conversation = (await sql_store.conversation("c1")) or conversation
        question = f"question {number}" if number else None  # answers from before 0011
        answered = Answered("c1", "delivery", 0.8, NOW, question=question)
        verdict = CUSTOMER_REJECTED if number == 1 else None
        await sql_store.apply(Change(conversation, answered=answered))
        if verdict:
            stored = await sql_store.latest_answer("c1")
            assert stored is not None and stored.id is not None
            await LearningStore(sql_store).judge(Verdict(stored.id, verdict))
    learning = LearningStore(sql_store)
    orders = {tuple(a.id for a in await learning.review_sample(11, NOW)) for _ in range(8)}
    assert len(orders) > 1, "drawn at random"
    drawn = await learning.review_sample(20, NOW)
    assert sorted(a.question or "" for a in drawn) == sorted(f"question {n}" for n in range(1, 12))
    assert await learning.review_sample(20, NOW + timedelta(minutes=1)) == []
    rejected = next(a for a in drawn if a.question == "question 1")
    assert rejected.id is not None and rejected.wrong
    assert await learning.review(rejected.id, right=True, reviewer="alice")
    assert not await learning.review(rejected.id, right=False, reviewer="bob"), "reviewed once"
    racing = next(a for a in drawn if a.question == "question 2")
    assert racing.id is not None
    landed = await asyncio.gather(
        *(learning.review(racing.id, right=n % 2 == 0, reviewer=f"agent{n}") for n in range(4))
    )
    assert sorted(landed) == [False, False, False, True], "two agents at once count once"
    reviewed = await learning.answer(rejected.id)
    assert reviewed is not None and reviewed.review == "right" and not reviewed.wrong
    assert not await learning.review(10_000, right=False, reviewer="alice"), "no such answer"
    assert await learning.answer(10_000) is None
    assert rejected.id not in {a.id for a in await learning.review_sample(20, NOW)}


async def test_a_large_window_is_drawn_by_random_ids_and_only_eligible_answers(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawn by random ids (as a window of thousands of answers is): only unreviewed answers
    with a question, each once, every one of them drawn in time, in random order; a window
    whose ids are mostly ineligible is filled from the whole window."""
    monkeypatch.setattr("integrations.storage.answers.SAMPLE_WHOLE_BELOW", 0)
    monkeypatch.setattr("integrations.storage.answers.SAMPLE_SPREAD", 1)
    conversation = await sql_store.create_conversation("c1", "web", "hash", None)
    for number in range(40):
        conversation = (await sql_store.conversation("c1")) or conversation
        question = None if number % 5 == 0 else f"question {number}"
        answered = Answered("c1", "delivery", 0.8, NOW, question=question)
        await sql_store.apply(Change(conversation, answered=answered))
    learning = LearningStore(sql_store)
    for answer in await learning.answers(40):
        if answer.question in ("question 1", "question 2") and answer.id is not None:
            assert await learning.review(answer.id, right=True, reviewer="alice")
    eligible = {f"question {n}" for n in range(40) if n % 5 and n not in (1, 2)}
    seen: set[str] = set()
    orders = set()
    for _ in range(80):  # each answer missed by all 80 draws: (5/6)**80, under 1e-6
        drawn = await learning.review_sample(5, NOW)
        questions = [a.question or "" for a in drawn]
        assert len(questions) == len(set(questions)) == 5
        assert set(questions) <= eligible
        seen |= set(questions)
        orders.add(tuple(questions))
    assert seen == eligible and len(orders) > 1
    everything = await learning.review_sample(100, NOW)
    assert sorted(a.question or "" for a in everything) == sorted(eligible)


async def test_suggestions_accounts_and_sessions(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    await store.apply(Change(conversation, suggestion=("Q?", "A.", "Alice")))
    [suggestion] = await store.suggestions()
    assert suggestion.proposal is None
    proposal = {"title": "T", "question": "Q?", "answer": "A."}
    assert await store.set_proposal(suggestion.id, proposal)
    assert not await store.set_proposal(suggestion.id, {**proposal, "title": "U"}), "once"
    assert (await store.suggestions())[0].proposal == proposal
    assert await store.set_suggestion_status(suggestion.id, "pending", "accepted")
    assert not await store.set_suggestion_status(suggestion.id, "pending", "accepted")
    await store.add_agent(AgentAccount("alice", "Alice", "h1"))
    await store.add_agent(AgentAccount("alice", "Alice B.", "h2"))
    assert await store.agent("alice") == AgentAccount("alice", "Alice B.", "h2")
    await store.create_session("s1", "alice", NOW + timedelta(hours=1))
    assert await store.session_agent("s1", NOW) is not None
    assert await store.session_agent("s1", NOW + timedelta(hours=2)) is None, "expired"
    await store.delete_session("s1")
    assert await store.session_agent("s1", NOW) is None


async def test_a_restart_loses_nothing(store_url: str) -> None:
    store = await open_store(store_url)
    await store.create_conversation("c1", "web", "hash", "Jo")
    message = await store.add_customer_message("c1", "stored before the 202")
    await store.close()
    reopened = await open_store(store_url)  # migrations run again: a no-op
    try:
        assert [m.id for m in await reopened.unhandled_messages()] == [message.id]
        conversation = await reopened.conversation("c1")
        assert conversation is not None and conversation.customer == "Jo"
    finally:
        await reopened.close()


async def test_recent_gives_the_newest_messages_in_order(store: SqlStore | MemoryStore) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    for n in range(5):
        await store.add_customer_message("c1", f"m{n}")
    await store.apply(Change(conversation, messages=(NewMessage(Kind.NOTE, "internal"),)))
    assert [m.text for m in await store.recent("c1", 3)] == ["m2", "m3", "m4"]
    assert [m.text for m in await store.recent("c1", 2, internal=True)] == ["m4", "internal"]


async def test_posts_are_claimed_once_and_found_by_reference(sql_store: SqlStore) -> None:
    slack, teams = PostStore(sql_store, "slack"), PostStore(sql_store, "teams")
    assert await slack.claim("e1", "C1")
    assert not await slack.claim("e1", "C2"), "one replica posts a card"
    assert await teams.claim("e1", "T1"), "each channel kind posts its own card"
    assert [p.escalation_id for p in await slack.unposted()] == ["e1"]
    await slack.posted("e1", "1700.1", {"n": 1})
    post = await slack.of("e1")
    assert post is not None and (post.channel, post.ref, post.extra) == ("C1", "1700.1", {"n": 1})
    assert await slack.by_ref("C1", "1700.1") == post
    assert await slack.by_ref("C1", "other") is None
    assert await slack.unposted() == []
    assert await slack.once("relay:1") and not await slack.once("relay:1")
    assert await teams.once("relay:1"), "keys are per channel kind"


async def test_references_are_saved_replaced_and_found_by_conversation(
    sql_store: SqlStore,
) -> None:
    await sql_store.create_conversation("c1", "botframework", "hash", None)
    references = ReferenceStore(sql_store)
    assert await references.get("agent-channel") is None
    await references.save("agent-channel", {"conversation": {"id": "19:a"}})
    await references.save("agent-channel", {"conversation": {"id": "19:b"}})
    assert await references.get("agent-channel") == ({"conversation": {"id": "19:b"}}, None)
    await references.save("customer:x", {"user": "jo"}, "c1")
    assert await references.get("customer:x") == ({"user": "jo"}, "c1")
    assert await references.for_conversation("c1") == {"user": "jo"}
    assert await references.for_conversation("c2") is None


async def test_one_replica_at_a_time_delivers_a_conversations_replies(
    sql_store: SqlStore,
) -> None:
    outbound = ("answer", "agent_message")
    conversation = await sql_store.create_conversation("c1", "botframework", "hash", None)
    await sql_store.create_conversation("c2", "botframework", "hash", None)
    references = ReferenceStore(sql_store)
    await references.save("customer:one", {"user": "jo"}, "c1")
    await references.save("customer:two", {"user": "al"}, "c2")
    now = datetime.now(UTC)
    asked = await sql_store.add_customer_message("c1", "hello")
    await sql_store.add_customer_message("c2", "anyone there?")
    assert await references.undelivered(outbound, now=now) == [], "a customer's own words"

    applied = await sql_store.apply(
        Change(conversation, messages=(NewMessage(Kind.ANSWER, "hi"),), handled=asked.id)
    )
    answer = applied.messages[-1].id
    assert await references.undelivered(outbound, now=now) == ["c1"]
    claims = await asyncio.gather(
        references.claim_delivery("c1", "a", now + LEASE, now=now),
        references.claim_delivery("c1", "b", now + LEASE, now=now),
    )
    assert sorted(claims, key=str) == [0, None], "one holder, told the last delivered id (none)"
    holder, other = ("a", "b") if claims[0] == 0 else ("b", "a")
    assert await references.undelivered(outbound, now=now) == [], "held: nobody sweeps it"
    assert not await references.delivered("c1", other, answer), "only the holder records"
    assert await references.delivered("c1", holder, answer)
    assert await references.claim_delivery("c1", holder, now + LEASE, now=now) == answer
    assert not await references.delivered("c1", holder, answer - 1), "never backwards"
    await references.release_delivery("c1", other)  # not its hold: nothing changes
    assert await references.claim_delivery("c1", other, now + LEASE, now=now) is None
    await references.release_delivery("c1", holder)
    assert await references.undelivered(outbound, now=now) == [], "delivered"

    current = await sql_store.conversation("c1")
    assert current is not None
    await sql_store.apply(Change(current, messages=(NewMessage(Kind.ANSWER, "and more"),)))
    assert await references.claim_delivery("c1", holder, now + LEASE, now=now) == answer
    later = now + LEASE + timedelta(seconds=1)
    assert await references.undelivered(outbound, now=now, conversation_id="c1") == []
    assert await references.undelivered(outbound, now=later) == ["c1"], "the hold ran out"
    assert await references.claim_delivery("c1", other, later + LEASE, now=later) == answer
    assert not await references.delivered("c1", holder, answer + 1), "its hold was taken over"
    assert await references.claim_delivery("nobody", holder, later, now=later) is None


# -- leases: each unhandled customer message is handled by one replica at a time --------------
LEASE = timedelta(seconds=30)


async def test_a_message_is_leased_to_one_owner_at_a_time(store: SqlStore | MemoryStore) -> None:
    await store.create_conversation("c1", "web", "hash", None)
    message = await store.add_customer_message("c1", "hello")
    now = datetime.now(UTC)
    claims = await asyncio.gather(
        store.claim_message(message.id, "a", now + LEASE, now=now),
        store.claim_message(message.id, "b", now + LEASE, now=now),
    )
    assert sorted(claims) == [False, True]
    holder, other = ("a", "b") if claims[0] else ("b", "a")
    assert await store.claim_message(message.id, holder, now + 2 * LEASE, now=now), "a renewal"
    assert not await store.claim_message(message.id, other, now + LEASE, now=now + LEASE)
    await store.release_message(message.id, other)  # not its lease: nothing changes
    assert not await store.claim_message(message.id, other, now + LEASE, now=now)
    assert await store.claimable_messages(now + LEASE, now + LEASE) == []
    ended = now + 2 * LEASE + timedelta(seconds=1)
    assert [m.id for m in await store.claimable_messages(ended, now)] == [message.id]
    assert await store.claim_message(message.id, other, ended + LEASE, now=ended), "it ended"
    assert not await store.claim_message(message.id, holder, ended + LEASE, now=ended)


async def test_handled_messages_are_never_claimed_nor_handled_again(
    store: SqlStore | MemoryStore,
) -> None:
    conversation = await store.create_conversation("c1", "web", "hash", None)
    message = await store.add_customer_message("c1", "hello")
    now = datetime.now(UTC)
    assert await store.claim_message(message.id, "a", now + LEASE, now=now)
    await store.apply(Change(conversation, handled=message.id))
    later = now + 3 * LEASE
    for owner in ("a", "b"):
        assert not await store.claim_message(message.id, owner, later + LEASE, now=later)
    assert await store.claimable_messages(later, later) == []
    again = await store.conversation("c1")
    assert again is not None
    with pytest.raises(StoreConflict, match="handled"):
        await store.apply(Change(again, messages=(NewMessage(Kind.ANSWER, "twice"),), handled=1))
    assert [m.kind for m in await store.messages("c1")] == [Kind.CUSTOMER], "rolled back"


async def test_claimable_messages_wait_a_grace_then_include_released_ones(
    store: SqlStore | MemoryStore,
) -> None:
    await store.create_conversation("c1", "web", "hash", None)
    first = await store.add_customer_message("c1", "one")
    second = await store.add_customer_message("c1", "two")
    now = datetime.now(UTC)
    grace = timedelta(seconds=5)
    assert await store.claimable_messages(now, now - grace) == [], "just stored: left alone"
    later = now + 2 * grace
    assert [m.id for m in await store.claimable_messages(later, later - grace)] == [
        first.id,
        second.id,
    ]
    assert await store.claim_message(first.id, "a", later + LEASE, now=later)
    assert [m.id for m in await store.claimable_messages(later, later - grace)] == [second.id]
    await store.release_message(first.id, "a")
    assert [m.id for m in await store.claimable_messages(later, later - grace, limit=1)] == [
        first.id
    ]


async def test_two_replicas_claim_each_message_once(store_url: str) -> None:
    replicas = [await open_store(store_url), await open_store(store_url)]
    try:
        await replicas[0].create_conversation("c1", "web", "hash", None)
        stored = [await replicas[0].add_customer_message("c1", f"m{n}") for n in range(20)]
        now = datetime.now(UTC)
        claims = await asyncio.gather(
            *(
                replica.claim_message(m.id, f"replica{n}", now + LEASE, now=now)
                for m in stored
                for n, replica in enumerate(replicas)
            )
        )
        assert [claims[2 * i] + claims[2 * i + 1] for i in range(len(stored))] == [1] * 20
    finally:
        for replica in replicas:
            await replica.close()

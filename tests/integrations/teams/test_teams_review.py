"""Teams over HTTP: ``kb review`` in the agent channel posts one of the bot's answers drawn at
random on an Adaptive Card; an ``adaptiveCard/action`` invoke grades it and returns the next
answer's card, and an ``Action.Submit`` fallback click replaces the card the same way."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jsonschema

from bot.conversation import Kind
from tests.fakes.bot_connector import Sent
from tests.integrations.teams.conftest import AGENTS, BotSide, fixture
from tests.integrations.teams.test_teams_flow import SCHEMA


async def _answered(bot: BotSide, text: str) -> None:
    engine = bot.services.engine
    conversation, _ = await engine.start("web")
    await engine.handle(await engine.receive(conversation.id, text))
    kinds = [m.kind for m in await bot.services.store.messages(conversation.id)]
    assert Kind.ANSWER in kinds, text


def _message(bot: BotSide, text: str, aad: str, conversation: str = AGENTS) -> dict[str, Any]:
    """A message from agent ``aad`` in a team channel (the agent channel by default)."""
    return fixture(
        "agent_channel_message.json",
        service_url=bot.connector.url,
        id=f"say-{len(bot.connector.sent)}-{conversation}",
        user=aad.removeprefix("aad-").title(),
        aad=aad,
        conversation=conversation,
        text=text,
    )


async def _say(bot: BotSide, text: str, aad: str) -> Sent:
    before = len(bot.connector.sent)
    status, _ = await bot.post(_message(bot, text, aad))
    assert status in (200, 201)
    sent = await bot.connector.wait(lambda s: len(s) > before)
    return sent[before]


def _card(sent: Sent) -> dict[str, Any]:
    card: dict[str, Any] = sent.activity["attachments"][0]["content"]
    jsonschema.Draft6Validator(SCHEMA).validate(card)
    return card


def _grading(card: dict[str, Any], title: str) -> dict[str, Any]:
    return dict(next(a for a in card["actions"] if a["title"] == title)["data"])


def _invoke(bot: BotSide, card_id: str, data: dict[str, Any]) -> dict[str, Any]:
    invoke = fixture(
        "card_action_invoke.json",
        service_url=bot.connector.url,
        id=f"i-{uuid.uuid4().hex}",
        user="Alice",
        card_id=card_id,
        verb="review",
        escalation_id="",
        draft="",
    )
    invoke["value"]["action"]["data"] = data
    return invoke


async def test_an_agent_grades_answers_on_cards(bot: BotSide) -> None:
    await _answered(bot, "How long do refunds take?")
    await _answered(bot, "Can I send back a sofa?")
    posted = await _say(bot, "kb review", "aad-alice")
    first = _card(posted)
    assert "Review a bot answer" in json.dumps(first)
    data = _grading(first, "Wrong")
    answer = await bot.services.learning.answer(int(data["review"]))
    assert answer is not None and answer.question is not None
    [choice_set] = [b for b in first["body"] if b["type"] == "Input.ChoiceSet"]
    picked = choice_set["choices"][0]["value"]
    assert answer.article_id not in [c["value"] for c in choice_set["choices"]]

    card_id = posted.activity_id or "activity-1"
    status, body = await bot.post(_invoke(bot, card_id, {**data, "article": "no-such-article"}))
    kept_shown = json.dumps(body["value"])
    assert "no article 'no-such-article'" in kept_shown and answer.question in kept_shown
    assert _grading(body["value"], "Wrong")["review"] == data["review"], "the same answer"
    unchanged = await bot.services.learning.answer(answer.id or 0)
    assert unchanged is not None and unchanged.review is None

    status, body = await bot.post(_invoke(bot, card_id, {**data, "article": picked}))
    assert status == 200 and body["statusCode"] == 200
    second = body["value"]
    jsonschema.Draft6Validator(SCHEMA).validate(second)
    assert f"Graded wrong; the question goes to '{picked}'" in json.dumps(second)
    graded = await bot.services.learning.answer(answer.id or 0)
    assert graded is not None and graded.review == "wrong"
    pending = await bot.services.store.suggestions("pending")
    assert [(s.article_id, s.question, s.agent) for s in pending] == [
        (picked, answer.question, "aad-Alice")
    ], "taught by the agent's Entra id"

    fallback = _message(bot, "", "aad-alice", f"{AGENTS};messageid={card_id}")
    fallback["replyToId"] = card_id
    fallback["value"] = _grading(second, "Right")
    before = len(bot.connector.sent)
    await bot.post(fallback)
    sent = await bot.connector.wait(lambda s: any(x.method == "PUT" for x in s[before:]))
    replaced = next(x for x in sent[before:] if x.method == "PUT")
    assert replaced.activity_id == card_id
    done = _card(replaced)
    assert "Graded right." in json.dumps(done) and "Nothing left to review" in json.dumps(done)

    status, body = await bot.post(_invoke(bot, card_id, {**data, "right": True}))
    assert "That answer was graded already" in json.dumps(body["value"])
    kept = await bot.services.learning.answer(answer.id or 0)
    assert kept is not None and kept.review == "wrong", "the first review holds"


async def test_review_outside_the_agent_channel_is_refused(bot: BotSide) -> None:
    """In another team's channel, even an admin gets no card: everyone there would read the
    customers' questions."""
    await _answered(bot, "How long do refunds take?")
    for aad in ("aad-eve", "aad-admin"):
        message = _message(bot, "kb review", aad, "19:general@thread.tacv2")
        message["channelData"] = {"tenant": {"id": "tenant-1"}}
        before = len(bot.connector.sent)
        await bot.post(message)
        sent = await bot.connector.wait(lambda s, n=before: len(s) > n)
        assert "Not here" in json.dumps(sent[before].activity)
    assert not any("Review a bot answer" in json.dumps(x.activity) for x in bot.connector.sent)


async def test_an_admin_reviews_in_a_one_to_one_chat(bot: BotSide) -> None:
    """An admin's 1:1 chat with the bot is private: the card is shown there and its clicks
    grade; another user's 1:1 chat gets no card."""
    await _answered(bot, "How long do refunds take?")
    personal = {"conversationType": "personal", "tenantId": "tenant-1", "id": "a:1:1-chat"}

    async def in_personal_chat(aad: str) -> Sent:
        message = _message(bot, "kb review", aad, "a:1:1-chat")
        message["conversation"] = personal
        message["channelData"] = {"tenant": {"id": "tenant-1"}}
        before = len(bot.connector.sent)
        await bot.post(message)
        return (await bot.connector.wait(lambda s, n=before: len(s) > n))[before]

    assert "Not here" in json.dumps((await in_personal_chat("aad-eve")).activity)
    card = _card(await in_personal_chat("aad-admin"))
    assert "Review a bot answer" in json.dumps(card)
    invoke = _invoke(bot, "card-9", _grading(card, "Right"))
    invoke["from"]["aadObjectId"] = "aad-admin"
    invoke["conversation"] = personal
    invoke["channelData"] = {"tenant": {"id": "tenant-1"}}
    status, body = await bot.post(invoke)
    assert (status, body["statusCode"]) == (200, 200)
    assert "Graded right." in json.dumps(body["value"])


async def test_a_customer_can_neither_draw_nor_grade(bot: BotSide) -> None:
    """A Bot Framework customer (Web Chat) sends what a review click sends, as a message and
    as an invoke: nothing is graded, nothing taught, no answer shown."""
    await _answered(bot, "How long do refunds take?")
    [answer] = await bot.services.learning.answers(5)
    click = {"action": "review", "review": answer.id, "right": False, "article": "gift-cards"}
    message = fixture("webchat_message.json", service_url=bot.connector.url, id="evil-1", text="")
    message["value"] = click
    status, _ = await bot.post(message)
    assert status in (200, 201)
    invoke = _invoke(bot, "card-1", click)
    invoke |= {"channelId": "webchat", "conversation": {"id": "webchat-conversation-1"}}
    invoke.pop("channelData")
    status, body = await bot.post(invoke)
    assert status == 200 and body["statusCode"] == 400
    assert "Customer asked" not in json.dumps(body)
    graded = await bot.services.learning.answer(answer.id or 0)
    assert graded is not None and graded.review is None
    assert await bot.services.store.suggestions("pending") == []


async def test_malformed_clicks_grade_nothing(bot: BotSide) -> None:
    await _answered(bot, "How long do refunds take?")
    [answer] = await bot.services.learning.answers(5)
    for data in (
        {"action": "review", "review": 10**20, "right": True},
        {"action": "review", "review": True, "right": True},
        {"action": "review", "review": answer.id, "right": "true"},
        {"action": "review", "review": str(answer.id), "right": True},
    ):
        status, body = await bot.post(_invoke(bot, "card-1", data))
        assert (status, body["statusCode"]) == (200, 400), data
    invoke = _invoke(bot, "card-1", {"review": answer.id, "right": True})
    invoke["value"]["action"]["data"] = "not an object"
    status, body = await bot.post(invoke)
    assert (status, body["statusCode"]) == (200, 400)
    invoke["value"] = ["not an object"]
    status, body = await bot.post(invoke)
    assert (status, body["statusCode"]) == (200, 400)
    graded = await bot.services.learning.answer(answer.id or 0)
    assert graded is not None and graded.review is None

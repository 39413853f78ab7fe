"""Slack: ``/kb review`` in an agent channel draws one of the bot's answers at random; a signed
click grades it (with the right article picked for a wrong one) and the ephemeral message is
replaced, through the response URL, by the next answer."""

from __future__ import annotations

from typing import Any

from bot.conversation import Kind
from integrations.slack.blocks import check_blocks
from tests.integrations.slack.conftest import ADMINS, SUPPORT, SlackSide, fixture
from tests.integrations.slack.test_slack_flow import customer_kinds


async def _answered(slack: SlackSide, text: str) -> None:
    engine = slack.services.engine
    conversation, _ = await engine.start("web")
    await engine.handle(await engine.receive(conversation.id, text))
    assert Kind.ANSWER in await customer_kinds(slack, conversation.id), text


def _review_command(slack: SlackSide, user: str, channel: str) -> dict[str, Any]:
    command = fixture("kb_command.json", user_id=user, text="review")
    command["channel_id"] = channel
    command["response_url"] = slack.fake.url_of("/api/response_url")
    return command


def _actions(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return actions


def _click(
    slack: SlackSide, blocks: list[dict[str, Any]], grade: str, article: str | None = None
) -> dict[str, Any]:
    """The signed payload of a click on *Right* or *Wrong*, with ``article`` picked."""
    actions = _actions(blocks)
    button = next(e for e in actions["elements"] if e["action_id"] == f"tandem_review_{grade}")
    payload = fixture(
        "block_actions.json",
        ts="1700000000.000009",
        channel=SUPPORT,
        action_id=button["action_id"],
        escalation_id=button["value"],
    )
    payload["container"]["is_ephemeral"] = True
    payload["response_url"] = slack.fake.url_of("/api/response_url")
    if article is not None:
        select = next(e for e in actions["elements"] if e["type"] == "static_select")
        option = next(o for o in select["options"] if o["value"] == article)
        payload["state"]["values"] = {
            actions["block_id"]: {
                "tandem_review_article": {"type": "static_select", "selected_option": option}
            }
        }
    return payload


async def test_an_agent_grades_the_bots_answers_one_at_a_time(slack: SlackSide) -> None:
    await _answered(slack, "How long do refunds take?")
    await _answered(slack, "Can I send back a sofa?")
    assert (await slack.command(_review_command(slack, "U0AGENT01", SUPPORT))).status == 200
    [shown] = await slack.fake.wait_for("chat.postEphemeral")
    assert shown["user"] == "U0AGENT01" and shown["channel"] == SUPPORT
    first = shown["blocks"]
    assert check_blocks(first) == [], "within Block Kit's limits"
    answer_id = int(_actions(first)["block_id"].removeprefix("tandem_review:"))
    answer = await slack.services.learning.answer(answer_id)
    assert answer is not None and answer.question in str(first)
    select = next(e for e in _actions(first)["elements"] if e["type"] == "static_select")
    picked = next(o["value"] for o in select["options"])
    assert answer.article_id not in [o["value"] for o in select["options"]]

    response = await slack.interaction(_click(slack, first, "wrong", picked))
    assert response.status == 200
    [replaced] = await slack.fake.wait_for("response_url")
    assert replaced["replace_original"] is True
    assert f"Graded wrong; the question goes to '{picked}'" in str(replaced["blocks"])
    graded = await slack.services.learning.answer(answer_id)
    assert graded is not None and graded.review == "wrong"
    pending = await slack.services.store.suggestions("pending")
    assert [(s.article_id, s.question, s.agent) for s in pending] == [
        (picked, answer.question, "U0AGENT01")
    ]
    second = replaced["blocks"]
    second_id = int(_actions(second)["block_id"].removeprefix("tandem_review:"))
    assert second_id != answer_id, "the next answer drawn"

    await slack.interaction(_click(slack, second, "right"))
    done = (await slack.fake.wait_for("response_url", 2))[-1]
    assert "Graded right." in str(done["blocks"]) and "Nothing left to review" in str(done)

    await slack.interaction(_click(slack, first, "right"))  # clicked again on an old message
    again = (await slack.fake.wait_for("response_url", 3))[-1]
    assert "That answer was graded already" in str(again["blocks"])
    kept = await slack.services.learning.answer(answer_id)
    assert kept is not None and kept.review == "wrong", "the first review holds"


async def test_review_is_for_agent_channels_and_bad_picks_keep_the_answer(
    slack: SlackSide,
) -> None:
    await _answered(slack, "How long do refunds take?")
    await slack.command(_review_command(slack, "U0RANDOM01", ADMINS))
    [refused] = await slack.fake.wait_for("chat.postEphemeral")
    assert refused["text"] == "Not allowed"

    await slack.command(_review_command(slack, "U0ADMIN001", ADMINS))
    shown = (await slack.fake.wait_for("chat.postEphemeral", 2))[-1]["blocks"]
    payload = _click(slack, shown, "wrong")
    block_id = _actions(shown)["block_id"]
    gone = {"text": {"type": "plain_text", "text": "Gone"}, "value": "no-such-article"}
    payload["state"]["values"] = {
        block_id: {"tandem_review_article": {"type": "static_select", "selected_option": gone}}
    }
    assert (await slack.interaction(payload)).status == 200
    [told] = await slack.fake.wait_for("response_url")
    assert told["replace_original"] is False and "no article 'no-such-article'" in told["text"]
    answer_id = int(block_id.removeprefix("tandem_review:"))
    answer = await slack.services.learning.answer(answer_id)
    assert answer is not None and answer.review is None, "nothing was graded"


async def test_a_review_click_naming_an_impossible_answer_grades_nothing(
    slack: SlackSide,
) -> None:
    """A signed click whose answer id is not a row id (too large for the database's integers,
    zero, not a number) is acknowledged and ignored: no error, nothing graded, no message."""
    await _answered(slack, "How long do refunds take?")
    await slack.command(_review_command(slack, "U0AGENT01", SUPPORT))
    [shown] = await slack.fake.wait_for("chat.postEphemeral")
    blocks = shown["blocks"]
    answer_id = int(_actions(blocks)["block_id"].removeprefix("tandem_review:"))
    for value in (str(2**63), "0", "-4", "nine"):
        payload = _click(slack, blocks, "right")
        payload["actions"][0]["value"] = value
        assert (await slack.interaction(payload)).status == 200
    # Then a real click: had any of those graded the answer (as right), this one would be
    # refused as graded already; it is the first and only response.
    select = next(e for e in _actions(blocks)["elements"] if e["type"] == "static_select")
    picked = select["options"][0]["value"]
    assert (await slack.interaction(_click(slack, blocks, "wrong", picked))).status == 200
    [only] = await slack.fake.wait_for("response_url")
    assert f"Graded wrong; the question goes to '{picked}'" in str(only["blocks"])
    answer = await slack.services.learning.answer(answer_id)
    assert answer is not None and answer.review == "wrong"
    assert len(slack.fake.of("response_url")) == 1

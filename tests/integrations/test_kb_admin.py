"""The chat channels' knowledge commands (``/kb`` in Slack, ``kb …`` in Teams), on the whole
service: what an admin reads is what the bot would do now."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import EscalationStatus
from bot.ports import Change
from integrations import kb_admin
from integrations.composition import Services


async def _escalate(services: Services, text: str) -> None:
    conversation, _ = await services.engine.start("web")
    await services.engine.handle(await services.engine.receive(conversation.id, text))


async def test_gaps_are_questions_the_bot_still_would_not_answer(services: Services) -> None:
    await _escalate(services, "do you sell garden gnomes?")
    await _escalate(services, "can I pay for my sofa in goats?")
    escalations = await services.store.escalations(list(EscalationStatus))
    assert len(escalations) == 2
    assert all({"low_confidence", "not_covered"} & set(e.reasons) for e in escalations)
    # The goal follows the conversation: this one now reads as a question the bot answers.
    gap, since = escalations
    conversation = await services.store.conversation(since.conversation_id)
    assert conversation is not None
    answered = replace(since, summary=replace(since.summary, goal="How long do refunds take?"))
    await services.store.apply(Change(conversation, escalation=answered))

    reply = await kb_admin.run(services, "gaps", "", "admin")
    assert reply.lines == [gap.summary.goal]


async def test_an_unknown_command_says_so_and_lists_the_real_ones(services: Services) -> None:
    reply = await kb_admin.run(services, "lsit", "", "admin")
    assert reply.title == "Unknown command" and "`lsit`" in reply.lines[0]
    assert reply.lines[1:] == kb_admin.HELP
    assert (await kb_admin.run(services, "help", "", "admin")).lines == kb_admin.HELP


async def test_a_second_accept_says_it_was_already_done(services: Services) -> None:
    """Two admins, or one double click while the first accept refits: the second is told what
    became of the suggestion, not that there is none."""
    conversation = await services.store.create_conversation("c1", "web", "hash", None)
    taught = ("Do you gift wrap?", "Yes, at checkout for 3 pounds.", "Alice")
    await services.store.apply(Change(conversation, suggestion=taught))
    [pending] = await services.store.suggestions("pending")
    first = await kb_admin.run(services, "accept", str(pending.id), "admin")
    assert first.title == "Accepted"
    second = await kb_admin.run(services, "accept", str(pending.id), "admin")
    assert (second.title, second.lines) == (
        "Already done",
        [f"suggestion #{pending.id} was already accepted (or is being accepted now)"],
    )
    for unknown in ("999", "9" * 20):  # the second is past any id the database holds
        missing = await kb_admin.run(services, "accept", unknown, "admin")
        assert (missing.title, missing.lines) == (
            "Not found",
            [f"no pending suggestion #{unknown}"],
        )

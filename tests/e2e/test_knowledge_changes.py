"""Replicas on one Chroma server: an admin adds knowledge from another machine (``tandem kb
ingest`` with its own data directory, as another replica's ``/kb`` would): the running replica
picks it up, refits its own models and answers from it, without a restart; the admin then
calibrates for another target precision, and the replica recalibrates for it."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp

from tests.e2e.processes import chroma_server, run_cli, serving, tandem_env

LOYALTY = {
    "id": "loyalty-points",
    "title": "Loyalty points",
    "answer": "You earn one Larkspur point per pound spent; points expire after two years.",
}
QUESTIONS = (
    "how do I earn loyalty points",
    "when do loyalty points expire",
    "how many loyalty points do I get per pound",
    "can I spend my loyalty points online",
    "do my points run out",
)


async def ask(session: aiohttp.ClientSession, url: str, text: str) -> dict[str, object]:
    async with session.post(f"{url}/api/ask", json={"text": text}) as response:
        assert response.status == 200
        return await response.json()  # type: ignore[no-any-return]


async def threshold(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as response:
        found = re.search(r"^tandem_answer_threshold (\S+)$", await response.text(), re.M)
    assert found, "the threshold is on /metrics"
    return float(found.group(1))


async def until(check: object, seconds: float = 60) -> None:
    """Wait until the coroutine function ``check`` returns true."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not picked up in time"
        await asyncio.sleep(0.5)


async def test_a_running_service_answers_from_knowledge_ingested_beside_it(
    tmp_path: Path,
) -> None:
    faq = tmp_path / "loyalty.jsonl"
    faq.write_text("".join(json.dumps({**LOYALTY, "question": q}) + "\n" for q in QUESTIONS))
    question = "when will my loyalty points expire?"
    with (
        chroma_server(tmp_path / "chroma", tmp_path / "chroma.log") as chroma,
        serving(
            env := tandem_env(
                tmp_path / "replica",
                TANDEM_KNOWLEDGE__CHROMA_URL=chroma,
                TANDEM_KNOWLEDGE__CHANGE_CHECK_SECONDS="1",
            ),
            tmp_path / "serve.log",
        ) as url,
    ):
        admin = {**env, "TANDEM_KNOWLEDGE__DATA_DIR": str(tmp_path / "admin")}
        async with aiohttp.ClientSession() as session:
            before = await ask(session, url, question)
            assert "Larkspur point" not in str(before.get("text"))
            await asyncio.to_thread(run_cli, admin, "kb", "ingest", str(faq))

            async def answered() -> bool:
                after["text"] = (await ask(session, url, question)).get("text")
                return "Larkspur point" in str(after["text"])

            after: dict[str, object] = {}
            await until(answered)
            served = await threshold(session, url)
            printed = await asyncio.to_thread(
                run_cli, admin, "kb", "calibrate", "--target-precision", "0.6"
            )
            picked = re.search(r"threshold (\d\.\d+)", printed)
            assert picked, printed
            calibrated = float(picked.group(1))
            assert abs(served - calibrated) >= 0.001, "a new threshold"

            async def recalibrated() -> bool:
                return abs(await threshold(session, url) - calibrated) < 0.001

            await until(recalibrated)
    assert "Larkspur point per pound" in str(after["text"])
    assert "models picked up" in (tmp_path / "serve.log").read_text()

"""The aiohttp service on a real socket: health, the ask endpoint, and its guards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot import wording
from config import KnowledgeSettings, Settings
from integrations.web.app import create_app

MAX_TEXT_CHARS = Settings().server.max_message_chars

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestServer]:
    data_dir = tmp_path_factory.mktemp("web") / "data"
    settings = Settings(knowledge=KnowledgeSettings(data_dir=data_dir))
    async with TestServer(create_app(settings)) as test_server:
        yield test_server


async def test_first_start_ingests_the_sample_and_answers(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/healthz")) as response:
            assert response.status == 200
        async with session.post(
            server.make_url("/api/ask"), json={"text": "how long do refunds take?"}
        ) as response:
            body = await response.json()
    assert response.status == 200
    assert body["type"] == "answer"
    assert "3 working days" in body["text"]
    assert body["sources"] == [
        {
            "title": "When will I get my refund?",
            "url": "https://help.larkspur.example/refund-timing",
        }
    ]
    assert "confidence" not in body


async def test_person_request_is_escalated(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/ask"), json={"text": "let me talk to a human"}
        ) as response:
            assert (await response.json())["type"] == "escalated"


async def test_a_customer_at_risk_is_told_where_to_get_help_first(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/ask"), json={"text": "I don't want to be here anymore"}
        ) as response:
            body = await response.json()
    assert body["type"] == "escalated"
    assert body["text"] == f"{wording.CRISIS} {wording.PERSON_SOON}"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"text": ""}', 422, "invalid_text"),
        (b'["text"]', 400, "invalid_json"),
        ('{"text": "caf\u00e9"}'.encode("latin-1"), 400, "invalid_json"),
        (('{"text": "' + "a" * (MAX_TEXT_CHARS + 1) + '"}').encode(), 413, "text_too_long"),
    ],
)
async def test_bad_input_gets_a_json_error(
    server: TestServer, body: bytes, status: int, code: str
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/ask"), data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == status
            assert (await response.json())["error"]["code"] == code
        async with session.get(server.make_url("/healthz")) as response:
            assert response.status == 200, "the server keeps serving"


async def test_oversize_body_is_refused(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/ask"),
            data=b"x" * 200_000,
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 413
            assert (await response.json())["error"]["code"] == "too_large"

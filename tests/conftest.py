"""Shared fixtures: one embedding model per session, and knowledge bases in temp dirs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from config import KnowledgeSettings, Settings
from integrations.composition import Services, build_services
from integrations.storage.sql_store import SqlStore
from integrations.web.accounts import AgentAccount
from integrations.web.app import create_app
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_KB = REPO / "knowledge" / "sample"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def embeddings() -> MiniLMOnnxEmbeddings:
    return MiniLMOnnxEmbeddings()


@pytest.fixture()
def knowledge_settings(tmp_path: Path) -> KnowledgeSettings:
    return KnowledgeSettings(data_dir=tmp_path / "data")


@pytest.fixture()
def empty_kb(
    knowledge_settings: KnowledgeSettings, embeddings: MiniLMOnnxEmbeddings
) -> KnowledgeBase:
    return KnowledgeBase(settings=knowledge_settings, embeddings=embeddings)


@pytest.fixture(scope="session")
def sample_kb(
    tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMOnnxEmbeddings
) -> KnowledgeBase:
    # Shared by the whole session: the questions of many tests must not add up to a traffic
    # share that moves the threshold for the next (tests/knowledge turn it on where tested).
    settings = KnowledgeSettings(
        data_dir=tmp_path_factory.mktemp("sample"), follow_traffic_share=False
    )
    knowledge_base = KnowledgeBase(settings=settings, embeddings=embeddings)
    report = knowledge_base.ingest([SAMPLE_KB])
    assert not report.failed
    return knowledge_base


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No TANDEM_* variables leak in from the machine; work in a temp dir."""
    for name in list(os.environ):
        if name.startswith("TANDEM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def settings_for(tmp_path: Path) -> Settings:
    return Settings(knowledge=KnowledgeSettings(data_dir=tmp_path / "data"))


@pytest_asyncio.fixture()
async def services(tmp_path: Path, sample_kb: KnowledgeBase) -> AsyncIterator[Services]:
    """The whole service on SQLite and the in-process bus, sharing the session's sample KB."""
    built = await build_services(settings_for(tmp_path), sample_kb)
    yield built
    await built.close()


async def add_agent(store: SqlStore, username: str, password: str = "secret-pass") -> None:
    from integrations.web.auth import hash_password

    await store.add_agent(AgentAccount(username, username.title(), hash_password(password)))


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(
    settings: Settings, knowledge_base: KnowledgeBase
) -> AsyncIterator[tuple[TestServer, Services]]:
    """The service with these settings on a real port, sharing a knowledge base."""
    built = await build_services(settings, knowledge_base)
    try:
        async with TestServer(create_app(settings, built)) as server:
            yield server, built
    finally:
        await built.close()

"""The served HTML pages: nothing inline that their own content security policy blocks, a
favicon, same-origin links, and the start-up log naming chunks as chunks (issue 11)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from config import ServerSettings, Settings
from integrations.composition import Services, engine_config, public_url, serving_on
from integrations.web.app import create_app

PAGES = ["/", "/desk"]


class Inline(HTMLParser):
    """Collects what a ``default-src 'self'`` policy blocks: ``<style>`` elements, ``style=``
    attributes, inline script bodies, ``on*=`` handlers and ``javascript:`` URLs; and every
    asset the page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.assets: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "style":
            self.blocked.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            self._script = True
            if not named.get("src"):
                self.blocked.append("<script> without src")
        for name in ("src", "href"):
            value = named.get(name)
            if value and value.startswith("/static/"):
                self.assets.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.blocked.append("inline script body")


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


@pytest.mark.parametrize("path", PAGES)
async def test_pages_have_nothing_inline_their_policy_blocks(server: TestServer, path: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url(path)) as response:
            assert response.status == 200
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        parser = Inline()
        parser.feed(html)
        assert parser.blocked == []
        assert "/static/favicon.svg" in parser.assets
        for asset in parser.assets:
            async with session.get(server.make_url(asset)) as loaded:
                assert loaded.status == 200, asset
    assert "127.0.0.1:8080" not in html


async def test_favicon(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/static/favicon.svg")) as response:
            assert response.status == 200
            assert response.content_type == "image/svg+xml"
            assert (await response.text()).startswith("<svg")
        async with session.get(server.make_url("/favicon.ico"), allow_redirects=False) as moved:
            assert moved.status == 301
            assert moved.headers["Location"] == "/static/favicon.svg"
        async with session.get(server.make_url("/favicon.ico")) as followed:
            assert followed.status == 200
            assert followed.content_type == "image/svg+xml"


def test_public_url_is_the_setting_else_the_serving_address() -> None:
    assert ServerSettings().public_url == ""
    assert public_url(ServerSettings()) == "http://127.0.0.1:8080"
    assert public_url(ServerSettings(host="0.0.0.0", port=9000)) == "http://127.0.0.1:9000"
    assert public_url(ServerSettings(host="::1", port=9000)) == "http://[::1]:9000"
    assert public_url(ServerSettings(host="desk.lan", port=80)) == "http://desk.lan:80"
    given = ServerSettings(public_url="https://help.example/", port=9000)
    assert public_url(given) == "https://help.example"


def test_serve_links_to_the_port_it_serves_on() -> None:
    settings = serving_on(Settings(), None, 9123)
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 9123)
    assert settings.server.public_url == "http://127.0.0.1:9123"
    assert engine_config(settings).public_url == "http://127.0.0.1:9123"
    assert engine_config(serving_on(Settings(), "0.0.0.0", 8081)).public_url.endswith(":8081")
    kept = serving_on(Settings(server=ServerSettings(public_url="https://t.example")), None, 1)
    assert engine_config(kept).public_url == "https://t.example"


async def test_start_up_log_names_chunks_and_articles(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integrations.web.app")
    async with TestServer(create_app(services.settings, services)):
        pass
    ready = next(r for r in caplog.records if r.getMessage() == "tandem ready")
    articles, chunks = ready.__dict__["articles"], ready.__dict__["chunks"]
    assert 0 < articles < chunks == services.knowledge_base.store.count()

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integrations.llm.helpers import OPENED


@pytest.fixture(autouse=True)
async def close_drafters() -> AsyncIterator[None]:
    """Close every drafter's HTTP connections before the test's event loop ends."""
    yield
    while OPENED:
        await OPENED.pop().aclose()

"""The shared card relay's retry policy: which platform failures are retried, and how long it
waits (backoff with jitter, never less than the platform's Retry-After)."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from tenacity import AsyncRetrying, RetryCallState

from integrations.relay import MAX_WAIT_SECONDS, TransientError, _wait
from integrations.slack.cards import transient


def slack_error(status: int, headers: dict[str, Any] | None = None) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


def failed_state(error: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(AsyncRetrying(), None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_slack_retries_429_5xx_and_transport_errors_only() -> None:
    limited = transient(slack_error(429, {"Retry-After": "7"}))
    assert limited is not None and limited.retry_after == 7.0
    assert transient(slack_error(503)) is not None
    assert transient(ConnectionResetError()) is not None
    assert transient(slack_error(200)) is None, "invalid_auth and the like are not retried"
    assert transient(ValueError("bug")) is None


def test_the_wait_has_jitter_and_honours_retry_after() -> None:
    waits = {_wait(failed_state(TransientError("x"), attempt=4)) for _ in range(20)}
    assert len(waits) > 1 and all(0 <= w <= MAX_WAIT_SECONDS for w in waits)
    assert _wait(failed_state(TransientError("x", retry_after=30))) >= 30
    assert _wait(failed_state(TransientError("x", retry_after=86400))) == MAX_WAIT_SECONDS


def test_teams_retries_transport_failures_that_msrest_wraps() -> None:
    from msrest.exceptions import ClientRequestError

    from integrations.teams.channel import transient as teams_transient

    refused = ClientRequestError(
        "Error occurred in request.", inner_exception=aiohttp.ClientConnectionError("refused")
    )
    assert teams_transient(refused) is not None
    assert teams_transient(ValueError("a bug")) is None

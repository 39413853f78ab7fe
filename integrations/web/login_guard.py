"""Failed desk logins are limited per account and per address (a moving window in memory, per
replica), so a password cannot be guessed at speed."""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from integrations.web.errors import ApiError

WINDOW_SECONDS = 300.0
PER_ACCOUNT = 5
PER_ADDRESS = 20
MAX_KEYS = 10_000  # the least recently failed keys are forgotten first


class LoginGuard:
    """Counts failed logins in a moving window.

    Args:
        per_account: Failures allowed per username in the window.
        per_address: Failures allowed per client address in the window.
        window: The window in seconds.
    """

    def __init__(
        self,
        *,
        per_account: int = PER_ACCOUNT,
        per_address: int = PER_ADDRESS,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def check(self, username: str, address: str) -> None:
        """Raise a 429 with ``Retry-After`` if either key has failed too often."""
        now = time.monotonic()
        for kind, key in (("account", username.lower()), ("address", address)):
            failures = self._recent((kind, key), now)
            if len(failures) >= self._limits[kind]:
                wait = max(1, int(failures[0] + self._window - now) + 1)
                raise ApiError(
                    429,
                    "too_many_failed_logins",
                    f"too many failed sign-ins for this {kind}; try again in {wait} s",
                    retry_after=wait,
                )

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        for key in (("account", username.lower()), ("address", address)):
            self._recent(key, now).append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("account", username.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

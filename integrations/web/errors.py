"""API errors: an HTTP status, a machine-readable code and a sentence."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class ApiError(Exception):
    """An error with an HTTP status and a machine-readable code."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """A JSON error body: ``{"error": {"code", "message", …}}``."""
    body = {"error": {"code": code, "message": message, **extra}}
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return web.json_response(body, status=status, headers=headers)

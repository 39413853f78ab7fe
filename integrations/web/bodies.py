"""Request bodies and query values read defensively: every malformed input is a JSON 4xx before
any work (deep nesting, a bad charset, lone surrogates, NUL characters, huge integers)."""

from __future__ import annotations

import codecs
import json
from typing import Any

from aiohttp import web

from integrations.storage.tables import MAX_ID
from integrations.web.errors import ApiError

MAX_DEPTH = 32


async def read_json(request: web.Request) -> Any:
    """The body parsed as JSON (any value), or a 400/415 that names the problem."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body (application/json)")
    charset = request.charset or "utf-8"
    try:
        if codecs.lookup(charset).name != "utf-8":
            raise LookupError(charset)
    except LookupError as failure:
        raise ApiError(415, "unsupported_charset", "the body must be UTF-8 JSON") from failure
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise ApiError(400, "invalid_json", "the body is not UTF-8") from failure
    return parse_json(text)


def parse_json(text: str) -> Any:
    """``text`` parsed as JSON (any value), or a 400 that names the problem: not JSON, nested
    too deeply, lone surrogates or NUL characters in its strings."""
    try:
        value = json.loads(text)
    except RecursionError as failure:
        raise ApiError(400, "invalid_json", "the JSON is nested too deeply") from failure
    except ValueError as failure:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from failure
    _check(value, 0)
    return value


def _check(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ApiError(400, "invalid_json", f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def check_text(text: str) -> None:
    """Text every database can store: no lone surrogates, no NUL characters."""
    if "\x00" in text:
        raise ApiError(400, "invalid_text", "text may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as failure:
        raise ApiError(400, "invalid_text", "text must be valid Unicode") from failure


def _query_int(request: web.Request, name: str, default: int) -> int | None:
    """An integer from the query string (``default`` when absent); None if it is not one."""
    try:
        return int(request.query.get(name, str(default)))
    except ValueError:
        return None


def query_id(request: web.Request, name: str, default: int = 0) -> int:
    """A non-negative integer id from the query string, or a 400 naming it."""
    value = _query_int(request, name, default)
    if value is None:
        raise ApiError(400, f"invalid_{name}", f"'{name}' must be an integer id")
    if not 0 <= value <= MAX_ID:
        raise ApiError(400, f"invalid_{name}", f"'{name}' must be between 0 and {MAX_ID}")
    return value


def query_count(request: web.Request, name: str, default: int, most: int) -> int:
    """A count from 1 to ``most`` from the query string (``limit``), or a 400 naming it."""
    value = _query_int(request, name, default)
    if value is None or not 0 < value <= most:
        raise ApiError(400, f"invalid_{name}", f"'{name}' must be a whole number from 1 to {most}")
    return value


def path_id(request: web.Request, name: str) -> int:
    """An integer id from the path, or a 404."""
    try:
        value = int(request.match_info[name])
    except ValueError as failure:
        raise ApiError(404, "not_found", f"unknown {name}") from failure
    if not 0 <= value <= MAX_ID:
        raise ApiError(404, "not_found", f"unknown {name}")
    return value

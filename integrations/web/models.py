"""Request bodies as pydantic models: a malformed body is a 422 that names the field (code
``invalid_<field>``), a text over its limit a 413 (``<field>_too_long``)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.conversation import ActionKind
from integrations.web.errors import ApiError

Body = TypeVar("Body", bound=BaseModel)
LONG = frozenset({"string_too_long"})


class Strict(BaseModel):
    """Strict types (no number as text), unknown fields ignored, text stripped."""

    model_config = ConfigDict(strict=True, str_strip_whitespace=True, extra="ignore")


class LoginBody(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class ActionBody(Strict):
    """An agent action from the desk; ``text`` is checked against the server's limit."""

    action: ActionKind = Field(strict=False)  # JSON carries the action's name
    text: str | None = None
    key: str | None = Field(default=None, min_length=1, max_length=200)
    version: int | None = Field(default=None, ge=0)  # the draft version the agent saw


class TagBody(Strict):
    """``article_id`` names the article that answered; null: not in the knowledge base. It is
    required: a body without it is a mistake, not a "not in the knowledge base" that teaches."""

    article_id: str | None = Field(min_length=1, max_length=255)


class ReviewBody(Strict):
    """An agent's review of a bot answer: ``right``, and for a wrong one optionally the article
    that should have answered (``article_id``)."""

    right: bool
    article_id: str | None = Field(default=None, min_length=1, max_length=255)


class OpenBody(Strict):
    """Opening a conversation: an optional customer reference (an id or a name)."""

    customer: str | None = Field(default=None, max_length=200)


class TextBody(Strict):
    """A customer's message or question; its length is checked against the server's limit."""

    text: str = Field(min_length=1)


def message_text(body: dict[str, Any], limit: int) -> str:
    """The ``text`` of ``body``: non-empty, at most ``limit`` characters (else a 413)."""
    return within(parse(TextBody, body).text, "text", limit)


def within(text: str, field: str, limit: int) -> str:
    if len(text) > limit:
        raise ApiError(413, f"{field}_too_long", f"'{field}' is limited to {limit} characters")
    return text


def parse(model: type[Body], body: dict[str, Any]) -> Body:
    """``body`` as ``model``, or an ``ApiError`` naming the first field that is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as failure:
        error = failure.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "body"
        if error["type"] in LONG:
            limit = (error.get("ctx") or {}).get("max_length")
            raise ApiError(
                413, f"{field}_too_long", f"'{field}' is limited to {limit} characters"
            ) from failure
        raise ApiError(422, f"invalid_{field}", _message(model, field)) from failure


def _message(model: type[BaseModel], field: str) -> str:
    if model is ActionBody and field == "action":
        return "'action' must be one of: " + ", ".join(k.value for k in ActionKind)
    if model is TagBody:
        return "'article_id' must be an article id or null"
    if field == "text":
        return "'text' must be a non-empty string"
    return f"'{field}' is missing or not valid"

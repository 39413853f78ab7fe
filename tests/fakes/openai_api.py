"""Local fakes of an OpenAI-compatible chat API and of Ollama's ``/api/chat``: they check each
request's shape, record it, and answer from a script: tool calls (structured output), JSON or
text content, streamed or not, an HTTP status with headers (429 with ``Retry-After``, 500),
a reply slower than the client's timeout, or malformed output."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalFake


@dataclass(frozen=True)
class Status:
    """Answer with an HTTP error."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before answering with ``then``."""

    seconds: float
    then: Any = None


@dataclass(frozen=True)
class Raw:
    """Tool arguments (or content) exactly as given, valid JSON or not."""

    text: str


@dataclass(frozen=True)
class Text:
    """Plain content instead of a tool call."""

    text: str


Reply = dict[str, Any] | Status | Slow | Raw | Text


class ScriptedChat(LocalFake):
    """What the two fakes share: scripts per tool name (the schema's name) or ``text``."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.problems: list[str] = []
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._last: dict[str, Reply] = {}

    def script(self, name: str, *replies: Reply) -> None:
        """Queue replies for requests that ask for tool ``name`` (``text``: no tool); the last
        one answers every later request too."""
        self._scripts[name].extend(replies)

    def sent_text(self) -> str:
        """Everything clients sent in messages, as one string (for masking checks)."""
        return "\n".join(
            str(m.get("content")) for r in self.requests for m in r.get("messages", [])
        )

    def next_reply(self, name: str) -> Reply:
        """The next queued reply; once the queue is empty, the last one again."""
        queue = self._scripts[name]
        if queue:
            self._last[name] = queue.popleft()
        if name not in self._last:
            self.problems.append(f"no scripted reply for {name}")
            return Status(500)
        return self._last[name]

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        problem = self.check_shape(body)
        if problem:
            self.problems.append(problem)
            self.recorded()
            return web.json_response({"error": {"message": problem}}, status=400)
        tools = body.get("tools") or []
        name = tools[0]["function"]["name"] if tools else "text"
        reply = self.next_reply(name)
        while isinstance(reply, Slow):
            await asyncio.sleep(reply.seconds)
            reply = reply.then
        self.recorded()
        if isinstance(reply, Status):
            error = {"error": {"message": "scripted", "type": "scripted", "code": reply.code}}
            return web.json_response(error, status=reply.code, headers=reply.headers)
        return await self.respond(request, body, name, reply)

    def check_shape(self, body: dict[str, Any]) -> str | None:
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not isinstance(messages, list):
            return "model and messages are required"
        for message in messages:
            if message.get("role") not in ("system", "user", "assistant", "tool"):
                return f"bad role {message.get('role')!r}"
        return None

    async def respond(
        self, request: web.Request, body: dict[str, Any], name: str, reply: Reply
    ) -> web.StreamResponse:
        raise NotImplementedError


class FakeOpenAI(ScriptedChat):
    """``POST /v1/chat/completions``, as the OpenAI SDK (and vLLM, LM Studio…) speak it."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.answer)

    @property
    def base_url(self) -> str:
        return self.url_of("/v1")

    def check_shape(self, body: dict[str, Any]) -> str | None:
        problem = super().check_shape(body)
        for tool in body.get("tools") or []:
            if tool.get("type") != "function" or "parameters" not in tool.get("function", {}):
                return "tools must be functions with parameters"
        return problem

    async def respond(
        self, request: web.Request, body: dict[str, Any], name: str, reply: Reply
    ) -> web.StreamResponse:
        content: str | None = None
        call: dict[str, Any] | None = None
        if isinstance(reply, Text):
            content = reply.text
        else:
            arguments = reply.text if isinstance(reply, Raw) else json.dumps(reply)
            call = {"id": "call_1", "type": "function"}
            call["function"] = {"name": name, "arguments": arguments}
        usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        if body.get("stream"):
            return await self._stream(request, body, content, call, usage)
        message = {"role": "assistant", "content": content}
        if call:
            message["tool_calls"] = [call]
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if call else "stop",
                    }
                ],
                "usage": usage,
            }
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        content: str | None,
        call: dict[str, Any] | None,
        usage: dict[str, int],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        if call:
            args = call["function"]["arguments"]
            first = {**call, "index": 0, "function": {"name": call["function"]["name"]}}
            first["function"]["arguments"] = ""
            await send({"role": "assistant", "tool_calls": [first]})
            for i in range(0, len(args), 16):
                piece = {"index": 0, "function": {"arguments": args[i : i + 16]}}
                await send({"tool_calls": [piece]})
            await send({}, "tool_calls")
        else:
            text = content or ""
            await send({"role": "assistant", "content": ""})
            for i in range(0, len(text), 8):
                await send({"content": text[i : i + 8]})
            await send({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0}
            tail |= {"model": body["model"], "choices": [], "usage": usage}
            await response.write(f"data: {json.dumps(tail)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


class FakeOllama(ScriptedChat):
    """``POST /api/chat``, as Ollama speaks it (newline-delimited JSON when streaming)."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/chat", self.answer)

    @property
    def base_url(self) -> str:
        return self.url_of("/").rstrip("/")

    async def respond(
        self, request: web.Request, body: dict[str, Any], name: str, reply: Reply
    ) -> web.StreamResponse:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if isinstance(reply, Text | Raw):
            message["content"] = reply.text
        else:
            message["tool_calls"] = [{"function": {"name": name, "arguments": reply}}]
        base = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        done = {**base, "message": {"role": "assistant", "content": ""}, "done": True}
        done |= {"done_reason": "stop", "prompt_eval_count": 90, "eval_count": 20}
        lines = [{**base, "message": message, "done": False}, done]
        if not body.get("stream", True):
            return web.json_response({**done, "message": message})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in lines:
            await response.write((json.dumps(line) + "\n").encode())
        await response.write_eof()
        return response

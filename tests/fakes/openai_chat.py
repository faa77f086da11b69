"""A local fake of OpenAI's Chat Completions API, scripted by the test, for the real ``ChatOpenAI``.

Serve it with ``tests.fakes.servers.serve_in_thread(fake.app())``; the base URL to configure is the
URL it yields + ``/v1``::

    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        llm = LLMSettings(provider="openai", base_url=url + "/v1")
        model = build_chat_model(llm, fake.api_key)
        fake.script("Olá! Em que posso ajudar?")
        fake.script(tool_call("update_lead", {"name": "Ana"}))

``POST /v1/chat/completions`` (non-streaming) checks the request as OpenAI does and answers in its
format: ``model`` and a non-empty ``messages`` list are required; roles are system, developer,
user, assistant, tool; an assistant message's ``tool_calls`` must each be answered by a following
``tool`` message with its ``tool_call_id``, and a tool message must answer such a call (else 400,
as OpenAI answers); ``tools`` are ``{"type": "function", "function": {"name", ...}}``;
``tool_choice`` is none/auto/required or names a function; ``stream: true`` is refused here.

What it answers, in order:

1. a queued failure (``fail_next(n, status, retry_after)``: OpenAI's error JSON, with a
   ``Retry-After`` header when given);
2. 401 ``invalid_api_key`` when ``api_key`` is set and ``Authorization: Bearer <api_key>`` is not
   sent (an empty ``api_key`` accepts any, like a local server);
3. the next scripted reply (``script(*replies)``); else ``responder(request_json)`` when set
   (return None to fall through); else ``default_reply``; with none of them, 400 "no scripted
   reply" (not retried by clients, so an unexpected call fails fast).

``stall_next(n, seconds)``: the next n requests are answered only after ``seconds`` (a client
timeout). A stalled request takes its answer, scripted reply included, when it arrives, so the
client's retry gets the next one.

A reply is a ``str`` (text), a ``Reply``, or a dict with ``content`` and/or ``tool_calls``
(``[{"name", "args": {...}}]``, ``"arguments"`` as a JSON string also accepted, ``"id"`` optional).
``tool_call(name, args)`` / ``tool_calls(...)`` build them. A scripted tool that the request did
not offer in ``tools`` is a 400 (the real API never calls an unknown tool) unless
``check_tool_names`` is False. ``usage`` counts words (prompt: every message's text; completion:
the content and arguments) unless the reply gives its own.

Every request is recorded in ``fake.requests`` (``{"path", "headers", "body", "status"}``);
``bodies()``, ``last_body()``, ``reset()``; ``last_user_text(body)`` and ``tool_results(body)`` help
responders.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROLES = {"system", "developer", "user", "assistant", "tool"}
_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 20ms."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass
class Reply:
    """One scripted answer: text and/or tool calls (``{"name", "args"}``, optional ``"id"``)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] | None = None  # {"prompt_tokens", "completion_tokens"}; None = counted
    finish_reason: str | None = None  # None = "tool_calls" when there are calls, else "stop"


def tool_call(
    name: str, args: dict[str, Any] | None = None, *, content: str | None = None, call_id: str | None = None
) -> Reply:
    """A reply calling one tool."""
    call: dict[str, Any] = {"name": name, "args": dict(args or {})}
    if call_id:
        call["id"] = call_id
    return Reply(content=content, tool_calls=[call])


def tool_calls(*calls: tuple[str, dict[str, Any]], content: str | None = None) -> Reply:
    """A reply calling several tools at once (parallel tool calls): ``(name, args)`` pairs."""
    return Reply(content=content, tool_calls=[{"name": n, "args": dict(a)} for n, a in calls])


def text_of(content: Any) -> str:
    """A message's content as text (a string, or a list of ``{"type": "text", "text"}`` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return ""


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the request's last user message ("" when none)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def tool_results(body: dict[str, Any]) -> dict[str, str]:
    """tool_call_id -> content of the tool messages in the request."""
    return {
        m.get("tool_call_id"): text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "tool"
    }


def _words(text: str) -> int:
    return len(text.split())


@dataclass
class FakeOpenAIChat:
    api_key: str = field(default_factory=lambda: "sk-test-" + secrets.token_hex(12))
    default_reply: str | Reply | dict[str, Any] | None = None
    responder: Callable[[dict[str, Any]], Any] | None = None
    check_tool_names: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    _script: list[Any] = field(default_factory=list)
    _failures: list[tuple[int, float | None]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- test API ---------------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])])

    def script(self, *replies: str | Reply | dict[str, Any]) -> None:
        """Queue replies, answered one per request, in order."""
        with self._lock:
            self._script.extend(replies)

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """The next n requests fail with `status` (and a Retry-After header when given)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def stall_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """The next n requests answer only after `seconds` (they still take their scripted reply)."""
        with self._lock:
            self._stalls.extend([seconds] * n)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._script)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self._failures.clear()
            self._stalls.clear()

    def bodies(self) -> list[Any]:
        return [r["body"] for r in self.requests]

    def last_body(self) -> dict[str, Any]:
        return self.requests[-1]["body"]

    # -- the endpoint -----------------------------------------------------------------------------
    async def _completions(self, request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        entry: dict[str, Any] = {"path": request.url.path, "headers": dict(request.headers), "body": body}
        with self._lock:
            self.requests.append(entry)
            stall = self._stalls.pop(0) if self._stalls else None
            failure = self._failures.pop(0) if self._failures else None
        # the answer (and its scripted reply) is taken on arrival: a retry after a stall gets the next one
        response = self._answer(request, body, failure)
        entry["status"] = response.status_code
        if stall:
            await asyncio.sleep(stall)
        return response

    @staticmethod
    def _error(
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": message, "type": type_, "param": param, "code": code}},
            status_code=status,
            headers=headers,
        )

    def _answer(self, request: Request, body: Any, failure: tuple[int, float | None] | None) -> JSONResponse:
        if failure is not None:
            status, retry_after = failure
            type_, code, message = _ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
            headers = None if retry_after is None else {"retry-after": f"{retry_after:g}"}
            return self._error(status, message, type_, code, headers=headers)
        auth = request.headers.get("authorization", "")
        if self.api_key and auth != f"Bearer {self.api_key}":
            given = auth.removeprefix("Bearer ")
            masked = f"{given[:3]}{'*' * 10}{given[-4:]}" if len(given) > 8 else "***"
            return self._error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        problem = self._check(body)
        if problem is not None:
            return self._error(400, problem[0], param=problem[1])
        reply = self._next_reply(body)
        if reply is None:
            return self._error(400, "FakeOpenAIChat: no scripted reply for this request (script() one)")
        return self._completion(body, reply)

    @staticmethod
    def _check(body: Any) -> tuple[str, str | None] | None:
        """OpenAI's validation of a request: (message, param) of the first problem, or None."""
        if not isinstance(body, dict):
            return "We could not parse the JSON body of your request.", None
        if not body.get("model"):
            return "you must provide a model parameter", "model"
        if body.get("stream"):
            return "FakeOpenAIChat does not stream (stream: true)", "stream"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array", "messages"
        open_calls: list[str] = []  # ids of the last assistant message's calls still unanswered
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ROLES:
                return f"Invalid value: '{role}'. Supported values are: {', '.join(sorted(ROLES))}.", (
                    f"messages[{i}].role"
                )
            if role == "tool":
                call_id = message.get("tool_call_id")
                if call_id not in open_calls:
                    return (
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                        "message with 'tool_calls'.",
                        f"messages[{i}].role",
                    )
                open_calls.remove(call_id)
                continue
            if open_calls:
                return (
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                    f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                    f"{', '.join(open_calls)}",
                    f"messages[{i}].role",
                )
            if role == "assistant":
                for call in message.get("tool_calls") or []:
                    function = call.get("function") or {}
                    if call.get("type") != "function" or not function.get("name") or not call.get("id"):
                        return "Invalid tool call in an assistant message", f"messages[{i}].tool_calls"
                    try:
                        json.loads(function.get("arguments") or "")
                    except ValueError:
                        return "tool call arguments must be a JSON string", f"messages[{i}].tool_calls"
                    open_calls.append(call["id"])
            elif message.get("content") is None:
                return f"Missing required parameter: 'messages[{i}].content'.", f"messages[{i}].content"
        if open_calls:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(open_calls)}",
                "messages",
            )
        tools = body.get("tools")
        if tools is not None:
            if not isinstance(tools, list) or not tools:
                return "'tools' must be a non-empty array when given", "tools"
            for i, tool in enumerate(tools):
                if (
                    not isinstance(tool, dict)
                    or tool.get("type") != "function"
                    or not (tool.get("function") or {}).get("name")
                ):
                    return f"Missing required parameter: 'tools[{i}].function.name'.", f"tools[{i}]"
        choice = body.get("tool_choice")
        if choice is not None:
            names = {t["function"]["name"] for t in tools or []}
            if isinstance(choice, str):
                if choice not in ("none", "auto", "required"):
                    return f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.", (
                        "tool_choice"
                    )
                if choice != "none" and not tools:
                    return (
                        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                        ("tool_choice"),
                    )
            elif isinstance(choice, dict):
                name = (choice.get("function") or {}).get("name")
                if name not in names:
                    return f"Invalid value for 'tool_choice': no function named '{name}' in 'tools'.", "tool_choice"
            else:
                return "Invalid type for 'tool_choice'", "tool_choice"
        return None

    def _next_reply(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            scripted = self._script.pop(0) if self._script else None
        reply = scripted
        if reply is None and self.responder is not None:
            reply = self.responder(body)
        if reply is None:
            reply = self.default_reply
        return None if reply is None else _as_reply(reply)

    def _completion(self, body: dict[str, Any], reply: Reply) -> JSONResponse:
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        calls = []
        for call in reply.tool_calls:
            name = call["name"]
            if self.check_tool_names and name not in offered:
                return self._error(
                    400,
                    f"FakeOpenAIChat: the scripted tool call {name!r} is not among the request's tools "
                    f"({', '.join(sorted(offered)) or 'none'})",
                )
            arguments = call.get("arguments")
            if arguments is None:
                arguments = json.dumps(call.get("args") or {}, ensure_ascii=False)
            calls.append(
                {
                    "id": call.get("id") or "call_" + secrets.token_hex(12),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            )
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None, "annotations": []}
        if calls:
            message["tool_calls"] = calls
        elif message["content"] is None:
            message["content"] = ""
        if reply.usage is not None:
            prompt = int(reply.usage.get("prompt_tokens", 0))
            completion = int(reply.usage.get("completion_tokens", 0))
        else:
            prompt = sum(_words(text_of(m.get("content"))) for m in body["messages"]) + len(offered)
            completion = _words(reply.content or "") + sum(_words(c["function"]["arguments"]) for c in calls)
        return JSONResponse(
            {
                "id": "chatcmpl-" + secrets.token_hex(12),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": reply.finish_reason or ("tool_calls" if calls else "stop"),
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )


def _as_reply(reply: Any) -> Reply:
    if isinstance(reply, Reply):
        return reply
    if isinstance(reply, str):
        return Reply(content=reply)
    if isinstance(reply, dict):
        return Reply(
            content=reply.get("content"),
            tool_calls=list(reply.get("tool_calls") or []),
            usage=reply.get("usage"),
            finish_reason=reply.get("finish_reason"),
        )
    raise TypeError(f"a reply is a str, a Reply or a dict, not {type(reply).__name__}")

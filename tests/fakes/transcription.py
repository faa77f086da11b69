"""Local fakes of the speech-to-text APIs, speaking their wire formats.

Run one with ``tests.fakes.servers.serve_in_thread(fake.app())``; the URL it yields is the
provider's base URL (``OPENAI_BASE_URL`` is that URL + ``/v1``; ``GEMINI_BASE_URL`` is the URL).

Both record every attempt in ``fake.requests`` (dicts with ``path``, ``headers``, ``status`` and
what was sent) and offer:

* ``text``: what the next transcriptions say (default: a short Portuguese question);
* ``fail_next(n, status=500, retry_after=None)``: the next n requests fail with the provider's
  error JSON (and a ``Retry-After`` header when given);
* ``stall_next(n, seconds)``: the next n requests answer only after ``seconds`` (client timeouts).

``FakeOpenAITranscription``: ``POST /v1/audio/transcriptions``, multipart form (``file``,
``model``, optional ``language``, ``prompt``, ``response_format``), ``Authorization: Bearer
<api_key>`` (else 401 ``invalid_api_key``; an empty ``api_key`` accepts any, like a local server).
A missing file or model is a 400, as OpenAI answers; an unknown model a 404. ``response_format``
``json`` (default) answers ``{"text": ...}``, ``text`` the bare text, ``verbose_json`` adds
``language`` and ``duration``. Recorded: ``form`` (the fields but the file), ``filename``,
``content_type`` and ``file`` (its bytes).

``FakeGeminiTranscription``: ``POST /{version}/models/{model}:generateContent``, key in
``x-goog-api-key`` or ``?key=`` (else 400 ``API_KEY_INVALID``, as Google answers). Answers one
candidate whose text is ``fake.text``. Recorded: ``body`` (the JSON sent) and, parsed from it,
``inline`` (a list of ``{"mime_type", "data"}`` with the decoded bytes), ``prompt`` (the text
parts joined) and ``generation_config``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

DEFAULT_TEXT = "Bom dia, qual é o preço da limpeza?"


@dataclass
class _FakeBase:
    api_key: str = ""
    text: str = DEFAULT_TEXT
    requests: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[int, float | None]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """The next n requests fail with `status` (and a Retry-After header when given)."""
        self._failures.extend([(status, retry_after)] * n)

    def stall_next(self, n: int = 1, seconds: float = 1.0) -> None:
        self._stalls.extend([seconds] * n)

    def reset(self) -> None:
        self.requests.clear()
        self._failures.clear()
        self._stalls.clear()
        self.text = DEFAULT_TEXT

    @staticmethod
    def _retry_after_headers(retry_after: float | None) -> dict[str, str] | None:
        return None if retry_after is None else {"retry-after": f"{retry_after:g}"}

    async def _stall(self, request: Request) -> None:
        # decided on arrival: a request still stalled when the next test queues failures must not take them
        request.state.failure = self._failures.pop(0) if self._failures else None
        if self._stalls:
            await asyncio.sleep(self._stalls.pop(0))


# ---------------------------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------------------------
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 20ms."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass
class FakeOpenAITranscription(_FakeBase):
    api_key: str = field(default_factory=lambda: "sk-test-" + secrets.token_hex(12))
    models: tuple[str, ...] = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/audio/transcriptions", self._transcriptions, methods=["POST"])])

    @staticmethod
    def _error(
        status: int,
        message: str,
        type_: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        return JSONResponse(body, status_code=status, headers=headers)

    async def _transcriptions(self, request: Request) -> Response:
        entry: dict[str, Any] = {"path": request.url.path, "headers": dict(request.headers)}
        self.requests.append(entry)
        form_data = await request.form()
        form: dict[str, str] = {}
        for name, value in form_data.multi_items():
            if hasattr(value, "read"):
                entry["filename"] = value.filename
                entry["content_type"] = value.content_type
                entry["file"] = await value.read()
            else:
                form[name] = str(value)
        entry["form"] = form
        await self._stall(request)
        response = self._answer(request, entry)
        entry["status"] = response.status_code
        return response

    def _answer(self, request: Request, entry: dict[str, Any]) -> Response:
        if request.state.failure:
            status, retry_after = request.state.failure
            type_, code, message = _OPENAI_ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
            return self._error(status, message, type_, code, headers=self._retry_after_headers(retry_after))
        auth = request.headers.get("authorization", "")
        if self.api_key and auth != f"Bearer {self.api_key}":
            shown = auth.removeprefix("Bearer ")
            masked = f"{shown[:3]}***{shown[-4:]}" if len(shown) > 8 else "***"
            return self._error(
                401, f"Incorrect API key provided: {masked}.", "invalid_request_error", "invalid_api_key"
            )
        form = entry["form"]
        if "file" not in entry:
            return self._error(400, "Missing required parameter: 'file'.", "invalid_request_error", param="file")
        if not form.get("model"):
            return self._error(400, "Missing required parameter: 'model'.", "invalid_request_error", param="model")
        if form["model"] not in self.models:
            return self._error(
                404, f"The model `{form['model']}` does not exist.", "invalid_request_error", "model_not_found"
            )
        if not entry["file"]:
            return self._error(400, "Audio file is empty.", "invalid_request_error", param="file")
        response_format = form.get("response_format", "json")
        if response_format == "text":
            return PlainTextResponse(self.text + "\n")
        if response_format == "verbose_json":
            return JSONResponse({"task": "transcribe", "language": "portuguese", "duration": 1.0, "text": self.text})
        return JSONResponse({"text": self.text})


# ---------------------------------------------------------------------------------------------
# Gemini
# ---------------------------------------------------------------------------------------------
_GEMINI_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}


@dataclass
class FakeGeminiTranscription(_FakeBase):
    api_key: str = field(default_factory=lambda: "AIza-test-" + secrets.token_hex(12))
    models: tuple[str, ...] = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{version}/models/{model_action}", self._models, methods=["POST"])])

    @staticmethod
    def _error(
        status: int, message: str, status_text: str, details: list | None = None, headers: dict | None = None
    ) -> JSONResponse:
        error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
        if details:
            error["details"] = details
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    async def _models(self, request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        entry: dict[str, Any] = {
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": dict(request.headers),
            "body": body,
        }
        entry.update(_parse_generate_content(body))
        self.requests.append(entry)
        await self._stall(request)
        response = self._answer(request, body)
        entry["status"] = response.status_code
        return response

    def _answer(self, request: Request, body: Any) -> JSONResponse:
        if request.state.failure:
            status, retry_after = request.state.failure
            status_text, message = _GEMINI_ERRORS.get(status, ("UNKNOWN", f"HTTP {status}"))
            return self._error(status, message, status_text, headers=self._retry_after_headers(retry_after))
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if key != self.api_key:
            return self._error(
                400,
                "API key not valid. Please pass a valid API key.",
                "INVALID_ARGUMENT",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        model, _, action = request.path_params["model_action"].partition(":")
        if model not in self.models or action != "generateContent":
            return self._error(
                404,
                f"models/{model} is not found for API version {request.path_params['version']}, or is not "
                f"supported for {action}. Call ListModels to see the list of available models and their "
                "supported methods.",
                "NOT_FOUND",
            )
        if not isinstance(body, dict) or not body.get("contents"):
            return self._error(400, "* GenerateContentRequest.contents: contents is not specified", "INVALID_ARGUMENT")
        return JSONResponse(
            {
                "candidates": [
                    {"content": {"parts": [{"text": self.text}], "role": "model"}, "finishReason": "STOP", "index": 0}
                ],
                "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 12, "totalTokenCount": 132},
                "modelVersion": model,
            }
        )


def _b64(text: str) -> bytes:
    """Base64 as the API accepts it: standard or URL-safe alphabet (google-genai sends URL-safe),
    padded or not."""
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _parse_generate_content(body: Any) -> dict[str, Any]:
    """The inline data (decoded), the prompt text and the generation config of a request body."""
    inline: list[dict[str, Any]] = []
    texts: list[str] = []
    if isinstance(body, dict):
        for content in body.get("contents") or []:
            for part in (content or {}).get("parts") or []:
                data = part.get("inlineData") or part.get("inline_data")
                if data:
                    inline.append(
                        {
                            "mime_type": data.get("mimeType") or data.get("mime_type"),
                            "data": _b64(data.get("data") or ""),
                        }
                    )
                if part.get("text"):
                    texts.append(part["text"])
    config = body.get("generationConfig") if isinstance(body, dict) else None
    return {"inline": inline, "prompt": "\n".join(texts), "generation_config": config or {}}

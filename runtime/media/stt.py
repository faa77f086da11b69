"""Speech-to-text for the voice notes leads send (WhatsApp: OGG/Opus; also MP3, M4A, WAV, WebM...).

``get_transcriber(settings)`` returns the configured provider (one per configuration), or None for
``STT_PROVIDER=none``:

* ``whisper`` (default): faster-whisper (CTranslate2) on the CPU, in process. WHISPER_MODEL is a
  model name (``small``, ``medium``, ``base``... or a Hugging Face repo id of a CTranslate2 Whisper
  model), downloaded once into WHISPER_CACHE_DIR (default DATA_DIR/models), or a local folder
  holding ``model.bin``, ``config.json``, ``tokenizer.json`` and ``vocabulary.*`` (no network).
  The model is loaded on first use, once per process. Silence is cut by the bundled Silero VAD;
  a note with no speech gives a Transcript with text "" (the caller decides what to say).
* ``openai``: ``POST {OPENAI_BASE_URL}/audio/transcriptions`` (multipart: file, model, language)
  through the openai SDK; OPENAI_STT_MODEL (``whisper-1`` by default; ``gpt-4o-transcribe``...).
  Any OpenAI-compatible server works (OPENAI_BASE_URL; the key may then be empty).
* ``gemini``: ``:generateContent`` with the audio inline and an instruction to transcribe it
  verbatim, through google-genai (GEMINI_STT_MODEL, ``gemini-2.5-flash`` by default).
  GEMINI_BASE_URL points it at a proxy or a local fake.

Every provider first decodes the audio locally (PyAV, which bundles FFmpeg): an empty, corrupt or
non-audio file, or one over MEDIA_MAX_BYTES, raises ``TranscriptionError`` before anything is sent,
and the decoded length gives ``duration_seconds``. A note longer than MEDIA_MAX_AUDIO_SECONDS is
refused too: ffprobe reads the length the container declares first (a 7-hour note of 16 MB is
refused without decoding it), and decoding stops once it passes the limit (containers can lie).
Transcripts are cleaned of what PostgreSQL refuses (NUL, lone surrogates) before they are returned.
A remote provider gets the original file when it accepts that container, else a 16 kHz mono WAV
made from the decoded audio. The language is forced
(STT_LANGUAGE, ``pt`` by default; ``auto`` lets Whisper detect it): short clips are often
misdetected. Transient HTTP failures (408, 409, 429, 5xx, timeouts, lost connections) are retried
with exponential backoff (honouring Retry-After up to 10 s); other errors fail at once. Every
``TranscriptionError`` message is pt-BR, says what to fix, and never contains an API key.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from runtime.pgtext import pg_text
from runtime.provider_errors import (
    Endpoint,
    RetryPolicy,
    call_with_retries,
    describe,
    exhausted_note,
    plain_secret,
)

if TYPE_CHECKING:
    import numpy as np

    from runtime.config import Settings

log = logging.getLogger(__name__)

PROVIDERS = ("none", "whisper", "gemini", "openai")
SAMPLE_RATE = 16_000  # what Whisper models take; also the rate of the WAV sent to remote providers
DEFAULT_WHISPER_MODEL = "small"
DEFAULT_OPENAI_MODEL = "whisper-1"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
DEFAULT_MAX_BYTES = 16_000_000
DEFAULT_MAX_SECONDS = 600.0
PROBE_TIMEOUT_SECONDS = 20.0
TOO_BIG = "áudio grande demais para o provedor"  # the hint for a 413
NO_SPEECH_MARK = "(sem fala)"  # what Gemini is told to answer for a clip with no speech

# Container (PyAV format name) -> (file extension, MIME type) each remote API accepts as is;
# anything else is sent as WAV.
OPENAI_FORMATS = {
    "ogg": ("ogg", "audio/ogg"),
    "mp3": ("mp3", "audio/mpeg"),
    "wav": ("wav", "audio/wav"),
    "flac": ("flac", "audio/flac"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("m4a", "audio/mp4"),
    "matroska,webm": ("webm", "audio/webm"),
}
GEMINI_FORMATS = {
    "ogg": ("ogg", "audio/ogg"),
    "mp3": ("mp3", "audio/mp3"),
    "wav": ("wav", "audio/wav"),
    "flac": ("flac", "audio/flac"),
    "aac": ("aac", "audio/aac"),
    "aiff": ("aiff", "audio/aiff"),
}
LANGUAGE_NAMES = {
    "pt": "português do Brasil",
    "en": "inglês",
    "es": "espanhol",
    "it": "italiano",
    "fr": "francês",
    "de": "alemão",
}


class TranscriptionError(Exception):
    """The audio could not be transcribed. The message is a clear reason in pt-BR (the seller may see
    it) and never contains an API key."""


@dataclass(frozen=True)
class Transcript:
    text: str  # "" when the clip has no speech
    language: str | None  # the language transcribed (forced, or the one Whisper detected)
    duration_seconds: float | None  # length of the audio
    provider: str  # whisper | openai | gemini


@runtime_checkable
class Transcriber(Protocol):
    def transcribe(self, audio: bytes, mime_type: str, *, language: str = "pt") -> Transcript: ...


DEFAULT_POLICY = RetryPolicy(timeout_seconds=60.0)  # STT_MAX_ATTEMPTS, STT_RETRY_BASE_SECONDS, STT_TIMEOUT_SECONDS


# ---------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DecodedAudio:
    pcm: bytes  # signed 16-bit little-endian mono samples at SAMPLE_RATE
    container: str  # PyAV's name of the input's format ("ogg", "mp3", "wav", "mov,mp4,m4a,...")

    @property
    def duration_seconds(self) -> float:
        return len(self.pcm) / 2 / SAMPLE_RATE

    def samples(self) -> np.ndarray:
        """float32 samples in [-1, 1], what faster-whisper takes."""
        import numpy as np

        return np.frombuffer(self.pcm, dtype="<i2").astype(np.float32) / 32768.0

    def wav(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(self.pcm)
        return out.getvalue()


_UNREADABLE = "Não consegui ler o áudio: o arquivo está corrompido ou não é um formato de áudio conhecido."


def decode_audio(audio: bytes, max_seconds: float | None = None) -> DecodedAudio:
    """Decode any audio FFmpeg reads into 16 kHz mono PCM. TranscriptionError when there is no
    audio to decode (empty, corrupt, or a file with no audio track), or as soon as more than
    `max_seconds` decoded (whatever the container claims). A file cut short keeps the part that
    decoded."""
    if not audio:
        raise TranscriptionError("Não consegui ler o áudio: o arquivo está vazio.")
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av comes with faster-whisper
        raise TranscriptionError("A transcrição de áudio precisa do pacote av (pip install av).") from exc

    chunks: list[bytes] = []
    max_bytes = None if max_seconds is None else int(max_seconds * SAMPLE_RATE) * 2
    decoded = 0
    try:
        container = av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore")
    except Exception as exc:
        raise TranscriptionError(_UNREADABLE) from exc
    with container:
        if not container.streams.audio:
            raise TranscriptionError("Não consegui ler o áudio: o arquivo não tem som (nenhuma faixa de áudio).")
        fmt = container.format.name
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        frames = container.decode(audio=0)
        errors = 0
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.InvalidDataError:  # a damaged packet: skip it, as FFmpeg does
                errors += 1
                if errors > 50:
                    break
                continue
            except Exception as exc:  # cut short or undecodable: keep what decoded, if anything
                log.info("audio decode stopped early: %s", exc)
                break
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().tobytes())
                decoded += len(chunks[-1])
            if max_bytes is not None and decoded > max_bytes:
                raise TranscriptionError(
                    f"O áudio passa de {duration_label(max_seconds)}, o limite (MEDIA_MAX_AUDIO_SECONDS): "
                    "peça ao cliente uma mensagem mais curta ou escrita."
                )
        try:
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().tobytes())
        except Exception as exc:  # pragma: no cover - flushing a resampler that never saw a frame
            log.debug("resampler flush: %s", exc)
    pcm = b"".join(chunks)
    if not pcm:
        raise TranscriptionError(_UNREADABLE)
    return DecodedAudio(pcm=pcm, container=fmt)


def duration_label(seconds: float) -> str:
    """7 h / 6 min 2 s / 20 s."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    return f"{secs} s"


def declared_duration(audio: bytes) -> float | None:
    """The length the container declares, by ffprobe (no decoding); None when ffprobe is missing or
    can't tell (decoding then decides)."""
    from .audio import AudioError, probe

    try:
        return probe(audio, PROBE_TIMEOUT_SECONDS, measure=False).duration_seconds
    except AudioError as exc:
        log.debug("ffprobe could not tell the length: %s", exc)
        return None


def _language_code(language: str | None) -> str | None:
    """ "pt-BR" / "pt_BR" / "PT" -> "pt"; "auto" or empty -> None (let the model detect it)."""
    code = (language or "").strip().lower()
    if code in ("", "auto", "none"):
        return None
    return re.split(r"[-_]", code, maxsplit=1)[0]


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f}".replace(".", ",").removesuffix(",0")


T = TypeVar("T")


class _BaseTranscriber:
    """Input checks, decoding and (for HTTP providers) retries; subclasses transcribe."""

    provider = "base"
    endpoint: Endpoint | None = None  # a remote API's (None: in process, nothing to retry)

    def __init__(
        self,
        *,
        model: str,
        max_bytes: int,
        policy: RetryPolicy | None = None,
        secrets: tuple[str | None, ...] = (),
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        self.model = model
        self.max_bytes = int(max_bytes)
        self.max_seconds = float(max_seconds)
        self.policy = policy or DEFAULT_POLICY
        self._secrets = tuple(s for s in secrets if s)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}>"

    def transcribe(self, audio: bytes, mime_type: str, *, language: str = "pt") -> Transcript:
        audio = bytes(audio or b"")
        if len(audio) > self.max_bytes:
            raise TranscriptionError(
                f"O áudio tem {_megabytes(len(audio))} MB, acima do limite de {_megabytes(self.max_bytes)} MB "
                "(MEDIA_MAX_BYTES)."
            )
        declared = declared_duration(audio)
        if declared is not None and declared > self.max_seconds:
            raise TranscriptionError(
                f"O áudio tem {duration_label(declared)}, acima do limite de {duration_label(self.max_seconds)} "
                "(MEDIA_MAX_AUDIO_SECONDS): peça ao cliente uma mensagem mais curta ou escrita."
            )
        decoded = decode_audio(audio, self.max_seconds)
        transcript = self._transcribe(audio, decoded, (mime_type or "").split(";")[0].strip().lower(), language)
        return replace(transcript, text=pg_text(transcript.text))

    def _transcribe(self, audio: bytes, decoded: DecodedAudio, mime_type: str, language: str | None) -> Transcript:
        raise NotImplementedError

    # -- HTTP providers ---------------------------------------------------------------------------
    def _describe(self, exc: BaseException) -> str:
        return describe(exc, self.endpoint, self.policy.timeout_seconds)

    def _call(self, fn: Callable[[], T]) -> T:
        return call_with_retries(
            fn,
            policy=self.policy,
            name=f"stt {self.provider}:{self.model}",
            describe=self._describe,
            fail=lambda exc, detail, attempts: TranscriptionError(
                f"Não consegui transcrever o áudio ({self.provider}, {self.model}): {detail}"
                f"{exhausted_note(exc, attempts)}"
            ),
            secrets=self._secrets,
            own_errors=(TranscriptionError,),
        )


# ---------------------------------------------------------------------------------------------
# faster-whisper (local)
# ---------------------------------------------------------------------------------------------
_models: dict[tuple, Any] = {}
_models_lock = threading.Lock()


def _local_model_dir(model: str) -> Path | None:
    """The folder when WHISPER_MODEL names a local CTranslate2 model folder; None for a model name."""
    path = Path(model).expanduser()
    if path.is_dir() and (path / "model.bin").is_file():
        return path.resolve()
    if path.is_absolute() or model.startswith((".", "~")) or path.is_dir():
        raise TranscriptionError(
            f"WHISPER_MODEL={model} não é uma pasta de modelo Whisper (CTranslate2): ela precisa ter model.bin, "
            "config.json, tokenizer.json e vocabulary.json."
        )
    return None


class WhisperTranscriber(_BaseTranscriber):
    """faster-whisper on the CPU. The model is loaded on first use (or by ``load()``), once per
    process and configuration, and shared by every instance."""

    provider = "whisper"

    def __init__(
        self,
        *,
        model: str = DEFAULT_WHISPER_MODEL,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        cache_dir: Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        beam_size: int = 5,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        super().__init__(model=model, max_bytes=max_bytes, max_seconds=max_seconds)
        self.compute_type = compute_type
        self.cpu_threads = max(0, int(cpu_threads))
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.beam_size = max(1, int(beam_size))

    def _key(self) -> tuple:
        local = Path(self.model).expanduser().is_dir()  # a folder: where downloads go is irrelevant
        return (self.model, self.compute_type, self.cpu_threads, None if local else str(self.cache_dir))

    def load(self) -> Any:
        """The faster_whisper.WhisperModel (loaded, or downloaded then loaded, the first time)."""
        key = self._key()
        with _models_lock:
            loaded = _models.get(key)
            if loaded is None:
                loaded = _models[key] = self._load()
            return loaded

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise TranscriptionError(
                "STT_PROVIDER=whisper precisa do pacote faster-whisper (pip install faster-whisper)."
            ) from exc
        folder = _local_model_dir(self.model)
        kwargs: dict[str, Any] = {
            "device": "cpu",
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
        }
        if folder is not None:
            try:
                return WhisperModel(str(folder), **kwargs)
            except Exception as exc:
                raise TranscriptionError(
                    f"Não consegui carregar o modelo Whisper da pasta WHISPER_MODEL={folder}: {exc}"
                ) from exc
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            kwargs["download_root"] = str(self.cache_dir)
        try:  # already downloaded: no network round trip at all
            return WhisperModel(self.model, local_files_only=True, **kwargs)
        except ValueError as exc:  # not a size faster-whisper knows, nor an owner/name repo id
            raise TranscriptionError(
                f"WHISPER_MODEL={self.model} não é um modelo Whisper conhecido: use tiny, base, small, medium, "
                "large-v3, um repositório CTranslate2 do Hugging Face (dono/nome) ou uma pasta local com o modelo."
            ) from exc
        except Exception as exc:
            log.info("whisper model %s not in the local cache (%s): downloading", self.model, type(exc).__name__)
        try:
            return WhisperModel(self.model, **kwargs)
        except Exception as exc:
            where = self.cache_dir or "o cache do Hugging Face"
            raise TranscriptionError(
                f"Não consegui baixar nem carregar o modelo de transcrição WHISPER_MODEL={self.model}: ele é "
                f"baixado do Hugging Face uma vez, no primeiro uso, para {where}. Verifique o acesso à internet, "
                "ou copie para este servidor a pasta do modelo (model.bin, config.json, tokenizer.json, "
                "vocabulary.json) e use WHISPER_MODEL=<pasta>, ou use STT_PROVIDER=openai ou gemini. "
                f"Detalhe: {type(exc).__name__}: {str(exc)[:300]}"
            ) from exc

    def _transcribe(self, audio: bytes, decoded: DecodedAudio, mime_type: str, language: str | None) -> Transcript:
        model = self.load()
        code = _language_code(language)
        try:
            segments, info = model.transcribe(
                decoded.samples(),
                language=code,
                beam_size=self.beam_size,
                vad_filter=True,  # silence and noise cut before decoding: no invented text on silence
                vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 300},
                condition_on_previous_text=False,  # a voice note is short; this avoids repetition loops
            )
            text = " ".join(segment.text.strip() for segment in segments)
        except Exception as exc:
            raise TranscriptionError(
                f"Não consegui transcrever o áudio (whisper, {self.model}): {type(exc).__name__}: {str(exc)[:300]}"
            ) from exc
        return Transcript(
            text=re.sub(r"\s+", " ", text).strip(),
            language=getattr(info, "language", None) or code,
            duration_seconds=round(decoded.duration_seconds, 3),
            provider=self.provider,
        )


# ---------------------------------------------------------------------------------------------
# OpenAI (or any OpenAI-compatible server)
# ---------------------------------------------------------------------------------------------
class OpenAITranscriber(_BaseTranscriber):
    provider = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_OPENAI_MODEL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        policy: RetryPolicy | None = None,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        from openai import OpenAI

        super().__init__(model=model, max_bytes=max_bytes, policy=policy, secrets=(api_key,), max_seconds=max_seconds)
        self.base_url = base_url
        self.endpoint = Endpoint(
            base_url or "api.openai.com",
            "OPENAI_API_KEY",
            {404: "modelo ou endereço não encontrado: confira OPENAI_STT_MODEL e OPENAI_BASE_URL", 413: TOO_BIG},
        )
        self._client = OpenAI(
            api_key=api_key, base_url=base_url, timeout=self.policy.timeout_seconds, max_retries=0
        )  # retries are ours

    def _transcribe(self, audio: bytes, decoded: DecodedAudio, mime_type: str, language: str | None) -> Transcript:
        ext, mime = OPENAI_FORMATS.get(decoded.container, ("wav", "audio/wav"))
        data = audio if decoded.container in OPENAI_FORMATS else decoded.wav()
        code = _language_code(language)
        kwargs: dict[str, Any] = {"model": self.model, "file": (f"audio.{ext}", data, mime), "response_format": "json"}
        if code:
            kwargs["language"] = code
        result = self._call(lambda: self._client.audio.transcriptions.create(**kwargs))
        text = result if isinstance(result, str) else getattr(result, "text", None)
        if text is None:
            raise TranscriptionError(f"Não consegui transcrever o áudio (openai, {self.model}): resposta sem texto.")
        return Transcript(
            text=re.sub(r"\s+", " ", text).strip(),
            language=code,
            duration_seconds=round(decoded.duration_seconds, 3),
            provider=self.provider,
        )


# ---------------------------------------------------------------------------------------------
# Gemini
# ---------------------------------------------------------------------------------------------
def gemini_prompt(language: str | None) -> str:
    """The instruction sent with the audio."""
    code = _language_code(language)
    spoken = LANGUAGE_NAMES.get(code or "", f"no idioma '{code}'") if code else "no idioma falado"
    if code in LANGUAGE_NAMES:
        spoken = f"em {spoken}"
    return (
        f"Transcreva literalmente, {spoken}, a fala deste áudio (uma mensagem de voz de um cliente pelo "
        "WhatsApp). Escreva exatamente o que foi dito, com pontuação, sem traduzir, resumir, corrigir ou "
        "comentar; números e preços como foram falados. Responda somente com a transcrição. "
        f"Se não houver fala no áudio, responda exatamente {NO_SPEECH_MARK}."
    )


class GeminiTranscriber(_BaseTranscriber):
    provider = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_GEMINI_MODEL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        policy: RetryPolicy | None = None,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        from google import genai
        from google.genai.types import HttpOptions

        super().__init__(model=model, max_bytes=max_bytes, policy=policy, secrets=(api_key,), max_seconds=max_seconds)
        self.base_url = base_url
        self.endpoint = Endpoint(
            base_url or "generativelanguage.googleapis.com",
            "GEMINI_API_KEY",
            {404: "modelo não encontrado: confira GEMINI_STT_MODEL", 413: TOO_BIG},
        )
        # google-genai waits forever unless told, and retries nothing: a timeout here, retries ours
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=HttpOptions(base_url=base_url, timeout=max(1, int(self.policy.timeout_seconds * 1000))),
        )

    def _config(self) -> Any:
        from google.genai.types import GenerateContentConfig, ThinkingConfig

        name = self.model.removeprefix("models/")
        # 2.5 Flash thinks by default: seconds of latency and cost for nothing when transcribing
        thinking = ThinkingConfig(thinking_budget=0) if name.startswith("gemini-2.5-flash") else None
        return GenerateContentConfig(temperature=0.0, thinking_config=thinking)

    def _transcribe(self, audio: bytes, decoded: DecodedAudio, mime_type: str, language: str | None) -> Transcript:
        from google.genai.types import Part

        _ext, mime = GEMINI_FORMATS.get(decoded.container, ("wav", "audio/wav"))
        data = audio if decoded.container in GEMINI_FORMATS else decoded.wav()
        code = _language_code(language)
        contents = [Part.from_bytes(data=data, mime_type=mime), gemini_prompt(code)]
        config = self._config()
        response = self._call(
            lambda: self._client.models.generate_content(model=self.model, contents=contents, config=config)
        )
        if not response.candidates:
            feedback = getattr(response, "prompt_feedback", None)
            reason = getattr(feedback, "block_reason", None)
            why = f"recusado pelo Gemini ({reason})" if reason else "resposta vazia"
            raise TranscriptionError(f"Não consegui transcrever o áudio (gemini, {self.model}): {why}.")
        text = re.sub(r"\s+", " ", response.text or "").strip()
        if text.strip(" .").lower() in (NO_SPEECH_MARK, NO_SPEECH_MARK.strip("()")):
            text = ""
        return Transcript(
            text=text, language=code, duration_seconds=round(decoded.duration_seconds, 3), provider=self.provider
        )


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
class UnavailableTranscriber:
    """A provider that cannot work as configured (a missing key, an unknown provider): every call
    raises TranscriptionError with the reason, so a voice note gets an honest "could not listen"
    instead of crashing the pipeline."""

    provider = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<UnavailableTranscriber {self.reason!r}>"

    def transcribe(self, audio: bytes, mime_type: str, *, language: str = "pt") -> Transcript:
        raise TranscriptionError(self.reason)


_cache: dict[tuple, Transcriber] = {}
_cache_lock = threading.Lock()


def get_transcriber(settings: Settings | Any | None = None) -> Transcriber | None:
    """The configured transcriber (one instance per configuration), or None for STT_PROVIDER=none.
    A configuration that cannot work gives a transcriber whose calls raise TranscriptionError with
    the reason (never an exception here)."""
    if settings is None:
        from runtime.config import get_settings

        settings = get_settings()

    def opt(name: str, default: Any = None) -> Any:
        value = getattr(settings, name, default)
        return default if value is None or value == "" else value

    provider = str(opt("stt_provider", "whisper")).strip().lower()
    if provider == "none":
        return None
    max_bytes = int(opt("media_max_bytes", DEFAULT_MAX_BYTES))
    max_seconds = float(opt("media_max_audio_seconds", DEFAULT_MAX_SECONDS))
    policy = RetryPolicy.from_settings(settings, "stt", timeout_seconds=DEFAULT_POLICY.timeout_seconds)
    if provider == "whisper":
        cache_dir = opt("whisper_cache_dir") or Path(opt("data_dir", ".data")) / "models"
        key: tuple = (
            provider,
            str(opt("whisper_model", DEFAULT_WHISPER_MODEL)).strip(),
            str(opt("whisper_compute_type", "int8")),
            int(opt("whisper_cpu_threads", 2)),
            str(cache_dir),
            max_bytes,
            max_seconds,
        )
    elif provider == "openai":
        key = (
            provider,
            str(opt("openai_stt_model", DEFAULT_OPENAI_MODEL)).strip(),
            plain_secret(opt("openai_api_key")),
            opt("openai_base_url"),
            max_bytes,
            policy,
            max_seconds,
        )
    elif provider == "gemini":
        key = (
            provider,
            str(opt("gemini_stt_model", DEFAULT_GEMINI_MODEL)).strip(),
            plain_secret(opt("gemini_api_key")),
            opt("gemini_base_url"),
            max_bytes,
            policy,
            max_seconds,
        )
    else:
        return UnavailableTranscriber(f"STT_PROVIDER desconhecido: {provider!r} (use {', '.join(PROVIDERS)}).")

    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _cache[key] = _build(key, policy)
        return cached


def _build(key: tuple, policy: RetryPolicy) -> Transcriber:
    provider = key[0]
    if provider == "whisper":
        _, model, compute_type, threads, cache_dir, max_bytes, max_seconds = key
        return WhisperTranscriber(
            model=model,
            compute_type=compute_type,
            cpu_threads=threads,
            cache_dir=Path(cache_dir),
            max_bytes=max_bytes,
            max_seconds=max_seconds,
        )
    _, model, api_key, base_url, max_bytes, _, max_seconds = key
    limits = {"max_bytes": max_bytes, "max_seconds": max_seconds, "policy": policy}
    if provider == "openai":
        if not api_key:
            if not base_url:
                return UnavailableTranscriber("STT_PROVIDER=openai precisa de OPENAI_API_KEY.")
            api_key = "unused"  # local OpenAI-compatible servers often want no key; the SDK wants one
        return OpenAITranscriber(api_key=api_key, base_url=base_url, model=model, **limits)
    if not api_key:
        return UnavailableTranscriber("STT_PROVIDER=gemini precisa de GEMINI_API_KEY.")
    return GeminiTranscriber(api_key=api_key, base_url=base_url, model=model, **limits)


def clear_cache(*, models: bool = True) -> None:
    """Forget the cached transcribers and (unless models=False) the loaded Whisper models (tests; a
    settings change in a long-lived process)."""
    with _cache_lock:
        _cache.clear()
    if models:
        with _models_lock:
            _models.clear()

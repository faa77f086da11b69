"""Text-to-speech for voice-note replies, always delivered as a WhatsApp voice note (OGG/Opus, mono, 48 kHz).

Providers (``TTS_PROVIDER``):

* ``elevenlabs``: natural voices, including a partner's or seller's cloned voice (`clone_voice`);
* ``gemini``: Gemini TTS prebuilt voices (generateContent with the AUDIO modality);
* ``espeak``: offline espeak-ng, clearly robotic (``Speech.robotic``), needs no account;
* ``none``: no voice notes (`get_synthesizer` returns None).

ElevenLabs is called with httpx rather than its SDK: two plain endpoints, a base URL the tests point at a
local fake, and errors we word ourselves (never carrying the key). Transient failures (timeouts, lost
connections, 408/409/429/5xx) are retried with exponential backoff, honouring Retry-After
(``runtime.provider_errors``; TTS_MAX_ATTEMPTS, TTS_RETRY_BASE_SECONDS, TTS_TIMEOUT_SECONDS); adding a voice
is not idempotent, so it is retried only on answers that say it was not done. Every failure is a
`SpeechError` with a pt-BR message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from runtime.media.audio import AudioError, pcm_rate, probe, to_mp3, to_whatsapp_voice
from runtime.provider_errors import (
    FailureKind,
    RetryPolicy,
    call_with_retries,
    classify,
    is_transient,
    not_carried_out,
    plain_secret,
)

DEFAULT_ELEVENLABS_URL = "https://api.elevenlabs.io"
DEFAULT_ELEVENLABS_MODEL = "eleven_multilingual_v2"
DEFAULT_ELEVENLABS_VOICE = "JBFqnCBsd6RMkjVDRZzb"  # "George", a premade voice every account has
ELEVENLABS_OUTPUT_FORMAT = "mp3_44100_128"
DEFAULT_GEMINI_TTS_MODEL = "gemini-3.8-flash-lite-tts"
DEFAULT_GEMINI_VOICE = "Kore"
# Gemini TTS prebuilt voices (an agent's voice_id that names one of these is used; anything else is not).
GEMINI_VOICES = (
    *("Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe"),
    *("Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia"),
    *("Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi", "Vindemiatrix"),
    *("Sadachbia", "Sadaltager", "Sulafat"),
)
ESPEAK_SPEED_WPM = 150

DEFAULT_MAX_CHARS = 900  # about a minute of speech: longer answers are cut at a sentence for the voice note
CLONE_MIN_SECONDS = 60.0  # the product asks for 1 to 3 minutes of the partner's or seller's voice
CLONE_MAX_SECONDS = 180.0
CLONE_MAX_BYTES = 50_000_000  # refused outright above this
CLONE_UPLOAD_AS_IS_BYTES = 10_000_000  # larger samples are re-encoded to MP3 before the upload


class SpeechError(Exception):
    """No voice note could be made (the message says why, in pt-BR; it never contains an API key)."""


@dataclass(frozen=True, kw_only=True)
class Speech:
    audio: bytes  # OGG/Opus, mono, 48 kHz: ready to send as a WhatsApp voice note
    mime_type: str = "audio/ogg"
    provider: str
    voice: str | None = None
    robotic: bool = False  # espeak: the UI says so


class Synthesizer(Protocol):
    provider: str

    def synthesize(self, text: str, *, voice_id: str | None = None, language: str = "pt-BR") -> Speech: ...


# --- helpers ---------------------------------------------------------------------------------------------------


def _setting(settings: Any, name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    return default if value is None or value == "" else value


def _secret(settings: Any, name: str) -> str | None:
    return (plain_secret(getattr(settings, name, None)) or "").strip() or None


def speakable(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text as it will be spoken: whitespace collapsed and, past `max_chars`, cut at the last sentence that
    fits (or the last word, with an ellipsis). A voice note longer than a minute or so is not listened to."""
    text = re.sub(r"\s+", " ", text or "").strip()
    if len(text) <= max_chars:
        return text
    window = text[: max_chars + 1]
    ends = [m.end() for m in re.finditer(r"[.!?…](?=\s|$)", window)]
    if ends and ends[-1] >= max_chars * 0.4:
        return window[: ends[-1]].strip()
    cut = window[:max_chars].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"


def _elevenlabs_detail(response: httpx.Response) -> str:
    """ElevenLabs errors: ``{"detail": {"status": "invalid_api_key", "message": "..."}}`` (or a list, for 422)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(detail, dict):
        return " ".join(str(detail.get(k) or "") for k in ("status", "message")).strip()[:300]
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)[:300]
    return str(detail or "")[:300]


# --- ElevenLabs ------------------------------------------------------------------------------------------------


class ElevenLabsSynthesizer:
    provider = "elevenlabs"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_ELEVENLABS_URL,
        model: str = DEFAULT_ELEVENLABS_MODEL,
        default_voice_id: str = DEFAULT_ELEVENLABS_VOICE,
        policy: RetryPolicy | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.default_voice_id = default_voice_id
        self.policy = policy or RetryPolicy()
        self.max_chars = max_chars

    def synthesize(self, text: str, *, voice_id: str | None = None, language: str = "pt-BR") -> Speech:
        spoken = speakable(text, self.max_chars)
        if not spoken:
            raise SpeechError("Não há texto para transformar em áudio.")
        voice = (voice_id or self.default_voice_id).strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", voice):
            raise SpeechError("Identificador de voz da ElevenLabs inválido: registre a voz de novo.")
        body: dict[str, Any] = {
            "text": spoken,
            "model_id": self.model,
            "voice_settings": {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0, "use_speaker_boost": True},
        }
        if self.model in ("eleven_turbo_v2_5", "eleven_flash_v2_5") and language:
            body["language_code"] = language.split("-")[0].lower()  # only these models accept it
        mp3 = self._post(
            f"/v1/text-to-speech/{voice}", json=body, params={"output_format": ELEVENLABS_OUTPUT_FORMAT}, what="o áudio"
        ).content
        if not mp3:
            raise SpeechError("A ElevenLabs devolveu um áudio vazio.")
        try:
            audio = to_whatsapp_voice(mp3, "audio/mpeg")
        except AudioError as exc:
            raise SpeechError(str(exc)) from exc
        return Speech(audio=audio, provider=self.provider, voice=voice)

    def add_voice(self, name: str, sample: bytes, filename: str, mime_type: str, description: str) -> str:
        files = {"files": (filename, sample, mime_type)}
        data = {"name": name, "description": description, "remove_background_noise": "false"}
        timeout = max(self.policy.timeout_seconds, 120.0)
        response = self._post("/v1/voices/add", files=files, data=data, what="a voz", idempotent=False, timeout=timeout)
        try:
            voice_id = response.json().get("voice_id")
        except (ValueError, AttributeError):
            voice_id = None
        if not voice_id or not isinstance(voice_id, str):
            raise SpeechError("A ElevenLabs não devolveu o identificador da voz clonada.")
        return voice_id

    def _post(
        self,
        path: str,
        *,
        what: str,
        idempotent: bool = True,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"xi-api-key": self.api_key, "accept": "*/*"}

        def attempt() -> httpx.Response:
            with httpx.Client(base_url=self.base_url, timeout=timeout or self.policy.timeout_seconds) as client:
                response = client.post(path, headers=headers, **kwargs)
            if response.status_code >= 400:
                response.raise_for_status()
            return response

        return call_with_retries(
            attempt,
            policy=self.policy,
            name=f"tts elevenlabs {path.rsplit('/', 1)[0]}",
            describe=lambda exc: self._describe(exc, what),
            fail=lambda exc, detail, attempts: SpeechError(detail),
            secrets=(self.api_key,),
            # the upload of a voice may have arrived: retried only when it surely was not carried out
            retryable=is_transient if idempotent else not_carried_out,
        )

    @classmethod
    def _describe(cls, exc: BaseException, what: str) -> str:
        failure = classify(exc)
        response = getattr(failure.source, "response", None)
        if failure.status is not None and isinstance(response, httpx.Response):
            return cls._explain(failure.status, _elevenlabs_detail(response), what)
        if failure.kind is FailureKind.TIMEOUT:
            return f"A ElevenLabs demorou demais para gerar {what}; tente de novo."
        return f"Não consegui falar com a ElevenLabs ({type(exc).__name__})."

    @staticmethod
    def _explain(status: int, detail: str, what: str) -> str:
        shown = f" ({detail})" if detail else ""
        if status == 401 and "invalid_api_key" in detail:
            return "A ElevenLabs recusou a chave de API: confira ELEVENLABS_API_KEY."
        if status in (401, 403):
            return f"A ElevenLabs recusou o pedido{shown}: confira a chave e o plano da conta."
        if status == 429:
            return f"A ElevenLabs está limitando os pedidos agora{shown}; tente de novo em instantes."
        if status >= 500:
            return f"A ElevenLabs está fora do ar agora (HTTP {status}); tente de novo mais tarde."
        return f"A ElevenLabs não conseguiu gerar {what} (HTTP {status}){shown}."


# --- Gemini ----------------------------------------------------------------------------------------------------


class GeminiSynthesizer:
    provider = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_GEMINI_TTS_MODEL,
        voice: str = DEFAULT_GEMINI_VOICE,
        policy: RetryPolicy | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.model = model
        self.voice = voice
        self.policy = policy or RetryPolicy()
        self.max_chars = max_chars

    def _voice(self, voice_id: str | None) -> str:
        """A Gemini prebuilt voice: the one asked for when it is one (an agent's voice may be an ElevenLabs id)."""
        for name in GEMINI_VOICES:
            if voice_id and voice_id.strip().lower() == name.lower():
                return name
        return self.voice

    def synthesize(self, text: str, *, voice_id: str | None = None, language: str = "pt-BR") -> Speech:
        from google import genai
        from google.genai.types import (
            GenerateContentConfig,
            HttpOptions,
            PrebuiltVoiceConfig,
            SpeechConfig,
            VoiceConfig,
        )

        spoken = speakable(text, self.max_chars)
        if not spoken:
            raise SpeechError("Não há texto para transformar em áudio.")
        voice = self._voice(voice_id)
        client = genai.Client(
            api_key=self.api_key,
            vertexai=False,
            http_options=HttpOptions(base_url=self.base_url, timeout=int(self.policy.timeout_seconds * 1000)),
        )
        config = GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=SpeechConfig(
                voice_config=VoiceConfig(prebuilt_voice_config=PrebuiltVoiceConfig(voice_name=voice))
            ),
        )

        response = call_with_retries(
            lambda: client.models.generate_content(model=self.model, contents=spoken, config=config),
            policy=self.policy,
            name=f"tts gemini:{self.model}",
            describe=self._describe,
            fail=lambda exc, detail, attempts: SpeechError(detail),
            secrets=(self.api_key,),
        )
        data, mime = self._audio(response)
        try:
            audio = to_whatsapp_voice(data, mime)
        except AudioError as exc:
            raise SpeechError(str(exc)) from exc
        return Speech(audio=audio, provider=self.provider, voice=voice)

    @staticmethod
    def _audio(response: Any) -> tuple[bytes, str]:
        for candidate in getattr(response, "candidates", None) or []:
            content = getattr(candidate, "content", None)
            for part in getattr(content, "parts", None) or []:
                inline = getattr(part, "inline_data", None)
                if inline is not None and inline.data:
                    mime = inline.mime_type or "audio/L16;codec=pcm;rate=24000"
                    if pcm_rate(mime) is None and not mime.lower().startswith("audio/"):
                        mime = "audio/L16;codec=pcm;rate=24000"
                    return inline.data, mime
        raise SpeechError("O Gemini não devolveu áudio (resposta sem áudio; o texto pode ter sido bloqueado).")

    def _describe(self, exc: BaseException) -> str:
        failure = classify(exc)
        code = failure.status
        if code is None:
            if failure.kind is FailureKind.TIMEOUT:
                return "O Gemini demorou demais para gerar o áudio; tente de novo."
            return f"Não consegui falar com o Gemini ({type(exc).__name__})."
        if code in (401, 403) or failure.key_rejected:
            return "O Gemini recusou a chave de API: confira GEMINI_API_KEY."
        if code == 404:
            return f"O modelo de voz do Gemini não foi encontrado: confira GEMINI_TTS_MODEL ({self.model})."
        if code == 429:
            return "O Gemini está limitando os pedidos agora; tente de novo em instantes."
        if code >= 500:
            return f"O Gemini está fora do ar agora (HTTP {code}); tente de novo mais tarde."
        return f"O Gemini não conseguiu gerar o áudio (HTTP {code} {failure.status_text}: {failure.message[:200]})."


# --- espeak-ng (offline) -----------------------------------------------------------------------------------------


class EspeakSynthesizer:
    provider = "espeak"

    def __init__(self, *, speed: int = ESPEAK_SPEED_WPM, timeout: float = 30.0, max_chars: int = DEFAULT_MAX_CHARS):
        self.speed = speed
        self.timeout = timeout
        self.max_chars = max_chars

    @staticmethod
    def _voice(language: str) -> str:
        lang = (language or "pt-BR").strip().lower().replace("_", "-")
        if lang in ("pt-pt",):
            return "pt"
        if lang.startswith("pt"):
            return "pt-br"
        return lang

    def synthesize(self, text: str, *, voice_id: str | None = None, language: str = "pt-BR") -> Speech:
        spoken = speakable(text, self.max_chars)
        if not spoken:
            raise SpeechError("Não há texto para transformar em áudio.")
        binary = shutil.which("espeak-ng") or shutil.which("espeak")
        if binary is None:
            raise SpeechError("O espeak-ng não está instalado no servidor (apt-get install espeak-ng).")
        voice = self._voice(language)
        with tempfile.TemporaryDirectory(prefix="pv-tts-") as tmp:
            out = Path(tmp) / "out.wav"
            args = [binary, "-v", voice, "-s", str(self.speed), "--stdin", "-w", str(out)]
            try:
                result = subprocess.run(  # noqa: S603
                    args, input=spoken.encode("utf-8"), capture_output=True, timeout=self.timeout, check=False
                )
            except subprocess.TimeoutExpired:
                raise SpeechError(f"O espeak-ng demorou mais de {self.timeout:g} s.") from None
            if result.returncode != 0 or not out.exists():
                detail = result.stderr.decode("utf-8", "replace").strip()[:200] or f"código {result.returncode}"
                raise SpeechError(f"O espeak-ng não conseguiu gerar o áudio ({detail}).")
            wav = out.read_bytes()
        try:
            audio = to_whatsapp_voice(wav, "audio/wav")
        except AudioError as exc:
            raise SpeechError(str(exc)) from exc
        return Speech(audio=audio, provider=self.provider, voice=voice, robotic=True)


# --- factory and voice cloning -----------------------------------------------------------------------------------


def _settings(settings: Any) -> Any:
    if settings is None:
        from runtime.config import get_settings

        return get_settings()
    return settings


def _policy(s: Any) -> RetryPolicy:
    return RetryPolicy.from_settings(s, "tts", timeout_seconds=30.0)


def _max_chars(s: Any) -> int:
    return int(_setting(s, "tts_max_chars", DEFAULT_MAX_CHARS))


def _elevenlabs(s: Any) -> ElevenLabsSynthesizer:
    key = _secret(s, "elevenlabs_api_key")
    if not key:
        raise SpeechError("A ElevenLabs não está configurada: defina ELEVENLABS_API_KEY.")
    return ElevenLabsSynthesizer(
        key,
        base_url=_setting(s, "elevenlabs_base_url", DEFAULT_ELEVENLABS_URL),
        model=_setting(s, "elevenlabs_model", DEFAULT_ELEVENLABS_MODEL),
        default_voice_id=_setting(s, "elevenlabs_voice_id", DEFAULT_ELEVENLABS_VOICE),
        policy=_policy(s),
        max_chars=_max_chars(s),
    )


def get_synthesizer(settings: Any = None) -> Synthesizer | None:
    """The configured voice (``TTS_PROVIDER``); None when voice replies are off (``none``). A provider that is
    chosen but not configured (no key) raises `SpeechError` saying what to set."""
    s = _settings(settings)
    provider = str(_setting(s, "tts_provider", "espeak")).lower()
    if provider == "none":
        return None
    if provider == "espeak":
        return EspeakSynthesizer(timeout=_policy(s).timeout_seconds, max_chars=_max_chars(s))
    if provider == "elevenlabs":
        return _elevenlabs(s)
    if provider == "gemini":
        key = _secret(s, "gemini_api_key")
        if not key:
            raise SpeechError("O Gemini não está configurado: defina GEMINI_API_KEY.")
        return GeminiSynthesizer(
            key,
            base_url=getattr(s, "gemini_base_url", None) or None,
            model=_setting(s, "gemini_tts_model", DEFAULT_GEMINI_TTS_MODEL),
            voice=_setting(s, "gemini_tts_voice", DEFAULT_GEMINI_VOICE),
            policy=_policy(s),
            max_chars=_max_chars(s),
        )
    raise SpeechError(f"TTS_PROVIDER desconhecido: {provider!r} (use none, elevenlabs, gemini ou espeak).")


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


_EXTENSIONS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "matroska,webm": "webm", "aac": "aac"}


def clone_voice(name: str, sample: bytes, sample_mime: str, settings: Any = None) -> str:
    """Clone a voice at ElevenLabs (instant voice cloning) from 1 to 3 minutes of someone speaking; returns the
    new ``voice_id`` to keep on the agent. Needs ``ELEVENLABS_API_KEY`` (whatever ``TTS_PROVIDER`` is: the voice is
    used when it is ``elevenlabs``)."""
    s = _settings(settings)
    name = (name or "").strip()
    if not name:
        raise SpeechError("Dê um nome à voz.")
    if not sample:
        raise SpeechError("A amostra de voz está vazia: envie de 1 a 3 minutos de áudio.")
    if len(sample) > CLONE_MAX_BYTES:
        raise SpeechError(
            f"A amostra tem {len(sample) / 1e6:.0f} MB; o limite é {CLONE_MAX_BYTES / 1e6:.0f} MB. "
            "Envie de 1 a 3 minutos de áudio (MP3, OGG, WAV ou M4A)."
        )
    synthesizer = _elevenlabs(s)
    try:
        info = probe(sample)
    except AudioError as exc:
        raise SpeechError(f"Não consegui ler a amostra de voz: {exc}") from exc
    seconds = info.duration_seconds
    if seconds is None:
        raise SpeechError("Não consegui medir a duração da amostra; envie um MP3, OGG, WAV ou M4A.")
    if seconds < CLONE_MIN_SECONDS:
        raise SpeechError(
            f"A amostra tem {_minutes(seconds)}; para clonar a voz, envie de 1 a 3 minutos de fala "
            "(quanto mais natural e sem ruído, melhor)."
        )
    if seconds > CLONE_MAX_SECONDS:
        raise SpeechError(
            f"A amostra tem {_minutes(seconds)}; o máximo é 3 minutos. Corte o áudio ou grave de novo (1 a 3 minutos)."
        )
    mime = (sample_mime or "").split(";")[0].strip().lower() or "application/octet-stream"
    container = info.container or ""
    extension = "m4a" if "mp4" in container else _EXTENSIONS.get(container, "audio")
    if len(sample) > CLONE_UPLOAD_AS_IS_BYTES:
        try:
            sample, mime, extension = to_mp3(sample, sample_mime, bitrate="192k"), "audio/mpeg", "mp3"
        except AudioError as exc:
            raise SpeechError(str(exc)) from exc
    description = "Voz clonada pelo PilotoDeVendas para responder clientes com notas de voz."
    return synthesizer.add_voice(name[:100], sample, f"amostra.{extension}", mime, description)

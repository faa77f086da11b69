"""Audio plumbing with the ffmpeg/ffprobe binaries: anything ffmpeg reads (mp3, wav, ogg, raw PCM, m4a) to a
WhatsApp voice note (OGG/Opus, mono, 48 kHz, voip), what a file holds (codec, container, duration), and a WAV
header for raw PCM. Errors are `AudioError` with a pt-BR message."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

VOICE_NOTE_MIME = "audio/ogg"
# What WhatsApp plays as a voice note (push-to-talk): Opus in an OGG container, mono, 48 kHz.
VOICE_NOTE_ARGS = ("-c:a", "libopus", "-b:a", "24k", "-ac", "1", "-ar", "48000", "-application", "voip")
DEFAULT_TIMEOUT_SECONDS = 60.0
# Containers whose index may sit at the end of the file (mp4 "moov"): ffmpeg cannot read them from a pipe.
_SEEKABLE_ONLY = ("mp4", "m4a", "3gp", "quicktime")
_PCM_TYPES = ("audio/l16", "audio/pcm", "audio/x-pcm", "audio/s16le", "audio/raw")
_MISSING = "O {tool} não está instalado no servidor; sem ele não há como processar áudio (apt-get install ffmpeg)."


class AudioError(Exception):
    """Audio could not be read or converted (the message says why, in pt-BR)."""


@dataclass(frozen=True)
class AudioInfo:
    codec: str | None  # e.g. "opus", "mp3", "pcm_s16le"
    container: str | None  # ffprobe's format_name, e.g. "ogg", "mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2"
    duration_seconds: float | None
    channels: int | None
    sample_rate: int | None


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioError(_MISSING.format(tool=name))
    return path


def pcm_rate(mime_type: str | None, default: int = 24000) -> int | None:
    """The sample rate of a raw PCM mime type (``audio/L16;codec=pcm;rate=24000``); None if not raw PCM."""
    mime = (mime_type or "").lower().replace(" ", "")
    if not mime.startswith(_PCM_TYPES):
        return None
    match = re.search(r"rate=(\d+)", mime)
    return int(match.group(1)) if match else default


def pcm_to_wav(pcm: bytes, rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """Raw little-endian PCM (Gemini TTS: 16-bit, 24 kHz, mono) wrapped in a WAV header."""
    buffer = BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(sample_width)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "sem detalhes"


def _run(args: list[str], stdin: bytes | None, timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise AudioError(f"{what}: o ffmpeg demorou mais de {timeout:g} s e foi interrompido.") from None
    except OSError as exc:
        raise AudioError(f"{what}: não consegui executar {Path(args[0]).name} ({exc.strerror}).") from None


def to_whatsapp_voice(audio: bytes, mime_type: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> bytes:
    """Convert audio to a WhatsApp voice note: OGG/Opus, mono, 48 kHz, 24 kbit/s, voip.

    Raw PCM needs its rate in the mime type (``audio/L16;rate=24000``; 16-bit little-endian mono assumed).
    Everything else is detected by ffmpeg from the bytes; mp4/m4a go through a temporary file (their index
    may be at the end, which a pipe cannot reach)."""
    return _convert(audio, mime_type, [*VOICE_NOTE_ARGS, "-f", "ogg"], timeout, "para nota de voz")


def to_mp3(
    audio: bytes, mime_type: str | None = None, bitrate: str = "192k", timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> bytes:
    """Convert audio to MP3 (mono, 44.1 kHz): a compact, universally accepted upload (voice-cloning samples)."""
    args = ["-c:a", "libmp3lame", "-b:a", bitrate, "-ac", "1", "-ar", "44100", "-f", "mp3"]
    return _convert(audio, mime_type, args, timeout, "para MP3")


def _convert(audio: bytes, mime_type: str | None, output: list[str], timeout: float, target: str) -> bytes:
    if not audio:
        raise AudioError("Não consegui converter o áudio: o arquivo está vazio.")
    ffmpeg = _binary("ffmpeg")
    what = "Não consegui converter o áudio"
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    rate = pcm_rate(mime_type)
    mime = (mime_type or "").lower()
    with tempfile.TemporaryDirectory(prefix="pv-audio-") as tmp:
        if rate is not None:
            args += ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
            stdin: bytes | None = audio
        elif any(kind in mime for kind in _SEEKABLE_ONLY):
            source = Path(tmp) / "input"
            source.write_bytes(audio)
            args += ["-i", str(source)]
            stdin = None
        else:
            args += ["-i", "pipe:0"]
            stdin = audio
        args += ["-vn", "-map_metadata", "-1", *output, "pipe:1"]
        result = _run(args, stdin, timeout, what)
    if result.returncode != 0 or not result.stdout:
        detail = _last_line(result.stderr).replace(tmp, "")
        raise AudioError(f"{what} {target} (ffmpeg: {detail}).")
    return result.stdout


def probe(audio: bytes, timeout: float = DEFAULT_TIMEOUT_SECONDS, *, measure: bool = True) -> AudioInfo:
    """What an audio file holds, by ffprobe (its first audio stream). Read from a temporary file so that the
    duration of ogg/mp3 is exact; when the container does not say, the audio is decoded to measure it (unless
    `measure` is False: then the duration is None). The duration is what the container claims: a crafted
    file can lie, so whoever decodes it must still count what it decodes."""
    if not audio:
        raise AudioError("Não consegui ler o áudio: o arquivo está vazio.")
    ffprobe = _binary("ffprobe")
    what = "Não consegui ler o áudio"
    with tempfile.TemporaryDirectory(prefix="pv-audio-") as tmp:
        source = Path(tmp) / "input"
        source.write_bytes(audio)
        args = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(source)]
        result = _run(args, None, timeout, what)
        if result.returncode != 0:
            detail = _last_line(result.stderr).replace(str(source), "arquivo")
            raise AudioError(f"{what} (ffprobe: {detail}).")
        try:
            data = json.loads(result.stdout or b"{}")
        except ValueError:
            raise AudioError(f"{what} (resposta inesperada do ffprobe).") from None
        streams = [s for s in data.get("streams") or [] if s.get("codec_type") == "audio"]
        if not streams:
            raise AudioError(f"{what}: o arquivo não tem trilha de áudio.")
        stream, fmt = streams[0], data.get("format") or {}
        duration = _float(stream.get("duration")) or _float(fmt.get("duration"))
        if duration is None and measure:
            duration = _decoded_duration(source, timeout)
    return AudioInfo(
        codec=stream.get("codec_name"),
        container=fmt.get("format_name"),
        duration_seconds=duration,
        channels=_int(stream.get("channels")),
        sample_rate=_int(stream.get("sample_rate")),
    )


def _decoded_duration(source: Path, timeout: float) -> float | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    result = _run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(source), "-f", "null", "-"],
        None,
        timeout,
        "Não consegui medir o áudio",
    )
    times = re.findall(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)", result.stderr.decode("utf-8", "replace"))
    if not times:
        return None
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None

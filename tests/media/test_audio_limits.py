"""Audio bombs: a voice note longer than MEDIA_MAX_AUDIO_SECONDS is refused by ffprobe before
any decoding, and one whose container lies about its length is stopped while decoding; nothing
is sent to the provider and this process' memory stays small. The real openai client against the
local fake of its transcription API. No database."""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from runtime.media import stt
from runtime.media.audio import probe
from runtime.media.stt import TranscriptionError, get_transcriber
from tests import bombs
from tests.fakes.servers import serve_in_thread
from tests.fakes.transcription import FakeOpenAITranscription


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[tuple[FakeOpenAITranscription, str]]:
    fake = FakeOpenAITranscription()
    with serve_in_thread(fake.app()) as url:
        yield fake, url + "/v1"


@pytest.fixture
def fake(openai_fake) -> Iterator[tuple[FakeOpenAITranscription, str]]:
    openai_fake[0].reset()
    stt.clear_cache(models=False)
    yield openai_fake
    stt.clear_cache(models=False)


def transcriber(fake: FakeOpenAITranscription, url: str, **overrides):
    values = {
        "stt_provider": "openai",
        "openai_api_key": SecretStr(fake.api_key),
        "openai_base_url": url,
        "openai_stt_model": "whisper-1",
        "stt_timeout_seconds": 10.0,
        "stt_max_attempts": 1,
        "stt_retry_base_seconds": 0.01,
        "media_max_bytes": 16_000_000,
        **overrides,
    }
    return get_transcriber(SimpleNamespace(**values))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio-bombs")


@pytest.fixture(scope="module")
def seven_hours(folder: Path) -> bytes:
    return bombs.long_opus(folder, hours=7)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.timeout(60)
def test_a_7_hour_voice_note_is_refused_before_decoding(fake, seven_hours: bytes) -> None:
    server, url = fake
    assert len(seven_hours) < 16_000_000  # under MEDIA_MAX_BYTES: only its length gives it away
    peak, started = peak_rss_mb(), time.monotonic()
    with pytest.raises(TranscriptionError) as exc:
        transcriber(server, url).transcribe(seven_hours, "audio/ogg; codecs=opus")
    assert time.monotonic() - started < 5
    assert str(exc.value).startswith("O áudio tem 7 h, acima do limite de 10 min")
    assert server.requests == []
    assert peak_rss_mb() - peak < 100  # 7 h of decoded PCM would be 800 MB


@pytest.mark.timeout(60)
def test_a_container_that_lies_about_its_length_is_stopped_while_decoding(fake, folder: Path) -> None:
    server, url = fake
    lying = bombs.mp3_that_lies_about_its_length(folder, minutes=60)
    assert probe(lying).duration_seconds < 600  # ffprobe believes it is about 6 minutes long
    peak, started = peak_rss_mb(), time.monotonic()
    with pytest.raises(TranscriptionError) as exc:
        transcriber(server, url).transcribe(lying, "audio/mpeg")
    assert time.monotonic() - started < 10
    assert str(exc.value).startswith("O áudio passa de 10 min, o limite")
    assert server.requests == []
    assert peak_rss_mb() - peak < 100


@pytest.mark.timeout(60)
def test_the_cap_is_a_setting_and_shorter_notes_still_go_through(fake, folder: Path) -> None:
    server, url = fake
    clip = folder / "clip.ogg"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=20",
            "-c:a",
            "libopus",
            str(clip),
        ],
        check=True,
    )
    with pytest.raises(TranscriptionError) as exc:
        transcriber(server, url, media_max_audio_seconds=10).transcribe(clip.read_bytes(), "audio/ogg")
    assert str(exc.value).startswith("O áudio tem 20 s, acima do limite de 10 s")
    assert transcriber(server, url).transcribe(clip.read_bytes(), "audio/ogg").text == server.text
    assert len(server.requests) == 1


@pytest.mark.timeout(60)
def test_a_transcript_with_nul_is_storable(fake, folder: Path) -> None:
    server, url = fake
    clip = folder / "nul.ogg"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=3",
            "-c:a",
            "libopus",
            str(clip),
        ],
        check=True,
    )
    server.text = "Bom dia\x00, quanto custa?"
    transcript = transcriber(server, url).transcribe(clip.read_bytes(), "audio/ogg")
    assert transcript.text == "Bom dia, quanto custa?"

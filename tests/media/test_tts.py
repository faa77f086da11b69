"""Voice-note replies: every provider's audio comes out as a WhatsApp voice note (checked with ffprobe), voice
cloning validates the sample before it reaches ElevenLabs, and errors are clear and never carry a key."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from functools import cache
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from runtime.media import audio as audio_mod
from runtime.media import tts
from runtime.media.audio import AudioError, pcm_to_wav, probe, to_whatsapp_voice
from runtime.media.tts import Speech, SpeechError, clone_voice, get_synthesizer, speakable
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.gemini_tts import FakeGeminiTTS, tone_pcm
from tests.fakes.servers import serve_in_thread

REPLY = "Olá! O corte de cabelo custa R$ 45,00 e temos horário amanhã às 10h. Posso reservar para você?"
XI_KEY = "xi-super-secret-123456"
GEMINI_KEY = "AIza-gemini-secret-987654"


def settings(**overrides) -> SimpleNamespace:
    base = {
        "tts_provider": "espeak",
        "elevenlabs_api_key": None,
        "elevenlabs_base_url": "https://api.elevenlabs.io",
        "elevenlabs_model": "eleven_multilingual_v2",
        "gemini_api_key": None,
        "gemini_base_url": None,
        "gemini_tts_model": "gemini-3.8-flash-lite-tts",
        "gemini_tts_voice": "Kore",
        "tts_timeout_seconds": 10.0,
        "tts_retry_base_seconds": 0.01,
    }
    return SimpleNamespace(**{**base, **overrides})


def assert_voice_note(data: bytes) -> None:
    """What WhatsApp plays as a voice note: Opus in OGG, mono, 48 kHz, and actually some sound."""
    assert data[:4] == b"OggS"
    info = probe(data)
    assert info.container == "ogg"
    assert info.codec == "opus"
    assert info.channels == 1
    assert info.sample_rate == 48000
    assert info.duration_seconds is not None and info.duration_seconds > 0.3


@cache
def sine(seconds: float, fmt: str = "mp3", rate: int = 22050, channels: int = 1) -> bytes:
    codec = {"mp3": ["-c:a", "libmp3lame", "-b:a", "48k"], "wav": ["-c:a", "pcm_s16le"]}[fmt]
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
    cmd += ["-i", f"sine=frequency=220:duration={seconds}:sample_rate={rate}", "-ac", str(channels)]
    return subprocess.run([*cmd, *codec, "-f", fmt, "pipe:1"], capture_output=True, check=True).stdout


@pytest.fixture
def eleven() -> Iterator[tuple[FakeElevenLabs, SimpleNamespace]]:
    fake = FakeElevenLabs(api_key=XI_KEY)
    with serve_in_thread(fake.app()) as url:
        yield fake, settings(tts_provider="elevenlabs", elevenlabs_api_key=SecretStr(XI_KEY), elevenlabs_base_url=url)


@pytest.fixture
def gemini() -> Iterator[tuple[FakeGeminiTTS, SimpleNamespace]]:
    fake = FakeGeminiTTS(api_key=GEMINI_KEY)
    with serve_in_thread(fake.app()) as url:
        yield fake, settings(tts_provider="gemini", gemini_api_key=SecretStr(GEMINI_KEY), gemini_base_url=url)


# --- audio.py --------------------------------------------------------------------------------------------------


def test_conversions_from_mp3_wav_pcm_and_ogg_give_a_voice_note():
    assert_voice_note(to_whatsapp_voice(sine(1.0, "mp3"), "audio/mpeg"))
    assert_voice_note(to_whatsapp_voice(sine(1.0, "wav", rate=44100, channels=2), "audio/wav"))
    assert_voice_note(to_whatsapp_voice(tone_pcm(1.0), "audio/L16;codec=pcm;rate=24000"))
    note = to_whatsapp_voice(sine(1.0, "mp3"), None)
    assert_voice_note(to_whatsapp_voice(note, "audio/ogg; codecs=opus"))  # a voice note re-encoded stays one


def test_pcm_to_wav_and_probe():
    wav = pcm_to_wav(tone_pcm(2.0), 24000)
    info = probe(wav)
    assert (info.codec, info.container, info.channels, info.sample_rate) == ("pcm_s16le", "wav", 1, 24000)
    assert info.duration_seconds == pytest.approx(2.0, abs=0.01)
    assert probe(sine(3.0, "mp3")).duration_seconds == pytest.approx(3.0, abs=0.1)


def test_garbage_input_is_an_audio_error_in_portuguese():
    with pytest.raises(AudioError, match="Não consegui converter o áudio"):
        to_whatsapp_voice(b"this is not audio at all " * 40, "audio/mpeg")
    with pytest.raises(AudioError, match="Não consegui ler o áudio"):
        probe(b"\x00\x01garbage" * 100)
    with pytest.raises(AudioError, match="vazio"):
        to_whatsapp_voice(b"", "audio/mpeg")


def test_missing_ffmpeg_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(audio_mod.shutil, "which", lambda name: None)
    with pytest.raises(AudioError, match="ffmpeg não está instalado"):
        to_whatsapp_voice(sine(1.0), "audio/mpeg")


# --- the text that is spoken --------------------------------------------------------------------------------------


def test_long_text_is_cut_at_a_sentence_for_the_voice_note():
    sentence = "Temos várias opções de pagamento e entrega para a sua região. "
    text = sentence * 40
    spoken = speakable(text, 300)
    assert len(spoken) <= 300
    assert spoken.endswith("região.")
    one_long_sentence = "palavra " * 200
    cut = speakable(one_long_sentence, 100)
    assert len(cut) <= 101 and cut.endswith("…") and "palavr…" not in cut
    assert speakable("  curto \n texto ", 300) == "curto texto"


def test_provider_selection():
    assert get_synthesizer(settings(tts_provider="none")) is None
    assert isinstance(get_synthesizer(settings()), tts.EspeakSynthesizer)
    with pytest.raises(SpeechError, match="ELEVENLABS_API_KEY"):
        get_synthesizer(settings(tts_provider="elevenlabs"))
    with pytest.raises(SpeechError, match="GEMINI_API_KEY"):
        get_synthesizer(settings(tts_provider="gemini"))
    with pytest.raises(SpeechError, match="TTS_PROVIDER"):
        get_synthesizer(settings(tts_provider="polly"))


# --- espeak -------------------------------------------------------------------------------------------------------


def test_espeak_speaks_portuguese_offline_and_is_labelled_robotic():
    synthesizer = get_synthesizer(settings())
    speech = synthesizer.synthesize(REPLY, voice_id="some-elevenlabs-voice", language="pt-BR")
    assert isinstance(speech, Speech)
    assert (speech.provider, speech.voice, speech.robotic, speech.mime_type) == ("espeak", "pt-br", True, "audio/ogg")
    assert_voice_note(speech.audio)
    assert probe(speech.audio).duration_seconds > 3  # the whole sentence, not a blip


# --- ElevenLabs ---------------------------------------------------------------------------------------------------


def test_elevenlabs_voice_note(eleven):
    fake, s = eleven
    speech = get_synthesizer(s).synthesize(REPLY, voice_id="EXAVITQu4vr4xnSDxMaL")
    assert (speech.provider, speech.voice, speech.robotic) == ("elevenlabs", "EXAVITQu4vr4xnSDxMaL", False)
    assert_voice_note(speech.audio)
    [req] = fake.tts_requests
    assert req["voice_id"] == "EXAVITQu4vr4xnSDxMaL"
    assert req["text"] == REPLY
    assert req["model_id"] == "eleven_multilingual_v2"
    assert req["headers"]["xi-api-key"] == XI_KEY
    assert req["query"]["output_format"] == "mp3_44100_128"
    assert req["json"]["voice_settings"]["similarity_boost"] > 0


def test_elevenlabs_default_voice_and_retry_on_a_transient_failure(eleven):
    fake, s = eleven
    fake.fail_next(1, 503)
    speech = get_synthesizer(s).synthesize(REPLY)
    assert speech.voice == tts.DEFAULT_ELEVENLABS_VOICE
    assert [r["status"] for r in fake.tts_requests] == [503, 200]


def test_elevenlabs_bad_key_is_a_clear_error_without_the_key(eleven):
    fake, s = eleven
    s.elevenlabs_api_key = SecretStr("xi-wrong-key-424242")
    with pytest.raises(SpeechError) as err:
        get_synthesizer(s).synthesize(REPLY)
    assert "ELEVENLABS_API_KEY" in str(err.value)
    assert "xi-wrong-key-424242" not in str(err.value) and XI_KEY not in str(err.value)
    assert err.value.__suppress_context__  # no chained provider exception to leak into logs
    assert [r["status"] for r in fake.tts_requests] == [401]  # not retried


def test_elevenlabs_unknown_voice_says_so(eleven):
    _, s = eleven
    with pytest.raises(SpeechError, match="voice_not_found"):
        get_synthesizer(s).synthesize(REPLY, voice_id="nao-existe")


# --- Gemini -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer_wav", [False, True], ids=["pcm", "wav"])
def test_gemini_voice_note(gemini, answer_wav):
    fake, s = gemini
    fake.answer_wav = answer_wav
    speech = get_synthesizer(s).synthesize(REPLY, voice_id="JBFqnCBsd6RMkjVDRZzb")  # an ElevenLabs id: ignored
    assert (speech.provider, speech.voice, speech.robotic) == ("gemini", "Kore", False)
    assert_voice_note(speech.audio)
    [req] = fake.requests
    assert req["path"] == "/v1beta/models/gemini-3.8-flash-lite-tts:generateContent"
    assert req["text"] == REPLY and req["voice"] == "Kore"
    assert req["json"]["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert req["headers"]["x-goog-api-key"] == GEMINI_KEY


def test_gemini_prebuilt_voice_retry_and_errors(gemini):
    fake, s = gemini
    fake.fail_next(1, 503)
    speech = get_synthesizer(s).synthesize(REPLY, voice_id="puck")
    assert speech.voice == "Puck"
    assert [r["status"] for r in fake.requests] == [503, 200]

    fake.no_audio = True
    with pytest.raises(SpeechError, match="não devolveu áudio"):
        get_synthesizer(s).synthesize(REPLY)

    s.gemini_api_key = SecretStr("AIza-wrong-555")
    with pytest.raises(SpeechError) as err:
        get_synthesizer(s).synthesize(REPLY)
    assert "GEMINI_API_KEY" in str(err.value) and "AIza-wrong-555" not in str(err.value)


# --- voice cloning --------------------------------------------------------------------------------------------------


def test_clone_voice_from_a_70_second_sample_then_speak_with_it(eleven):
    fake, s = eleven
    sample = sine(70.0, "mp3")
    voice_id = clone_voice("Voz da Dona Maria", sample, "audio/mpeg", settings=s)
    stored = fake.voices[voice_id]
    assert stored["name"] == "Voz da Dona Maria"
    [(filename, content_type, data)] = stored["files"]
    assert (filename, content_type, data) == ("amostra.mp3", "audio/mpeg", sample)
    add = next(r for r in fake.requests if r["path"] == "/v1/voices/add")
    assert add["headers"]["xi-api-key"] == XI_KEY
    assert add["form"]["remove_background_noise"] == "false"

    speech = get_synthesizer(s).synthesize(REPLY, voice_id=voice_id)
    assert speech.voice == voice_id
    assert_voice_note(speech.audio)
    assert fake.tts_requests[-1]["voice_id"] == voice_id


def test_clone_voice_reencodes_a_big_sample_to_mp3(eleven):
    fake, s = eleven
    sample = sine(70.0, "wav", rate=48000, channels=2)  # ~13 MB of WAV
    assert len(sample) > tts.CLONE_UPLOAD_AS_IS_BYTES
    voice_id = clone_voice("Vendedor", sample, "audio/wav", settings=s)
    [(filename, content_type, data)] = fake.voices[voice_id]["files"]
    assert (filename, content_type) == ("amostra.mp3", "audio/mpeg")
    assert len(data) < len(sample) / 4
    assert probe(data).duration_seconds == pytest.approx(70.0, abs=0.5)


@pytest.mark.parametrize(
    ("seconds", "message"),
    [(10.0, r"A amostra tem 10 s; .*de 1 a 3 minutos"), (300.0, r"A amostra tem 5 min 00 s; o máximo é 3 minutos")],
)
def test_clone_voice_refuses_too_short_or_too_long_samples(eleven, seconds, message):
    fake, s = eleven
    with pytest.raises(SpeechError, match=message):
        clone_voice("Curta demais", sine(seconds, "mp3"), "audio/mpeg", settings=s)
    assert fake.requests == []  # refused before anything was uploaded


def test_clone_voice_refuses_unreadable_oversized_or_nameless_samples(eleven, monkeypatch):
    fake, s = eleven
    with pytest.raises(SpeechError, match="Não consegui ler a amostra"):
        clone_voice("Voz", b"not audio " * 500, "audio/mpeg", settings=s)
    with pytest.raises(SpeechError, match="vazia"):
        clone_voice("Voz", b"", "audio/mpeg", settings=s)
    with pytest.raises(SpeechError, match="nome"):
        clone_voice("  ", sine(70.0), "audio/mpeg", settings=s)
    monkeypatch.setattr(tts, "CLONE_MAX_BYTES", 1000)
    with pytest.raises(SpeechError, match="o limite é"):
        clone_voice("Voz", sine(70.0), "audio/mpeg", settings=s)
    assert fake.requests == []


def test_clone_voice_with_a_bad_key_or_no_key(eleven):
    fake, s = eleven
    s.elevenlabs_api_key = SecretStr("xi-wrong-key-777")
    with pytest.raises(SpeechError) as err:
        clone_voice("Voz", sine(70.0), "audio/mpeg", settings=s)
    assert "ELEVENLABS_API_KEY" in str(err.value) and "xi-wrong-key-777" not in str(err.value)
    assert fake.voices == {}
    s.elevenlabs_api_key = None
    with pytest.raises(SpeechError, match="ELEVENLABS_API_KEY"):
        clone_voice("Voz", sine(70.0), "audio/mpeg", settings=s)


def test_fake_elevenlabs_rejects_an_upload_without_files_and_lists_voices(eleven):
    import httpx

    _, s = eleven
    base, headers = s.elevenlabs_base_url, {"xi-api-key": XI_KEY}
    response = httpx.post(f"{base}/v1/voices/add", data={"name": "Sem arquivo"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "files"]
    voice_id = clone_voice("Com arquivo", sine(70.0), "audio/mpeg", settings=s)
    voices = httpx.get(f"{base}/v1/voices", headers=headers).json()["voices"]
    assert {"voice_id": voice_id, "name": "Com arquivo", "category": "cloned"} in voices
    assert httpx.get(f"{base}/v1/voices", headers={"xi-api-key": "x"}).status_code == 401


def test_clone_voice_retries_only_answers_that_say_nothing_was_done(eleven):
    fake, s = eleven
    fake.fail_next(1, 503)
    voice_id = clone_voice("Voz", sine(70.0), "audio/mpeg", settings=s)
    assert [r["status"] for r in fake.requests] == [503, 200]
    assert list(fake.voices) == [voice_id]
    fake.fail_next(1, 500)  # the voice may have been created: not sent twice
    with pytest.raises(SpeechError, match="fora do ar"):
        clone_voice("Voz", sine(70.0), "audio/mpeg", settings=s)
    assert [r["status"] for r in fake.requests] == [503, 200, 500]


def test_elevenlabs_voice_id_cannot_reach_another_endpoint(eleven):
    fake, s = eleven
    with pytest.raises(SpeechError, match="inválido"):
        get_synthesizer(s).synthesize(REPLY, voice_id="../voices/add")
    assert fake.requests == []

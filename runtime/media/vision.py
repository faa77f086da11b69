"""What is in an image a lead sent: a description plus any text in it (prices, a label, a receipt).
Gemini vision when configured; tesseract OCR (Portuguese) otherwise, offline."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.config import Settings, get_settings
from runtime.provider_errors import RetryPolicy, call_with_retries

PROMPT = (
    "Descreva em português, em uma ou duas frases, o que aparece nesta imagem enviada por um cliente "
    "pelo WhatsApp. Depois, em uma linha começando com 'Texto:', transcreva fielmente todo texto legível "
    "(preços, rótulos, códigos). Se não houver texto, escreva 'Texto: (nenhum)'."
)


class VisionError(Exception):
    """The image could not be understood (the message says why, in pt-BR)."""


@dataclass(frozen=True)
class ImageUnderstanding:
    description: str
    text: str
    provider: str

    def as_text(self) -> str:
        parts = [p for p in (self.description, f"Texto na imagem: {self.text}" if self.text else "") if p]
        return "\n".join(parts)


def understand_image(data: bytes, mime_type: str | None, settings: Settings | None = None) -> ImageUnderstanding:
    s = settings or get_settings()
    if s.vision_provider == "gemini" and s.gemini_api_key:
        return _gemini(data, mime_type or "image/jpeg", s)
    return _ocr(data, mime_type)


def _ocr(data: bytes, mime_type: str | None) -> ImageUnderstanding:
    from runtime.knowledge.isolated import extract_isolated
    from runtime.knowledge.types import ExtractionError

    try:
        doc = extract_isolated(data, "imagem", mime_type)
    except ExtractionError as exc:
        raise VisionError(str(exc)) from exc
    text = "\n".join(sec.text for sec in doc.sections).strip()
    return ImageUnderstanding(description="", text=text, provider="ocr")


def _gemini(data: bytes, mime_type: str, s: Settings) -> ImageUnderstanding:
    from google import genai
    from google.genai.types import HttpOptions, Part

    key = s.gemini_api_key.get_secret_value()
    policy = RetryPolicy(attempts=1, timeout_seconds=30.0)  # one attempt: there are no retry settings for images
    options = HttpOptions(base_url=s.gemini_base_url, timeout=int(policy.timeout_seconds * 1000))
    client = genai.Client(api_key=key, vertexai=False, http_options=options)
    response = call_with_retries(
        lambda: client.models.generate_content(
            model=s.gemini_vision_model, contents=[Part.from_bytes(data=data, mime_type=mime_type), PROMPT]
        ),
        policy=policy,
        name=f"vision gemini:{s.gemini_vision_model}",
        describe=lambda exc: f"Não consegui analisar a imagem agora ({type(exc).__name__}).",
        fail=lambda exc, detail, attempts: VisionError(detail),
        secrets=(key,),
    )
    answer = (response.text or "").strip()
    if not answer:
        raise VisionError("Não consegui analisar a imagem agora (resposta vazia).")
    description, _, text = answer.partition("Texto:")
    text = text.strip()
    return ImageUnderstanding(
        description=description.strip(), text="" if text.startswith("(nenhum)") else text, provider="gemini"
    )

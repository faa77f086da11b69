"""Images from leads: Gemini vision through the real google-genai client against a local
generateContent server, and OCR offline (tesseract, Portuguese)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime.config import Settings
from runtime.media.vision import VisionError, understand_image
from tests.fakes.servers import serve_in_thread

PNG = (Path(__file__).resolve().parent.parent / "data" / "company" / "horarios.png").read_bytes()


class FakeGeminiVision:
    def __init__(self, answer: str, status: int = 200) -> None:
        self.answer, self.status, self.requests = answer, status, []

    def app(self) -> Starlette:
        async def generate(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"path": request.url.path, "key": request.headers.get("x-goog-api-key"), "json": body})
            if self.status != 200:
                return JSONResponse({"error": {"code": self.status, "status": "UNAVAILABLE"}}, status_code=self.status)
            return JSONResponse(
                {
                    "candidates": [
                        {"content": {"role": "model", "parts": [{"text": self.answer}]}, "finishReason": "STOP"}
                    ]
                }
            )

        return Starlette(routes=[Route("/{version}/models/{action}", generate, methods=["POST"])])


def _settings(url: str, **kw) -> Settings:
    return Settings(vision_provider="gemini", gemini_api_key="g-key-123", gemini_base_url=url, **kw)


def test_gemini_describes_and_reads_the_image():
    fake = FakeGeminiVision("Uma tabela de horários de uma clínica.\nTexto: Sábado: 8h às 13h")
    with serve_in_thread(fake.app()) as url:
        seen = understand_image(PNG, "image/png", _settings(url))
    assert seen.provider == "gemini" and seen.text == "Sábado: 8h às 13h"
    assert "clínica" in seen.description and "Texto na imagem: Sábado" in seen.as_text()
    (req,) = fake.requests
    assert req["path"].endswith("gemini-2.5-flash:generateContent") and req["key"] == "g-key-123"
    parts = req["json"]["contents"][0]["parts"]
    inline = next(
        p.get("inlineData") or p.get("inline_data") for p in parts if p.get("inlineData") or p.get("inline_data")
    )
    assert inline.get("mimeType", inline.get("mime_type")) == "image/png"
    assert base64.urlsafe_b64decode(inline["data"] + "==") == PNG or base64.b64decode(inline["data"]) == PNG


def test_gemini_outage_is_a_clear_error_without_the_key():
    fake = FakeGeminiVision("", status=503)
    with serve_in_thread(fake.app()) as url, pytest.raises(VisionError) as err:
        understand_image(PNG, "image/png", _settings(url))
    assert "g-key-123" not in str(err.value)


def test_ocr_offline_reads_portuguese_prices_and_hours():
    seen = understand_image(PNG, "image/png", Settings(vision_provider="ocr"))
    assert seen.provider == "ocr" and "Sábado" in seen.text


def test_an_image_without_text_fails_with_a_reason():
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, "PNG")
    with pytest.raises(VisionError, match="texto"):
        understand_image(blank.getvalue(), "image/png", Settings(vision_provider="ocr"))

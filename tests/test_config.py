"""Settings: every option is documented; production refuses to run without a secret key."""

from __future__ import annotations

import re

import pytest

from runtime import crypto
from runtime.config import PROJECT_ROOT, Settings, get_settings


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set()


def test_secure_cookie_follows_public_url():
    assert Settings(public_url="https://app.example.com").secure_cookies
    assert not Settings(public_url="http://localhost:3000").secure_cookies
    assert Settings(public_url="http://localhost:3000", cookie_secure=True).secure_cookies


def test_production_without_secret_key_refuses_to_encrypt(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(crypto.SecretKeyMissing):
            crypto.encrypt("token")
    finally:
        get_settings.cache_clear()


def test_development_key_is_generated_once_and_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        ct = crypto.encrypt("segredo")
        assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
        assert crypto.decrypt(ct) == "segredo"
    finally:
        get_settings.cache_clear()

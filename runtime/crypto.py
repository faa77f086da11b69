"""Encryption at rest for provider tokens and OAuth refresh tokens (Fernet, key from settings)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .config import get_settings


class SecretKeyMissing(RuntimeError):
    pass


def key_material() -> bytes:
    s = get_settings()
    if s.secret_key is not None:
        return s.secret_key.get_secret_value().encode()
    if s.app_env == "production":
        raise SecretKeyMissing("SECRET_KEY must be set in production")
    # Development: one random key kept beside the embedded database, so data stays readable.
    path = Path(s.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip().encode()


@lru_cache
def _fernet(material: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"pv-at-rest:" + material).digest()))


def encrypt(plaintext: str) -> str:
    return _fernet(key_material()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(key_material()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret could not be decrypted (wrong SECRET_KEY?)") from exc

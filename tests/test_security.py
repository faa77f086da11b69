"""Passwords (argon2id), token hashing, encryption at rest."""

from __future__ import annotations

import pytest

from runtime import crypto, security


def test_password_hash_is_argon2id_and_verifies():
    h = security.hash_password("correta-123")
    assert h.startswith("$argon2id$")
    assert "correta-123" not in h
    assert security.verify_password(h, "correta-123")
    assert not security.verify_password(h, "errada-123")


def test_same_password_hashes_differently():
    assert security.hash_password("mesma-senha") != security.hash_password("mesma-senha")


def test_short_password_is_refused():
    with pytest.raises(security.WeakPasswordError):
        security.hash_password("curta")


def test_verify_handles_missing_and_garbage_hashes():
    assert not security.verify_password(None, "qualquer-coisa")
    assert not security.verify_password("not-a-hash", "qualquer-coisa")


def test_tokens_are_random_and_stored_as_sha256():
    a, b = security.new_token(), security.new_token()
    assert a != b and len(a) >= 40
    assert len(security.token_hash(a)) == 64 and security.token_hash(a) != a


def test_encryption_roundtrip_and_tamper_detection():
    secret = "EAAG-token-do-provedor"
    ct = crypto.encrypt(secret)
    assert secret not in ct
    assert crypto.decrypt(ct) == secret
    tampered = ct[:-4] + ("AAAA" if not ct.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        crypto.decrypt(tampered)

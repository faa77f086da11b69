"""Text PostgreSQL refuses (NUL, lone surrogates) made storable, checked against the real server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from db.engine import admin_engine
from runtime.pgtext import has_refused, pg_json, pg_text


def test_nul_is_dropped_and_surrogates_replaced():
    assert pg_text("Oi\x00 tudo bem") == "Oi tudo bem"
    assert pg_text("a\ud800b") == "a\ufffdb"
    assert pg_text("sem nada") == "sem nada"
    assert has_refused("x\x00") and has_refused("\udfff") and not has_refused("ção ✓ 🙂")


def test_nested_json_is_cleaned_keys_included():
    assert pg_json({"t\x00": ["a\x00", {"n": "\ud83d"}], "k": 1, "none": None}) == {
        "t": ["a", {"n": "\ufffd"}],
        "k": 1,
        "none": None,
    }


@pytest.mark.parametrize("raw", ["Oi\x00", "nome\ud800"])
def test_postgres_refuses_the_raw_value_and_accepts_the_cleaned_one(pg, raw):
    doc = json.dumps({"text": raw})
    with admin_engine().connect() as conn, pytest.raises(Exception):  # noqa: B017  (jsonb or encoding error)
        conn.execute(text("SELECT CAST(:d AS jsonb)"), {"d": doc}).scalar()
    with admin_engine().connect() as conn:
        stored = conn.execute(text("SELECT CAST(:d AS jsonb)->>'text'"), {"d": json.dumps(pg_json({"text": raw}))})
        assert stored.scalar() == pg_text(raw)

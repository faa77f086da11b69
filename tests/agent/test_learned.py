"""Generalizing a handed-off question before it is learned, and matching similar questions."""

from __future__ import annotations

import pytest

from runtime.agent.learned import generalize_question, normalize_question


@pytest.mark.parametrize(
    ("asked", "name", "expected"),
    [
        ("Oi, boa tarde! Vocês atendem cachorro?", "", "Vocês atendem cachorro?"),
        ("Olá, aqui é a Ana Souza, vcs aceitam cheque? Obrigada!", "Ana Souza", "Vcs aceitam cheque?"),
        ("bom dia tudo bem? tem estacionamento", "", "Tem estacionamento"),
        ("Tem estacionamento?", "Ana", "Tem estacionamento?"),
        ("oi", "", "oi"),  # nothing left: keep what was asked
    ],
)
def test_generalize_question(asked, name, expected):
    assert generalize_question(asked, name) == expected


def test_normalize_question_ignores_accents_case_and_punctuation():
    assert normalize_question("Vocês ACEITAM cheque?!") == normalize_question("voces aceitam cheque")

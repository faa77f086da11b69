"""The inbox's pt-BR labels: providers, list filters, lead stages and types."""

from __future__ import annotations

from runtime.channels.registry import PROVIDER_LABELS as PROVIDER_LABELS  # the adapters name themselves

FILTERS = (
    ("todas", "Todas"),
    ("minhas", "Minhas"),
    ("nao_atribuidas", "Não atribuídas"),
    ("robo", "Com o robô"),
    ("aguardando", "Aguardando humano"),
    ("encerradas", "Encerradas"),
)
STAGES = (
    ("new", "Novo"),
    ("qualifying", "Em qualificação"),
    ("qualified", "Qualificado"),
    ("proposal", "Proposta"),
    ("won", "Ganho"),
    ("lost", "Perdido"),
)
LEAD_TYPES = (("lead", "Lead"), ("customer", "Cliente"), ("supplier", "Fornecedor"), ("other", "Outro"))

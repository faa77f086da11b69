"""What the agent's language models cost, for the dashboard's estimated spend.

USD per 1 million tokens, standard (pay-as-you-go, non-batch, no context caching) text prices,
for prompts up to 200k tokens where a provider has tiers. Sources, as read on the date given:

- Google Gemini API: https://ai.google.dev/gemini-api/docs/pricing (read 2026-03; the figures for
  2.5 Flash / Flash-Lite / Pro also quoted by third-party summaries of that page dated 2026-01..03).
- OpenAI API: https://openai.com/api/pricing/ and https://platform.openai.com/docs/pricing
  (read 2025-08).
- Local models (Ollama, llama.cpp, vLLM on your own machine) cost no per-token fee.

Prices change: the dashboard labels the figure "estimado" and counts the tokens of models that
are not in this table apart (shown, never priced as zero silently). Update the table and its
date when a provider changes its page.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-03"


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


PRICES: dict[str, Price] = {
    # Google Gemini API (ai.google.dev/gemini-api/docs/pricing, paid tier, text input)
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-2.0-flash-lite": Price(0.075, 0.30),
    # OpenAI API (openai.com/api/pricing)
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
}

# Providers that run on the customer's own hardware: no per-token fee.
FREE_PROVIDERS = ("ollama",)


def price_for(model: str | None) -> Price | None:
    """The price of a model name as turns record it ("gemini-2.5-flash", "models/gemini-2.5-flash",
    "ollama:llama3.1:8b"); None when unknown."""
    if not model:
        return None
    name = model.strip().lower()
    provider, sep, rest = name.partition(":")
    if sep and provider in FREE_PROVIDERS:
        return Price(0.0, 0.0)
    if sep and provider in ("gemini", "openai"):
        name = rest
    name = name.removeprefix("models/")
    if name in PRICES:
        return PRICES[name]
    # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs: longest prefix wins.
    best = max((k for k in PRICES if name.startswith(k + "-")), key=len, default=None)
    return PRICES[best] if best else None


def estimated_cost_usd(model: str | None, input_tokens: int, output_tokens: int) -> float | None:
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1_000_000

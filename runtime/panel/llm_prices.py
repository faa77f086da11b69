"""What the agent's language models cost, for the dashboard's estimated spend.

USD per 1 million tokens, standard (pay-as-you-go, non-batch, no context caching) text prices,
for prompts up to 200k tokens where a provider has tiers. Sources, as read on the date given:

- Google Gemini API: https://ai.google.dev/gemini-api/docs/pricing (the 2.5 figures read 2026-03;
  the 3.x figures and a check of the 2.5 ones from a verbatim transcription of that page dated
  2026-10-07). Gemini 3.8 Flash has an introductory price until 2026-12-31 (PRICE_CHANGES).
- OpenAI API: https://openai.com/api/pricing/ and https://platform.openai.com/docs/pricing
  (read 2025-08, checked against a transcription of the page dated 2025-10; gpt-5.2 from two
  third-party summaries of it dated 2026, agreeing).
- Local models (Ollama, llama.cpp, vLLM on your own machine) cost no per-token fee.

Prices change: the dashboard labels the figure "estimado" and counts the tokens of models that
are not in this table apart (shown, never priced as zero silently). Update the table and its
date when a provider changes its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PRICES_AS_OF = "2026-10"


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


PRICES: dict[str, Price] = {
    # Google Gemini API (ai.google.dev/gemini-api/docs/pricing, paid tier, text input, <= 200k)
    "gemini-3.8-flash": Price(0.75, 3.75),  # introductory, until 2026-12-31
    "gemini-3.5-flash": Price(1.50, 9.00),
    "gemini-3.5-flash-lite": Price(0.30, 2.50),
    "gemini-3.1-pro-preview": Price(2.00, 12.00),
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
    "gpt-5.2": Price(1.75, 14.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
}

# Announced price changes: from that day on, the model costs the new price.
PRICE_CHANGES: dict[str, tuple[date, Price]] = {
    "gemini-3.8-flash": (date(2027, 1, 1), Price(1.50, 7.50)),
}

# Providers that run on the customer's own hardware: no per-token fee.
FREE_PROVIDERS = ("ollama",)


def price_for(model: str | None, on: date | None = None) -> Price | None:
    """The price of a model name as turns record it ("gemini-2.5-flash", "models/gemini-2.5-flash",
    "ollama:llama3.1:8b") on a given day (default: the table's prices); None when unknown."""
    if not model:
        return None
    name = model.strip().lower()
    provider, sep, rest = name.partition(":")
    if sep and provider in FREE_PROVIDERS:
        return Price(0.0, 0.0)
    if sep and provider in ("gemini", "openai"):
        name = rest
    name = name.removeprefix("models/")
    if name not in PRICES:
        # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs: longest prefix wins.
        name = max((k for k in PRICES if name.startswith(k + "-")), key=len, default="")
        if not name:
            return None
    change = PRICE_CHANGES.get(name)
    if change is not None and on is not None and on >= change[0]:
        return change[1]
    return PRICES[name]


def estimated_cost_usd(
    model: str | None, input_tokens: int, output_tokens: int, on: date | None = None
) -> float | None:
    price = price_for(model, on)
    if price is None:
        return None
    return (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1_000_000

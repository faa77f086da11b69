"""The search tester: a question as a lead would write it, and what the agent would find."""

from __future__ import annotations

import reflex as rx

from ...components import (
    action_button,
    callout,
    icon_input,
    muted,
    responsive_row,
    section_card,
)
from ...states.knowledge import KnowledgeState as S


def hit_row(hit) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.badge(hit["rank"], variant="solid", color_scheme="teal", radius="full"),
            rx.text(hit["document"], weight="medium", size="2", class_name="hit-document"),
            rx.cond(hit["page"].to(int) > 0, rx.badge("p. ", hit["page"], variant="soft", color_scheme="gray")),
            rx.spacer(),
            muted(hit["matched_by"]),
            rx.badge("pontuação ", hit["score"], variant="soft", color_scheme="teal", class_name="hit-score"),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.progress(value=hit["relative"].to(int), max=100, size="1", color_scheme="teal", margin_top="8px"),
        rx.cond(hit["heading"] != "", rx.text(hit["heading"], size="1", weight="medium", margin_top="8px")),
        muted(hit["snippet"], size="2", white_space="pre-wrap", margin_top="6px"),
        padding="12px",
        border="1px solid var(--gray-a5)",
        border_radius="10px",
        width="100%",
        class_name="search-hit",
    )


def search_card() -> rx.Component:
    return section_card(
        "scan_search",
        "Testar a busca",
        "Escreva uma pergunta como um cliente escreveria e veja o que o agente encontraria para responder.",
        rx.el.form(
            responsive_row(
                icon_input(
                    "search",
                    name="query",
                    placeholder="Ex.: quanto custa a limpeza? vcs abrem sábado?",
                    required=True,
                    flex="1",
                    min_width="0",
                    id="search-query",
                ),
                rx.cond(
                    S.agents.length() > 1,
                    rx.select.root(
                        rx.select.trigger(placeholder="Agente", min_width="160px"),
                        rx.select.content(
                            rx.foreach(S.agents, lambda a: rx.select.item(a["name"], value=a["id"])),
                        ),
                        name="agent_id",
                        default_value=S.default_agent,
                        size="3",
                    ),
                ),
                action_button("search", "Testar", type="submit", size="3", loading=S.searching, id="search-submit"),
                narrow=None,
                spacing="2",
                width="100%",
            ),
            on_submit=S.run_search,
            id="search-form",
            width="100%",
        ),
        rx.cond(
            S.searched,
            rx.vstack(
                muted(
                    "Resultados para “",
                    S.search_query,
                    "”",
                    rx.cond(S.search_agent != "", rx.fragment(" como ", rx.text.strong(S.search_agent)), ""),
                    rx.cond(S.search_collection != "", rx.fragment(" (coleção ", S.search_collection, ")"), ""),
                    size="2",
                ),
                rx.cond(
                    S.search_learned.contains("id"),
                    callout(
                        "graduation_cap",
                        rx.text.strong("Resposta aprendida usada antes da busca"),
                        " (semelhança ",
                        S.search_learned["similarity"],
                        "): ",
                        S.search_learned["answer"],
                        color="teal",
                        id="search-learned",
                    ),
                ),
                rx.cond(
                    S.search_hits.length() > 0,
                    rx.vstack(rx.foreach(S.search_hits, hit_row), spacing="2", width="100%"),
                    callout(
                        "search_x",
                        "Nada encontrado. O agente diria que não sabe e chamaria uma pessoa da equipe. "
                        "Envie um documento que responda a essa pergunta.",
                        color="amber",
                    ),
                ),
                spacing="3",
                width="100%",
                id="search-results",
            ),
        ),
        id="knowledge-search",
    )


# --- learned answers -----------------------------------------------------------------------------

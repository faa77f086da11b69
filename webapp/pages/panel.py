"""The signed-in sections. Each is an honest empty state until its feature lands: what will be
here, in one or two sentences, and no made-up data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from ..components import empty_state, shell


def _step(number: str, title: str, text: str, href: str, cta: str) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.text(number, size="2", weight="bold", color="var(--teal-11)"),
            width="32px",
            height="32px",
            border_radius="999px",
            background="var(--teal-a3)",
            flex_shrink="0",
        ),
        rx.box(
            rx.text(title, size="3", weight="medium"),
            rx.text(text, size="2", color_scheme="gray"),
            flex="1",
            min_width="0",
        ),
        rx.link(
            rx.button(cta, rx.icon("chevron_right", size=16), variant="soft", size="2"),
            href=href,
            underline="none",
        ),
        align="center",
        spacing="4",
        width="100%",
        padding_y="14px",
    )


def painel_content() -> list[rx.Component]:
    return [
        rx.card(
            rx.vstack(
                rx.heading("Primeiros passos", size="4", weight="medium", as_="h2"),
                rx.text(
                    "Três passos para o seu vendedor de IA começar a atender.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.box(
                    _step(
                        "1",
                        "Configure o agente",
                        "Nome, tom de voz e as perguntas para qualificar um lead.",
                        "/agentes",
                        "Agentes",
                    ),
                    rx.separator(size="4"),
                    _step(
                        "2",
                        "Ensine sobre a sua empresa",
                        "Envie catálogos, tabelas de preço e perguntas frequentes.",
                        "/conhecimento",
                        "Conhecimento",
                    ),
                    rx.separator(size="4"),
                    _step(
                        "3",
                        "Conecte o WhatsApp",
                        "Ligue o número da empresa para o agente receber as mensagens.",
                        "/canais",
                        "Canais",
                    ),
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            size="3",
            width="100%",
        ),
        empty_state(
            "chart_no_axes_column",
            "Ainda não há resultados para mostrar",
            "Conversas atendidas, leads qualificados e vendas encaminhadas aparecem aqui "
            "assim que o primeiro canal estiver conectado.",
        ),
    ]


@dataclass(frozen=True)
class PanelPage:
    route: str
    title: str
    description: str
    content: Callable[[], list[rx.Component]]


def _empty(icon: str, title: str, text: str) -> Callable[[], list[rx.Component]]:
    return lambda: [empty_state(icon, title, text)]


PAGES = (
    PanelPage(
        "/painel",
        "Painel",
        "Um resumo de como o seu vendedor de IA está se saindo.",
        painel_content,
    ),
    PanelPage(
        "/agentes",
        "Agentes",
        "Configure o vendedor de IA: como ele se apresenta, o tom de voz, o roteiro de qualificação "
        "e quando ele passa a conversa para alguém da equipe.",
        _empty(
            "bot",
            "Nenhum agente configurado ainda",
            "Aqui você vai criar e ajustar os agentes que atendem seus clientes, escolhendo entre o modo "
            "piloto (o agente responde sozinho) e o modo copiloto (ele sugere e a equipe envia).",
        ),
    ),
    PanelPage(
        "/conhecimento",
        "Conhecimento",
        "Os documentos que o agente usa para responder: catálogos, tabelas de preço, políticas e perguntas frequentes.",
        _empty(
            "book_open",
            "Nenhum documento enviado ainda",
            "Aqui vão aparecer os arquivos enviados (PDF, Word, planilhas e textos) e as pastas sincronizadas "
            "do Google Drive, com o que o agente aprendeu de cada um.",
        ),
    ),
    PanelPage(
        "/inbox",
        "Inbox",
        "As conversas com os clientes em tempo real, para a equipe acompanhar e assumir quando quiser.",
        _empty(
            "inbox",
            "Nenhuma conversa por enquanto",
            "Quando um cliente escrever para um canal conectado, a conversa aparece aqui. Você poderá "
            "responder, assumir o atendimento e aprovar as sugestões do agente.",
        ),
    ),
    PanelPage(
        "/leads",
        "Leads",
        "Os contatos que chegaram pelos seus canais e em que ponto cada um está na negociação.",
        _empty(
            "contact",
            "Nenhum lead ainda",
            "Cada pessoa que conversar com o agente vira um lead aqui, com as respostas da qualificação, "
            "a etapa do funil e os próximos follow-ups.",
        ),
    ),
    PanelPage(
        "/canais",
        "Canais",
        "Por onde os clientes falam com a sua empresa.",
        _empty(
            "radio_tower",
            "Nenhum canal conectado",
            "Aqui você vai conectar o WhatsApp da empresa (API oficial da Meta, Evolution API, Z-API ou "
            "Twilio) e o chat do seu site.",
        ),
    ),
    PanelPage(
        "/equipe",
        "Equipe",
        "Quem da sua empresa usa o painel e recebe as conversas que o agente encaminha.",
        _empty(
            "users",
            "Gestão da equipe em breve",
            "Aqui você vai convidar vendedores e administradores, definir o papel de cada um e quem recebe "
            "os atendimentos passados pelo agente.",
        ),
    ),
    PanelPage(
        "/configuracoes",
        "Configurações",
        "Os dados da sua empresa e as preferências da conta.",
        _empty(
            "settings",
            "Nada para configurar por aqui ainda",
            "Aqui ficarão os dados da empresa, o horário de atendimento, as integrações com o CRM, as chaves "
            "de API e o seu plano.",
        ),
    ),
)


def make_page(page: PanelPage) -> Callable[[], rx.Component]:
    def render() -> rx.Component:
        return shell(page.route, page.title, page.description, *page.content())

    render.__name__ = f"page_{page.route.strip('/')}"
    return render

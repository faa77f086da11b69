"""Agentes: the workspace's sales agents as cards, and an editor with one tab per concern."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import agents as svc

from ..components import empty_state, icon_tile
from ..states.agents import LLM_KEY_ID, AgentsState
from .panel import panel_route

F = AgentsState.form
MODE_COLORS = {"pilot": "teal", "copilot": "amber", "off": "gray"}
MODE_HINTS = {
    "pilot": "Responde os clientes sozinho.",
    "copilot": "Escreve sugestões para a equipe aprovar no Inbox.",
    "off": "Não responde; as mensagens só ficam no Inbox.",
}


# --- small form widgets (controlled by AgentsState.form) -----------------------------------------


def _hint(hint: Any) -> list[rx.Component]:
    if isinstance(hint, str) and not hint:
        return []
    return [rx.text(hint, size="1", color_scheme="gray", as_="div", margin_top="4px")]


def _labeled(label: str, control: rx.Component, hint: Any = "", *, group: bool = False) -> rx.Component:
    """A field with its label; `group` for controls made of several buttons (not one labelable input)."""
    wrapper = rx.el.div if group else rx.el.label
    return wrapper(
        rx.text(label, size="2", weight="medium", as_="div", margin_bottom="6px"),
        control,
        *_hint(hint),
        width="100%",
        display="block",
    )


def text_input(label: str, key: str, hint: str = "", **props) -> rx.Component:
    return _labeled(
        label,
        rx.input(
            value=F[key].to(str),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            width="100%",
            **props,
        ),
        hint,
    )


def text_area(label: str, key: str, hint: str = "", rows: str = "4", **props) -> rx.Component:
    return _labeled(
        label,
        rx.text_area(
            value=F[key].to(str),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            rows=rows,
            width="100%",
            resize="vertical",
            **props,
        ),
        hint,
    )


def switch(label: str, key: str, hint: str = "") -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=F[key].to(bool),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            color_scheme="teal",
        ),
        rx.box(
            rx.text(label, size="2", weight="medium"),
            *_hint(hint),
        ),
        align="start",
        spacing="3",
    )


def _select(value: Any, on_change: Any, options: dict[str, str], id_: str | None = None, **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=id_, width="100%"),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in options.items()]),
        value=value,
        on_change=on_change,
        **props,
    )


def select(label: str, key: str, options: dict[str, str], hint: str = "") -> rx.Component:
    return _labeled(label, _select(F[key].to(str), lambda v: AgentsState.set_field(key, v), options, f"f-{key}"), hint)


def section(title: str, text: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.box(
                rx.heading(title, size="3", weight="medium", as_="h3"),
                rx.text(text, size="2", color_scheme="gray"),
            ),
            *children,
            spacing="4",
            width="100%",
        ),
        size="2",
        width="100%",
    )


def two(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%")


def remove_button(table: str, index: Any, label: str) -> rx.Component:
    return rx.icon_button(
        rx.icon("trash_2", size=16),
        on_click=AgentsState.remove_row(table, index),
        variant="ghost",
        color_scheme="red",
        aria_label=label,
        type="button",
    )


def _row_input(table: str, row: Any, index: Any, key: str, placeholder: str, **props) -> rx.Component:
    return rx.input(
        value=row[key].to(str),
        on_change=lambda v: AgentsState.set_row(table, index, key, v),
        placeholder=placeholder,
        width="100%",
        **props,
    )


# --- the list --------------------------------------------------------------------------------


def _stat(icon: str, text: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=14), rx.text(text, size="1"), spacing="1", align="center", color="var(--gray-11)"
    )


def delete_dialog(agent_id: Any, name: Any, trigger: rx.Component) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Excluir agente?"),
            rx.alert_dialog.description(
                rx.text(
                    "O agente ",
                    rx.text.strong(name),
                    " será excluído. Os canais ligados a ele ficam sem agente e param de responder "
                    "até você escolher outro. As conversas continuam no Inbox.",
                ),
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancelar", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Excluir", color_scheme="red", on_click=AgentsState.delete(agent_id), id="confirm-delete")
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
        ),
    )


def agent_card(agent: Any) -> rx.Component:
    mode = agent["mode"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                icon_tile("bot", large=True),
                rx.box(
                    rx.text(agent["name"].to(str), size="4", weight="bold", class_name="agent-name"),
                    rx.text(agent["model"].to(str), size="1", color_scheme="gray"),
                    min_width="0",
                    flex="1",
                ),
                rx.badge(
                    agent["mode_label"].to(str),
                    color_scheme=rx.match(mode, ("pilot", "teal"), ("copilot", "amber"), "gray"),
                    variant="soft",
                    size="2",
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            rx.text(
                rx.cond(agent["summary"].to(str) != "", agent["summary"].to(str), "Sem persona definida."),
                size="2",
                color_scheme="gray",
            ),
            rx.flex(
                _stat("list_checks", agent["rules"].to(str) + " regras"),
                _stat("clipboard_list", agent["qualification"].to(str) + " campos"),
                _stat("radio_tower", agent["channels"].to(str) + " canais"),
                rx.cond(agent["voice"].to(bool), _stat("mic", "responde com áudio")),
                spacing="4",
                wrap="wrap",
            ),
            rx.separator(size="4"),
            rx.hstack(
                rx.text("Atualizado em " + agent["updated_at"].to(str), size="1", color_scheme="gray"),
                rx.spacer(),
                delete_dialog(
                    agent["id"],
                    agent["name"],
                    rx.icon_button(
                        rx.icon("trash_2", size=16),
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Excluir agente",
                    ),
                ),
                rx.button(
                    rx.icon("pencil", size=14),
                    "Editar",
                    variant="soft",
                    on_click=AgentsState.edit(agent["id"].to(str)),
                    loading=AgentsState.opening == agent["id"].to(str),
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        size="2",
        class_name="agent-card",
    )


def new_button(id_: str) -> rx.Component:
    return rx.button(rx.icon("plus", size=16), "Criar agente", on_click=AgentsState.new_agent, id=id_, size="3")


def list_view() -> rx.Component:
    return rx.cond(
        AgentsState.loaded,
        rx.cond(
            AgentsState.agents.length() > 0,
            rx.vstack(
                rx.hstack(
                    rx.text(AgentsState.agents.length().to(str) + " agente(s)", size="2", color_scheme="gray"),
                    rx.spacer(),
                    new_button("new-agent"),
                    align="center",
                    width="100%",
                ),
                rx.grid(
                    rx.foreach(AgentsState.agents, agent_card),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                id="agents-list",
            ),
            empty_state(
                "bot",
                "Nenhum agente ainda",
                "Crie o seu vendedor de IA: diga quem ele é, o que sua empresa vende e como ele deve "
                "qualificar os clientes. Depois ligue-o a um canal de WhatsApp.",
                new_button("new-agent-empty"),
            ),
        ),
        rx.grid(
            rx.skeleton(height="180px"),
            rx.skeleton(height="180px"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
    )


# --- the editor's tabs -----------------------------------------------------------------------


def tab_persona() -> rx.Component:
    return rx.vstack(
        section(
            "Identidade",
            "Como o agente se apresenta e como ele trabalha.",
            text_input("Nome do agente", "name", placeholder="Ex.: Sofia", max_length=120),
            _labeled(
                "Modo",
                rx.segmented_control.root(
                    *[rx.segmented_control.item(label, value=v) for v, label in svc.MODES.items()],
                    value=F["mode"].to(str),
                    on_change=lambda v: AgentsState.set_field("mode", v),
                    id="f-mode",
                    width="100%",
                ),
                rx.match(F["mode"].to(str), *MODE_HINTS.items(), ""),
                group=True,
            ),
            select("Idioma", "language", svc.LANGUAGES, "Também usado para transcrever os áudios dos clientes."),
        ),
        section(
            "Persona e empresa",
            "O que o agente sabe de si e do negócio (vai no início de cada conversa com o modelo).",
            text_area(
                "Persona",
                "persona",
                "Quem é o agente, como fala, o que pode prometer.",
                placeholder="Ex.: Você é a Sofia, consultora da Clínica Sorriso. Atende com simpatia...",
            ),
            text_area(
                "Sobre a empresa",
                "company_description",
                "Produtos, diferenciais, região atendida. Preços e políticas ficam na base de Conhecimento.",
                rows="6",
            ),
            text_input("Tom de voz", "tone", placeholder="Ex.: cordial, próximo e objetivo"),
        ),
        spacing="4",
        width="100%",
    )


def qualification_row(row: Any, index: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                _row_input("qualification", row, index, "label", "Nome (ex.: Orçamento)", class_name="q-label"),
                _row_input("qualification", row, index, "key", "chave (ex.: orcamento)", class_name="q-key"),
                rx.hstack(
                    rx.switch(
                        checked=row["required"].to(bool),
                        on_change=lambda v: AgentsState.set_row("qualification", index, "required", v),
                        color_scheme="teal",
                    ),
                    rx.text("Obrigatório", size="2", white_space="nowrap"),
                    remove_button("qualification", index, "Remover campo"),
                    align="center",
                    spacing="2",
                    flex_shrink="0",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                align=rx.breakpoints(initial="stretch", sm="center"),
                width="100%",
            ),
            _row_input("qualification", row, index, "question", "Como perguntar (opcional)", class_name="q-question"),
            spacing="3",
            width="100%",
        ),
        size="1",
        width="100%",
        variant="surface",
    )


def tab_qualification() -> rx.Component:
    return rx.vstack(
        section(
            "Objetivo",
            "Aonde o agente deve levar a conversa.",
            text_area("Objetivo da conversa", "goals", placeholder="Ex.: agendar uma avaliação gratuita", rows="3"),
        ),
        section(
            "Campos de qualificação",
            "O que o agente descobre sobre cada lead, uma pergunta por vez. A chave é o nome do dado na ficha do lead.",
            rx.cond(
                AgentsState.qualification.length() > 0,
                rx.vstack(rx.foreach(AgentsState.qualification, qualification_row), spacing="3", width="100%"),
                rx.text(
                    "Nenhum campo. Ex.: orçamento, necessidade, prazo, quem decide.", size="2", color_scheme="gray"
                ),
            ),
            rx.button(
                rx.icon("plus", size=14),
                "Adicionar campo",
                variant="soft",
                on_click=AgentsState.add_qualification,
                id="add-qualification",
                type="button",
            ),
        ),
        spacing="4",
        width="100%",
    )


def intent_row(row: Any, index: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                _row_input("intents", row, index, "name", "Nome da regra (ex.: Promoção)", class_name="i-name"),
                remove_button("intents", index, "Remover regra"),
                align="center",
                width="100%",
            ),
            rx.grid(
                _select(
                    row["match"].to(str),
                    lambda v: AgentsState.set_row("intents", index, "match", v),
                    svc.MATCHES,
                ),
                _select(
                    row["action"].to(str),
                    lambda v: AgentsState.set_row("intents", index, "action", v),
                    svc.ACTIONS,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.text_area(
                value=row["patterns"].to(str),
                on_change=lambda v: AgentsState.set_row("intents", index, "patterns", v),
                placeholder="Gatilhos: uma palavra-chave ou expressão por linha",
                rows="2",
                width="100%",
                class_name="i-patterns",
            ),
            rx.text_area(
                value=row["response"].to(str),
                on_change=lambda v: AgentsState.set_row("intents", index, "response", v),
                placeholder="Resposta. Pode usar {nome}, {horario}, {status}, {saudacao} e {agente}.",
                rows="3",
                width="100%",
                class_name="i-response",
            ),
            spacing="3",
            width="100%",
        ),
        size="1",
        width="100%",
        variant="surface",
    )


def tab_rules() -> rx.Component:
    return rx.vstack(
        section(
            "Limites",
            "O que o agente nunca discute e o tamanho das respostas.",
            text_area(
                "Assuntos proibidos",
                "forbidden_topics",
                "Um por linha. O agente recusa com educação.",
                rows="3",
                placeholder="Ex.: política\nconcorrentes",
            ),
            text_input("Tamanho máximo da resposta (caracteres)", "max_reply_chars", "De 100 a 4096.", type="number"),
        ),
        section(
            "Regras fixas",
            "Respostas prontas, sem passar pelo modelo, quando a mensagem do cliente bate com um gatilho. "
            "A primeira que bater vale.",
            rx.cond(
                AgentsState.intents.length() > 0,
                rx.vstack(rx.foreach(AgentsState.intents, intent_row), spacing="3", width="100%"),
                rx.text(
                    "Nenhuma regra própria. As regras padrão (sair da lista, falar com uma pessoa, horário, "
                    "tabela de preços, saudação) continuam valendo.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.button(
                rx.icon("plus", size=14),
                "Adicionar regra",
                variant="soft",
                on_click=AgentsState.add_intent,
                id="add-intent",
                type="button",
            ),
        ),
        spacing="4",
        width="100%",
    )


def tab_model() -> rx.Component:
    return rx.vstack(
        section(
            "Modelo de linguagem",
            "Quem escreve as respostas. Sem modelo, o agente responde só com regras, respostas aprendidas e "
            "trechos do conhecimento.",
            two(
                select("Provedor", "llm_provider", svc.PROVIDERS),
                text_input("Modelo", "llm_model", "Vazio = o padrão do provedor.", placeholder="Ex.: gemini-2.5-flash"),
            ),
            text_input(
                "URL do servidor (opcional)",
                "llm_base_url",
                "Para Ollama ou um servidor compatível com a OpenAI.",
                placeholder="https://",
            ),
            _labeled(
                "Chave de API",
                rx.input(  # uncontrolled: what is typed goes to a backend-only var, never comes back
                    on_change=AgentsState.set_llm_api_key,
                    type="password",
                    id=LLM_KEY_ID,
                    placeholder=rx.cond(
                        AgentsState.llm_key_typed,
                        "•••••••• (nova chave digitada: salve para guardar)",
                        rx.cond(F["llm_api_key_set"].to(bool), "•••••••• (definida)", "Cole a chave aqui"),
                    ),
                    width="100%",
                    auto_complete="off",
                ),
                "Guardada criptografada; nunca é mostrada de volta. Mudou o provedor ou a URL do servidor? "
                "Digite a chave de novo: a chave salva só vai para o servidor onde foi cadastrada.",
            ),
            rx.cond(
                F["llm_api_key_set"].to(bool),
                switch("Remover a chave salva", "llm_api_key_clear"),
            ),
            rx.grid(
                text_input("Temperatura", "llm_temperature", "0 a 2 (menor = mais previsível)."),
                text_input("Tempo limite (s)", "llm_timeout_seconds", "Por tentativa."),
                text_input("Novas tentativas", "llm_max_retries", "0 a 6."),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="4",
                width="100%",
            ),
        ),
        section(
            "Ferramentas",
            "O que o agente pode fazer durante a conversa.",
            rx.grid(
                *[switch(label, f"tool_{key}") for key, label in svc.TOOLS.items()],
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def tab_handoff() -> rx.Component:
    return rx.vstack(
        section(
            "Quando passar para a equipe",
            "O agente chama uma pessoa quando o cliente pede, quando não acha a resposta no conhecimento ou "
            "quando a confiança fica abaixo do mínimo.",
            text_input("Confiança mínima", "handoff_min_confidence", "De 0 a 1. Ex.: 0.55."),
            text_area("Mensagem ao cliente", "handoff_message", "O que o cliente recebe na transferência.", rows="2"),
            text_input(
                "WhatsApp para avisar o vendedor (opcional)",
                "handoff_notify_phone",
                "Recebe um aviso pelo mesmo canal quando um cliente precisa de atendimento.",
                placeholder="+55 11 99999-8888",
            ),
        ),
        section(
            "Aprender com a equipe",
            "A resposta do vendedor a uma pergunta nova vira conhecimento para os próximos clientes.",
            switch("Aprender respostas da equipe", "learned_enabled"),
            switch(
                "Exigir aprovação antes de usar",
                "learned_require_approval",
                "Desligado: a resposta passa a valer na hora.",
            ),
            text_input(
                "Semelhança para reusar uma resposta",
                "learned_threshold",
                "De 0.1 a 1 (maior = só perguntas bem parecidas).",
            ),
        ),
        spacing="4",
        width="100%",
    )


def tab_voice() -> rx.Component:
    return rx.vstack(
        section(
            "Respostas em áudio",
            "O agente pode responder com nota de voz (o texto continua no Inbox).",
            select("Responder com áudio", "voice_replies", svc.VOICE_REPLIES),
            two(
                text_input("Nome da voz", "voice_name", placeholder="Ex.: Voz da Ana"),
                text_input("ID da voz no provedor (opcional)", "voice_id", "Vazio = a voz padrão."),
            ),
        ),
        section(
            "Clonar uma voz",
            "Envie de 1 a 3 minutos de alguém da equipe falando naturalmente, sem ruído (MP3, OGG, WAV ou M4A). "
            "Requer ElevenLabs configurado no servidor.",
            rx.cond(
                AgentsState.is_new,
                rx.text("Salve o agente antes de registrar uma voz.", size="2", color_scheme="gray"),
                rx.vstack(
                    rx.upload(
                        rx.vstack(
                            rx.icon("mic", size=22, color="var(--teal-11)"),
                            rx.text("Arraste o áudio aqui ou clique para escolher", size="2"),
                            rx.foreach(rx.selected_files("voice-upload"), lambda f: rx.text(f, size="1")),
                            align="center",
                            spacing="2",
                        ),
                        id="voice-upload",
                        max_files=1,
                        accept={"audio/*": [".mp3", ".ogg", ".wav", ".m4a", ".opus", ".webm"]},
                        border="1px dashed var(--gray-a7)",
                        border_radius="10px",
                        padding="20px",
                        width="100%",
                    ),
                    rx.button(
                        rx.icon("upload", size=14),
                        "Registrar voz",
                        on_click=AgentsState.upload_voice(rx.upload_files(upload_id="voice-upload")),
                        loading=AgentsState.uploading,
                        variant="soft",
                        type="button",
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


TIMEZONES = {
    "America/Sao_Paulo": "Brasília (São Paulo)",
    "America/Manaus": "Amazonas (Manaus)",
    "America/Cuiaba": "Mato Grosso (Cuiabá)",
    "America/Rio_Branco": "Acre (Rio Branco)",
    "America/Noronha": "Fernando de Noronha",
    "America/Fortaleza": "Nordeste (Fortaleza)",
    "America/Belem": "Pará (Belém)",
}


def _time(row: Any, index: Any, key: str, label: str) -> rx.Component:
    return rx.input(
        value=row[key].to(str),
        on_change=lambda v: AgentsState.set_row("hours", index, key, v),
        type="time",
        aria_label=label,
        width="112px",
        disabled=~row["open"].to(bool),
    )


def hours_row(row: Any, index: Any) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.switch(
                checked=row["open"].to(bool),
                on_change=lambda v: AgentsState.set_row("hours", index, "open", v),
                color_scheme="teal",
                id="open-" + row["day"].to(str),
            ),
            rx.text(row["label"].to(str), size="2", weight="medium", width="72px"),
            rx.cond(row["open"].to(bool), rx.fragment(), rx.badge("Fechado", color_scheme="gray", variant="soft")),
            align="center",
            spacing="3",
            min_width="200px",
        ),
        rx.cond(
            row["open"].to(bool),
            rx.flex(
                rx.hstack(
                    _time(row, index, "start", "Abre"),
                    rx.text("às", size="2"),
                    _time(row, index, "end", "Fecha"),
                    align="center",
                    spacing="2",
                ),
                rx.hstack(
                    rx.text("e", size="2", color_scheme="gray"),
                    _time(row, index, "start2", "Abre (2º turno)"),
                    rx.text("às", size="2"),
                    _time(row, index, "end2", "Fecha (2º turno)"),
                    align="center",
                    spacing="2",
                ),
                direction=rx.breakpoints(initial="column", md="row"),
                spacing="3",
            ),
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        spacing="3",
        align=rx.breakpoints(initial="start", sm="center"),
        padding_y="10px",
        border_bottom="1px solid var(--gray-a3)",
        width="100%",
        class_name="hours-row",
    )


def tab_hours() -> rx.Component:
    return rx.vstack(
        section(
            "Horário de atendimento",
            'O agente usa para responder "qual o horário?" e dizer quando a equipe volta. Sem nenhum dia aberto, '
            "ele considera que a empresa atende sempre. O 2º turno é opcional (ex.: depois do almoço).",
            select("Fuso horário", "timezone", TIMEZONES),
            rx.vstack(rx.foreach(AgentsState.hours, hours_row), spacing="0", width="100%"),
            text_area(
                "Feriados e dias fechados",
                "closed_dates",
                "Um por linha: AAAA-MM-DD (ex.: 2026-12-25) ou MM-DD para todo ano (ex.: 01-01).",
                rows="3",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _row_switch(row: Any, index: Any, key: str, label: str) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=row[key].to(bool),
            on_change=lambda v: AgentsState.set_row("followup_steps", index, key, v),
            color_scheme="teal",
        ),
        rx.text(label, size="2"),
        align="center",
        spacing="2",
    )


def followup_row(row: Any, index: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(f"Etapa {index + 1}", color_scheme="teal", variant="soft"),
                rx.spacer(),
                remove_button("followup_steps", index, "Remover etapa"),
                align="center",
                width="100%",
            ),
            rx.grid(
                _row_input("followup_steps", row, index, "delay", "Esperar (ex.: 1)", class_name="fu-delay"),
                _select(
                    row["unit"].to(str),
                    lambda v: AgentsState.set_row("followup_steps", index, "unit", v),
                    svc.FOLLOWUP_UNITS,
                ),
                _select(
                    row["content"].to(str),
                    lambda v: AgentsState.set_row("followup_steps", index, "content", v),
                    svc.FOLLOWUP_CONTENTS,
                ),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="3",
                width="100%",
            ),
            rx.text_area(
                value=row["text"].to(str),
                on_change=lambda v: AgentsState.set_row("followup_steps", index, "text", v),
                placeholder="Mensagem (pode usar {nome}) ou, para a IA, o que ela deve lembrar ao lead",
                rows="2",
                width="100%",
                class_name="fu-text",
            ),
            rx.grid(
                _row_input(
                    "followup_steps",
                    row,
                    index,
                    "template_name",
                    "Modelo aprovado (nome ou ContentSid)",
                    class_name="fu-template",
                ),
                _row_input("followup_steps", row, index, "template_variables", "Variáveis do modelo (ex.: {nome})"),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            _row_input("followup_steps", row, index, "stages", "Só para leads nas etapas (vazio = todas)"),
            rx.flex(
                _row_switch(row, index, "business_hours_only", "Só no horário comercial"),
                _row_switch(row, index, "skip_weekends", "Pular fins de semana"),
                _row_switch(row, index, "skip_holidays", "Pular feriados"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="4",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        size="1",
        width="100%",
        variant="surface",
    )


def tab_followup() -> rx.Component:
    return rx.vstack(
        section(
            "Régua de follow-up",
            "Quando o lead para de responder, o agente o procura de novo nos tempos abaixo (contados da última "
            "mensagem do lead). Uma resposta do lead, o descadastro, a conversa assumida por uma pessoa ou "
            "encerrada cancelam as próximas etapas.",
            switch("Ativar follow-up", "followup_enabled"),
            rx.callout(
                "WhatsApp oficial (Cloud API, Twilio): depois de 24 horas da última mensagem do lead só vale modelo "
                "aprovado. Sem modelo, a etapa é pulada e o motivo fica registrado.",
                icon="info",
                size="1",
                color_scheme="gray",
            ),
            rx.vstack(rx.foreach(AgentsState.followup_steps, followup_row), spacing="3", width="100%"),
            rx.cond(
                AgentsState.followup_steps.length() == 0,
                rx.text("Nenhuma etapa. Ex.: 1 hora, 1 dia, 3 dias.", size="2", color_scheme="gray"),
            ),
            rx.button(
                rx.icon("plus", size=14),
                "Adicionar etapa",
                variant="soft",
                on_click=AgentsState.add_followup_step,
                id="add-followup-step",
                type="button",
            ),
        ),
        section(
            "Regras gerais",
            "Valem para todas as etapas.",
            text_area(
                "Parar quando o lead estiver nas etapas",
                "followup_stop_stages",
                "Uma por linha (ex.: qualificado, perdido, ganho).",
                rows="3",
            ),
            two(
                text_input("Limite diário por canal", "followup_daily_cap", "WhatsApp não oficial (Evolution, Z-API)."),
                text_input(
                    "Intervalo mínimo entre follow-ups (segundos)",
                    "followup_min_spacing",
                    "No mesmo canal não oficial, para evitar bloqueios.",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


TAB_LIST = (
    ("persona", "Persona", "user_round", tab_persona),
    ("qualificacao", "Qualificação", "clipboard_list", tab_qualification),
    ("comportamento", "Comportamento", "list_checks", tab_rules),
    ("modelo", "Modelo", "cpu", tab_model),
    ("transferencia", "Transferência", "users", tab_handoff),
    ("voz", "Voz", "mic", tab_voice),
    ("horario", "Horário", "clock", tab_hours),
    ("followup", "Follow-up", "repeat", tab_followup),
)


def editor() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.hstack(
                rx.icon_button(
                    rx.icon("arrow_left", size=18),
                    on_click=AgentsState.back,
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Voltar para a lista",
                    id="back-to-list",
                ),
                rx.heading(AgentsState.editor_title, size="5", as_="h2", id="editor-title"),
                rx.badge(
                    rx.match(F["mode"].to(str), *svc.MODES.items(), ""),
                    color_scheme=rx.match(F["mode"].to(str), *MODE_COLORS.items(), "gray"),
                    variant="soft",
                ),
                align="center",
                spacing="3",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    AgentsState.is_new,
                    rx.fragment(),
                    delete_dialog(
                        F["id"].to(str),
                        F["name"].to(str),
                        rx.button(rx.icon("trash_2", size=14), "Excluir", variant="soft", color_scheme="red"),
                    ),
                ),
                rx.button(
                    rx.icon("save", size=16),
                    "Salvar",
                    on_click=AgentsState.save,
                    loading=AgentsState.saving,
                    id="save-agent",
                    size="3",
                ),
                spacing="3",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            align=rx.breakpoints(initial="start", sm="center"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            AgentsState.error != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle_alert", size=16)),
                rx.callout.text(AgentsState.error),
                color_scheme="red",
                role="alert",
                size="1",
                width="100%",
                id="agent-error",
            ),
        ),
        rx.tabs.root(
            rx.scroll_area(
                rx.tabs.list(
                    *[
                        rx.tabs.trigger(
                            rx.hstack(rx.icon(icon, size=14), label, spacing="2", align="center"),
                            value=value,
                            id=f"tab-{value}",
                        )
                        for value, label, icon, _ in TAB_LIST
                    ],
                    size="2",
                ),
                type="auto",
                scrollbars="horizontal",
                width="100%",
            ),
            *[rx.tabs.content(rx.box(build(), padding_top="16px"), value=value) for value, _, _, build in TAB_LIST],
            value=AgentsState.tab,
            on_change=AgentsState.set_tab,
            width="100%",
        ),
        rx.hstack(
            rx.text("As mudanças valem a partir da próxima mensagem dos clientes.", size="1", color_scheme="gray"),
            rx.spacer(),
            rx.button("Salvar", on_click=AgentsState.save, loading=AgentsState.saving, id="save-agent-bottom"),
            align="center",
            width="100%",
        ),
        spacing="4",
        width="100%",
        id="agent-editor",
    )


def content() -> list[rx.Component]:
    return [rx.cond(AgentsState.editing, editor(), list_view())]


PAGE = panel_route(
    "/agentes",
    "Agentes",
    (
        "Configure o vendedor de IA: como ele se apresenta, o tom de voz, o roteiro de qualificação "
        "e quando ele passa a conversa para alguém da equipe."
    ),
    content,
    on_load=(AgentsState.load,),
)

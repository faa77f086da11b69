"""The lead beside the conversation (wide screens) or behind the header's "Lead" button: its
fields, qualification answers and follow-up history."""

from __future__ import annotations

import reflex as rx

from ...components import (
    action_button,
    labeled,
    muted,
    named_select,
)
from ...states.inbox import InboxState
from .frame import PANEL
from .labels import LEAD_TYPES, STAGES


def followup_history() -> rx.Component:
    return rx.cond(
        InboxState.followup_history.length() > 0,
        rx.vstack(
            rx.text("Follow-ups", size="1", weight="bold"),
            rx.foreach(
                InboxState.followup_history,
                lambda h: rx.box(
                    rx.text("Etapa ", h["step"], " · ", h["status_label"], " · ", h["when"], size="1", weight="medium"),
                    rx.cond(h["reason"] != "", muted(h["reason"])),
                    class_name="followup-history-row",
                ),
            ),
            spacing="1",
            width="100%",
            id="followup-history",
        ),
    )


def _labeled(label: str, control: rx.Component) -> rx.Component:
    return labeled(label, control, size="1")


def lead_form(form_id: str) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.heading("Lead", size="3"),
            _labeled("Nome", rx.input(name="name", default_value=InboxState.lead["name"], size="1")),
            _labeled("E-mail", rx.input(name="email", default_value=InboxState.lead["email"], size="1")),
            _labeled("Etapa", named_select("stage", STAGES, InboxState.lead["stage"], size="1")),
            _labeled("Tipo", named_select("lead_type", LEAD_TYPES, InboxState.lead["lead_type"], size="1")),
            _labeled("Pontuação (0–100)", rx.input(name="score", default_value=InboxState.lead["score"], size="1")),
            _labeled(
                "Etiquetas",
                rx.input(name="tags", default_value=InboxState.lead_tags, placeholder="vip, atacado", size="1"),
            ),
            _labeled("Link no CRM", rx.input(name="crm_url", default_value=InboxState.lead["crm_url"], size="1")),
            rx.cond(
                InboxState.lead["crm_url"] != "",
                rx.link("Abrir no CRM", href=InboxState.lead["crm_url"], is_external=True, size="1"),
            ),
            _labeled("Notas", rx.text_area(name="notes", default_value=InboxState.lead["notes"], rows="4", size="1")),
            rx.cond(
                InboxState.lead_fields.length() > 0,
                rx.vstack(
                    rx.text("Qualificação", size="1", weight="bold"),
                    rx.foreach(
                        InboxState.lead_fields,
                        lambda f: rx.hstack(muted(f[0]), rx.text(f[1], size="1"), spacing="2"),
                    ),
                    spacing="1",
                ),
            ),
            followup_history(),
            rx.button("Salvar lead", type="submit", size="2", width="100%", class_name="lead-save"),
            spacing="3",
        ),
        on_submit=InboxState.save_lead,
        key=InboxState.lead["id"],
        id=form_id,
    )


def lead_panel() -> rx.Component:
    """Beside the thread on wide screens (>= 1640 px); behind the header's "Lead" button otherwise."""
    return rx.cond(
        InboxState.has_current,
        rx.box(
            lead_form("lead-form"),
            width="290px",
            flex_shrink="0",
            padding="14px",
            border_left="1px solid var(--gray-a5)",
            **PANEL,
            overflow_y="auto",
            display=["none", "none", "none", "none", "none", "block"],
        ),
    )


def lead_dialog_button() -> rx.Component:
    return rx.box(
        rx.dialog.root(
            rx.dialog.trigger(
                action_button(
                    "user_round", "Lead", size="2", variant="soft", color_scheme="gray", id="open-lead", icon_size=14
                )
            ),
            rx.dialog.content(lead_form("lead-form-dialog"), max_width="420px"),
        ),
        display=["block", "block", "block", "block", "block", "none"],
    )

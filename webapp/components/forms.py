"""Form pieces: the native form the browser posts itself, a labelled field with its hint, selects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reflex as rx
from reflex_components_core.el.elements.forms import Form

from runtime.security import MIN_PASSWORD_LENGTH


class NativeForm(Form):
    """A plain <form> the browser submits itself (a full-page POST), with no Reflex event.

    rx.el.form always installs an onSubmit handler that calls preventDefault() and sends the
    fields over the websocket. Sign-in, sign-up and sign-out must be real navigations: the
    response sets or clears the HttpOnly cookie, and the websocket only sees cookies when it
    (re)connects.
    """

    @classmethod
    def create(cls, *children, **props) -> Form:
        props.pop("on_submit", None)
        return super(Form, cls).create(*children, **props)


def native_form(*children, action: str, **props) -> Form:
    return NativeForm.create(*children, action=action, method="post", **props)


def field_label(text: Any, size: str = "2") -> rx.Component:
    """The caption above a control (size "1" for the compact forms beside a conversation)."""
    return rx.text(text, size=size, weight="medium", as_="div", margin_bottom="6px" if size == "2" else "4px")


def hint(text: Any) -> list[rx.Component]:
    """The grey line under a control that says what to type; none for an empty text."""
    if isinstance(text, str) and not text:
        return []
    return [rx.text(text, size="1", color_scheme="gray", margin_top="6px")]


def labeled(
    label: str, control: rx.Component, hint_text: Any = "", *, group: bool = False, size: str = "2", **props
) -> rx.Component:
    """A control under its caption, with a hint below. `group` for controls made of several
    buttons (a select, a segmented control): a <div>, since a <label> must hold one input."""
    wrapper = rx.el.div if group else rx.el.label
    return wrapper(
        field_label(label, size),
        control,
        *hint(hint_text),
        **{"width": "100%", "display": "block", **props},
    )


def field(label: str, name: str, type_: str = "text", **props) -> rx.Component:
    return labeled(label, rx.input(name=name, type=type_, size="3", width="100%", **props))


def readonly_field(label: str, value: rx.Var[str]) -> rx.Component:
    """A value shown in a form's style but not sent (e.g. the e-mail a link is for)."""
    return labeled(label, rx.input(value=value, read_only=True, disabled=True, size="3"))


def new_password_field(label: str) -> rx.Component:
    """The `password` field of a form that sets a password, with the length rule under it."""
    return rx.box(
        field(
            label,
            "password",
            "password",
            auto_complete="new-password",
            required=True,
            min_length=MIN_PASSWORD_LENGTH,
        ),
        *hint(f"Pelo menos {MIN_PASSWORD_LENGTH} caracteres."),
        width="100%",
    )


def form_stack(*children: rx.Component, on_submit: Any, spacing: str = "4", **props) -> rx.Component:
    """A form with its fields one under the other and its button last, on the left."""
    return rx.el.form(
        rx.vstack(*children, spacing=spacing, align="start", width="100%"), on_submit=on_submit, width="100%", **props
    )


def inline_form(control: rx.Component, button: rx.Component, *, on_submit: Any, **props) -> rx.Component:
    """One input and its button: side by side from small screens up, stacked on phones."""
    return rx.el.form(
        rx.flex(control, button, direction=rx.breakpoints(initial="column", sm="row"), spacing="2", width="100%"),
        on_submit=on_submit,
        width="100%",
        **props,
    )


def icon_input(icon: str, *, icon_size: int = 16, size: str | None = "3", **props) -> rx.Component:
    """An input with an icon inside, on the left (large unless `size` says otherwise)."""
    return rx.input(rx.input.slot(rx.icon(icon, size=icon_size)), size=size, **props)


def two_columns(*children: rx.Component) -> rx.Component:
    """Side by side from small screens up, stacked on phones."""
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%")


def options_select(
    value: Any, on_change: Any, options: Mapping[str, str], id_: str | None = None, **props
) -> rx.Component:
    """A controlled select over fixed options ({value: pt-BR text})."""
    return rx.select.root(
        rx.select.trigger(id=id_, width="100%"),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in options.items()]),
        value=value,
        on_change=on_change,
        **props,
    )


def named_select(name: str, options: Any, default_value: Any, **props) -> rx.Component:
    """An uncontrolled select sent with its form as `name` (options: (value, text) pairs)."""
    return rx.select.root(
        rx.select.trigger(width="100%"),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in options]),
        name=name,
        default_value=default_value,
        **props,
    )

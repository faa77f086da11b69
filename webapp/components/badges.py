"""Status badges: one of a few fixed looks chosen by a value the state holds (a status, a level)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import reflex as rx

SPINNER = "spinner"  # BadgeLook.icon for work in progress


@dataclass(frozen=True)
class BadgeLook:
    color: str
    text: Any  # a pt-BR text, or a Var (e.g. the status label the service wrote)
    icon: str = ""  # a lucide icon name, SPINNER, or "" for none


def badge(look: BadgeLook, **props) -> rx.Component:
    mark = [] if not look.icon else [rx.spinner(size="1") if look.icon == SPINNER else rx.icon(look.icon, size=12)]
    return rx.badge(*mark, look.text, color_scheme=look.color, **props)


def state_badge(value: Any, looks: Mapping[str, BadgeLook], default: BadgeLook, **props) -> rx.Component:
    """The badge for `value`: its look from `looks`, `default` for anything else."""
    return rx.match(value, *[(key, badge(look, **props)) for key, look in looks.items()], badge(default, **props))


def color_match(value: Any, colors: Mapping[str, str], default: str = "gray") -> Any:
    """A colour scheme chosen by `value`, for a badge whose text is already a label."""
    return rx.match(value, *colors.items(), default)

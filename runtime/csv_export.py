"""CSV that spreadsheets open as text, never as formulas (OWASP "CSV Injection").

A lead writes their own name, e-mail and tags. Excel and LibreOffice run a cell that starts with
= + - @ (or a tab / carriage return) as a formula, and a pt-BR Excel splits a comma-separated file
on ';' instead: `x;=HYPERLINK(...)` becomes a cell `=HYPERLINK(...)`. So every place where a cell
may start — the value's start and after each ';', ',' or line break, past blanks and quote marks —
gets a single quote before such a character."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

_CELL_START = re.compile(r"""(^|[;,\n\r])([ "]*)(?=[=+\-@\t\r])""")


def defuse(value: str) -> str:
    """`value` with a ' before every formula character a spreadsheet could see at a cell's start."""
    return _CELL_START.sub(r"\1\2'", value)


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """Comma-separated UTF-8 text; every text cell defused (numbers are written as they are)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([defuse(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()

"""Painel state: the period and agent filters, the KPI cards and the charts (runtime.panel.dashboard)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import reflex as rx

from runtime.panel.dashboard import DEFAULT_TIMEZONE, dashboard, dashboard_context

from ..state import PanelState
from .service_call import service_call

PRESETS = ("7", "30", "90")
TEAL, CYAN, AMBER, VIOLET, GRAY, RED = "#0d9488", "#0891b2", "#d97706", "#7c3aed", "#94a3b8", "#e11d48"
PALETTE = [TEAL, CYAN, AMBER, VIOLET, RED, GRAY]


def _int(n: int | None) -> str:
    return "—" if n is None else f"{n:,}".replace(",", ".")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%".replace(".", ",")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        m, s = divmod(round(seconds), 60)
        return f"{m} min {s} s" if s else f"{m} min"
    h, rest = divmod(round(seconds), 3600)
    return f"{h} h {rest // 60} min"


def _usd(x: float) -> str:
    text = f"{x:,.2f}" if x >= 1 or x == 0 else f"{x:.4f}"
    return "US$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _short_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}"


def _layout(fig: go.Figure, **kw) -> go.Figure:
    layout = {
        "margin": {"l": 36, "r": 12, "t": 12, "b": 36},
        "height": 300,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Inter, system-ui, sans-serif", "size": 12, "color": "#475569"},
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "hovermode": "x unified",
    }
    fig.update_layout(**{**layout, **kw})
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="rgba(148,163,184,0.25)", rangemode="tozero")
    return fig


class DashboardState(PanelState):
    preset: str = "30"
    start: str = ""
    end: str = ""
    agent_id: str = "all"
    agents: list[dict[str, str]] = rx.field(default_factory=list)

    steps: list[dict[str, str]] = rx.field(default_factory=list)
    steps_done: int = 0
    is_new: bool = False

    loading: bool = True
    loaded: bool = False
    has_data: bool = False
    cards: list[dict[str, str]] = rx.field(default_factory=list)
    tokens_rows: list[dict[str, str]] = rx.field(default_factory=list)
    unpriced: str = ""
    period_label: str = ""
    _failed: bool = False

    activity_fig: go.Figure = go.Figure()
    channels_fig: go.Figure = go.Figure()
    routes_fig: go.Figure = go.Figure()

    def _today(self) -> date:
        return datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()

    def _set_preset_dates(self, days: int) -> None:
        today = self._today()
        self.start = (today - timedelta(days=days - 1)).isoformat()
        self.end = today.isoformat()

    @rx.event
    @service_call
    async def load(self):
        if not self.start or self.preset in PRESETS:
            self._set_preset_dates(int(self.preset if self.preset in PRESETS else "30"))
        ctx = await self._run(dashboard_context)
        self.agents = ctx["agents"]
        self.steps = [{**st, "done": "1" if st["done"] else ""} for st in ctx["steps"]]
        self.steps_done = ctx["steps_done"]
        self.is_new = ctx["is_new"]
        if self.agent_id != "all" and self.agent_id not in {a["id"] for a in self.agents}:
            self.agent_id = "all"
        async for update in self._refresh():
            yield update

    def _mark_failed(self, exc: Exception) -> None:
        self._failed = True

    @service_call(busy="loading", on_error=_mark_failed)
    async def _refresh(self):
        self._failed = False
        yield
        data = await self._run(dashboard, self.start, self.end, None if self.agent_id == "all" else self.agent_id)
        self._show(data)
        self.loaded = True

    @rx.event
    async def set_preset(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        self.preset = value
        if value in PRESETS:
            self._set_preset_dates(int(value))
            async for update in self._refresh():
                yield update

    @rx.event
    async def apply_custom(self, form: dict):
        start, end = (form.get("start") or "").strip(), (form.get("end") or "").strip()
        if not start or not end:
            yield rx.toast.error("Escolha a data inicial e a final.", close_button=True)
            return
        self.preset = "custom"
        old = (self.start, self.end)
        self.start, self.end = start, end
        async for update in self._refresh():
            yield update
        if self._failed:  # e.g. the final date before the initial one: keep showing the last period
            self.start, self.end = old

    @rx.event
    async def set_agent(self, value: str):
        self.agent_id = value or "all"
        async for update in self._refresh():
            yield update

    def _show(self, data: dict) -> None:
        k = data["kpis"]
        rng = data["range"]
        self.start, self.end = rng["start"], rng["end"]
        self.period_label = (
            f"{_short_day(rng['start'])} a {_short_day(rng['end'])} · {rng['days']} dias · horário de Brasília"
            if rng["timezone"] == DEFAULT_TIMEZONE
            else f"{_short_day(rng['start'])} a {_short_day(rng['end'])} · {rng['days']} dias · {rng['timezone']}"
        )
        share = {r["route"]: r["share"] for r in data["routes"]}
        self.has_data = bool(k["conversations"] or k["messages"] or k["turns"] or k["new_leads"])
        self.cards = [
            {
                "id": "kpi-conversations",
                "label": "Conversas",
                "value": _int(k["conversations"]),
                "hint": "Conversas iniciadas no período",
                "icon": "messages_square",
            },
            {
                "id": "kpi-leads",
                "label": "Novos leads",
                "value": _int(k["new_leads"]),
                "hint": f"{_int(k['qualified_leads'])} qualificados",
                "icon": "user_plus",
            },
            {
                "id": "kpi-qualification",
                "label": "Taxa de qualificação",
                "value": _pct(k["qualification_rate"]),
                "hint": "Novos leads que chegaram a uma etapa qualificada",
                "icon": "badge_check",
            },
            {
                "id": "kpi-handoff",
                "label": "Taxa de transbordo",
                "value": _pct(k["handoff_rate"]),
                "hint": f"{_int(k['handoff_conversations'])} de {_int(k['conversations_decided'])} conversas"
                " passaram para a equipe",
                "icon": "hand_helping",
            },
            {
                "id": "kpi-first-response",
                "label": "Primeira resposta (mediana)",
                "value": _duration(k["median_first_response_seconds"]),
                "hint": f"Em {_int(k['first_responses'])} conversas",
                "icon": "timer",
            },
            {
                "id": "kpi-routes",
                "label": "Respostas sem LLM",
                "value": _pct(
                    None
                    if share["rules"] is None
                    else (share["rules"] or 0) + (share["learned"] or 0) + (share["knowledge"] or 0)
                ),
                "hint": f"Regras {_pct(share['rules'])} · aprendidas {_pct(share['learned'])}"
                f" · LLM {_pct(share['llm'])}",
                "icon": "route",
            },
            {
                "id": "kpi-messages",
                "label": "Mensagens",
                "value": _int(k["messages"]),
                "hint": f"{_int(k['messages_inbound'])} recebidas · {_int(k['messages_outbound'])} enviadas",
                "icon": "mail",
            },
            {
                "id": "kpi-cost",
                "label": "Custo estimado de IA",
                "value": _usd(k["estimated_cost_usd"]),
                "hint": f"{_int(k['tokens_input'] + k['tokens_output'])} tokens · preços de {data['prices_as_of']}",
                "icon": "coins",
            },
            {
                "id": "kpi-followup",
                "label": "Recuperados por follow-up",
                "value": _int(k["followup_recoveries"]),
                "hint": f"leads que responderam · {_int(k['followup_sent'])} follow-ups enviados",
                "icon": "repeat",
            },
        ]
        self.tokens_rows = [
            {
                "model": row["model"] or "modelo não registrado",
                "input": _int(row["input"]),
                "output": _int(row["output"]),
                "cost": "sem preço" if row["cost_usd"] is None else _usd(row["cost_usd"]),
            }
            for row in data["tokens_by_model"]
        ]
        self.unpriced = (
            f"{_int(k['unpriced_tokens'])} tokens de modelos sem preço na tabela não entram no custo."
            if k["unpriced_tokens"]
            else ""
        )
        days = [_short_day(d) for d in data["series"]["days"]]
        activity = go.Figure()
        activity.add_bar(x=days, y=data["series"]["conversations"], name="Conversas", marker_color=TEAL)
        activity.add_scatter(
            x=days, y=data["series"]["leads"], name="Novos leads", mode="lines+markers", line={"color": AMBER}
        )
        self.activity_fig = _layout(activity, barmode="group")

        channels = go.Figure()
        for i, ch in enumerate(data["channels"][:6]):
            label = f"{ch['name']} ({ch['provider']})" if ch["provider"] else ch["name"]
            channels.add_bar(x=days, y=ch["series"], name=label, marker_color=PALETTE[i % len(PALETTE)])
        self.channels_fig = _layout(channels, barmode="stack")

        routes = [r for r in data["routes"] if r["turns"]]
        donut = go.Figure(
            go.Pie(
                labels=[r["label"] for r in routes],
                values=[r["turns"] for r in routes],
                hole=0.55,
                marker={"colors": [PALETTE[i % len(PALETTE)] for i in range(len(routes))]},
                sort=False,
                textinfo="percent",
            )
        )
        self.routes_fig = _layout(donut, showlegend=True, hovermode="closest")

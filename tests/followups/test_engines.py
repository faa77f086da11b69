"""The same scenarios on both scheduling engines: the Postgres job queue (the worker) and Google
Cloud Tasks (gcloud-tasks-emulator POSTing to the real FastAPI service's /tasks/followups.run_step
over HTTP). A silent lead gets the steps on time through the fake Graph API; a reply stops them;
a step delivered three times sends one message."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from runtime.api import create_app
from runtime.followups.engine import followup_queue
from runtime.followups.service import RUN_JOB
from tests.conftest import wait_until
from tests.fakes.servers import serve_in_thread

from .conftest import Lead, set_env, step

GREETING = "Olá! Como posso ajudar?"
SECRET = "segredo-das-tarefas"
RULES = [{"name": "saudacao", "match": "keywords", "patterns": ["oi"], "response": GREETING}]


@pytest.fixture(scope="module")
def service(pg) -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture(scope="module", params=["postgres", "cloudtasks"])
def engine(request, service, worker) -> Iterator[str]:
    if request.param == "cloudtasks":
        host = request.getfixturevalue("tasks_emulator")
        values = {
            "FOLLOWUPS_ENGINE": "cloudtasks",
            "CLOUD_TASKS_PROJECT": "piloto-test",
            "CLOUD_TASKS_LOCATION": "southamerica-east1",
            "CLOUD_TASKS_QUEUE": f"fu-{uuid.uuid4().hex[:8]}",
            "CLOUD_TASKS_EMULATOR_HOST": host,
            "TASKS_TARGET_URL": service,
            "TASKS_SECRET": SECRET,
        }
    else:
        values = {"FOLLOWUPS_ENGINE": "postgres"}
    old = set_env(values)
    yield request.param
    set_env(old)


def with_rules(lead: Lead) -> Lead:
    lead.update(
        "UPDATE agent SET config = jsonb_set(config, '{intents}', CAST(:r AS jsonb)) WHERE id = :a",
        r=json.dumps(RULES),
        a=lead.agent_id,
    )
    return lead


def texts_to(graph, lead: Lead) -> list[str]:
    return [m.get("text", {}).get("body") for m in graph.messages if m.get("to") == lead.phone.lstrip("+")]


def stop(lead: Lead) -> None:
    """Opt the lead out so nothing keeps firing after the test."""
    lead.update(
        "UPDATE contact SET opted_out_at = now() WHERE id = (SELECT contact_id FROM conversation WHERE id = :c)"
    )


def test_a_silent_lead_gets_the_steps_on_time_and_a_reply_stops_them(engine, make_lead, graph):
    lead = with_rules(make_lead([step(2, text_="Ainda por aí?"), step(4, text_="Posso ajudar?"), step(8, text_="Oi?")]))
    lead.writes("Oi")
    wait_until(lambda: texts_to(graph, lead) == [GREETING], timeout=10)
    wait_until(lambda: texts_to(graph, lead) == [GREETING, "Ainda por aí?", "Posso ajudar?"], timeout=10)
    lead.writes("Oi, voltei")  # the lead answers: step 3 of this silence is cancelled
    wait_until(lambda: texts_to(graph, lead)[3:] == [GREETING, "Ainda por aí?"], timeout=12)
    stop(lead)

    rows = lead.followups()
    first = [f for f in rows if f.silence_since == rows[0].silence_since]
    assert [(f.step, f.status, f.reason) for f in first] == [
        (0, "sent", None),
        (1, "sent", None),
        (2, "cancelled", "lead replied"),
    ]
    assert all(f.replied_at is not None for f in first[:2])
    sent = [f for f in rows if f.status == "sent"]
    assert len(sent) == 3
    lateness = [(f.sent_at - f.due_at).total_seconds() for f in sent]
    assert all(-2.1 <= s < 2.0 for s in lateness), lateness  # punctual to about a second
    for f in sent:
        assert f.due_at == f.silence_since + timedelta(seconds=[2, 4, 8][f.step])


def test_a_step_delivered_three_times_sends_one_message(engine, make_lead, graph):
    lead = make_lead([step(2, text_="Só uma vez")])
    lead.writes("Quero um orçamento")
    lead.we_reply("Claro!")
    pending = lead.pending()
    payload = {"workspace_id": lead.workspace_id, "followup_id": pending.id}
    queue = followup_queue()
    assert type(queue).__name__ == ("CloudTasksJobQueue" if engine == "cloudtasks" else "PostgresJobQueue")
    queue.enqueue(RUN_JOB, payload, run_at=pending.due_at)
    queue.enqueue(RUN_JOB, payload)  # one right away (not due yet: nothing happens)
    wait_until(lambda: "Só uma vez" in texts_to(graph, lead), timeout=10)
    time.sleep(1.5)
    assert texts_to(graph, lead).count("Só uma vez") == 1
    assert len(lead.followup_messages()) == 1
    [row] = lead.followups()
    assert row.status == "sent" and row.attempts == 1


def test_tasks_route_requires_the_secret(engine, service):
    body = {"workspace_id": str(uuid.uuid4()), "followup_id": str(uuid.uuid4())}
    with httpx.Client(base_url=service) as http:
        if engine == "postgres":  # no secret and no OIDC account configured: the route is off
            assert http.post(f"/tasks/{RUN_JOB}", json=body).status_code == 404
            return
        assert http.post(f"/tasks/{RUN_JOB}", json=body).status_code == 401
        assert http.post(f"/tasks/{RUN_JOB}", json=body, headers={"X-Tasks-Secret": "errado"}).status_code == 401
        ok = http.post(f"/tasks/{RUN_JOB}", json=body, headers={"X-Tasks-Secret": SECRET})
        assert ok.status_code == 200  # an unknown step is a no-op ("missing"), not an error
        assert http.post("/tasks/nao.existe", json=body, headers={"X-Tasks-Secret": SECRET}).status_code == 404

"""`bench followups` runs end to end on a small scale and cleans up after itself."""

from __future__ import annotations

from sqlalchemy import text

from db.engine import admin_engine
from runtime.followups.bench import bench_followups


def test_bench_sends_every_step_close_to_its_time_and_removes_its_workspace(pg):
    result = bench_followups(leads=4, delay_s=2, concurrency=4)
    assert result["steps_by_status"] == {"sent": 4}
    assert result["follow_up_messages_delivered"] == 4
    spread = result["sent_minus_due_ms"]
    assert -2000 <= spread["earliest"] <= spread["latest"] < 10_000
    with admin_engine().connect() as conn:  # the app role can't list workspaces (RLS)
        left = conn.execute(text("SELECT count(*) FROM workspace WHERE name LIKE 'bench-followups-%'")).scalar_one()
    assert left == 0

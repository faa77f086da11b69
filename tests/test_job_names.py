"""Job names are defined once (runtime.jobs.names): every handler registers under one of them,
every table that names jobs uses them, and no module repeats a name as a string literal."""

from __future__ import annotations

import re
from pathlib import Path

from runtime.jobs import names
from runtime.jobs.base import get_handler, load_job_modules, registered
from runtime.jobs.postgres import PERIODIC_JOBS
from runtime.panel.status import JOB_LABELS

ROOT = Path(__file__).resolve().parent.parent
NAMES = {k: v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def test_every_name_has_a_handler_and_every_runtime_handler_has_a_name():
    load_job_modules()
    ours = {n for n in registered() if get_handler(n).__module__.startswith("runtime.")}
    assert ours == set(NAMES.values())
    assert len(NAMES) == len(set(NAMES.values()))  # no two constants for one job
    assert set(PERIODIC_JOBS) <= ours and set(JOB_LABELS) <= ours


def test_no_runtime_module_spells_a_job_name_itself():
    literal = re.compile("|".join(rf"[\"']{re.escape(v)}[\"']" for v in NAMES.values()))
    registering = re.compile(r"@job\(\s*[\"']")
    found = []
    for path in sorted((ROOT / "runtime").rglob("*.py")):
        if path.name == "names.py" and path.parent.name == "jobs":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if literal.search(line) or registering.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []

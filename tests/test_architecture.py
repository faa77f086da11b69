"""The house's shape, checked on the source: arrows point one way (webapp -> runtime -> db), no
import circle in runtime/ (function-local imports count: they only hide a circle), and the one
list of reactions (runtime/wiring.py) is what the event bus runs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("runtime", "db", "webapp")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its body (a name imported from a
    package counts as the submodule when one exists by that name)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                while target and target not in modules:  # "a.b.c" where only "a.b" is ours
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)  # a submodule importing its own package is not a circle
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    import sys

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_runtime_or_db():
    graph = import_graph()
    ours = {
        m: {t for t in ts if t.split(".")[0] in ("runtime", "db")}
        for m, ts in graph.items()
        if not m.startswith("webapp")
    }
    assert _cycles(ours) == []


def test_arrows_point_one_way():
    graph = import_graph()
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        for t in targets
        if (m.startswith("runtime") and t.startswith("webapp"))
        or (m.startswith("db") and (t.startswith("runtime") or t.startswith("webapp")))
    )
    assert wrong == []


FEATURES = ("runtime.agent", "runtime.followups", "runtime.knowledge", "runtime.panel", "runtime.api", "runtime.auth")


def test_the_pipeline_knows_no_feature():
    """The pipeline publishes events; the features that react are named in runtime/wiring.py."""
    graph = import_graph()
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.startswith("runtime.pipeline")
        for t in targets
        if t.startswith(FEATURES)
    )
    assert wrong == []


def test_the_wiring_lists_every_reaction():
    """The flow stays visible: this is the whole table; a new reaction changes it here too."""
    from runtime import wiring
    from runtime.events import ConversationClosed, ConversationTakenOver, LeadWrote, OutboundQueued
    from runtime.events.bus import resolve

    assert {
        LeadWrote: ("runtime.followups.reactions:stop_cadence_when_lead_wrote",),
        OutboundQueued: (
            "runtime.followups.reactions:schedule_step_when_outbound_queued",
            "runtime.agent.reactions:learn_answer_when_seller_answers_handoff",
        ),
        ConversationTakenOver: ("runtime.followups.reactions:cancel_cadence_when_taken_over",),
        ConversationClosed: ("runtime.followups.reactions:cancel_cadence_when_closed",),
    } == wiring.IN_TRANSACTION
    assert wiring.AFTER_COMMIT == {}
    for references in [*wiring.IN_TRANSACTION.values(), *wiring.AFTER_COMMIT.values()]:
        for reference in references:
            module, _, name = reference.partition(":")
            assert module.rsplit(".", 1)[-1] == "reactions" and "_when_" in name, reference
            assert callable(resolve(reference)), reference
    assert resolve(wiring.AGENT_RESPONDER).__name__ == "AgentResponder"


def test_only_contacts_writes_a_stage():
    """runtime.contacts.set_stage is the one writer of a lead's stage (normalized to the panel's
    keys): no other code assigns `.stage`."""
    writers = []
    for package in ("runtime", "webapp"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "runtime" / "contacts.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                targets = node.targets if isinstance(node, ast.Assign) else []
                targets += [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "stage"
                        and not (
                            isinstance(target.value, ast.Name) and target.value.id == "self"  # UI state, not a lead
                        )
                    ):
                        writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []

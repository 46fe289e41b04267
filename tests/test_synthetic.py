"""Correlation checked against ground truth: a small folder made by `bench/synth.py`.

The generator knows which session and request every event belongs to (see its docstring
for the rules: direct ids, unambiguous request/trace/page links, ambiguous ids joining
nothing). These tests ingest the folder once and compare through the CLI, with exact set
equality: every event's resolved session and request (one `sql` query), every session's
`trace --session`, a `trace --request` of each shape of request and of each ambiguous one,
the `sessions --service X --status error` list of every service, and the ambiguous ids.
"""

from __future__ import annotations

import filecmp
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Result, run_cli

sys.path.insert(0, str(ROOT / "bench"))
import synth

SCALE = 0.01
SEED = 7

Event = tuple[str, int]  # (path relative to the artifacts folder, line)


@dataclass
class World:
    root: Path
    store: str
    truth: dict[str, Any]

    def run(self, *args: str) -> Result:
        return run_cli(*args, "--store", self.store, "--format", "json", "--quiet")

    def events(self, result: Result) -> set[Event]:
        assert result.code == 0, result.err
        return {(os.path.relpath(e["source"], self.root), e["line"]) for e in result.json()["events"]}


def expected(entry: dict[str, Any]) -> set[Event]:
    return {(path, line) for path, lines in entry["events"].items() for line in lines}


def describe(want: set[Event], got: set[Event]) -> str:
    missing, extra = sorted(want - got), sorted(got - want)
    return f"missing {len(missing)} {missing[:4]}, extra {len(extra)} {extra[:4]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    out = tmp_path_factory.mktemp("synth")
    truth = synth.generate(str(out), SCALE, SEED)
    store = str(out / "store")
    r = run_cli("ingest", str(out / "artifacts"), "--store", store, "--quiet")
    assert r.code == 0, r.err
    return World(out / "artifacts", store, truth)


# ---- the generator itself --------------------------------------------------------------------


def test_generator_is_deterministic(tmp_path: Path) -> None:
    synth.generate(str(tmp_path / "a"), SCALE, SEED)
    synth.generate(str(tmp_path / "b"), SCALE, SEED)
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    stack = [cmp]
    while stack:
        c = stack.pop()
        assert not (c.left_only or c.right_only), (c.left_only, c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        assert not mismatch and not errors, mismatch + errors
        stack.extend(c.subdirs.values())


def test_truth_covers_the_interesting_cases(world: World) -> None:
    t = world.truth
    kinds = {s["kind"] for s in t["sessions"].values()}
    assert kinds == {"browser", "mobile", "agent"}
    assert {a["kind"] for a in t["ambiguous_ids"]} == {"request", "trace"}
    errors = [s for s in t["sessions"].values() if s["error"]]
    assert 0 < len(errors) < len(t["sessions"])
    groups = {f["group"] for f in t["files"].values()}
    assert groups == {
        "har",
        "text/python-logging",
        "text/logfmt",
        "text/session-prefix",
        "jsonl/flat",
        "jsonl/ecs",
        "jsonl/llm",
    }
    # every file the truth names exists, and the counts add up
    for rel in t["files"]:
        assert (world.root / rel).is_file(), rel
    assert sum(f["events"] for f in t["files"].values()) == t["events"]


# ---- correlation through the CLI -------------------------------------------------------------


def test_ingest_counts_every_event(world: World) -> None:
    st = world.run("stats")
    assert st.code == 0, st.err
    doc = st.json()
    assert doc["rejected_lines"] == 0
    got = {os.path.relpath(f["source"], world.root): f["events"] for f in doc["per_file"]}
    assert got == {rel: f["events"] for rel, f in world.truth["files"].items()}


def test_every_event_resolves_to_its_session_and_request(world: World) -> None:
    r = world.run("sql", "SELECT source, line, resolved_session, resolved_request FROM events")
    assert r.code == 0, r.err
    want_s = {ev: sid for sid, s in world.truth["sessions"].items() for ev in expected(s)}
    want_r = {ev: rid for rid, q in world.truth["requests"].items() for ev in expected(q)}
    wrong = []
    for row in r.json():
        ev = (os.path.relpath(row["source"], world.root), row["line"])
        if (row["resolved_session"], row["resolved_request"]) != (want_s.get(ev), want_r.get(ev)):
            wrong.append((ev, row["resolved_session"], want_s.get(ev), row["resolved_request"], want_r.get(ev)))
    assert not wrong, f"{len(wrong)} events resolved wrongly, e.g. (event, got, want, got, want): {wrong[:5]}"


@pytest.mark.parametrize("kind", ["browser", "mobile", "agent"])
def test_trace_session_is_exact(world: World, kind: str) -> None:
    bad = {}
    for sid, s in world.truth["sessions"].items():
        if s["kind"] != kind:
            continue
        got = world.events(world.run("trace", "--session", sid))
        if got != expected(s):
            bad[sid] = describe(expected(s), got)
    assert not bad, bad


def _requests_to_check(truth: dict[str, Any]) -> list[str]:
    """The ambiguous request ids, then for each shape of request (the kinds of file it spans,
    with or without a session) the first one: every kind of linking, in a dozen CLI calls. (Every
    request's events are compared in one query by the test above.)"""
    amb = [a["id"] for a in truth["ambiguous_ids"] if a["kind"] == "request"]
    group = {path: f["group"] for path, f in truth["files"].items()}
    shapes: dict[tuple[Any, ...], str] = {}
    for rid, q in truth["requests"].items():
        shape = (bool(q["session"]), tuple(sorted({group[p] for p in q["events"]})))
        shapes.setdefault(shape, rid)
    return amb + sorted(set(shapes.values()) - set(amb))


def test_trace_request_is_exact(world: World) -> None:
    bad = {}
    for rid in _requests_to_check(world.truth):
        want = expected(world.truth["requests"][rid])
        got = world.events(world.run("trace", "--request", rid))
        if got != want:
            bad[rid] = describe(want, got)
    assert not bad, bad


def test_sessions_with_errors_per_service(world: World) -> None:
    sessions = world.truth["sessions"]
    services = sorted({svc for s in sessions.values() for svc in s["services"]})
    assert {"web", "api-gateway", "payment-service", "inventory-service", "notification-service"} <= set(services)
    bad = {}
    for svc in services:
        r = world.run("sessions", "--service", svc, "--status", "error")
        assert r.code in (0, 1), r.err
        got = {row["session_id"] for row in r.json()} if r.code == 0 else set()
        want = {sid for sid, s in sessions.items() if svc in s["services"] and s["error"]}
        if got != want:
            bad[svc] = {"missing": sorted(want - got), "extra": sorted(got - want)}
    assert not bad, bad


def test_ambiguous_ids_are_reported(world: World) -> None:
    r = world.run("stats")
    assert r.code == 0, r.err
    got = {(a["kind"], a["id"], tuple(sorted(a["sessions"]))) for a in r.json()["ambiguous_ids"]}
    want = {(a["kind"], a["id"], tuple(a["sessions"])) for a in world.truth["ambiguous_ids"]}
    assert got == want


def test_ambiguous_ids_never_merge_sessions(world: World) -> None:
    r = world.run("sessions")
    assert r.code == 0, r.err
    listed = [row["session_id"] for row in r.json()]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(world.truth["sessions"])
    # no session holds an event that carries another session's id
    r = world.run(
        "sql",
        "SELECT resolved_session AS s, list(DISTINCT session_id) FILTER (WHERE session_id IS NOT NULL) AS own "
        "FROM events WHERE resolved_session IS NOT NULL GROUP BY ALL",
    )
    assert r.code == 0, r.err
    merged = {row["s"]: row["own"] for row in r.json() if set(row["own"] or []) - {row["s"]}}
    assert not merged, merged
    for amb in world.truth["ambiguous_ids"]:
        assert set(amb["sessions"]) <= set(listed), amb

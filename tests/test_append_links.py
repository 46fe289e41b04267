"""Appends linked on their own (`correlate.added_links`, `Manifest.deltas`) answer exactly as a
store linked whole: random appends of lines with every combination of ids, compared after
each ingest with a fresh store of the same files."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import run_cli

from gascorr import store
from gascorr.correlate import added_links

LINKS = "SELECT kind, id, session, request, ambiguous, sessions, conflict FROM links ORDER BY ALL"
EVENTS = "SELECT source, line, resolved_session, resolved_request FROM events ORDER BY ALL"


def _line(rng: random.Random, n: int, pools: dict[str, list[str]]) -> str:
    rec: dict[str, object] = {"ts": f"2024-05-01T12:{n // 60 % 60:02d}:{n % 60:02d}Z", "msg": f"event {n}"}
    for key, pool, p in (("session_id", "s", 0.3), ("request_id", "r", 0.6), ("trace_id", "t", 0.4)):
        if rng.random() < p:
            if rng.random() < 0.15:  # a new id now and then
                pools[pool].append(f"{pool}{len(pools[pool])}-{rng.randrange(10**6)}")
            rec[key] = rng.choice(pools[pool])
    return json.dumps(rec)


def _answers(st: Path) -> tuple[object, ...]:
    def q(sql: str) -> object:
        r = run_cli("sql", sql, "--store", str(st), "-f", "json")
        assert r.code in (0, 1), r.err
        return r.json() if r.out.strip() else []

    sessions = [row["session"] for row in q("SELECT DISTINCT session FROM links WHERE session IS NOT NULL ORDER BY 1")]  # type: ignore[union-attr]
    traces = []
    for sid in sessions[:10]:  # through the indexes, as `trace --session` reads them
        doc = run_cli("trace", "--session", sid, "--store", str(st), "-f", "json").json()
        traces.append(sorted((e["source"].rsplit("/", 1)[-1], e["line"], e["resolved_request"]) for e in doc["events"]))
    return q(LINKS), [{**e, "source": e["source"].rsplit("/", 1)[-1]} for e in q(EVENTS)], traces  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_appends_linked_alone_answer_as_a_whole_relink(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    pools = {"s": ["sA", "sB"], "r": ["rA", "rB", "rC"], "t": ["a" * 32, "b" * 32]}
    logs = tmp_path / "logs"
    logs.mkdir()
    files = [logs / f"svc{i}.jsonl" for i in range(3)]
    n = 0
    for f in files:
        f.write_text("".join(_line(rng, (n := n + 1), pools) + "\n" for _ in range(20)))
    inc = tmp_path / "incremental"
    assert run_cli("ingest", str(logs), "--store", str(inc), "--quiet").code == 0
    deltas_seen = 0
    for step in range(8):
        with rng.choice(files).open("a") as fh:
            if step % 2:  # new requests (and traces) of known sessions: what a growing log mostly adds
                for _ in range(rng.randint(1, 6)):
                    rec = {"ts": "2024-05-01T13:00:00Z", "msg": f"event {(n := n + 1)}", "request_id": f"new-r{n}"}
                    rec |= {"session_id": rng.choice(pools["s"])} if rng.random() < 0.7 else {}
                    rec |= {"trace_id": f"{n:032x}"} if rng.random() < 0.5 else {}
                    fh.write(json.dumps(rec) + "\n")
            else:
                fh.write("".join(_line(rng, (n := n + 1), pools) + "\n" for _ in range(rng.randint(1, 6))))
        assert run_cli("ingest", str(logs), "--store", str(inc), "--quiet").code == 0
        deltas_seen = max(deltas_seen, len(store.load(str(inc)).deltas))
        whole = tmp_path / f"whole{step}"
        assert run_cli("ingest", str(logs), "--store", str(whole), "--quiet").code == 0
        assert _answers(inc) == _answers(whole), f"step {step}"
        shutil.rmtree(whole)
    assert deltas_seen  # the appends were linked on their own at least once


def test_added_links_refuses_what_would_change_a_known_row() -> None:
    known = {
        ("request", "r1"): {
            "kind": "request", "id": "r1", "session": "s1", "request": None,
            "ambiguous": False, "sessions": ["s1"], "conflict": False,
        },
        ("trace", "t1"): {
            "kind": "trace", "id": "t1", "session": "s1", "request": "r1",
            "ambiguous": False, "sessions": [], "conflict": False,
        },
    }  # fmt: skip
    # a new request of a known session, and a new trace of a known request: added alone
    rows = added_links([("s1", "r2", None, None), (None, "r1", "t2", None)], known)
    assert rows is not None and sorted((r["id"], r["session"], r["request"]) for r in rows) == [
        ("r2", "s1", None),
        ("t2", "s1", "r1"),
    ]
    refused = [
        [("s2", "r1", None, None)],  # a known request seen with another session: ambiguous
        [("s1", None, "t1", None)],  # a known trace seen with its session for the first time
        [(None, "r2", "t1", None)],  # a known trace with a second request
        [("s2", "r9", "t1", None)],  # a second session reaches the component
        [("s1", "r9", None, None), ("s2", "r9", None, None)],  # a new ambiguous id
        [(None, "r1", None, "cap.har#page_1")],  # a page: HAR is never appended
    ]
    for tuples in refused:
        assert added_links(tuples, known) is None, tuples


def test_deltas_are_folded_into_a_whole_relink_after_max_deltas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gascorr import ingest

    monkeypatch.setattr(ingest, "MAX_DELTAS", 2)
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    log.write_text(json.dumps({"msg": "start", "session_id": "s1", "request_id": "r0"}) + "\n")
    st = tmp_path / "store"
    counts = []
    for i in range(1, 6):
        assert run_cli("ingest", str(logs), "--store", str(st), "--quiet").code == 0
        counts.append(len(store.load(str(st)).deltas))
        # a store with deltas is marked so that a gascorr that does not read them refuses it
        layout = json.loads((st / "manifest.json").read_text())["layout"]
        assert layout == (store.LAYOUT_WITH_DELTAS if counts[-1] else store.LAYOUT)
        with log.open("a") as fh:
            fh.write(json.dumps({"msg": f"more {i}", "session_id": "s1", "request_id": f"r{i}"}) + "\n")
    assert counts == [0, 1, 2, 0, 1]
    doc = run_cli("trace", "--session", "s1", "--store", str(st), "-f", "json").json()
    assert [e["message"] for e in doc["events"]] == ["start", "more 1", "more 2", "more 3", "more 4"]
    # the files of folded deltas are no longer named (and are swept after the grace period)
    m = store.load(str(st))
    assert all(f in m.named() for d in m.deltas for f in d)


def test_a_long_chain_of_ids_links_whole_in_both_ways(tmp_path: Path) -> None:
    """300 request/trace pairs chained one to the next reach the session at the chain's
    start, whether an append links them alone or the whole store is relinked (label
    propagation jumps to its label's label, so it converges in a few rounds)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "a.jsonl"
    log.write_text(json.dumps({"session_id": "S", "request_id": "r0000"}) + "\n")
    inc, whole = tmp_path / "inc", tmp_path / "whole"
    assert run_cli("ingest", str(logs), "--store", str(inc), "--quiet").code == 0
    with log.open("a") as fh:
        for i in range(300):
            fh.write(json.dumps({"request_id": f"r{i:04d}", "trace_id": f"t{i:04d}"}) + "\n")
            fh.write(json.dumps({"request_id": f"r{i + 1:04d}", "trace_id": f"t{i:04d}"}) + "\n")
    for st in (inc, whole):
        assert run_cli("ingest", str(logs), "--store", str(st), "--quiet").code == 0
        r = run_cli(
            "sql", "SELECT count(*) FILTER (WHERE session = 'S') AS s FROM links", "--store", str(st), "-f", "json"
        )
        assert r.json() == [{"s": 601}], st
    assert len(store.load(str(inc)).deltas) == 1


@pytest.mark.parametrize("with_append", [False, True])
def test_a_source_that_turns_binary_takes_its_links_along(tmp_path: Path, with_append: bool) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.jsonl").write_text(json.dumps({"session_id": "S", "request_id": "r1"}) + "\n")
    (logs / "x.jsonl").write_text(json.dumps({"session_id": "T", "request_id": "rx"}) + "\n")
    st = str(tmp_path / "store")
    assert run_cli("ingest", str(logs), "--store", st, "--quiet").code == 0
    (logs / "x.jsonl").write_bytes(bytes(range(256)) * 40)
    if with_append:
        with (logs / "a.jsonl").open("a") as fh:
            fh.write(json.dumps({"session_id": "S", "request_id": "r2"}) + "\n")
    assert run_cli("ingest", str(logs), "--store", st, "--quiet").code == 0
    ids = run_cli("sql", "SELECT id FROM links ORDER BY id", "--store", st, "-f", "json").json()
    assert [x["id"] for x in ids] == (["r1", "r2"] if with_append else ["r1"])
    assert run_cli("trace", "--session", "T", "--store", st, "-f", "json").code == 1

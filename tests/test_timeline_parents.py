"""Parent traces in a `trace` tree: a TraceForge call that names the trace it is a child of
(`X-TraceForge-Parent-Trace-ID`, or `parent_trace_id` / `parentTraceId` in a JSON record)
nests under the request of that trace.

The CLI tests run on fixtures/traceforge (step 2 names step 1's trace) and on small
JSON-lines proxy logs written here; the unit tests build rows by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from gascorr import query
from gascorr.config import ConfigError, load_names
from gascorr.ids import DEFAULT
from gascorr.timeline import MAX_NESTING, Node, build_tree, collapse, limit, parent_trace

SESSION = "3f1c2a9e-5b7d-4e8a-9c21-7d3e6f0a1b42"
STEP1 = "5e9b2f18-c47a-4d36-b1e0-8a3c6d9f2e07"
STEP2 = "c0f4e6a9-3b82-4f5d-9a17-e6d2b8c41f93"
TREE = ("--format", "tree", "--color", "never", "--width", "160", "--quiet")
T0 = datetime(2024, 6, 1, 10, 0, 0, tzinfo=UTC)


def _depth(line: str) -> int:
    """How deep a tree line is: the column where its branch (`├──` / `└──`) starts, in steps of 4."""
    at = min(i for i in (line.find("├──"), line.find("└──")) if i >= 0)
    return at // 4


def _calls(out: str) -> list[tuple[int, str]]:
    """(depth, line) of every request line (`▶`) of a tree."""
    return [(_depth(ln), ln) for ln in out.splitlines() if "▶" in ln]


# ---- the TraceForge fixture, through the CLI ----------------------------------------------------


def test_child_call_is_nested_under_its_parent_call(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", SESSION, str(FIXTURES / "traceforge"), *TREE)
    assert r.code == 0, r.err
    calls = _calls(r.out)
    assert [(d, "step 2" in ln, "step 1" in ln) for d, ln in calls] == [
        (0, False, False),
        (0, False, True),
        (1, True, False),
    ]
    assert STEP2 in calls[2][1]
    lines = r.out.splitlines()
    step1 = next(i for i, ln in enumerate(lines) if "step 1" in ln)
    step2 = next(i for i, ln in enumerate(lines) if "step 2" in ln)
    # after the parent's own events, as its last branch; the child's events one level deeper
    assert [ln.split("proxy", 1)[1].split()[1:3] for ln in lines[step1 + 1 : step2]] == [
        ["proxying", "request"],
        ["trace", "saved"],
    ]
    assert lines[step2].lstrip().startswith("└──")
    child = lines[step2 + 1 :]
    assert [_depth(ln) for ln in child] == [2, 2, 2]
    assert "state snapshot exceeds 10KB limit" in child[1]
    # the summary still counts every request
    assert "3 requests" in r.out


def test_child_call_stays_at_the_top_when_its_parent_is_not_in_the_timeline(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--trace", STEP2, str(FIXTURES / "traceforge"), *TREE)
    assert r.code == 0, r.err
    assert [(d, "step 2" in ln) for d, ln in _calls(r.out)] == [(0, True)]


def test_flat_tree_does_not_nest(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", SESSION, str(FIXTURES / "traceforge"), "--flat", *TREE)
    assert r.code == 0, r.err
    assert "▶" not in r.out


def test_build_tree_nests_the_child_node(cli, store: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("ingest", str(FIXTURES / "traceforge"), "--quiet").code == 0
    rows = query.trace(query.Store.open(store), session=SESSION).to_pylist()
    http = [r for r in rows if r["kind"] == "http"]
    assert [parent_trace(r) for r in http] == [None, None, STEP1]
    nodes = build_tree(rows)
    assert [n.key for n in nodes] == [f"trace:{t}" for t in ("a1d7c3e2-6f4b-4c1a-8e9d-2b5f7a0c3d61", STEP1)]
    parent = nodes[1]
    assert [c.is_request for c in parent.children] == [False, False, True]
    child = parent.children[-1]
    assert child.key == f"trace:{STEP2}"
    assert child.event is not None and child.event["step"] == 2
    assert [c.event["message"] for c in child.children if c.event] == [
        "proxying request",
        "state snapshot exceeds 10KB limit; storing truncated snapshot",
        "trace saved",
    ]
    # every event is still in the tree, once
    assert sum(len(n.rows()) for n in nodes) == len(rows)
    assert len(parent.rows(nested=False)) == 3 and len(parent.rows()) == 7


# ---- JSON-lines proxy logs ----------------------------------------------------------------------


def _call(ms: int, trace: str, **extra: Any) -> str:
    ts = (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
    rec = {
        "time": ts,
        "level": "info",
        "service": "tf-proxy",
        "msg": "POST /v1/chat/completions",
        "method": "POST",
        "url": "http://localhost:8787/v1/chat/completions",
        "status": 200,
        "duration_ms": 800,
        "session_id": "s-json",
        "trace_id": trace,
        **extra,
    }
    return json.dumps(rec)


def _log(tmp_path: Path, lines: list[str]) -> str:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "proxy.jsonl").write_text("\n".join(lines) + "\n")
    return str(d)


def test_jsonl_proxy_log_with_parent_trace_id(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    logs = _log(
        tmp_path,
        [
            _call(0, "aaaa0001"),
            _call(1000, "bbbb0002", parent_trace_id="AAAA0001"),  # any case
            _call(2000, "cccc0003", traceforge={"parentTraceId": "bbbb0002"}),  # nested, camelCase
            _call(3000, "dddd0004", parentTraceId="null"),  # a placeholder is no parent
            _call(4000, "eeee0005", parent_trace_id="ffff9999"),  # a parent not in the log
        ],
    )
    r = cli("trace", "--session", "s-json", logs, *TREE)
    assert r.code == 0, r.err
    assert [(d, ln.split("trace:")[1].split()[0]) for d, ln in _calls(r.out)] == [
        (0, "aaaa0001"),
        (1, "bbbb0002"),
        (2, "cccc0003"),
        (0, "dddd0004"),
        (0, "eeee0005"),
    ]


def test_user_named_parent_trace_key_from_config(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    logs = _log(tmp_path, [_call(0, "aaaa0001"), _call(1000, "bbbb0002", caller_trace="aaaa0001")])
    cfg = tmp_path / "ids.toml"
    cfg.write_text('[ids]\nparent_trace_keys = ["caller_trace"]\n')
    plain = cli("trace", "--session", "s-json", logs, *TREE)
    assert [d for d, _ in _calls(plain.out)] == [0, 0]
    named = cli("trace", "--session", "s-json", logs, "--config", str(cfg), *TREE)
    assert named.code == 0, named.err
    assert [d for d, _ in _calls(named.out)] == [0, 1]


def test_config_takes_parent_trace_names_but_no_patterns(tmp_path: Path) -> None:
    cfg = tmp_path / "ids.toml"
    cfg.write_text('[ids]\nparent_trace_headers = ["X-Parent-Trace"]\nparent_trace_keys = ["ptid"]\n')
    names = load_names(str(cfg))
    assert names.parent_trace_headers[0] == "x-parent-trace"
    assert names.parent_trace_keys[0] == "ptid"
    cfg.write_text("[ids]\nparent_trace_patterns = ['p=(\\\\w+)']\n")
    with pytest.raises(ConfigError, match="parent_trace_patterns"):
        load_names(str(cfg))


def test_parent_trace_names_do_not_change_the_ingest_digest() -> None:
    # ingest re-parses a file when repr(names) changes; parsers never read these names
    assert "parent_trace" not in repr(DEFAULT)


# ---- build_tree on rows made by hand -------------------------------------------------------------


def _http(
    ms: int, trace: str, parent: str | None = None, *, header: str = "X-TraceForge-Parent-Trace-ID"
) -> dict[str, Any]:
    headers = [{"name": "X-TraceForge-Session-ID", "value": "s"}]
    if parent is not None:
        headers.append({"name": header, "value": parent})
    attrs = {"request": {"method": "POST", "headers": headers}, "response": {"status": 200}}
    return {
        "ts": T0 + timedelta(milliseconds=ms),
        "kind": "http",
        "service": "agent",
        "level": "INFO",
        "method": "POST",
        "url": "http://localhost:8787/v1/chat/completions",
        "status": 200,
        "message": "POST /v1/chat/completions 200",
        "trace_id": trace,
        "resolved_session": "s",
        "resolved_request": None,
        "attrs": json.dumps(attrs),
    }


def _logline(ms: int, trace: str, msg: str, **extra: Any) -> dict[str, Any]:
    rec = {"msg": msg, "trace_id": trace, **extra}
    return {
        "ts": T0 + timedelta(milliseconds=ms),
        "kind": "log",
        "service": "proxy",
        "level": "INFO",
        "message": msg,
        "trace_id": trace,
        "resolved_session": "s",
        "resolved_request": None,
        "attrs": json.dumps(rec),
    }


def _shape(nodes: list[Node]) -> list[Any]:
    """The request nodes of a tree as (trace, [nested requests...])."""
    return [(n.key, _shape(n.children)) for n in nodes if n.is_request]


def test_header_name_is_case_insensitive_and_value_normalised() -> None:
    rows = [_http(0, "t1"), _http(100, "t2", "  T1 ", header="x-traceforge-parent-trace-id")]
    assert parent_trace(rows[1]) == "t1"
    assert _shape(build_tree(rows)) == [("trace:t1", [("trace:t2", [])])]


@pytest.mark.parametrize("value", ["", "-", "null", "unknown", "0000000000000000"])
def test_placeholder_parent_is_no_parent(value: str) -> None:
    assert parent_trace(_http(0, "t2", value)) is None


def test_missing_parent_leaves_the_node_at_top_level() -> None:
    rows = [_http(0, "t1"), _http(100, "t2", "t-gone")]
    assert _shape(build_tree(rows)) == [("trace:t1", []), ("trace:t2", [])]


def test_cycle_of_parents_does_not_loop() -> None:
    rows = [_http(0, "t1", "t3"), _http(100, "t2", "t1"), _http(200, "t3", "t2"), _http(300, "t4", "t4")]
    # t1 -> t3 would close the cycle t1 <- t2 <- t3, so t1 (the earliest) keeps its place
    assert _shape(build_tree(rows)) == [
        ("trace:t1", [("trace:t2", [("trace:t3", [])])]),
        ("trace:t4", []),
    ]


def test_two_calls_naming_each_other() -> None:
    rows = [_http(0, "t1", "t2"), _http(100, "t2", "t1")]
    assert _shape(build_tree(rows)) == [("trace:t1", [("trace:t2", [])])]


def test_parent_named_by_a_log_line_of_the_call() -> None:
    # the HAR entry has no header, but the proxy logged the parent with the call's trace id
    rows = [
        _http(0, "t1"),
        _http(100, "t2"),
        _logline(105, "t2", "proxying request", parent_trace_id="t1"),
        _logline(900, "t2", "trace saved"),
    ]
    nodes = build_tree(rows)
    assert _shape(nodes) == [("trace:t1", [("trace:t2", [])])]
    assert [c.event["message"] for c in nodes[0].children[0].children if c.event] == ["proxying request", "trace saved"]


def test_http_event_header_wins_over_a_log_line() -> None:
    rows = [
        _http(0, "t1"),
        _http(10, "t2"),
        _http(100, "t3", "t1"),
        _logline(105, "t3", "proxying request", parent_trace_id="t2"),
    ]
    assert _shape(build_tree(rows)) == [("trace:t1", [("trace:t3", [])]), ("trace:t2", [])]


def test_children_follow_the_parents_own_events_in_time_order() -> None:
    rows = [
        _http(0, "t1"),
        _logline(5, "t1", "proxying request"),
        _http(100, "t2", "t1"),
        _http(200, "t3", "t1"),
        _logline(900, "t1", "trace saved"),
    ]
    parent = build_tree(rows)[0]
    assert [c.key or c.event["message"] for c in parent.children] == [  # type: ignore[index]
        "proxying request",
        "trace saved",
        "trace:t2",
        "trace:t3",
    ]


def test_request_keyed_by_id_can_be_a_parent() -> None:
    parent = {**_http(0, "t1"), "resolved_request": "req-1"}
    rows = [parent, _http(100, "t2", "t1")]
    assert _shape(build_tree(rows)) == [("req-1", [("trace:t2", [])])]


def test_no_grouping_means_no_nesting() -> None:
    rows = [_http(0, "t1"), _http(100, "t2", "t1")]
    assert all(not n.is_request for n in build_tree(rows, group=False))


def test_collapse_and_limit_keep_nested_calls() -> None:
    rows = [_http(0, "t1")]
    for i in range(5):  # five like log lines of the parent, then five child calls
        rows.append(_logline(10 + i, "t1", f"retrying upstream (attempt {i})"))
    rows += [_http(100 + i * 100, f"c{i}", "t1") for i in range(5)]
    nodes = collapse(build_tree(rows))
    assert len(nodes) == 1
    kids = nodes[0].children
    # the log lines fold; the child calls (each only its HTTP call) fold too, as like siblings
    assert [(k.is_request, len(k.repeats)) for k in kids] == [(False, 4), (True, 4)]
    assert sum(len(n.rows()) for n in nodes) == len(rows)
    # 4 rows: the parent's call and its first 3 log lines; 2 log lines and 5 child calls cut
    shown, hidden = limit(build_tree(rows), 4)
    assert hidden == 7
    assert [c.is_request for c in shown[0].children] == [False] * 3
    assert sum(len(n.rows()) for n in shown) == len(rows)  # cut events stay counted in rows()


def test_a_long_chain_of_parents_nests_at_most_max_nesting_deep() -> None:
    # every step names the step before: a chain as long as the session
    rows = [_http(i * 10, f"t{i}", f"t{i - 1}" if i else None) for i in range(2000)]
    nodes = build_tree(rows)
    assert len(nodes) == 1

    def deepest(n: Node, d: int = 0) -> int:
        return max([d, *(deepest(c, d + 1) for c in n.children if c.is_request)])

    assert deepest(nodes[0]) == MAX_NESTING
    node = nodes[0]
    for _ in range(MAX_NESTING - 1):
        node = node.children[0]
    # the ancestor at depth MAX_NESTING - 1 holds every deeper step, in time order
    assert [c.key for c in node.children] == [f"trace:t{i}" for i in range(MAX_NESTING, 2000)]
    assert sum(len(n.rows()) for n in nodes) == len(rows)
    shown, _ = limit(collapse(nodes), 500)  # no RecursionError anywhere
    assert sum(len(n.rows()) for n in shown) == len(rows)

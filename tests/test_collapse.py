"""Long sessions in a `trace` tree: repeated events fold into one line, the tree stops after
`--max-events` rows, `--full` shows everything, and JSON keeps every event.

The CLI tests ingest one synthetic JSON-lines session: a start line, 200 health checks with
one ERROR among them, 5 retries, a request with 4 cache hits, an end line.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gascorr.timeline import Node, build_tree, collapse, limit, shape

T0 = datetime(2026, 1, 31, 10, 0, 0, tzinfo=UTC)
TREE = ("--format", "tree", "--color", "never", "--width", "100", "--quiet")


def _line(ms: int, level: str, msg: str, **extra: Any) -> str:
    ts = (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
    return json.dumps({"ts": ts, "level": level, "service": "api", "session_id": "s-long", "msg": msg, **extra})


@pytest.fixture
def long_session(tmp_path: Path) -> str:
    lines = [_line(0, "INFO", "session started")]
    for i in range(200):
        if i == 120:
            lines.append(_line(100 + i * 100 - 50, "ERROR", f"GET /health 500 in {i % 7 + 1}ms"))
        lines.append(_line(100 + i * 100, "INFO", f"GET /health 200 in {i % 7 + 1}ms"))
    lines += [_line(30_000 + a * 10, "WARN", f"retrying connection (attempt {a})") for a in range(1, 6)]
    lines.append(_line(31_000, "INFO", "GET /api/cart", request_id="req-1"))
    lines += [_line(31_010 + k, "DEBUG", f"cache hit id=9f8e7d6c{k}", request_id="req-1") for k in range(4)]
    lines.append(_line(32_000, "INFO", "session ended"))
    d = tmp_path / "logs"
    d.mkdir()
    (d / "api.jsonl").write_text("\n".join(lines) + "\n")
    return str(d)


def _health_rows(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if "GET /health 200" in ln]


# ---- what a user sees -------------------------------------------------------------------------


def test_repeated_health_checks_show_as_one_folded_line(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "s-long", long_session, *TREE)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    # the ERROR breaks the run of 200 into 120 + 80: each shows its first event and one count
    assert len(_health_rows(r.out)) == 2
    assert [ln.split("INFO", 1)[1].strip() for ln in lines if "more like this" in ln and "INFO" in ln] == [
        "… 119 more like this over 11.80s (+200ms … +12.00s)",
        "… 79 more like this over 7.80s (+12.20s … +20.00s)",
    ]
    assert any("WARN  … 4 more like this" in ln for ln in lines)  # retries, attempt numbers masked
    assert any("DEBUG … 3 more like this" in ln for ln in lines)  # inside the request, hex ids masked
    # the summary counts every event, folded ones included
    assert "· 1 error" in lines[1]
    assert len(lines) < 20


def test_an_error_inside_a_run_is_shown(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "s-long", long_session, *TREE)
    (err,) = [ln for ln in r.out.splitlines() if "ERROR" in ln]
    assert "+12.05s api ERROR GET /health 500 in 2ms" in err


def test_full_shows_every_event(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "s-long", long_session, *TREE, "--full")
    assert r.code == 0, r.err
    assert len(_health_rows(r.out)) == 200
    assert "more like this" not in r.out and "not shown" not in r.out


def test_max_events_cuts_the_tree_and_counts_what_it_hides(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "s-long", long_session, *TREE, "--max-events", "3")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert len(lines) == 2 + 3 + 1  # the header, 3 rows, the notice
    # shown: the start line and the first health check with its count of 119
    assert lines[-1].endswith("… 92 more events not shown (use --full or --max-events)")
    assert "1 error" in lines[1] and "ERROR" not in "".join(lines[2:])  # the header still counts it


def test_max_events_never_leaves_a_request_line_alone(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    # 8 rows reach the request; a 9th would be its line without any of its events
    r = cli("trace", "--session", "s-long", long_session, *TREE, "--max-events", "9")
    assert "req-1" not in r.out
    assert r.out.splitlines()[-1].endswith("… 6 more events not shown (use --full or --max-events)")
    r = cli("trace", "--session", "s-long", "--max-events", "10", *TREE)
    lines = r.out.splitlines()
    assert "▶ request" in lines[-3] and "GET /api/cart" in lines[-2]
    assert lines[-1].endswith("… 5 more events not shown (use --full or --max-events)")


def test_json_and_ndjson_keep_every_event(cli, long_session: str) -> None:  # type: ignore[no-untyped-def]
    doc = cli("trace", "--session", "s-long", long_session, "-f", "json", "--max-events", "3").json()
    assert len(doc["events"]) == doc["event_count"] == 213
    assert len(cli("trace", "--session", "s-long", "-f", "ndjson").ndjson()) == 213


# ---- the data: timeline.collapse and timeline.limit ---------------------------------------------


def _ev(i: int, msg: str, level: str = "INFO", **extra: Any) -> dict[str, Any]:
    return {"ts": T0 + timedelta(seconds=i), "service": "svc", "level": level, "kind": "log", "message": msg, **extra}


def test_shape_masks_numbers_hex_ids_and_uuids_but_not_words() -> None:
    assert shape("retrying connection (attempt 3)") == shape("retrying connection (attempt 12)")
    assert shape("GET /health 200 in 3ms") == shape("GET /health 200 in 17ms")
    assert shape("user 3f2a9c1e-1111-4a2b-9c3d-0123456789ab") == shape("user 00000000-aaaa-4bbb-8ccc-ddddeeeeffff")
    assert shape("span a3f9c2e1d0") == shape("span 0b1c2d3e4f")
    assert shape("cache added") != shape("cache decade")


def test_collapse_folds_runs_of_three_or_more_of_one_level() -> None:
    rows = [_ev(0, "tick 1"), _ev(1, "tick 2"), _ev(2, "tick 3"), _ev(3, "tick 4", "ERROR"), _ev(4, "tick 5")]
    rows += [_ev(5, "tock 1"), _ev(6, "tock 2")]
    nodes = collapse(build_tree(rows))
    assert [(n.event["message"] if n.event else None, len(n.repeats)) for n in nodes] == [
        ("tick 1", 2),
        ("tick 4", 0),  # another level: never part of the INFO run
        ("tick 5", 0),
        ("tock 1", 0),  # a run of 2 is shown whole
        ("tock 2", 0),
    ]
    assert sum(len(n.rows()) for n in nodes) == len(rows)  # nothing is lost from the data


def test_collapse_keeps_http_statuses_apart_and_nested_events_unfolded() -> None:
    ok = [_ev(i, f"GET /x {i}", kind="http", status=200) for i in range(3)]
    bad = [_ev(3 + i, f"GET /x {i}", kind="http", status=503) for i in range(2)]
    nodes = collapse(build_tree(ok + bad))
    assert [len(n.repeats) for n in nodes] == [2, 0, 0]
    span = Node(event=_ev(0, "span", kind="span"), children=[Node(event=_ev(1, f"inner {i}")) for i in range(4)])
    (folded,) = collapse([span])
    assert folded.repeats == [] and len(folded.children) == 1 and len(folded.children[0].repeats) == 3


def test_limit_counts_rows_in_order_and_hidden_events() -> None:
    req = Node(
        key="r1", event=_ev(10, "POST", kind="http"), children=[Node(event=_ev(11 + i, f"s{i}")) for i in range(2)]
    )
    nodes = [Node(event=_ev(0, "a")), req, Node(event=_ev(20, "z"))]
    shown, hidden = limit(nodes, 3)
    assert [n.event["message"] for n in shown if n.event] == ["a", "POST"]
    assert len(shown[1].children) == 1 and len(shown[1].cut) == 1
    assert len(shown[1].rows()) == 3  # the request still summarises what was cut from it
    assert hidden == 2
    shown, hidden = limit(nodes, 2)  # the request's line would stand alone: cut before it
    assert [n.event["message"] for n in shown if n.event] == ["a"] and hidden == 4
    assert limit(nodes, 100) == (nodes, 0)


def test_a_folded_run_of_errors_says_error() -> None:
    from rich.console import Console
    from rich.text import Text

    from gascorr.render.tree import TreeRenderer

    rows = [_ev(0, "start")] + [_ev(1 + i, f"retry {i}", "ERROR") for i in range(42)]
    nodes = collapse(build_tree(rows))
    con = Console(width=100, no_color=True, file=io.StringIO())
    con.print(TreeRenderer().render(Text("t"), nodes, T0))
    text = con.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"ERROR … 41 more like this over 40\.00s \(\+2\.00s … \+42\.00s\)", text), text

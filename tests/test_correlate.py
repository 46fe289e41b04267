"""Linking rules: transitive ids, sessions as roots, ambiguity, placeholders, pages, LLM files."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from conftest import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _write(root: Path, name: str, lines: list[str | dict]) -> None:  # type: ignore[type-arg]
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))


def _events(r: Result) -> list[tuple[str, int]]:
    assert r.code == 0, r.err
    return [(Path(e["source"]).name, e["line"]) for e in r.json()["events"]]


def test_trace_only_line_joins_session_through_request_and_trace(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(
        logs,
        "gateway.jsonl",
        [
            {"ts": "2026-01-01T10:00:00Z", "msg": "in", "session_id": "s1", "request_id": "r1"},
        ],
    )
    _write(
        logs,
        "worker.jsonl",
        [
            {"ts": "2026-01-01T10:00:01Z", "msg": "work", "request_id": "r1", "trace_id": "ab" * 16},
        ],
    )
    _write(
        logs,
        "db.jsonl",
        [
            {"ts": "2026-01-01T10:00:02Z", "msg": "query", "trace_id": "AB" * 16},  # upper-case: same trace
            {"ts": "2026-01-01T10:00:03Z", "msg": "other", "trace_id": "cd" * 16},
        ],
    )
    r = cli("trace", "--session", "s1", str(logs), "-f", "json")
    assert _events(r) == [("gateway.jsonl", 1), ("worker.jsonl", 1), ("db.jsonl", 1)]
    doc = r.json()
    assert doc["events"][2]["resolved_request"] == "r1"
    assert doc["services_touched"] == ["db", "gateway", "worker"]
    # the request trace reaches the trace-only line too
    assert _events(cli("trace", "--request", "r1", "-f", "json")) == [
        ("gateway.jsonl", 1),
        ("worker.jsonl", 1),
        ("db.jsonl", 1),
    ]


def test_id_seen_with_two_sessions_is_ambiguous_and_never_merges_them(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(
        logs,
        "a.jsonl",
        [
            {"ts": "2026-01-01T10:00:00Z", "msg": "a1", "session_id": "s1", "request_id": "shared"},
            {"ts": "2026-01-01T10:00:01Z", "msg": "a2", "session_id": "s1", "request_id": "only-s1"},
            {"ts": "2026-01-01T10:00:02Z", "msg": "b1", "session_id": "s2", "request_id": "shared"},
            {"ts": "2026-01-01T10:00:03Z", "msg": "b2", "session_id": "s2", "request_id": "only-s2"},
            {"ts": "2026-01-01T10:00:04Z", "msg": "orphan", "request_id": "shared"},
        ],
    )
    s1 = cli("trace", "--session", "s1", str(logs), "-f", "json")
    assert [e["message"] for e in s1.json()["events"]] == ["a1", "a2"]
    assert s1.json()["ambiguous_ids"] == [{"kind": "request", "id": "shared", "sessions": ["s1", "s2"]}]
    s2 = cli("trace", "--session", "s2", "-f", "json")
    assert [e["message"] for e in s2.json()["events"]] == ["b1", "b2"]
    stats = cli("stats", "-f", "json").json()
    assert stats["ambiguous_ids"] == [{"kind": "request", "id": "shared", "sessions": ["s1", "s2"]}]
    # the request itself still has all its events
    assert [e["message"] for e in cli("trace", "--request", "shared", "-f", "json").json()["events"]] == [
        "a1",
        "b1",
        "orphan",
    ]


def test_placeholders_are_not_ids(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(
        logs,
        "app.jsonl",
        [
            {"ts": "2026-01-01T10:00:00Z", "msg": "x", "session_id": "-", "request_id": "r1"},
            {"ts": "2026-01-01T10:00:01Z", "msg": "y", "session_id": "null", "request_id": "r2"},
            {
                "ts": "2026-01-01T10:00:02Z",
                "msg": "z",
                "session_id": "s1",
                "request_id": "unknown",
                "traceparent": "00-00000000000000000000000000000000-0000000000000000-00",
            },
            {"ts": "2026-01-01T10:00:03Z", "msg": "w", "session_id": "in-progress", "trace_id": ""},
        ],
    )
    r = cli("stats", str(logs), "-f", "json").json()
    assert r["sessions"] == 1 and r["requests"] == 2 and r["traces"] == 0
    assert cli("trace", "--session", "-", "-f", "json").code == 1
    assert cli("trace", "--session", "in-progress", "-f", "json").code == 1


def test_text_prefix_and_llm_file_name_share_a_session(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(
        logs,
        "app.log",
        [
            "[in-progress] - 2025-11-05 14:30:50,000 - app - INFO - starting",
            "[20251105_143052] - 2025-11-05 14:30:52,000 - app - INFO - session begins",
            "[20251105_143052] - 2025-11-05 14:30:54,000 - app - ERROR - tool failed",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "ValueError: boom",
        ],
    )
    _write(
        logs,
        "llm_interactions/session_20251105_143052.jsonl",
        [
            {"timestamp": "2025-11-05T14:30:53", "model": "m1", "request": {"messages": []}, "response": {}},
        ],
    )
    r = cli("trace", "--session", "20251105_143052", str(logs), "-f", "json")
    doc = r.json()
    assert [e["message"].split("\n")[0] for e in doc["events"]] == ["session begins", "LLM call m1", "tool failed"]
    assert doc["events"][1]["kind"] == "llm" and doc["events"][1]["session_id"] == "20251105_143052"
    assert doc["events"][2]["message"].endswith("ValueError: boom")
    assert doc["errors"] == 1


def test_har_page_joins_the_session_of_its_requests(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "pages": [
                {"id": "p1", "startedDateTime": "2026-01-01T10:00:00Z", "title": "Home", "pageTimings": {"onLoad": 120}}
            ],
            "entries": [
                {
                    "pageref": "p1",
                    "startedDateTime": "2026-01-01T10:00:00.100Z",
                    "time": 30,
                    "request": {
                        "method": "GET",
                        "url": "http://x/api",
                        "headers": [{"name": "x-session-id", "value": "s9"}],
                    },
                    "response": {"status": 200, "headers": [{"name": "X-Request-Id", "value": "resp-req-1"}]},
                }
            ],
        }
    }
    (tmp_path / "cap.har").write_text(json.dumps(har))
    doc = cli("trace", "--session", "s9", str(tmp_path / "cap.har"), "-f", "json").json()
    assert [(e["kind"], e["message"]) for e in doc["events"]] == [
        ("page", "Page load: Home"),
        ("http", "GET http://x/api 200"),
    ]
    assert doc["events"][1]["request_id"] == "resp-req-1"  # an id from a response header counts


def test_har_trace_header_and_log_trace_id_meet_whatever_their_case(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A trace id that is not hex (AWS X-Ray's) is kept as written by HAR and log alike, so a
    log line that carries only it joins the browser's session; a hex id meets in any case;
    `trace --trace` finds both as the user writes them."""
    xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    hexid = "4BF92F3577B34DA6A3CE929D0E0E4736"

    def entry(sid: str, headers: list[dict[str, str]], url: str) -> dict[str, Any]:
        return {
            "startedDateTime": "2026-01-01T10:00:00Z",
            "time": 5,
            "request": {"method": "GET", "url": url, "headers": [{"name": "X-Session-Id", "value": sid}, *headers]},
            "response": {"status": 200, "statusText": "OK", "headers": []},
        }

    har = {
        "log": {
            "version": "1.2",
            "entries": [
                entry("s1", [{"name": "X-Amzn-Trace-Id", "value": xray}], "https://shop.test/a"),
                entry("s2", [{"name": "X-B3-TraceId", "value": hexid}], "https://shop.test/b"),
            ],
        }
    }
    (tmp_path / "cap.har").write_text(json.dumps(har))
    _write(
        tmp_path,
        "backend.jsonl",
        [
            {"ts": "2026-01-01T10:00:01Z", "msg": "xray work", "trace_id": xray},
            {"ts": "2026-01-01T10:00:02Z", "msg": "b3 work", "trace_id": hexid.lower()},
        ],
    )
    s1 = cli("trace", "--session", "s1", str(tmp_path), "-f", "json")
    assert _events(s1) == [("cap.har", 1), ("backend.jsonl", 1)]
    assert s1.json()["events"][0]["trace_id"] == xray
    assert _events(cli("trace", "--session", "s2", "-f", "json")) == [("cap.har", 2), ("backend.jsonl", 2)]
    assert _events(cli("trace", "--trace", xray, "-f", "json")) == [("cap.har", 1), ("backend.jsonl", 1)]
    assert _events(cli("trace", "--trace", hexid, "-f", "json")) == [("cap.har", 2), ("backend.jsonl", 2)]
    assert cli("trace", "--trace", xray.lower(), "-f", "json").code == 1  # not hex: as written


@given(
    st.one_of(
        st.from_regex(r" ?[0-9A-Fa-f]{2}-[0-9A-Fa-f]{32}-[0-9A-Fa-f]{16}-[0-9A-Fa-f]{2} ?", fullmatch=True),
        st.from_regex(r" ?[0-9A-Fa-f-]{1,40} ?", fullmatch=True),
        st.sampled_from(
            [
                "-",
                "null",
                " None ",
                "n/a",
                "0000",
                '{"a": 1}',
                "[1]",
                "x" * 257,
                " " + "a" * 256,
                "in-progre\u017fs",
                "NULL",
            ]
        ),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
    )
)
@settings(max_examples=300, deadline=None)
def test_trace_ids_are_kept_as_the_sql_reading_of_logs_keeps_them(value: str) -> None:
    """`ids.trace_id` (HAR headers, `trace --trace`) and the SQL macro `gc_trace` (every log
    dialect) store a trace id alike, or HAR and log records of one trace would not link."""
    from gascorr.ids import trace_id

    [(want,)] = _connection().execute("SELECT gc_trace($v)", {"v": value}).fetchall()
    assert trace_id(value) == want


@functools.cache
def _connection() -> Any:
    from gascorr.engine import connect

    return connect()


def test_changed_file_relinks_and_unchanged_store_is_not_reparsed(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(logs, "a.jsonl", [{"ts": "2026-01-01T10:00:00Z", "msg": "a", "session_id": "s1", "request_id": "r1"}])
    _write(logs, "b.jsonl", [{"ts": "2026-01-01T10:00:01Z", "msg": "b", "request_id": "r2"}])
    assert [e["message"] for e in cli("trace", "-s", "s1", str(logs), "-f", "json").json()["events"]] == ["a"]
    again = cli("trace", "-s", "s1", str(logs), "-f", "json")
    assert "ingested" not in again.err
    # b.jsonl now learns that r2 belongs to s1 too
    _write(
        logs,
        "b.jsonl",
        [
            {"ts": "2026-01-01T10:00:01Z", "msg": "b", "request_id": "r2"},
            {"ts": "2026-01-01T10:00:02Z", "msg": "c", "session_id": "s1", "request_id": "r2"},
        ],
    )
    r = cli("trace", "-s", "s1", str(logs), "-f", "json")
    assert "ingested 1 file" in r.err
    assert [e["message"] for e in r.json()["events"]] == ["a", "b", "c"]


def test_config_file_adds_id_names_and_patterns(tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    _write(logs, "app.jsonl", [{"ts": "2026-01-01T10:00:00Z", "msg": "login", "user_session": "u-1"}])
    _write(logs, "worker.log", ["2026-01-01 10:00:01,000 - worker - INFO - job done sess=u-1"])
    cfg = tmp_path / "ids.toml"
    cfg.write_text("[ids]\nsession_keys = ['user_session']\nsession_patterns = ['sess=([\\w-]+)']\n")
    assert cli("trace", "-s", "u-1", str(logs)).code == 1  # built-in names do not know these
    # the same store: files parsed with other names are parsed again
    r = cli("trace", "-s", "u-1", str(logs), "--config", str(cfg))
    assert "ingested 2 files" in r.err
    assert [e["message"] for e in r.json()["events"]] == ["login", "job done sess=u-1"]
    # gascorr.toml in the current directory is read by default
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gascorr.toml").write_text(cfg.read_text())
    r = cli("trace", "-s", "u-1", str(logs))
    assert "ingested" not in r.err and len(r.json()["events"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[ids]\nsession_colour = ['x']\n")
    err = cli("trace", "-s", "u-1", "--config", str(bad))
    assert err.code == 2 and "unknown key(s) in [ids]: session_colour" in err.err


def test_spans_nest_under_their_parents_and_logs_under_their_span(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    def span(sid: str, parent: str, name: str, start: int, end: int) -> dict:  # type: ignore[type-arg]
        return {
            "traceId": "AB" * 16,
            "spanId": sid,
            "parentSpanId": parent,
            "name": name,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
        }

    base = 1_700_000_000_000_000_000
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            span("00000000000000a1", "", "GET /cart", base, base + 9_000_000),
                            span(
                                "00000000000000b2", "00000000000000a1", "db query", base + 1_000_000, base + 2_000_000
                            ),
                            # a malformed pair that names each other: no cycle, both stay visible
                            span("00000000000000c3", "00000000000000d4", "x", base + 3_000_000, base + 3_100_000),
                            span("00000000000000d4", "00000000000000c3", "y", base + 4_000_000, base + 4_100_000),
                        ]
                    }
                ],
            }
        ]
    }
    (tmp_path / "spans.json").write_text(json.dumps(doc, indent=1))
    _write(
        tmp_path,
        "app.jsonl",
        [
            {
                "time": "2023-11-14T22:13:20.0015Z",
                "msg": "rows fetched",
                "trace_id": "ab" * 16,
                "span_id": "00000000000000b2",
            }
        ],
    )
    r = cli("trace", "--trace", "ab" * 16, str(tmp_path), "-f", "tree", "--color", "never", "--width", "100")
    assert r.code == 0, r.err
    lines = [ln for ln in r.out.splitlines() if "──" in ln]
    names = [ln.split(" INFO ")[-1].split(" ·  ")[-1].strip().split("  ")[0] for ln in lines]
    assert names == ["GET /cart", "db query", "rows fetched", "x", "y"]
    indents = [ln.index("──") for ln in lines]
    assert indents[1] > indents[0] and indents[2] > indents[1]  # root > child span > the log inside it
    assert indents[3] == indents[0] and indents[4] > indents[3]  # y nests under x; x stays at the top


# -- the linking rules against a plain-Python statement of them ---------------------------------


def _reference_links(tuples: list[tuple[str | None, ...]]) -> set[tuple[Any, ...]]:
    """SPEC's linking rules, written out with a union-find, as `links` rows."""
    direct: dict[str, set[str]] = {}  # node -> sessions seen with it
    requests: dict[str, set[str]] = {}  # node -> other request nodes seen with it
    cliques = []
    for s, r, t, p in tuples:
        nodes = [k + ":" + v for k, v in (("r", r), ("t", t), ("p", p)) if v is not None]
        for n in nodes:
            direct.setdefault(n, set()).update([s] if s is not None else [])
            requests.setdefault(n, set()).update([f"r:{r}"] if r is not None and n != f"r:{r}" else [])
        cliques.append(nodes)
    ambiguous = {n for n, ss in direct.items() if len(ss) > 1}
    parent = {n: n for n in direct}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for nodes in cliques:
        free = [n for n in nodes if n not in ambiguous]
        for a in free[1:]:
            parent[root(a)] = root(free[0])
    comp_sessions: dict[str, set[str]] = {}
    for n, ss in direct.items():
        if len(ss) == 1:
            comp_sessions.setdefault(root(n), set()).update(ss)
    rows = set()
    for n, ss in direct.items():
        cs = comp_sessions.get(root(n), set())
        if n in ambiguous:
            session = None
        elif ss:
            session = next(iter(ss))
        else:
            session = next(iter(cs)) if len(cs) == 1 else None
        reqs = requests[n]
        request = next(iter(reqs))[2:] if n.startswith("t:") and len(reqs) == 1 else None
        kind = {"r": "request", "t": "trace", "p": "page"}[n[0]]
        sessions = tuple(sorted(ss)) if n in ambiguous else tuple(ss)
        rows.add((kind, n[2:], session, request, n in ambiguous, sessions, len(cs) > 1))
    return rows


_ids = st.one_of(st.none(), st.sampled_from("abcdef"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tuples=st.lists(st.tuples(st.one_of(st.none(), st.sampled_from("STU")), _ids, _ids, _ids), max_size=14))
def test_links_follow_the_rules(tuples: list[tuple[str | None, ...]]) -> None:
    """Random tuples over a few ids (so that chains, ambiguity and conflicts are common):
    `compute_links` gives exactly the rows the rules give."""
    from gascorr.correlate import compute_links
    from gascorr.engine import connect

    con = connect(threads=1)
    con.execute("CREATE TEMP TABLE t (s VARCHAR, r VARCHAR, t VARCHAR, p VARCHAR)")
    if tuples:
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", tuples)
    compute_links(con, "t")
    got = {
        (kind, id_, session, request, amb, tuple(sessions), conflict)
        for kind, id_, session, request, amb, sessions, conflict in con.execute(
            "SELECT kind, id, session, request, ambiguous, sessions, conflict FROM links"
        ).fetchall()
    }
    assert got == _reference_links(tuples)

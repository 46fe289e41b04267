"""The CLI contract: exit statuses like grep, stdout for results only, JSON on a pipe, filters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_cli

CHECKOUT = str(FIXTURES / "checkout")


def test_version() -> None:
    from gascorr import __version__

    r = run_cli("--version")
    assert r.code == 0 and r.out.strip() == f"gascorr {__version__}"


def test_json_is_the_default_on_a_pipe_and_tree_on_a_terminal(cli) -> None:  # type: ignore[no-untyped-def]
    piped = cli("trace", "--request", "req-002", CHECKOUT)
    assert piped.code == 0
    assert piped.json()["request_id"] == "req-002"
    assert "ingested 5 files" in piped.err  # the summary is on stderr, never in the data
    tty = cli("trace", "--request", "req-002", "--color", "never", tty=True)
    assert tty.code == 0
    assert tty.out.startswith("request req-002")
    assert "Insufficient funds" in tty.out


def test_unknown_id_exits_1_with_a_message_on_stderr(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "no-such-session", CHECKOUT)
    assert r.code == 1
    assert r.out == ""
    assert "no events for session 'no-such-session'" in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["trace", CHECKOUT],  # no id
        ["trace", "--session", "a", "--request", "b", CHECKOUT],  # two ids
        ["trace", "--session", "a", "--format", "xml"],
        ["sessions", "--status", "sometimes"],
        ["requests", "--status", "9xx", CHECKOUT],  # no such class
        ["requests", "--status", "5021", CHECKOUT],
        ["requests", "--slowest", "0"],
        ["grep", "-E", "-F", "x"],
        ["trace", "--session", "a", "--tz", "Mars/Olympus"],
        ["trace", "--session", "a", "--since", "last tuesday-ish"],
        ["sessions", "--since", "99999999999h"],  # before the year 1
        ["sessions", "--until", "2024-01-01T00:00:00+25:00"],  # no such offset
        ["sessions", "--config", str(FIXTURES / "bad" / "inputs" / "core.bin")],  # not text
        ["nosuchcommand"],
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = cli(*args)
    assert r.code == 2, r
    assert r.out == ""
    assert "Traceback" not in r.err and "internal error" not in r.err, r.err
    assert "gascorr:" in r.err or "Usage:" in r.err or "Error" in r.err


def test_missing_path_is_an_input_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--session", "x", str(tmp_path / "nope"))
    assert r.code == 2
    assert r.err.strip() == f"gascorr: no such file or directory: {tmp_path / 'nope'}"


def test_grep_behaves_like_grep(cli) -> None:  # type: ignore[no-untyped-def]
    hit = cli("grep", "Insufficient funds", CHECKOUT)
    assert hit.code == 0
    (event,) = hit.json()
    assert (event["service"], event["resolved_session"], event["resolved_request"]) == (
        "payment-service",
        "session-xyz",
        "req-002",
    )
    assert cli("grep", "no such text anywhere", CHECKOUT).code == 1
    assert cli("grep", "-c", "payment", CHECKOUT).out.strip() == "4"
    assert cli("grep", "-i", "-c", "PAYMENT", CHECKOUT).out.strip() == "5"
    assert cli("grep", "-E", "-c", r"^(Calling|Authorizing) ", CHECKOUT).out.strip() == "3"
    assert cli("grep", "-l", "req-101", CHECKOUT).out.split() == [f"{CHECKOUT}/api-server.log"]
    assert cli("grep", "--field", "url", "-c", "/api/cart", CHECKOUT).out.strip() == "1"
    assert cli("grep", "--field", "decline_code", "-c", "insufficient_funds", CHECKOUT).out.strip() == "1"
    bad = cli("grep", "-E", "(unclosed", CHECKOUT)
    assert bad.code == 2 and "invalid regular expression" in bad.err


def test_grep_with_paths_searches_only_those_files(cli) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(FIXTURES / "cycling-ai"))
    assert cli("grep", "-c", "LLM", str(FIXTURES / "cycling-ai")).out.strip() != "0"
    assert cli("grep", "LLM", CHECKOUT).code == 1  # cycling-ai is in the store, but not asked about


def test_filters_since_until_include_level(cli) -> None:  # type: ignore[no-untyped-def]
    def msgs(*extra: str) -> list[str]:
        r = cli("trace", "--session", "session-xyz", CHECKOUT, "-f", "json", *extra)
        return [e["message"] for e in r.json()["events"]] if r.code == 0 else []

    everything = msgs()
    assert len(everything) == 17
    late = msgs("--since", "2026-01-31T10:00:45.160Z")
    assert late[0] == "Reserving items" and len(late) == 6
    assert msgs("--until", "2026-01-31T10:00:00.130Z")[-2:] == [
        "GET http://localhost:8080/api/cart 200 OK",
        "GET /api/cart (request_id: req-001, session_id: session-xyz)",
    ]
    assert msgs("--level", "error") == [
        "POST http://localhost:8080/api/payments 402 Payment Required",
        "Insufficient funds",
    ]
    network = msgs("--include", "network")
    assert len(network) == 3 and all(m.startswith(("GET", "POST")) for m in network)
    assert msgs("--include", "pages", "--include", "network")[0] == "Page load: http://localhost:8080/checkout"
    # a relative --since far in the past keeps everything; now-ish keeps nothing
    assert len(msgs("--since", "5000d")) == 17
    assert msgs("--level", "warning") == msgs("--level", "WARN") and len(msgs("--level", "warn")) == 4
    assert msgs("--level", "critical") == msgs("--level", "fatal") == []
    gone = cli("trace", "--session", "session-xyz", "--since", "1m", "--level", "info")
    assert gone.code == 1  # the session is there; the filters leave none of it, and say so
    assert "none of the 17 events of session 'session-xyz' pass --since, --level" in gone.err


def test_sessions_and_requests_filters(cli) -> None:  # type: ignore[no-untyped-def]
    rows = cli("sessions", CHECKOUT).json()
    assert [r["session_id"] for r in rows] == ["session-xyz", "session-abc"]
    assert cli("sessions", "--status", "ok").json()[0]["session_id"] == "session-abc"
    assert cli("sessions", "--service", "frontend").json()[0]["session_id"] == "session-xyz"
    assert cli("sessions", "--service", "nobody").code == 1
    assert [r["request_id"] for r in cli("requests", "--slowest", "1").json()] == ["req-101"]
    assert [r["request_id"] for r in cli("requests", "--status", "4xx").json()] == ["req-002"]
    assert [r["request_id"] for r in cli("requests", "--session", "session-xyz").json()] == ["req-001", "req-002"]
    ep = cli("requests", "--by", "endpoint").json()
    assert {(e["method"], e["endpoint"]) for e in ep} == {("GET", "/api/cart"), ("POST", "/api/payments")}


def test_ndjson_streams_one_event_per_line(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("trace", "--request", "req-002", CHECKOUT, "-f", "ndjson")
    events = r.ndjson()
    assert len(events) == 10 == len(r.out.splitlines())
    assert events[0]["kind"] == "http"


def test_sql_runs_over_the_views_and_reports_bad_sql(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(
        "sql",
        "SELECT resolved_request, count(*) AS n FROM events WHERE resolved_session = 'session-xyz' "
        "GROUP BY ALL ORDER BY 1 NULLS FIRST",
        CHECKOUT,
    )
    assert r.json() == [
        {"resolved_request": None, "n": 2},
        {"resolved_request": "req-001", "n": 5},
        {"resolved_request": "req-002", "n": 10},
    ]
    bad = cli("sql", "SELEKT 1")
    assert bad.code == 2 and "gascorr:" in bad.err and "Traceback" not in bad.err
    assert cli("sql", "SELECT * FROM events WHERE false").code == 1


def test_sql_table_shows_values_whole(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(
        "sql",
        "SELECT url, ts, duration_ms, 123456 AS n, 0.1234567 AS f, resolved_request FROM events "
        "WHERE format = 'har' AND status = 402",
        CHECKOUT,
        "-f",
        "table",
        "--width",
        "300",
    )
    assert r.code == 0, r.err
    head, row = r.out.splitlines()[:2]
    assert head.split() == ["url", "ts", "duration_ms", "n", "f", "resolved_request"]
    assert row.split() == [
        "http://localhost:8080/api/payments",
        "2026-01-31T10:00:45.050Z",
        "250.0",
        "123456",
        "0.1234567",
        "req-002",
    ]


def test_store_env_var_and_flag(tmp_path: Path) -> None:
    store = tmp_path / "envstore"
    r = run_cli("ingest", CHECKOUT, env={"GASCORR_STORE": str(store)})
    assert r.code == 0 and (store / "manifest.json").exists()


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    cmd = (
        f"{sys.executable} -m gascorr trace --session session-xyz {CHECKOUT} --store {tmp_path / 's'} "
        "-f ndjson | head -1"
    )
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["kind"] == "page"
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr


def test_the_process_exits_with_its_status_and_every_byte_written(tmp_path: Path) -> None:
    """The entry point leaves without Python's teardown (`cli._leave`): what it printed to
    a file or stderr must all be there, with the status `run` gave, and ingest's worker
    processes must not outlive it."""
    store = tmp_path / "s"
    out = tmp_path / "out.json"
    gascorr = [sys.executable, "-m", "gascorr"]
    with out.open("w") as f:  # a file, not a pipe: block-buffered, flushed only at the end
        p = subprocess.run(
            [*gascorr, "trace", "--request", "req-002", CHECKOUT, "--store", str(store), "-f", "json"],
            stdout=f,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert doc["request_id"] == "req-002" and doc["event_count"] == len(doc["events"]) > 3
    assert "ingested" in p.stderr  # the summary on stderr reached its reader too
    p = subprocess.run(
        [*gascorr, "trace", "--session", "nobody", "--store", str(store)], capture_output=True, text=True
    )
    assert (p.returncode, p.stdout) == (1, "") and "no events for session 'nobody'" in p.stderr
    # an ingest in worker processes: a worker left running would hold stderr open, and
    # this would wait for it until the timeout
    code = (
        "import sys; from gascorr import cli, ingest; ingest.PROCESS_MIN_BYTES = 0; "
        f"cli.main(['ingest', {str(FIXTURES / 'checkout')!r}, {str(FIXTURES / 'traceforge')!r}, "
        f"'--store', {str(tmp_path / 'w')!r}])"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "events" in p.stderr and "Traceback" not in p.stderr
    assert (tmp_path / "w" / "manifest.json").exists()


def test_a_store_that_is_not_there_is_an_error_not_an_empty_answer(tmp_path: Path) -> None:
    """A mistyped --store must not look like "no sessions": without PATHs to ingest, a store
    that does not exist, or a --store naming a file, is a usage error with the way out."""
    typo = tmp_path / "stroe"
    for cmd in (["sessions"], ["stats"], ["trace", "--session", "session-xyz"], ["sql", "SELECT 1"]):
        r = run_cli(*cmd, "--store", str(typo))
        assert (r.code, r.out) == (2, ""), cmd
        assert (
            r.err
            == f"gascorr: there is no store in {typo}: ingest logs first (gascorr ingest PATH... --store {typo})\n"
        )
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x\n")
    for cmd in (["ingest", CHECKOUT], ["sessions"]):
        r = run_cli(*cmd, "--store", str(a_file))
        assert (
            r.code == 2 and r.err == f"gascorr: the store {a_file} is not a directory: name a directory with --store\n"
        )
    # with PATHs the store is made on the way
    assert run_cli("sessions", CHECKOUT, "--store", str(typo), "-f", "json").code == 0


def _strict(text: str) -> object:
    """JSON as a strict parser (jq, JavaScript) reads it: NaN and Infinity are errors."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_nan_and_infinity_in_logs_are_written_as_null(tmp_path: Path) -> None:
    log = tmp_path / "n.jsonl"
    log.write_text(
        '{"ts": "2026-02-01T10:00:00Z", "msg": "x", "session_id": "N1", "v": NaN, "w": -Infinity, "s": "NaN"}\n'
        '{"ts": "2026-02-01T10:00:01Z", "msg": "y", "session_id": "N1", "deep": {"a": [1, Infinity]}}\n'
    )
    st = str(tmp_path / "store")
    doc = run_cli("trace", "--session", "N1", str(log), "--store", st, "-f", "json")
    assert doc.code == 0, doc.err
    events = _strict(doc.out)["events"]  # type: ignore[index]
    assert events[0]["attrs"]["v"] is None and events[0]["attrs"]["w"] is None
    assert events[0]["attrs"]["s"] == "NaN"  # a string is only text
    assert events[1]["attrs"]["deep"] == {"a": [1, None]}
    lines = run_cli("trace", "--session", "N1", "--store", st, "-f", "ndjson").out.splitlines()
    assert [_strict(line)["line"] for line in lines] == [1, 2]  # type: ignore[index]
    r = run_cli("sql", "SELECT 'nan'::DOUBLE AS x, ['inf'::DOUBLE, 2.0] AS y", "--store", st, "-f", "json")
    assert _strict(r.out) == [{"x": None, "y": [None, 2.0]}]


def test_a_duration_counts_a_calls_time_once(tmp_path: Path) -> None:
    """A HAR entry is stamped when it began, so its time counts after it; a log line that
    reports how long something took is written when it ended, so it does not."""
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2026-02-01T10:00:00.000Z",
                    "time": 300,
                    "request": {
                        "method": "GET",
                        "url": "http://x/a",
                        "headers": [{"name": "X-Session-Id", "value": "D1"}],
                    },
                    "response": {"status": 200, "headers": []},
                }
            ],
        }
    }
    (tmp_path / "b.har").write_text(json.dumps(har))
    (tmp_path / "svc.jsonl").write_text(
        '{"time": "2026-02-01T10:00:02.000Z", "msg": "job done", "session_id": "D1", "duration_ms": 1500}\n'
    )
    st = str(tmp_path / "store")
    doc = run_cli("trace", "--session", "D1", str(tmp_path), "--store", st, "-f", "json").json()
    assert doc["duration_ms"] == 2000.0  # to the log line's time, not 1.5 s past it
    rows = run_cli("sessions", "--store", st, "-f", "json").json()
    assert [r["duration_ms"] for r in rows] == [2000.0]
    (tmp_path / "svc.jsonl").unlink()
    st2 = str(tmp_path / "store2")
    alone = run_cli("trace", "--session", "D1", str(tmp_path), "--store", st2, "-f", "json").json()
    assert alone["duration_ms"] == 300.0  # the HTTP call's own time
    assert run_cli("sessions", "--store", st2, "-f", "json").json()[0]["duration_ms"] == 300.0

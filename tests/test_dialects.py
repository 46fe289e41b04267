"""Text dialects: each layout in `fixtures/dialects/` is detected and read field by field.

Every fixture is a few lines written for this test. The table below says, per file, the
dialect detection must pick and what chosen events must hold (time in UTC, level, service,
message, ids, HTTP fields). Files whose times have no year are read with a fixed mtime, so
the year the parser infers is known.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from gascorr.engine import connect
from gascorr.parsers import ParseContext, parse, text
from gascorr.sources import HEAD_BYTES, find_sources, sniff

DIALECTS = FIXTURES / "dialects"
# the mtime given to fixtures whose times have no year (or no date): 2024-03-08 06:00 UTC
MTIME = datetime(2024, 3, 8, 6, 0, tzinfo=UTC).timestamp()


def parse_file(
    path: str | Path, mtime: float | None = None, **ctx_args: Any
) -> tuple[ParseContext, list[dict[str, Any]]]:
    """(context, events as dicts) of one file, parsed the way ingest does it."""
    [src] = find_sources([str(path)])
    if mtime is not None:
        src.mtime = mtime
    with src.open() as f:
        kind = sniff(f.read(HEAD_BYTES))
    ctx = ParseContext(con=connect(threads=1), **ctx_args)
    rows = [r for t in parse(src, kind, ctx) for r in t.to_pylist()]
    ctx.con.close()
    return ctx, sorted(rows, key=lambda r: r["line"])


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None


def check(row: dict[str, Any], want: dict[str, Any]) -> None:
    """`row` holds every field of `want`; `ts` compares as ISO-8601 UTC, `message` may be
    given as a prefix ending in '…'."""
    for k, v in want.items():
        got = iso(row["ts"]) if k == "ts" else row[k]
        if k == "message" and isinstance(v, str) and v.endswith("…"):
            assert got is not None and got.startswith(v[:-1]), (k, got, v)
        else:
            assert got == v, (k, got, v, row)


# file -> (dialect, {event line: expected fields})
CASES: dict[str, tuple[str, dict[int, dict[str, Any]]]] = {
    "python-logging.log": (
        "python-logging",
        {
            1: {"ts": "2024-03-05T09:15:02.117000Z", "level": "INFO", "service": "python-logging"},
            2: {
                "level": "ERROR",
                "request_id": "req-7f3a",
                "session_id": "sess-42",
                "message": "Payment failed (request_id: req-7f3a, session_id: sess-42)\nTraceback (most recent call last):\n"
                '  File "/srv/shop/api.py", line 88, in pay\n    charge(card)\nValueError: card declined',
            },
            8: {"level": "WARN", "message": "Retrying in 2s"},
        },
    ),
    "python-basic.log": (
        "python-logging",
        {1: {"ts": None, "level": "INFO", "message": "Worker started with 4 threads"}, 3: {"request_id": "req-99"}},
    ),
    "session-prefix.log": (
        "session-prefix",
        {1: {"session_id": "sess-2041", "level": "INFO"}, 3: {"session_id": None, "message": "Session not yet named"}},
    ),
    "session-prefix-short.log": (
        "session-prefix-short",
        {
            1: {"session_id": "sess-77", "level": "INFO", "ts": None},
            2: {"message": "Tool call failed\n  retrying once"},
        },
    ),
    "log4j.log": (
        "log4j",
        {
            1: {"ts": "2024-02-10T08:30:00.001000Z", "level": "INFO", "message": "Starting billing service v2.3"},
            2: {
                "level": "ERROR",
                "message": "Could not render invoice 881\njava.lang.IllegalStateException: template missing…",
            },
            8: {"level": "WARN"},
        },
    ),
    "log4j-thread-first.log": ("log4j", {2: {"level": "ERROR", "request_id": "corr-55"}}),
    "spring-boot.log": (
        "spring-boot",
        {2: {"level": "WARN", "request_id": "ord-1", "ts": "2024-06-01T12:00:09.877000Z"}},
    ),
    "logback.log": ("logback", {1: {"ts": "2024-03-07T23:59:58.100000Z", "level": "INFO"}}),
    "zookeeper.log": (
        "zookeeper",
        {2: {"level": "WARN", "session_id": "0x15a7f3c2e9d0001"}, 3: {"session_id": "0x15a7f3c2e9d0001"}},
    ),
    "spark.log": ("spark", {2: {"ts": "2024-01-20T14:05:03Z", "level": "WARN"}}),
    "hdfs.log": ("hdfs", {1: {"ts": "2024-01-20T14:05:01Z", "request_id": "blk_-1608999687919862906"}}),
    "elasticsearch.log": ("elasticsearch", {2: {"level": "WARN", "message": "high disk watermark exceeded"}}),
    "openstack.log": (
        "openstack",
        {
            1: {
                "kind": "http",
                "method": "GET",
                "url": "/v2.1/servers",
                "status": 200,
                "request_id": "req-11111111-2222-4333-8444-555555555555",
            },
            2: {"kind": "log", "request_id": "req-11111111-2222-4333-8444-555555555555"},
            3: {"level": "WARN", "request_id": None},
        },
    ),
    "mysql.log": ("mysql", {1: {"level": "INFO"}, 2: {"level": "WARN"}, 3: {"level": "ERROR"}}),
    "postgres.log": (
        "postgres",
        {2: {"level": "ERROR"}, 4: {"level": "FATAL", "ts": "2024-03-04T15:05:12Z"}},
    ),
    "redis.log": ("redis", {2: {"level": "WARN", "ts": "2024-03-02T06:00:00.120000Z"}}),
    "syslog-rfc3164.log": (
        "syslog",
        {
            1: {"ts": "2023-12-31T23:59:58Z", "service": "sshd"},  # December before a March mtime: last year
            2: {"ts": "2024-01-01T00:00:03Z", "service": "CRON"},
            3: {"service": "kernel", "message": "[12345.678] eth0: link up"},
        },
    ),
    "syslog-rfc5424.log": (
        "syslog",
        {
            1: {"ts": "2024-03-06T10:00:00.001000Z", "level": "INFO", "service": "billing"},
            2: {"ts": "2024-03-06T09:00:01.500000Z", "level": "ERROR", "message": "Charge failed\n  card expired"},
        },
    ),
    "haproxy.log": (
        "haproxy",
        {
            1: {"kind": "log", "ts": "2024-03-06T10:00:00Z"},
            2: {"kind": "http", "method": "GET", "url": "/cart", "status": 200, "duration_ms": 45.0, "level": "INFO"},
            3: {"status": 503, "level": "ERROR"},
        },
    ),
    "bgl.log": ("bgl", {1: {"ts": "2024-02-29T10:00:00Z", "level": "INFO"}, 2: {"level": "FATAL"}}),
    "thunderbird.log": ("thunderbird", {2: {"ts": "2024-02-29T10:00:05Z", "service": "sshd"}}),
    "hpc.log": ("hpc", {2: {"ts": "2024-02-29T10:01:40Z", "message": "running"}}),
    "healthapp.log": ("healthapp", {1: {"ts": "2024-02-29T10:00:00.500000Z"}}),
    "proxifier.log": ("proxifier", {1: {"ts": "2023-12-31T23:59:00Z"}}),
    "windows-cbs.log": ("windows-cbs", {2: {"level": "ERROR"}}),
    "logcat.log": (
        "logcat",
        {
            2: {"ts": "2024-03-07T12:00:00.100000Z", "level": "INFO"},
            3: {"level": "ERROR", "message": "FATAL EXCEPTION: main"},
            4: {"level": "WARN"},
            5: {"ts": "2024-03-07T11:00:03Z", "level": "DEBUG"},
        },
    ),
    "glog.log": ("glog", {4: {"ts": "2024-03-07T12:00:00.000100Z", "level": "INFO"}, 5: {"level": "ERROR"}}),
    "vdsm.log": ("vdsm", {2: {"level": "ERROR", "message": "Unexpected error\nTraceback (most recent call last):…"}}),
    "ruby-logger.log": ("ruby-logger", {2: {"level": "ERROR"}}),
    "laravel.log": (
        "laravel",
        {1: {"level": "INFO", "request_id": "lrv-001", "message": "User logged in"}, 2: {"level": "ERROR"}},
    ),
    "gunicorn.log": ("gunicorn", {2: {"level": "ERROR"}}),
    "celery.log": ("celery", {2: {"level": "ERROR", "ts": "2024-03-07T12:00:03.500000Z"}}),
    "apache-error.log": (
        "apache-error",
        {1: {"level": "INFO"}, 2: {"level": "ERROR", "ts": "2024-03-07T12:00:05.123456Z"}},
    ),
    "nginx-error.log": ("nginx-error", {2: {"level": "ERROR"}}),
    "access.log": (
        "clf",
        {
            1: {"ts": "2024-03-07T11:00:00Z", "kind": "http", "method": "GET", "status": 200, "level": "INFO"},
            2: {"status": 503, "level": "ERROR", "url": "/api/orders"},
            3: {"status": 404, "level": "WARN"},
            4: {"ts": None, "kind": "log"},  # not a request line: its own event, nothing lost
        },
    ),
    "jira-access.log": ("jira-access", {2: {"status": 500, "duration_ms": 2210.0, "level": "ERROR"}}),
    "bitbucket-access.log": (
        "bitbucket-access",
        {
            1: {"request_id": "i@1AB2CDx720x9x0", "trace_id": "1AB2CDx720x9x0"},
            2: {"request_id": "o@1AB2CDx720x9x0", "session_id": "xy12ab", "status": 200, "duration_ms": 80.0},
        },
    ),
    "aws-elb.log": (
        "aws-elb",
        {1: {"status": 200, "duration_ms": 121.0, "method": "GET"}, 2: {"status": 502, "level": "ERROR"}},
    ),
    "uwsgi.log": ("uwsgi", {1: {"duration_ms": 12.0, "status": 200}, 2: {"duration_ms": 0.9, "level": "ERROR"}}),
    "zap-console.log": (
        "zap-console",
        {
            1: {"request_id": "zap-1", "level": "INFO", "message": "server started"},
            2: {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "message": "charge failed\nmain.(*Handler).Pay…"},
        },
    ),
    "caddy.log": (
        "zap-console",
        {
            1: {"ts": "2024-03-07T12:00:00Z", "kind": "http", "method": "GET", "url": "/shop", "status": 502},
            2: {"level": "WARN", "message": "certificate expires soon"},
        },
    ),
    "structlog-console.log": (
        "structlog-console",
        {1: {"request_id": "sl-1", "message": "order placed"}, 2: {"request_id": "sl-2", "level": "ERROR"}},
    ),
    "logfmt.log": (
        "logfmt",
        {
            1: {"service": "catalog", "level": "INFO", "message": "server started"},
            2: {
                "request_id": "lf-9",
                "trace_id": "0af7651916cd43dd8448eb211c80319c",
                "message": "query failed\n  goroutine 12 [running]:",
            },
            4: {"level": "WARN", "ts": "2024-03-07T12:00:02Z"},
        },
    ),
    "timestamp.log": (
        "timestamp",
        {2: {"level": "ERROR", "message": "batch failed\n  at step 3"}, 4: {"ts": "2024-03-07T12:00:06Z"}},
    ),
    "conn.log": (
        "zeek",
        {8: {"ts": "2024-03-07T12:00:00.123456Z", "session_id": "Cz1a2b3c4d5e6f7g8", "service": "conn"}},
    ),
    "http.log": (
        "zeek",
        {
            4: {"kind": "http", "method": "GET", "url": "/", "status": 200, "session_id": "Cz1a2b3c4d5e6f7g8"},
            5: {"status": 404, "level": "WARN"},
        },
    ),
    "iis.log": (
        "w3c",
        {
            5: {"ts": "2024-03-07T12:00:00Z", "method": "GET", "url": "/default.aspx", "session_id": "ASP-7d1c"},
            6: {"status": 500, "duration_ms": 940.0, "level": "ERROR"},
        },
    ),
    "docker-compose.log": (
        "docker-compose+json+python-logging",
        {
            1: {"service": "api", "level": "INFO", "message": "ready"},
            2: {"service": "worker", "level": "ERROR", "request_id": "dc-1", "ts": "2024-03-07T12:00:01.500000Z"},
            # the traceback lines further down belong to api's event, not to worker's
            3: {"message": "crashed\nTraceback (most recent call last):\nZeroDivisionError: division by zero"},
        },
    ),
    "cri.log": (
        "cri+clf",
        {
            1: {"ts": "2024-03-07T12:00:00Z"},
            2: {"message": "partial line one, continued and done"},  # a `P` line joined to its stream's next
            3: {"ts": "2024-03-07T12:00:01.500000Z", "status": 200, "kind": "http"},
        },
    ),
    "plain.txt": ("plain", {1: {"ts": None, "level": None, "message": "Nothing in here looks like a log line."}}),
    "crlf-python-logging.log": ("python-logging", {2: {"message": "closed\n  details", "level": "ERROR"}}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dialect_fixture(name: str) -> None:
    dialect, want = CASES[name]
    ctx, rows = parse_file(DIALECTS / name, mtime=MTIME)
    assert ctx.dialect == dialect
    by_line = {r["line"]: r for r in rows}
    for line, fields in want.items():
        assert line in by_line, (line, sorted(by_line))
        check(by_line[line], fields)
    # nothing is lost: the events' spans and the blank lines before the first add up
    assert_accounted(ctx, rows)
    assert all(r["format"] == "text" for r in rows)


def assert_accounted(ctx: ParseContext, rows: list[dict[str, Any]]) -> None:
    """Every line is in one event's span (its line up to the next event's) or counted."""
    lines = sorted(r["line"] for r in rows)
    assert len(set(lines)) == len(lines), "two events start on one line"
    spans = [b - a for a, b in zip(lines, [*lines[1:], ctx.lines + 1], strict=True)]
    assert all(s >= 1 for s in spans)
    assert sum(spans) + ctx.blank + ctx.rejected == ctx.lines


def test_every_fixture_has_a_case() -> None:
    texts = {p.name for p in DIALECTS.iterdir() if sniff(p.read_bytes()[:HEAD_BYTES]) == "text"}
    assert texts <= set(CASES), texts - set(CASES)


def test_every_dialect_has_a_fixture() -> None:
    covered = {CASES[n][0] for n in CASES}
    names = {d.name for d in text.DIALECTS} | {p.name for p in text.PREFIXES}
    covered |= {part for c in covered for part in c.split("+")}
    assert names <= covered, names - covered


# -- the regexes themselves ------------------------------------------------------------------


@pytest.mark.parametrize("d", [*text.DIALECTS, text.PLAIN], ids=lambda d: d.name)
def test_regex_runs_in_both_engines(d: text.Dialect) -> None:
    rx = re.compile(d.regex)
    assert rx.groups == len(rx.groupindex), "every group is named (RE2 struct extraction is positional)"
    assert d.lead in rx.groupindex
    con = connect(threads=1)
    names = "[" + ", ".join(f"'{g}'" for g in d.groups) + "]"
    con.execute(f"SELECT regexp_extract('x', ?, {names})", [d.regex]).fetchall()
    if d.comment:
        re.compile(d.comment)
        con.execute("SELECT regexp_matches('x', ?)", [d.comment]).fetchall()


@pytest.mark.parametrize("d", [d for d in text.DIALECTS if d.head_regex], ids=lambda d: d.name)
def test_head_regex_reads_lines_as_the_whole_regex_does(d: text.Dialect) -> None:
    """A dialect `^HEAD(?P<message>.*)$` is read as `^(HEAD)` and the rest of the line: on
    every line of the dialect fixtures (and lines made to trip it up), DuckDB's regex engine
    gives the same groups and message both ways."""
    lines = [
        line for p in sorted(DIALECTS.iterdir()) for line in p.read_bytes().decode("utf-8", "replace").splitlines()
    ]
    lines += [
        "",
        " ",
        "\t- - -",
        "2024-03-07 12:00:00,123 - app - INFO - ünïcödé · message  ",
        "2024-03-07 12:00:00,123 - INFO - no logger - here",
        "2024-03-07T12:00:00.5Z:ERROR:app.db:failed: twice",
        "WARNING 2024-03-07 12:00:00 - disk at 91%",
        "INFO:x:\r",
    ]
    con = connect(threads=1)
    con.execute("CREATE TABLE l AS SELECT unnest(?::VARCHAR[]) AS line", [lines])
    names = "[" + ", ".join(f"'{g}'" for g in d.groups) + "]"
    head_names = "['gc_head', " + ", ".join(f"'{g}'" for g in d.groups[:-1]) + "]"
    rest = [g for g in d.groups if g != "message"]
    differ = con.execute(
        f"""SELECT line FROM (
              SELECT line, regexp_extract(line, $whole, {names}) AS w, regexp_extract(line, $head, {head_names}) AS h
              FROM l)
            WHERE {" OR ".join(f"w.{g} IS DISTINCT FROM h.{g}" for g in rest) or "false"}
               OR w.message IS DISTINCT FROM CASE WHEN h.gc_head <> '' THEN substr(line, length(h.gc_head) + 1) ELSE '' END""",
        {"whole": d.regex, "head": d.head_regex},
    ).fetchall()
    assert differ == []
    matched = con.execute("SELECT count(*) FROM l WHERE regexp_matches(line, ?)", [d.regex]).fetchone()
    assert matched and matched[0] > 0, "no line of the fixtures is in this layout"


@pytest.mark.parametrize("p", text.PREFIXES, ids=lambda p: p.name)
def test_prefix_regex_runs_in_both_engines(p: text.Prefix) -> None:
    rx = re.compile(p.regex)
    assert rx.groups == len(rx.groupindex) and "rest" in rx.groupindex
    names = "[" + ", ".join(f"'{g}'" for g in p.groups) + "]"
    connect(threads=1).execute(f"SELECT regexp_extract('x', ?, {names})", [p.regex]).fetchall()


def test_first_group_starts_events() -> None:
    for d in text.DIALECTS:
        if not d.start:
            assert d.lead == d.groups[0], d.name


# -- detection -----------------------------------------------------------------------------------


def test_detect_prefers_specific_over_generic() -> None:
    lines = [f"2024-03-07 05:00:0{i}, Info                  CBS    step {i}" for i in range(5)]
    assert text.detect(lines).name == "windows-cbs"


def test_detect_falls_back_to_plain_for_prose() -> None:
    lines = ["Dear reader,", "this is a letter.", "2024-01-01 it mentions a date once", *["more prose"] * 30]
    assert text.detect(lines).name == "plain"


def test_detect_keeps_a_dialect_with_long_stack_traces() -> None:
    head = "2024-02-10 08:30:05,412 ERROR [main] com.acme.App: failed"
    lines = [head] + ["\tat com.acme.Frame.call(Frame.java:1)"] * 40
    assert text.detect(lines * 3).name == "log4j"


def test_dialect_hint_overrides_detection(tmp_path: Path) -> None:
    p = tmp_path / "x.log"
    p.write_text("2024-03-07T12:00:00Z hello\n")
    ctx, rows = parse_file(p, dialect_hint="plain")
    assert ctx.dialect == "plain" and rows[0]["ts"] is None


# -- times without a year or date ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mtime", "line", "want"),
    [
        ("2024-03-08T06:00:00", "Mar  8 05:00:00 h p: x", "2024-03-08T05:00:00Z"),
        ("2024-03-08T06:00:00", "Mar  9 05:00:00 h p: x", "2024-03-09T05:00:00Z"),  # within a day of the mtime
        ("2024-03-08T06:00:00", "Mar 10 05:00:00 h p: x", "2023-03-10T05:00:00Z"),  # beyond it: last year
        ("2025-01-02T00:00:00", "Dec 31 23:00:00 h p: x", "2024-12-31T23:00:00Z"),
    ],
)
def test_year_is_inferred_from_the_mtime(tmp_path: Path, mtime: str, line: str, want: str) -> None:
    p = tmp_path / "s.log"
    p.write_text(line + "\n")
    ts = datetime.fromisoformat(mtime).replace(tzinfo=UTC).timestamp()
    ctx, rows = parse_file(p, mtime=ts)
    assert ctx.dialect == "syslog"
    assert iso(rows[0]["ts"]) == want


def test_times_without_offset_read_in_tz(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text("2024-03-07 12:00:00,000 - a - INFO - x\n")
    _, rows = parse_file(p, tz="Europe/Paris")
    # the connection's TimeZone decides; the parser context alone does not change it
    assert rows[0]["ts"] is not None


# -- chunks, encodings, line accounting ----------------------------------------------------------------


def test_continuations_survive_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gascorr import parsers

    body = []
    for i in range(60):
        body.append(f"2024-02-10 08:30:{i:02d},000 ERROR [main] com.acme.App: failure {i}")
        body += [f"\tat com.acme.F{j}.call(F.java:{j})" for j in range(i % 4)]
    p = tmp_path / "big.log"
    p.write_text("\n".join(body) + "\n")
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 700)
    ctx, rows = parse_file(p)
    assert len(rows) == 60
    for i, r in enumerate(rows):
        assert r["message"].count("\n") == i % 4, r
    assert_accounted(ctx, rows)


def test_compose_continuations_survive_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gascorr import parsers

    body = []
    for i in range(40):
        body.append(f"api-1     | 2024-03-07 12:00:{i:02d},000 - api - ERROR - fail {i}")
        body.append(f"db-1      | 2024-03-07T12:00:{i:02d}.000Z 0 [Note] [MY-000001] [Server] tick {i}")
        body.append(f"api-1     |   detail of {i}")
    p = tmp_path / "compose.log"
    p.write_text("\n".join(body) + "\n")
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 500)
    _, rows = parse_file(p)
    api = [r for r in rows if r["service"] == "api"]
    assert len(api) == 40 and all(r["message"].endswith(f"detail of {i}") for i, r in enumerate(api))
    assert len([r for r in rows if r["service"] == "db"]) == 40


def test_leading_blank_and_header_lines_are_counted(tmp_path: Path) -> None:
    p = tmp_path / "g.log"
    p.write_text("\n\nLog file created at: 2024/03/07 12:00:00\nI0307 12:00:00.000001  1 a.cc:1] hi\n\n")
    ctx, rows = parse_file(p, mtime=MTIME)
    assert ctx.dialect == "glog" and len(rows) == 1
    assert ctx.blank == 3 and ctx.lines == 5
    assert_accounted(ctx, rows)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "e.log"
    p.write_text("")
    ctx, rows = parse_file(p)
    assert rows == [] and ctx.lines == 0


def test_missing_final_newline_and_bom(tmp_path: Path) -> None:
    p = tmp_path / "b.log"
    p.write_bytes(
        b"\xef\xbb\xbf2024-03-07 12:00:00,000 - a - INFO - one\r\n2024-03-07 12:00:01,000 - a - WARNING - two"
    )
    ctx, rows = parse_file(p)
    assert [r["message"] for r in rows] == ["one", "two"] and ctx.dialect == "python-logging"


# -- through the CLI ---------------------------------------------------------------------------------


def test_trace_request_across_services_via_cli(cli: Any, tmp_path: Path) -> None:
    shutil.copy(DIALECTS / "openstack.log", tmp_path / "nova.log")
    r = cli("trace", "--request", "req-11111111-2222-4333-8444-555555555555", str(tmp_path), "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert [e["line"] for e in doc["events"]] == [1, 2]


def test_stats_names_each_files_dialect(cli: Any) -> None:
    r = cli("stats", str(DIALECTS), "--format", "json")
    assert r.code == 0, r.err
    got = {os.path.basename(f["source"]): f["dialect"] for f in r.json()["per_file"]}
    for name, (dialect, _) in CASES.items():
        assert got[name] == dialect, name


def test_ids_in_messages_may_be_quoted(tmp_path: Path) -> None:
    """`request_id="x"`, `session_id='x'` and JSON text (`"request_id": "x"`) inside a free
    text message carry ids as well as `request_id=x` and `request_id: x` do."""
    log = tmp_path / "app.log"
    log.write_text(
        "2026-01-31 10:00:00,001 - api - ERROR - payment failed request_id=\"req-77\" session_id='sess-77'\n"
        '2026-01-31 10:00:01,001 - api - INFO - body {"request_id": "req-78", '
        '"trace_id": "0af7651916cd43dd8448eb211c80319c"}\n'
        "2026-01-31 10:00:02,001 - api - INFO - done (request_id: req-79, session_id: sess-79)\n"
    )
    _, rows = parse_file(log)
    assert [(r["session_id"], r["request_id"], r["trace_id"]) for r in rows] == [
        ("sess-77", "req-77", None),
        (None, "req-78", "0af7651916cd43dd8448eb211c80319c"),
        ("sess-79", "req-79", None),
    ]

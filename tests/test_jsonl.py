"""JSON lines of any schema: each producer family in `fixtures/dialects/`, and the projection's
rules (aliases, ids at any depth, epoch units, level numbers) on records made up here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_dialects import DIALECTS, check, parse_file

from gascorr.engine import connect
from gascorr.ids import DEFAULT
from gascorr.parsers.fields import Projection, Shape
from gascorr.parsers.jsonl import family

# file -> (family, {line: expected fields})
CASES: dict[str, tuple[str, dict[int, dict[str, Any]]]] = {
    "docker-json.log": (
        "docker-json",
        {
            # the record's `time` wins over the time inside the text
            1: {
                "ts": "2024-03-07T12:00:00.100100Z",
                "level": "INFO",
                "message": "boot",
                "dialect": "docker-json+python-logging",
            },
            2: {"level": "ERROR", "request_id": "dk-1"},
        },
    ),
    "docker-json-nested.log": ("docker-json", {1: {"level": "WARN", "message": "slow query", "request_id": "dk-2"}}),
    "docker-json-access.log": ("docker-json", {1: {"kind": "http", "status": 500, "level": "ERROR", "method": "GET"}}),
    "journald.json": (
        "journald",
        {
            1: {
                "ts": "2024-03-07T12:00:00.123456Z",
                "level": "ERROR",
                "service": "backup",
                "message": "disk full",
                "session_id": "9d1f0c6e2a4b4c8e9f00112233445566",
            },
            2: {"level": "INFO", "ts": "2024-03-07T12:00:01Z"},  # _SOURCE_REALTIME_TIMESTAMP first
        },
    ),
    "serilog.clef": (
        "serilog-clef",
        {
            # no @l means Information; no @m: the template rendered from the record
            1: {"level": "INFO", "message": "Order 42 placed by ana", "request_id": "sr-1"},
            2: {
                "level": "ERROR",
                "ts": "2024-03-07T11:00:01Z",
                "message": "Payment failed\nSystem.Exception: boom\n   at Pay()",
            },
        },
    ),
    "ecs.json": (
        "ecs",
        {
            1: {
                "level": "WARN",
                "service": "catalog",
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "span_id": "00f067aa0ba902b7",
            }
        },
    ),
    "bunyan.json": ("bunyan", {1: {"level": "INFO", "service": "mailer", "request_id": "bn-1"}, 2: {"level": "ERROR"}}),
    "pino.json": (
        "pino",
        {
            1: {"ts": "2024-03-07T12:00:00Z", "level": "INFO", "request_id": "req-1", "method": "GET", "url": "/items"},
            2: {"level": "WARN", "status": 404, "duration_ms": 12.5},
            3: {"level": "FATAL", "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331"},
        },
    ),
    "zap.json": (
        "zap",
        {
            1: {"ts": "2024-03-07T12:00:00.500000Z"},
            2: {"level": "ERROR", "trace_id": "abc123", "message": "charge failed\nmain.pay\n\tpay.go:77"},
        },
    ),
    "gcp.jsonl": (
        "gcp-logging",
        {
            1: {
                "ts": "2024-03-07T12:00:00.123456Z",
                "level": "ERROR",
                "kind": "http",
                "method": "POST",
                "status": 502,
                "duration_ms": 250.0,
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "span_id": "00f067aa0ba902b7",
                "request_id": "op-9",
                "message": "boom",
            }
        },
    ),
    "cloudtrail.jsonl": (
        "cloudtrail",
        # the request id is inside the JSON string `CloudTrailEvent`
        {
            1: {
                "ts": "2024-03-07T12:00:00Z",
                "request_id": "ct-req-1",
                "service": "ec2.amazonaws.com",
                "message": "RunInstances",
            }
        },
    ),
    "nextcloud.log": (
        "nextcloud",
        {1: {"level": "ERROR", "request_id": "nc-1", "service": "files"}, 2: {"level": "INFO"}},
    ),
    "log4j2.json": (
        "log4j2-json",
        {1: {"ts": "2024-03-07T12:00:00.123457Z", "level": "WARN", "request_id": "l4-1", "session_id": "l4-s"}},
    ),
    "rust-tracing.json": ("rust-tracing", {1: {"message": "shaving yak", "level": "DEBUG", "request_id": "rt-1"}}),
    "logrus.json": (
        "logrus",
        {1: {"ts": "2024-03-07T03:00:00Z", "level": "WARN", "request_id": "lr-1", "session_id": "lr-s"}},
    ),
    "mixed.jsonl": (
        "json",
        {
            1: {"level": "INFO", "message": "json line"},
            2: {"span_id": "a1b2c3d4e5f60718"},
            3: {"level": "ERROR", "message": "logfmt line", "request_id": "mx-1", "ts": "2024-03-07T12:00:01Z"},
            9: {"message": "panic: something broke", "ts": None},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_family_fixture(name: str) -> None:
    fam, want = CASES[name]
    ctx, rows = parse_file(DIALECTS / name)
    assert ctx.dialect == fam
    by_line = {r["line"]: r for r in rows}
    for line, fields in want.items():
        check(by_line[line], fields)
    assert all(r["format"] == "jsonl" for r in rows)
    # each line is an event, blank or rejected
    assert len(rows) + ctx.blank + ctx.rejected == ctx.lines


def test_mixed_file_counts_bad_lines() -> None:
    ctx, rows = parse_file(DIALECTS / "mixed.jsonl")
    assert (len(rows), ctx.blank, ctx.rejected) == (6, 1, 2)
    assert sorted(n for n, _ in ctx.reject_locations) == [5, 6]


def test_docker_record_holding_a_traceback_keeps_its_level_and_message(tmp_path: Path) -> None:
    # the container's text is one record with newlines inside: still the inner dialect's event
    p = tmp_path / "c.log"
    head = {"log": "2024-03-07 12:00:00,100 - api - INFO - boot\n", "stream": "stdout", "time": "2024-03-07T12:00:00Z"}
    text = "2024-03-07 12:00:01,000 - api - ERROR - failed request_id=dk-1\nTraceback (most recent call last):\n"
    tb = {"log": text, "stream": "stderr", "time": "2024-03-07T12:00:01Z"}
    p.write_text(json.dumps(head) + "\n" + json.dumps(tb) + "\n")
    ctx, rows = parse_file(p)
    assert ctx.dialect == "docker-json"
    check(
        rows[1],
        {
            "level": "ERROR",
            "message": "failed request_id=dk-1\nTraceback (most recent call last):",
            "request_id": "dk-1",
            "dialect": "docker-json+python-logging",
        },
    )


# -- the projection on records made up here ------------------------------------------------------


def project(tmp_path: Path, *records: dict[str, Any]) -> list[dict[str, Any]]:
    p = tmp_path / "r.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return parse_file(p)[1]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (1709812800, "2024-03-07T12:00:00Z"),  # seconds
        (1709812800.25, "2024-03-07T12:00:00.250000Z"),
        (1709812800250, "2024-03-07T12:00:00.250000Z"),  # ms
        (1709812800250123, "2024-03-07T12:00:00.250123Z"),  # µs
        (1709812800250123000, "2024-03-07T12:00:00.250123Z"),  # ns
        ("1709812800250123", "2024-03-07T12:00:00.250123Z"),  # µs as a string (journald)
        ("2024-03-07T13:00:00+01:00", "2024-03-07T12:00:00Z"),
        ("2024-03-07 12:00:00,5", "2024-03-07T12:00:00.500000Z"),
        ("07/Mar/2024:13:00:00 +0100", "2024-03-07T12:00:00Z"),
        ("Thu, 07 Mar 2024 12:00:00 GMT", "2024-03-07T12:00:00Z"),
    ],
)
def test_epoch_units_and_layouts(tmp_path: Path, value: Any, want: str) -> None:
    [row] = project(tmp_path, {"ts": value, "msg": "m"})
    check(row, {"ts": want})


@pytest.mark.parametrize(
    ("key", "value", "want"),
    [
        ("level", 30, "INFO"),  # bunyan / pino
        ("level", 50, "ERROR"),
        ("level", 60, "FATAL"),
        ("level", 10, "TRACE"),
        ("PRIORITY", "3", "ERROR"),  # syslog severities
        ("PRIORITY", "7", "DEBUG"),
        ("severity", "WARNING", "WARN"),
        ("levelname", "CRITICAL", "FATAL"),
        ("log.level", "debug", "DEBUG"),
        ("@l", "Verbose", "TRACE"),
        ("severity_text", "Information", "INFO"),
        ("Level", "ERRO", "ERROR"),  # logrus text spelling
    ],
)
def test_level_names_and_numbers(tmp_path: Path, key: str, value: Any, want: str) -> None:
    [row] = project(tmp_path, {"time": "2024-03-07T12:00:00Z", key: value, "msg": "m"})
    assert row["level"] == want


def test_otel_severity_number(tmp_path: Path) -> None:
    [row] = project(tmp_path, {"timestamp": "2024-03-07T12:00:00Z", "severityNumber": 17, "body": "b"})
    assert row["level"] == "ERROR" and row["message"] == "b"


@pytest.mark.parametrize(
    ("record", "role", "want"),
    [
        ({"requestId": "a"}, "request_id", "a"),
        ({"RequestID": "b"}, "request_id", "b"),
        ({"X-Request-ID": "c"}, "request_id", "c"),
        ({"labels": {"request_id": "d"}}, "request_id", "d"),
        ({"payload": {"context": {"request_id": "e"}}}, "request_id", "e"),
        ({"req": {"id": "f"}}, "request_id", "f"),
        ({"contextMap": {"sessionId": "g"}}, "session_id", "g"),
        ({"attributes": {"session.id": "h"}}, "session_id", "h"),
        ({"session": {"id": "i"}}, "session_id", "i"),
        ({"trace": {"id": "ABCDEF0123456789ABCDEF0123456789"}}, "trace_id", "abcdef0123456789abcdef0123456789"),
        ({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, "span_id", "b7ad6b7169203331"),
        ({"request": {"headers": {"x-request-id": ["j"]}}}, "request_id", "j"),  # headers logged as arrays
        ({"correlation_id": "k", "operation_id": "other"}, "request_id", "k"),
        ({"requestId": "top", "ctx": {"requestId": "deep"}}, "request_id", "top"),  # shallower wins
        ({"request_id": "-"}, "request_id", None),  # placeholders are not ids
    ],
)
def test_ids_wherever_they_sit(tmp_path: Path, record: dict[str, Any], role: str, want: str | None) -> None:
    [row] = project(tmp_path, {"ts": "2024-03-07T12:00:00Z", "msg": "m", **record})
    assert row[role] == want


def test_aliases_are_case_insensitive_and_nested(tmp_path: Path) -> None:
    [row] = project(
        tmp_path,
        {"TimeStamp": "2024-03-07T12:00:00Z", "@fields": {"Lvl": "warn", "Msg": "nested"}, "service": {"name": "svc"}},
    )
    check(row, {"ts": "2024-03-07T12:00:00Z", "level": "WARN", "message": "nested", "service": "svc"})


def test_type_that_changes_between_records(tmp_path: Path) -> None:
    rows = project(
        tmp_path,
        {"ts": "2024-03-07T12:00:00Z", "msg": "a", "ctx": "plain string"},
        {"ts": "2024-03-07T12:00:01Z", "msg": "b", "ctx": {"request_id": "deep-1"}},
    )
    assert [r["request_id"] for r in rows] == [None, "deep-1"]


def test_http_record_gets_a_level_from_its_status(tmp_path: Path) -> None:
    rows = project(
        tmp_path,
        {"started_at": 1709812800000, "request": {"method": "GET", "uri": "/a"}, "response": {"status": 503}},
        {"started_at": 1709812801000, "request": {"method": "GET", "uri": "/b"}, "response": {"status": 201}},
    )
    assert [(r["kind"], r["level"], r["url"]) for r in rows] == [("http", "ERROR", "/a"), ("http", "INFO", "/b")]


def test_shape_plans_only_paths_that_occur() -> None:
    con = connect(threads=1)
    con.execute(
        """CREATE TEMP TABLE t AS SELECT * FROM (VALUES
        ('{"time": "x", "msg": "m", "payload": {"request_id": "r"}}'), ('{"time": "y", "other": 1}')) v(j)"""
    )
    plan = Projection(DEFAULT).plan(Shape.of(con, "t"))
    assert set(plan.paths) == {'$."time"', '$."msg"', '$."payload"."request_id"'}


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        ({"log": "x", "stream": "stdout", "time": "t"}, "docker-json"),
        ({"@t": "t", "@mt": "m"}, "serilog-clef"),
        ({"name": "a", "hostname": "h", "pid": 1, "level": 30, "msg": "m", "time": "t", "v": 0}, "bunyan"),
        ({"level": 30, "time": 1, "msg": "m"}, "pino"),
        ({"level": "info", "time": 1, "pid": 1, "hostname": "h", "msg": "m"}, "pino"),
        ({"level": "info", "ts": 1.5, "caller": "a.go:1", "msg": "m"}, "zap"),
        ({"level": "info", "ts": "2024", "caller": "a.go:1", "msg": "m"}, "go-kit"),
        ({"time": "t", "level": "INFO", "msg": "m"}, "slog-json"),
        ({"time": "t", "level": "info", "msg": "m"}, "logrus"),
        ({"anything": 1}, "json"),
    ],
)
def test_family(obj: dict[str, Any], want: str) -> None:
    assert family(obj) == want


# -- OpenTelemetry JSON ----------------------------------------------------------------------------


def otlp_logs(trace_id: str, body: Any = "hello") -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1709812800000000000",
                                "severityNumber": 17,
                                "body": {"stringValue": body} if isinstance(body, str) else body,
                                "traceId": trace_id,
                                "spanId": "EEE19B7EC3C1B174",
                                "attributes": [{"key": "session.id", "value": {"stringValue": "otel-s"}}],
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_otlp_document_per_line(tmp_path: Path) -> None:
    p = tmp_path / "otel.jsonl"
    p.write_text(
        json.dumps(otlp_logs("5B8EFFF798038103D269B633813FC60C"))
        + "\n"
        + json.dumps(otlp_logs("W47/95gDgQPSabYzgT/GDA==", body=None))  # base64, as protobuf's JSON mapping writes it
        + "\n"
    )
    ctx, rows = parse_file(p)
    assert ctx.lines == 2 and ctx.blank == 0
    assert [r["line"] for r in rows] == [1, 2]
    check(rows[0], {"ts": "2024-03-07T12:00:00Z", "level": "ERROR", "service": "cart", "session_id": "otel-s"})
    assert rows[0]["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert rows[0]["span_id"] == "eee19b7ec3c1b174"
    assert rows[1]["trace_id"] == "5b8efff798038103d269b633813fc60c" and rows[1]["message"] == ""


def test_otlp_whole_document_numbers_records(tmp_path: Path) -> None:
    doc = otlp_logs("0af7651916cd43dd8448eb211c80319c")
    doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"] *= 3
    p = tmp_path / "logs.json"
    p.write_text(json.dumps(doc, indent=2))
    _, rows = parse_file(p)
    assert [r["line"] for r in rows] == [1, 2, 3]

"""JSON documents of records: a `[{...}, ...]` export, an object wrapping its records
(`{"Records": [...]}`), a single pretty-printed record. Each record is read as a JSON line is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

COLS = "ts, level, kind, service, message, session_id, request_id, trace_id, span_id, method, url, status"


def _ingest(path: Path, store: Path) -> dict[str, object]:
    r = run_cli("ingest", str(path), "--store", str(store), "-q", "-f", "json")
    assert r.code == 0, r.err
    return r.json()  # type: ignore[no-any-return]


def _rows(store: Path, cols: str = COLS) -> list[dict[str, object]]:
    r = run_cli("sql", f"SELECT {cols} FROM events ORDER BY ts, message", "--store", str(store), "-f", "json")
    assert r.code == 0, r.err
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("indent", [2, None], ids=["pretty", "one line"])
def test_an_array_export_reads_as_its_json_lines(tmp_path: Path, indent: int | None) -> None:
    """The records of a JSON-lines fixture, exported as one JSON array, give the same events."""
    lines = (FIXTURES / "checkout" / "inventory-service.jsonl").read_text().splitlines()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "inventory-service.jsonl").write_text("\n".join(lines) + "\n")
    doc = tmp_path / "b" / "inventory-service.json"
    doc.write_text(json.dumps([json.loads(line) for line in lines], indent=indent))
    want = _ingest(tmp_path / "a", tmp_path / "sa")
    got = _ingest(tmp_path / "b", tmp_path / "sb")
    assert got["files"][0]["format"] == "json"  # type: ignore[index]
    assert got["events"] == want["events"] == len(lines)
    assert _rows(tmp_path / "sb") == _rows(tmp_path / "sa")
    attrs = _rows(tmp_path / "sb", "attrs")
    assert [json.loads(a["attrs"]) for a in attrs] == [json.loads(a["attrs"]) for a in _rows(tmp_path / "sa", "attrs")]
    numbers = [r["line"] for r in _rows(tmp_path / "sb", "line")]
    if indent:  # each record's first text line
        text = doc.read_text().splitlines()
        assert all(text[n - 1].strip() == "{" for n in numbers)
    else:  # all on line 1: each record's place
        assert sorted(numbers) == list(range(1, len(lines) + 1))


def test_records_wrapped_in_an_object(tmp_path: Path) -> None:
    """CloudTrail writes `{"Records": [...]}` on one line; the records are the events."""
    [record] = [json.loads(line) for line in (FIXTURES / "dialects" / "cloudtrail.jsonl").read_text().splitlines()]
    other = {**record, "EventId": "e-2", "CloudTrailEvent": record["CloudTrailEvent"].replace("ct-req-1", "ct-req-2")}
    records = [record, other]
    (tmp_path / "trail.json").write_text(json.dumps({"Records": records}))
    got = _ingest(tmp_path / "trail.json", tmp_path / "s")
    assert got["events"] == len(records) > 1
    rows = _rows(tmp_path / "s", "request_id, message")
    assert {r["request_id"] for r in rows} == {"ct-req-1", "ct-req-2"}


def test_a_cut_document_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    records = [{"time": f"2026-02-01T10:00:0{i}Z", "msg": f"step {i}", "session_id": "C1"} for i in range(5)]
    text = json.dumps(records, indent=2)
    doc = tmp_path / "crashed.json"
    doc.write_text(text[: text.index('"step 3"')])  # the exporter died inside record 4
    r = run_cli("ingest", str(doc), "--store", str(tmp_path / "s"), "-q", "-f", "json")
    assert r.code == 0, r.err
    [entry] = r.json()["files"]
    assert (entry["events"], entry["rejected"], entry["lines"]) == (3, 1, 4)
    line = text.count("\n", 0, text.rindex("{", 0, text.index('"step 3"'))) + 1  # where record 4 opens
    assert f"crashed.json:{line}: rejected: the JSON document is cut or malformed here" in r.err
    assert "the 3 records of the top-level array before it are kept" in r.err
    trace = run_cli("trace", "--session", "C1", "--store", str(tmp_path / "s"), "-f", "json").json()
    assert [e["message"] for e in trace["events"]] == ["step 0", "step 1", "step 2"]


def test_a_single_pretty_printed_record_is_one_event(tmp_path: Path) -> None:
    doc = tmp_path / "event.json"
    doc.write_text(
        json.dumps({"time": "2026-02-01T10:00:00Z", "level": "error", "msg": "boom", "request_id": "R7"}, indent=2)
    )
    got = _ingest(doc, tmp_path / "s")
    assert got["events"] == 1
    assert _rows(tmp_path / "s", "line, level, message, request_id") == [
        {"line": 1, "level": "ERROR", "message": "boom", "request_id": "R7"}
    ]


def test_values_that_are_not_objects_are_rejected(tmp_path: Path) -> None:
    doc = tmp_path / "mixed.json"
    doc.write_text('[{"msg": "a"}, 42, "text", {"msg": "b"}]')
    r = run_cli("ingest", str(doc), "--store", str(tmp_path / "s"), "-q", "-f", "json")
    [entry] = r.json()["files"]
    assert (entry["events"], entry["rejected"], entry["lines"]) == (2, 2, 4)
    assert "mixed.json:2: rejected: a JSON value that is not an object" in r.err


def test_concatenated_documents_each_give_their_records(tmp_path: Path) -> None:
    """`jq .` writes one pretty object after another; a JSON-lines file may have a record
    over two lines. Every object is a record."""
    docs = [{"time": f"2026-02-01T10:00:0{i}Z", "msg": f"m{i}", "request_id": "J1"} for i in range(3)]
    (tmp_path / "jq.json").write_text("\n".join(json.dumps(d, indent=2) for d in docs) + "\n")
    got = _ingest(tmp_path / "jq.json", tmp_path / "s")
    assert (got["events"], got["rejected_lines"]) == (3, 0)
    assert [r["message"] for r in _rows(tmp_path / "s", "message")] == ["m0", "m1", "m2"]
    two = tmp_path / "two.jsonl"
    two.write_text('{"time": "2026-02-01T10:00:00Z",\n "msg": "a"}\n{"msg": "b"}\n{"msg": "c"}\n')
    assert _ingest(two, tmp_path / "s2")["events"] == 3


def test_a_record_that_holds_a_list_stays_one_record(tmp_path: Path) -> None:
    """A wrapper name (`items`, `results`) inside a record with a time of its own is a field."""
    for name, value in (("items", [{"sku": "a"}, {"sku": "b"}]), ("results", []), ("data", [1, 2])):
        doc = tmp_path / f"{name}.json"
        doc.write_text(json.dumps({"ts": "2026-02-01T10:00:00Z", "level": "error", "msg": "x", name: value}, indent=2))
        store = tmp_path / f"s-{name}"
        got = _ingest(doc, store)
        assert (got["events"], got["rejected_lines"]) == (1, 0), name
        assert _rows(store, "level, message") == [{"level": "ERROR", "message": "x"}]


@pytest.mark.parametrize(
    ("text", "format"),
    [
        ('{\n  "config": "loaded",\n  "port": 8080\n}\n2024-01-01 10:00:00 INFO started\n', "text"),
        ("[{worker-1}] 2024-01-01 10:00:00 INFO started\n[{worker-2}] 2024-01-01 10:00:01 INFO up\n", "text"),
        ('{"msg": "a"}\n{"msg": "b"}\n', "jsonl"),
    ],
    ids=["json banner then text", "text lines that open with [{", "json lines"],
)
def test_only_json_documents_sniff_as_json(text: str, format: str) -> None:
    from gascorr.sources import sniff

    assert sniff(text.encode()) == format


def test_a_pretty_gcp_export_is_json_not_otlp(tmp_path: Path) -> None:
    """`gcloud logging read --format=json`: records with a `resource` key, in a pretty array."""
    recs = [
        {
            "insertId": f"i{i}",
            "resource": {"type": "k8s_container", "labels": {"pod_name": "web"}},
            "timestamp": f"2026-02-01T10:00:0{i}Z",
            "severity": "ERROR",
            "jsonPayload": {"message": f"boom {i}", "request_id": "G1"},
        }
        for i in range(3)
    ]
    (tmp_path / "gcp.json").write_text(json.dumps(recs, indent=2))
    got = _ingest(tmp_path / "gcp.json", tmp_path / "s")
    assert got["files"][0]["format"] == "json" and got["events"] == 3  # type: ignore[index]
    assert {r["level"] for r in _rows(tmp_path / "s", "level")} == {"ERROR"}


def test_a_record_too_deep_to_decode_is_rejected_alone(tmp_path: Path) -> None:
    deep = "[" * 3000 + "]" * 3000
    doc = tmp_path / "deep.json"
    doc.write_text('[\n{"msg": "a"},\n{"x": ' + deep + '},\n{"msg": "b"}\n]\n')
    r = run_cli("ingest", str(doc), "--store", str(tmp_path / "s"), "-q", "-f", "json")
    [entry] = r.json()["files"]
    assert (entry["format"], entry["events"], entry["rejected"], entry["lines"]) == ("json", 2, 1, 3)
    assert "deep.json:3: rejected: a JSON record nested too deeply to read" in r.err

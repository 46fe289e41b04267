"""The public corpus (`../shared/corpus`, see its PROVENANCE.md) read end to end: every file
yields events, text files get a named dialect, events carry times, the ids PROVENANCE lists
are found, and every line of every text and JSON-lines file is accounted for.

The corpus is ingested once per module through the CLI; the tests skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, Result, run_cli

from gascorr import store

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")


class Corpus:
    def __init__(self, st: str) -> None:
        self.store = st

    def run(self, *args: str) -> Result:
        return run_cli(*args, "--store", self.store, "--format", "json", "--quiet")

    def sql(self, query: str) -> list[dict[str, Any]]:
        r = self.run("sql", query)
        assert r.code in (0, 1), r.err
        return r.json() if r.code == 0 else []

    def count(self, where: str) -> int:
        return int(self.sql(f"SELECT count(*) AS n FROM events WHERE {where}")[0]["n"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    st = str(tmp_path_factory.mktemp("corpus") / "store")
    r = run_cli("ingest", str(CORPUS), "--store", st, "--quiet")
    assert r.code == 0, r.err
    assert "Traceback" not in r.err
    return Corpus(st)


def rel(source: str) -> str:
    return os.path.relpath(source, CORPUS)


def test_every_file_yields_events(corpus: Corpus) -> None:
    doc = corpus.run("stats").json()
    files = {rel(f["source"]): f for f in doc["per_file"]}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert set(files) == on_disk
    empty = [name for name, f in files.items() if not f["events"]]
    assert not empty
    assert doc["rejected_lines"] == 0


def test_text_files_get_a_named_dialect(corpus: Corpus) -> None:
    doc = corpus.run("stats").json()
    plain = [
        rel(f["source"]) for f in doc["per_file"] if rel(f["source"]).startswith("text/") and f["dialect"] == "plain"
    ]
    assert plain == []
    jsonl = {rel(f["source"]): f["dialect"] for f in doc["per_file"] if f["format"] == "jsonl"}
    assert "json" not in {jsonl[f] for f in jsonl if "humanlog" in f or "plaso/docker" in f or "bunyan" in f}


def test_at_least_97_percent_of_events_have_a_time(corpus: Corpus) -> None:
    doc = corpus.run("stats").json()
    with_time = doc["events"] - doc["events_without_time"]
    assert with_time / doc["events"] >= 0.97, doc["events_without_time"]
    # and every file in text/ and jsonl/ that has times gives almost every event one
    rows = corpus.sql(
        "SELECT source, count(*) AS n, count(ts) AS t FROM events GROUP BY source HAVING count(ts) < count(*)"
    )
    short = {rel(r["source"]): (r["t"], r["n"]) for r in rows}
    allowed = {
        "PROVENANCE.md",  # prose
        "jsonl/lnav/logfile_json.json",  # one record's ts is "xxx"
        "jsonl/lnav/logfile_mixed_json2.json",  # a panic and its stack in plain text
        "text/lnav/logfile_docker_compose.0",  # Flask's start-up banner has no times
    }
    assert set(short) <= allowed, short


# files whose records carry no level at all
NO_LEVELS = {
    "jsonl/plaso/aws_cloudtrail.jsonl",
    "jsonl/plaso/docker-container-json.log",
    "jsonl/plaso/ios_app_privacy_report.ndjson",
    "jsonl/plaso/microsoft_audit_log.jsonl",
}
# files where some records carry none (or one gascorr does not know, like lnav's STATS)
SOME_LEVELS = {
    "jsonl/lnav/logfile_json.json",
    "jsonl/lnav/logfile_mixed_json2.json",
    "jsonl/lnav/logfile_nested_json.json",
    "jsonl/lnav/logfile_otel_collector.jsonl",
    "jsonl/plaso/gcp_logging.jsonl",
}


def test_json_lines_get_times_and_levels(corpus: Corpus) -> None:
    rows = corpus.sql(
        "SELECT source, count(*) AS n, count(ts) AS t, count(level) AS l FROM events "
        "WHERE format IN ('jsonl', 'otlp') GROUP BY source"
    )
    for r in rows:
        name = rel(r["source"])
        if name in NO_LEVELS:
            assert r["l"] == 0, name
        elif name in SOME_LEVELS:
            assert 0 < r["l"] < r["n"], (name, r)
        else:
            assert r["l"] == r["n"], (name, r)
    assert {rel(r["source"]) for r in rows} >= NO_LEVELS | SOME_LEVELS


def test_every_line_is_accounted_for(corpus: Corpus) -> None:
    """Text: each event spans its line up to the next event's; JSON lines: one line each. With
    the blank (and header) lines and the rejected ones, that is every line of the file."""
    m = store.load(corpus.store)
    starts = {
        r["source"]: r["lines"]
        for r in corpus.sql("SELECT source, list(line ORDER BY line) AS lines FROM events GROUP BY source")
    }
    checked = 0
    for f in m.files.values():
        if f.format not in ("text", "jsonl"):
            continue
        lines = starts.get(f.source, [])
        assert len(set(lines)) == len(lines), f.source
        if f.format == "jsonl":
            covered = len(lines)
        else:
            covered = sum(b - a for a, b in zip(lines, [*lines[1:], f.lines + 1], strict=True))
        assert covered + f.blank + f.rejected == f.lines, (f.source, covered, f.blank, f.rejected, f.lines)
        # the manifest's line count is the file's
        raw = Path(f.source).read_bytes()
        assert f.lines == raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1), f.source
        checked += 1
    assert checked >= 70


# -- the ids PROVENANCE.md lists -------------------------------------------------------------------

# (column, value, events expected: an exact count, or a minimum as "≥n")
IDS: list[tuple[str, str, int | str]] = [
    ("request_id", "req-addc1839-2ed5-4778-b57e-5854eb7b8b09", 398),
    ("request_id", "req-6a763803-4838-49c7-814e-eaefbaddee9d", 12),
    ("session_id", "0x24ede63a01b003b", "≥2"),
    ("session_id", "0x14f05578bd80013", "≥2"),
    ("request_id", "blk_-8775602795571523802", "≥1"),
    ("request_id", "attempt_1445144423722_0020_m_000002_0", "≥40"),
    ("session_id", "CmWpC33jXuKpXNLcie", 12),
    ("session_id", "452000660051880893", 1),
    ("request_id", "o@9K7Z3NNx6x3112x1", 1),
    ("request_id", "i@9K7Z3NNx6x3112x1", 1),
    ("trace_id", "9K7Z3NNx6x3112x1", 2),
    ("session_id", "tmpqqw", 2),
    ("session_id", "eyoqcd", 2),
    ("request_id", "req-6e1c17b84ab23d53", 1),
    ("trace_id", "c759f29f5f1e2162be56f32dd1e77fce", 1),
    ("span_id", "17c4a60ca4297cf1", 1),
    ("trace_id", "5b8aa5a2d2c872e8321cf37308d69df2", 3),
    ("trace_id", "7d0cc7c4f4e094fa543e059520f8bf14", 3),
    ("trace_id", "5b8efff798038103d269b633813fc60c", 2),
    ("request_id", "twvbRFk1OwgHo2bqggnx", 2),
    ("request_id", "qjifsaDDI", 10),
    ("session_id", "e8fb03c1b8bf47b8ac2fc82f9870fd57", 2),
    ("request_id", "761fde4e984e5ab2", 1),
    ("request_id", "c0c54eb6-3a17-42e2-b6f6-37484ac276c4", 2),
    ("request_id", "3a5fe8ed-a996-4b9b-863b-237520d07dc2", 2),
    ("request_id", "operation-1634612259304-5ceabd30fb515-0c5c5a7d-0ac8bbff", "≥2"),
    ("request_id", "5e2d469d-002a-40b1-9922-a2e7dca03332", 1),
    ("request_id", "592d1649f75a8d480a3c4dc6a975309d", 2),
    ("request_id", "o8164l371ux95dgq", 1),
    ("trace_id", "35155a4b79bd19f6", 1),
    ("request_id", "3006516524087886121", "≥1"),
    ("request_id", "REQ-3c35eb5e2a2ebe5d", 1),
    ("session_id", "SESS-4f50ee695cfd8686", 1),
    ("request_id", "55dc2339b6325a42", 1),
    ("request_id", "req_64717498b0b5fb05", 1),
    ("request_id", "req_473fd18c65b738a6", 1),
]


@pytest.mark.parametrize(("column", "value", "want"), IDS, ids=[f"{c}={v}" for c, v, _ in IDS])
def test_provenance_ids_are_found(corpus: Corpus, column: str, value: str, want: int | str) -> None:
    n = corpus.count(f"{column} = '{value}'")
    if isinstance(want, str):
        assert n >= int(want.lstrip("≥")), n
    else:
        assert n == want


def test_openstack_request_spans_both_nova_services(corpus: Corpus) -> None:
    r = corpus.run("trace", "--request", "req-6a763803-4838-49c7-814e-eaefbaddee9d")
    assert r.code == 0, r.err
    doc = r.json()
    assert len(doc["events"]) == 12
    assert {e["service"] for e in doc["events"]} == {"nova-api", "nova-compute"}
    assert all(e["source"].endswith("OpenStack_2k.log") for e in doc["events"])


def test_otlp_trace_joins_the_log_record_and_the_span(corpus: Corpus) -> None:
    r = corpus.run("trace", "--trace", "5B8EFFF798038103D269B633813FC60C")
    assert r.code == 0, r.err
    events = r.json()["events"]
    assert sorted(e["kind"] for e in events) == ["log", "span"]
    assert {os.path.basename(e["source"]) for e in events} == {
        "opentelemetry-proto_examples_logs.json",
        "opentelemetry-proto_examples_trace.json",
    }
    span = next(e for e in events if e["kind"] == "span")
    assert span["parent_span_id"] == "eee19b7ec3c1b173" and span["duration_ms"] == 1000.0


def test_zeek_uid_joins_conn_and_http_logs(corpus: Corpus) -> None:
    r = corpus.run("trace", "--session", "CmWpC33jXuKpXNLcie")
    assert r.code == 0, r.err
    names = [os.path.basename(e["source"]) for e in r.json()["events"]]
    assert names.count("logfile_bro_http.log.0") == 11 and names.count("logfile_bro_conn.log.0") == 1


def test_syslog_times_without_a_year_are_not_in_the_future(corpus: Corpus) -> None:
    rows = corpus.sql(
        "SELECT source, max(ts) AS last FROM events WHERE dialect IN ('syslog', 'glog', 'logcat', 'proxifier', 'haproxy') "
        "GROUP BY source"
    )
    assert rows
    for r in rows:
        mtime = os.path.getmtime(r["source"])
        import datetime as dt

        last = dt.datetime.fromisoformat(r["last"].replace("Z", "+00:00")).timestamp()
        assert last <= mtime + 86400, r


def test_access_logs_are_http_events(corpus: Corpus) -> None:
    rows = corpus.sql(
        "SELECT dialect, count(*) AS n, count(status) AS s, count(method) AS m FROM events "
        "WHERE dialect IN ('clf', 'aws-elb', 'uwsgi', 'jira-access') AND kind = 'http' GROUP BY dialect"
    )
    assert {r["dialect"] for r in rows} == {"clf", "aws-elb", "uwsgi", "jira-access"}
    assert corpus.count("dialect = 'clf' AND status >= 500 AND level <> 'ERROR'") == 0
    assert corpus.count("dialect = 'clf' AND status BETWEEN 400 AND 499 AND level <> 'WARN'") == 0

"""The session and request indexes give exactly what the `events` view gives.

`trace --session` and `trace --request` are answered from the indexes written at ingest
(`gascorr/index.py`), without DuckDB; the `events` view resolves every event in SQL. Both
must agree, row for row and in order, for every session and request: of the fixtures, of
a generated multi-service folder, with filters, and after an incremental re-ingest that
changes how old events resolve.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_cli

from gascorr import index, query

sys.path.insert(0, str(ROOT / "bench"))
import synth

ORDER = "ts ASC NULLS LAST, source, line"


def resolved_in_sql(s: query.Store) -> None:
    """`events_sql`: the resolution done in SQL from the links table (query.RESOLUTION), which
    the indexes (and the `events` view built on them) must agree with."""
    s.con.execute(
        "CREATE OR REPLACE TEMP VIEW events_sql AS " + query.RESOLUTION.format(events="raw_events", links="links")
    )


def by_view(s: query.Store, col: str, value: str, where: str = "", params: dict | None = None) -> list[dict]:
    resolved_in_sql(s)
    sql = f"SELECT * FROM events_sql WHERE resolved_{col} = $id{where} ORDER BY {ORDER}"
    return s.q(sql, {"id": value, **(params or {})}).to_pylist()


def by_index(s: query.Store, col: str, value: str, filters: query.Filters | None = None) -> list[dict]:
    t = index.trace(s.root, s.manifest, col, value, filters or query.Filters())
    assert t is not None, "the store has no index"
    return t.to_pylist()


def check_all(store: str) -> int:
    """Compare every session and request; returns how many ids were compared. Also the
    `events` view as a whole, row for row."""
    s = query.Store.open(store)
    resolved_in_sql(s)
    whole = "SELECT * FROM {} ORDER BY source, line, message"
    assert s.q(whole.format("events")).to_pylist() == s.q(whole.format("events_sql")).to_pylist()
    n = 0
    for col in ("session", "request"):
        ids = [
            r[0]
            for r in s.con.execute(
                f"SELECT DISTINCT resolved_{col} FROM events WHERE resolved_{col} NOTNULL"
            ).fetchall()
        ]
        assert ids, f"no {col}s to compare"
        for value in ids:
            want = by_view(s, col, value)
            got = by_index(s, col, value)
            assert got == want, f"{col} {value}: index gives {len(got)} events, the view {len(want)}"
            n += 1
    return n


def ingest(paths: list[str], store: str) -> None:
    r = run_cli("ingest", *paths, "--store", store, "--quiet")
    assert r.code == 0, r.err


def test_fixtures_every_session_and_request(tmp_path: Path) -> None:
    store = str(tmp_path / "st")
    ingest([str(FIXTURES)], store)
    assert check_all(store) > 40


def test_generated_folder_every_session_and_request(tmp_path: Path) -> None:
    synth.generate(str(tmp_path / "g"), 0.004, 3)
    store = str(tmp_path / "st")
    ingest([str(tmp_path / "g" / "artifacts")], store)
    assert check_all(store) > 100


def test_filters_match_the_view(tmp_path: Path) -> None:
    store = str(tmp_path / "st")
    ingest([str(FIXTURES / "checkout")], store)
    s = query.Store.open(store)
    sessions = [
        r[0]
        for r in s.con.execute("SELECT DISTINCT resolved_session FROM events WHERE resolved_session NOTNULL").fetchall()
    ]
    since = datetime(2000, 1, 1, tzinfo=UTC)
    for sess in sessions:
        times = [r["ts"] for r in by_view(s, "session", sess) if r["ts"] is not None]
        mid = sorted(times)[len(times) // 2]
        cases = [
            (query.Filters(min_level="WARN"), " AND list_contains(['WARN', 'ERROR', 'FATAL'], level)", {}),
            (query.Filters(kinds=("network",)), " AND kind = 'http'", {}),
            (query.Filters(since=mid), " AND ts >= $since", {"since": mid}),
            (query.Filters(until=mid), " AND ts <= $until", {"until": mid}),
            (query.Filters(since=since, kinds=("logs",)), " AND ts >= $since AND kind = 'log'", {"since": since}),
        ]
        for f, where, params in cases:
            assert by_index(s, "session", sess, f) == by_view(s, "session", sess, where, params), (sess, f)


def test_new_file_relinks_old_events(tmp_path: Path) -> None:
    """A backend log ingested first knows only request ids; the HAR ingested later ties them
    to a session. The old file is not re-parsed, yet its events move into the session."""
    src = tmp_path / "in"
    shutil.copytree(FIXTURES / "checkout", src)
    har = next(src.glob("*.har"))
    held = tmp_path / har.name
    har.rename(held)
    store = str(tmp_path / "st")
    ingest([str(src)], store)
    before = query.Store.open(store)
    n_before = sum(len(by_index(before, "session", v)) for v in _sessions(before))
    held.rename(har)
    ingest([str(src)], store)
    after = query.Store.open(store)
    assert sum(len(by_index(after, "session", v)) for v in _sessions(after)) > n_before
    check_all(store)


def _sessions(s: query.Store) -> list[str]:
    return [
        r[0]
        for r in s.con.execute("SELECT DISTINCT resolved_session FROM events WHERE resolved_session NOTNULL").fetchall()
    ]


def test_trace_needs_no_duckdb_connection(tmp_path: Path) -> None:
    store = str(tmp_path / "st")
    ingest([str(FIXTURES / "checkout")], store)
    s = query.Store.open(store)
    session = _sessions(s)[0]
    s.close()
    rows = query.trace(s, session=session)
    query.links_for(s, session)
    assert rows.num_rows > 0
    assert s._con is None, "the trace opened a DuckDB connection"


def test_a_trace_process_imports_neither_duckdb_nor_arrow_compute(tmp_path: Path) -> None:
    """`import duckdb` is ~110 ms and `pyarrow.compute` ~25 ms: a `trace` answered from the
    indexes, JSON out, must need neither (`kernels` calls Arrow's functions without the
    module; `timeline.to_rows` reads times without `cast`, and without Arrow's datetimes,
    which go through `zoneinfo`)."""
    store = str(tmp_path / "st")
    ingest([str(FIXTURES / "checkout")], store)
    code = (
        "import sys, json; from gascorr import cli; "
        f"code = cli.run(['trace', '--session', 'session-xyz', '--store', {store!r}, '-f', 'json']); "
        "print(json.dumps([code, *(m in sys.modules for m in ('duckdb', 'pyarrow.compute', 'zoneinfo'))]), file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert json.loads(p.stdout)["event_count"] > 10
    assert json.loads(p.stderr.strip().splitlines()[-1]) == [0, False, False, False], p.stderr


@pytest.mark.parametrize("col", ["session", "request"])
def test_unknown_id_is_empty(tmp_path: Path, col: str) -> None:
    store = str(tmp_path / "st")
    ingest([str(FIXTURES / "checkout")], store)
    s = query.Store.open(store)
    t = index.trace(s.root, s.manifest, col, "no-such-id", query.Filters())
    assert t is not None and t.num_rows == 0
    assert t.column_names == s.q("SELECT * FROM events LIMIT 0").column_names


def test_sources_read_in_many_chunks_link_as_when_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source's id tuples are found chunk by chunk as its events are written (memory does
    not grow with the file), so a tuple recurs from chunk to chunk: the links, indexes and
    answers are those of reading it in one chunk."""
    from gascorr import parsers

    synth.generate(str(tmp_path / "g"), 0.004, 3)
    art = str(tmp_path / "g" / "artifacts")
    whole, chunked = str(tmp_path / "whole"), str(tmp_path / "chunked")
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 1 << 30)
    ingest([art], whole)
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 2048)
    ingest([art], chunked)
    a, b = query.Store.open(whole), query.Store.open(chunked)
    tuples = "SELECT count(*), count(DISTINCT (s, r, t, p)) FROM read_parquet({})"
    [(rows, distinct)] = [
        tuple(r.values()) for r in b.q(tuples.format(list(b.manifest.edge_files(chunked)))).to_pylist()
    ]
    assert rows > distinct  # some tuple was found in two chunks of one source
    for sql in (
        "SELECT kind, id, session, request, ambiguous, sessions FROM links ORDER BY ALL",
        "SELECT source, line, resolved_session, resolved_request FROM events ORDER BY ALL",
    ):
        assert a.q(sql).to_pylist() == b.q(sql).to_pylist()
    assert check_all(chunked) > 100

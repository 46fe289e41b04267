"""The store under stress: incremental re-ingest, crashes (kill -9), concurrent ingests,
queries during an ingest, failed writes.

The subprocess tests run the real CLI (`python -m gascorr`) on a generated folder big enough
to take a couple of seconds, so they can be interrupted part-way.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli

from gascorr import store

LINES_PER_FILE = 2500


def write_logs(d: Path, files: int, lines: int = LINES_PER_FILE, tag: str = "svc") -> dict[str, int]:
    """`files` Python-logging files of `lines` lines under `d`; returns {path: lines}."""
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for f in range(files):
        p = d / f"{tag}{f:02d}.log"
        with open(p, "w") as fh:
            for i in range(lines):
                fh.write(
                    f"2024-05-01 12:{i // 3600 % 60:02d}:{i // 60 % 60:02d},{i % 1000:03d} - {tag}{f} - INFO - "
                    f"request_id=req-{f}-{i % 300} session_id=s-{i % 7} handled item {i}\n"
                )
        out[str(p)] = lines
    return out


def gascorr(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gascorr", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def wait_for(cond: Any, timeout: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def event_files(st: Path) -> set[str]:
    d = st / "events"
    return {p.name for p in d.iterdir() if p.name.endswith(".parquet")} if d.is_dir() else set()


def table(st: Path | str, sql: str = "SELECT * FROM events ORDER BY source, line") -> list[dict[str, Any]]:
    r = run_cli("sql", sql, "--store", str(st), "--format", "json")
    assert r.code in (0, 1), r.err
    return r.json() if r.out.strip() else []


def count(st: Path | str) -> int:
    return int(table(st, "SELECT count(*) AS n FROM events")[0]["n"])


def assert_whole_files(st: Path, expected: dict[str, int]) -> None:
    """Every file the manifest names is whole: its event count is the file's."""
    m = store.load(str(st))
    for f in m.files.values():
        assert f.events == expected[f.source], f"{f.source}: {f.events} of {expected[f.source]} events"
    assert count(st) == sum(f.events for f in m.files.values())


# -- incremental ----------------------------------------------------------------------------------


def test_second_ingest_parses_nothing(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", 2, 50)
    st = str(tmp_path / "store")
    first = run_cli("ingest", str(tmp_path / "logs"), "--store", st, "--format", "json")
    assert first.json()["parsed"] == 2
    before = (Path(st) / "manifest.json").read_text()
    again = run_cli("ingest", str(tmp_path / "logs"), "--store", st, "--format", "json")
    assert again.json()["parsed"] == 0 and again.json()["unchanged"] == 2
    assert (Path(st) / "manifest.json").read_text() == before
    # touched, same content: recognised by fingerprint, not parsed again
    for p in logs:
        os.utime(p, (1e9, 1e9))
    touched = run_cli("ingest", str(tmp_path / "logs"), "--store", st, "--format", "json")
    assert touched.json()["parsed"] == 0
    assert count(st) == 100


def test_changed_file_is_replaced_and_old_files_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = write_logs(tmp_path / "logs", 2, 50)
    st = tmp_path / "store"
    run_cli("ingest", str(tmp_path / "logs"), "--store", str(st))
    old_files = event_files(st)
    target = Path(next(iter(logs)))
    # a line put before the others: not an append, so the file is parsed whole again
    target.write_text("2024-05-01 11:59:59,000 - early - ERROR - request_id=req-early failed\n" + target.read_text())
    r = run_cli("ingest", str(tmp_path / "logs"), "--store", str(st), "--format", "json")
    assert r.json()["parsed"] == 1 and r.json()["files"][0]["appended"] is False
    assert count(st) == 101
    m = store.load(str(st))
    # the replaced file's old Parquet is an orphan kept for readers, not yet deleted
    assert m.orphans and all((st / rel).exists() for rel in m.orphans)
    assert not set(m.orphans) & m.named()
    # once the grace period is over, the next commit deletes it
    monkeypatch.setattr(store, "GRACE_SECONDS", 0.0)
    target.write_text("2024-05-01 11:59:58,000 - early - INFO - first\n" + target.read_text())
    run_cli("ingest", str(tmp_path / "logs"), "--store", str(st))
    m = store.load(str(st))
    on_disk = {f"events/{n}" for n in os.listdir(st / "events")} | {f"links/{n}" for n in os.listdir(st / "links")}
    assert on_disk == m.named()
    assert len(old_files & event_files(st)) >= 1  # the untouched file kept its files


def test_crash_leftovers_are_swept(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", 1, 20)
    st = tmp_path / "store"
    run_cli("ingest", str(tmp_path / "logs"), "--store", str(st))
    # what a killed ingest leaves: a half-written Parquet, an unnamed one, a manifest temp file
    (st / "events" / "0123456789abcdef.parquet.tmp").write_bytes(b"PAR1 half")
    (st / "events" / "fedcba9876543210.parquet").write_bytes(b"PAR1 not named")
    (st / ".manifest.json.dead.tmp").write_text("{")
    (st / "tmp" / "duckdb_temp_storage").mkdir(parents=True)  # DuckDB's spill space while relinking
    assert count(st) == 20  # readers never look at files the manifest does not name
    with open(next(iter(logs)), "a") as f:
        f.write("2024-05-01 13:00:00,000 - x - INFO - more\n")
    run_cli("ingest", str(tmp_path / "logs"), "--store", str(st))
    assert not (st / "events" / "0123456789abcdef.parquet.tmp").exists()
    assert not (st / "events" / "fedcba9876543210.parquet").exists()
    assert not (st / ".manifest.json.dead.tmp").exists()
    assert not (st / "tmp").exists()
    assert count(st) == 21


def test_failed_write_leaves_the_old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_logs(tmp_path / "old", 1, 30, tag="old")
    st = tmp_path / "store"
    run_cli("ingest", str(tmp_path / "old"), "--store", str(st))
    manifest = (st / "manifest.json").read_text()
    write_logs(tmp_path / "new", 2, 30, tag="new")
    real = store.write_parquet
    calls = {"n": 0}

    def full_disk(*a: Any, **k: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(store, "write_parquet", full_disk)
    r = run_cli("ingest", str(tmp_path / "new"), "--store", str(st))
    assert r.code == 2
    assert r.err.strip().splitlines()[-1] == f"gascorr: cannot write to the store {st}: no space left on device"
    assert "Traceback" not in r.err
    assert (st / "manifest.json").read_text() == manifest
    assert count(st) == 30


def test_unreadable_manifest_is_a_clear_error(tmp_path: Path) -> None:
    st = tmp_path / "store"
    st.mkdir()
    (st / "manifest.json").write_text('{"schema_version": 1, "files": ')
    r = run_cli("stats", "--store", str(st))
    assert r.code == 2
    assert r.err.startswith(f"gascorr: cannot read the store manifest {st}/manifest.json:")
    assert "Traceback" not in r.err


# -- interrupted, concurrent -----------------------------------------------------------------------

CHECKPOINT_EVERY_FILE = (
    "import sys, gascorr.store as s; s.CHECKPOINT_SECONDS = 0.0; from gascorr.cli import main; main(sys.argv[1:])"
)


@pytest.mark.parametrize("checkpoints", [False, True], ids=["one-commit", "checkpoint-per-file"])
def test_kill_9_mid_ingest_leaves_a_readable_store(checkpoints: bool, tmp_path: Path) -> None:
    st = tmp_path / "store"
    old = write_logs(tmp_path / "old", 2, 40, tag="old")
    assert run_cli("ingest", str(tmp_path / "old"), "--store", str(st)).code == 0
    old_files = event_files(st)
    old_generation = store.load(str(st)).generation
    new = write_logs(tmp_path / "logs", 8)
    args = ["ingest", str(tmp_path / "logs"), "--store", str(st)]
    if checkpoints:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHECKPOINT_EVERY_FILE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # killed after at least one checkpoint, before the end
        wait_for(lambda: store.load(str(st)).generation >= old_generation + 2, what="two checkpoints")
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gascorr", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_for(lambda: len(event_files(st) - old_files) >= 2, what="new Parquet files")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the store answers queries, holds the old files whole, and new files only whole
    r = run_cli("stats", "--store", str(st), "--format", "json")
    assert r.code == 0, r.err
    m = store.load(str(st))
    assert set(old) <= {f.source for f in m.files.values()}
    assert_whole_files(st, {**old, **new})
    added = len(m.files) - len(old)
    assert (added >= 2) if checkpoints else (added == 0)
    assert added < len(new), "the ingest finished before it was killed: make the folder bigger"
    # a new ingest finishes the job and ends where one clean ingest would
    assert run_cli("ingest", str(tmp_path / "logs"), "--store", str(st)).code == 0
    assert_whole_files(st, {**old, **new})
    assert len(store.load(str(st)).files) == len(old) + len(new)
    m = store.load(str(st))
    on_disk = {f"events/{n}" for n in os.listdir(st / "events")}
    assert on_disk <= m.named() | set(m.orphans)


def test_two_ingests_at_once_serialize(tmp_path: Path) -> None:
    """Two ingests started together into one store: both wait for the lock (held here until
    both are queued), then run one after the other; the table is the one ingest's."""
    import fcntl

    files = write_logs(tmp_path / "logs", 4, 400)
    st = tmp_path / "store"
    st.mkdir()
    fd = os.open(st / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    procs = [gascorr("ingest", str(tmp_path / "logs"), "--store", str(st)) for _ in range(2)]
    errs = ["", ""]
    try:
        # both have started and are waiting on the lock (they said so)
        for i, p in enumerate(procs):
            assert p.stderr is not None
            errs[i] = p.stderr.readline()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    for i, p in enumerate(procs):
        _, rest = p.communicate(timeout=120)
        errs[i] += rest
        assert p.returncode == 0, errs[i]
    for err in errs:
        assert err.startswith(f"gascorr: waiting for another ingest into {st} to finish…\n"), err
        assert "Traceback" not in err
    # one of them did the work, the other found it done
    assert sorted("ingested 4 files" in e for e in errs) == [False, True]
    alone = tmp_path / "alone"
    assert run_cli("ingest", str(tmp_path / "logs"), "--store", str(alone)).code == 0
    assert table(st) == table(alone)
    assert count(st) == sum(files.values())


def test_query_during_ingest_sees_a_consistent_store(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", 4, 1500)
    st = tmp_path / "store"
    assert run_cli("ingest", str(tmp_path / "logs"), "--store", str(st)).code == 0
    before = count(st)
    for p in logs:  # every file changes: the ingest replaces all of them
        with open(p, "a") as f:
            f.write("2024-05-01 13:00:00,000 - x - INFO - one more\n")
    after = before + len(logs)
    proc = gascorr("ingest", str(tmp_path / "logs"), "--store", str(st))
    seen = []
    while proc.poll() is None:
        r = run_cli("sql", "SELECT count(*) AS n FROM events", "--store", str(st), "--format", "json")
        assert r.code == 0, r.err
        seen.append(r.json()[0]["n"])
    assert proc.returncode == 0
    assert set(seen) <= {before, after}
    assert count(st) == after


def test_reader_opened_before_a_commit_keeps_working(tmp_path: Path) -> None:
    """A query that loaded the manifest before an ingest replaced every file still reads its
    generation: the replaced files are orphans kept for the grace period."""
    from gascorr.ingest import ingest
    from gascorr.query import Store

    logs = write_logs(tmp_path / "logs", 3, 100)
    st = str(tmp_path / "store")
    ingest([str(tmp_path / "logs")], st)
    reader = Store.open(st)
    for p in logs:
        with open(p, "a") as f:
            f.write("2024-05-01 13:00:00,000 - x - INFO - one more\n")
    ingest([str(tmp_path / "logs")], st)
    assert reader.q("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 300}]
    assert Store.open(st).q("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 303}]


def test_lock_message_names_the_store(tmp_path: Path) -> None:
    """The waiting message, in-process: a held lock makes `locked` say so, then wait."""
    import fcntl
    import threading

    st = str(tmp_path / "store")
    os.makedirs(st)
    fd = os.open(os.path.join(st, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    said: list[str] = []
    got = threading.Event()

    def take() -> None:
        with store.locked(st, said.append):
            got.set()

    t = threading.Thread(target=take)
    t.start()
    wait_for(lambda: bool(said), 10, "the waiting message")
    assert not got.is_set()
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    t.join(10)
    assert got.is_set()
    assert said == [f"waiting for another ingest into {st} to finish…"]


def test_manifest_is_plain_json_naming_parquet(tmp_path: Path) -> None:
    write_logs(tmp_path / "logs", 1, 10)
    st = tmp_path / "store"
    run_cli("ingest", str(tmp_path / "logs"), "--store", str(st))
    doc = json.loads((st / "manifest.json").read_text())
    (entry,) = doc["files"].values()
    assert (st / entry["parquet"]).read_bytes()[:4] == b"PAR1"
    assert entry["lines"] == entry["events"] == 10


def _table_dump(store_dir: str) -> list[Any]:
    r = run_cli("sql", "SELECT * EXCLUDE (attrs), attrs FROM events ORDER BY source, line", "--store", store_dir)
    assert r.code == 0, r.err
    return [json.dumps(row, sort_keys=True) for row in r.json()]


def test_worker_processes_give_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large ingest parses in worker processes: same events, links, warnings and rejects
    as parsing in this process, in the same order in the report."""
    from gascorr import ingest

    fixtures = str(Path(__file__).resolve().parent.parent / "fixtures")
    here = ingest.ingest([fixtures], str(tmp_path / "here"), workers=1)
    monkeypatch.setattr(ingest, "PROCESS_MIN_BYTES", 0)
    pool = ingest.ingest([fixtures], str(tmp_path / "pool"), workers=2)
    assert [e.source for e in pool.parsed] == [e.source for e in here.parsed]
    assert pool.warnings == here.warnings
    assert pool.events == here.events and pool.rejected == here.rejected
    assert _table_dump(str(tmp_path / "pool")) == _table_dump(str(tmp_path / "here"))
    for name in ("sessions", "requests"):
        a = run_cli(name, "--store", str(tmp_path / "pool"), "-f", "json").json()
        b = run_cli(name, "--store", str(tmp_path / "here"), "-f", "json").json()
        assert a == b


APPEND_TEXT = (
    "2026-01-31 10:05:00,001 - api-server - INFO - GET /api/cart (request_id: req-901, session_id: session-xyz)\n"
    "2026-01-31 10:05:00,050 - api-server - ERROR - Cart failed (request_id: req-901, session_id: session-xyz)\n"
    "Traceback (most recent call last):\n"
    '  File "cart.py", line 12, in load\n'
    "KeyError: 'items'\n"
)
APPEND_JSONL = '{"ts":"2026-01-31T10:05:00.020Z","level":"info","msg":"Checking stock","request_id":"req-901"}\n'


def _ingest(paths: list[str], store_dir: str) -> dict[str, Any]:
    r = run_cli("ingest", *paths, "--store", store_dir, "-f", "json", "--quiet")
    assert r.code == 0, r.err
    return r.json()


def _same_as_fresh(folder: Path, store_dir: str, tmp_path: Path) -> None:
    fresh = str(tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}")
    _ingest([str(folder)], fresh)
    assert _table_dump(store_dir) == _table_dump(fresh)
    for args in (["sessions"], ["requests"], ["trace", "--session", "session-xyz"]):
        a = run_cli(*args, "--store", store_dir, "-f", "json")
        b = run_cli(*args, "--store", fresh, "-f", "json")
        assert (a.code, a.out) == (b.code, b.out.replace(fresh, store_dir)), args


def _one_log(tmp_path: Path, name: str, content: bytes) -> tuple[Path, Path, str]:
    """A folder holding one log with `content`, ingested into a new store: (folder, log, store)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / name
    log.write_bytes(content)
    st = str(tmp_path / "st")
    _ingest([str(folder)], st)
    return folder, log, st


def test_appended_lines_are_parsed_alone_and_give_the_same_store(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in ("api-server.log", "inventory-service.jsonl", "frontend.har"):
        (folder / name).write_bytes((FIXTURES / "checkout" / name).read_bytes())
    st = str(tmp_path / "st")
    _ingest([str(folder)], st)
    with open(folder / "api-server.log", "a") as f:
        f.write(APPEND_TEXT)
    with open(folder / "inventory-service.jsonl", "a") as f:
        f.write(APPEND_JSONL)
    rep = _ingest([str(folder)], st)
    by_source = {f["source"]: f for f in rep["files"]}
    assert by_source[str(folder / "api-server.log")]["appended"] is True
    assert by_source[str(folder / "api-server.log")]["events"] == 2  # the traceback is part of the error
    assert by_source[str(folder / "inventory-service.jsonl")]["appended"] is True
    assert by_source[str(folder / "inventory-service.jsonl")]["events"] == 1
    manifest = json.loads((Path(st) / "manifest.json").read_text())
    entry = manifest["files"][str(folder / "api-server.log")]
    assert len(entry["appended"]) == 1
    _same_as_fresh(folder, st, tmp_path)
    trace = run_cli("trace", "--request", "req-901", "--store", st, "-f", "json").json()
    assert {e["service"] for e in trace["events"]} == {"api-server", "inventory-service"}


def test_a_continuation_line_appended_reparses_the_whole_file(tmp_path: Path) -> None:
    api = (FIXTURES / "checkout" / "api-server.log").read_bytes()
    folder, log, st = _one_log(tmp_path, "api-server.log", api + APPEND_TEXT.encode())
    with open(log, "a") as f:
        f.write('  File "more.py", line 3, in deeper\n')
    rep = _ingest([str(folder)], st)
    assert rep["files"][0]["appended"] is False
    _same_as_fresh(folder, st, tmp_path)


def test_a_file_changed_before_its_end_is_parsed_again(tmp_path: Path) -> None:
    folder, log, st = _one_log(tmp_path, "app.jsonl", APPEND_JSONL.encode())
    log.write_text(APPEND_JSONL.replace("req-901", "req-902") + APPEND_JSONL)
    rep = _ingest([str(folder)], st)
    assert rep["files"][0]["appended"] is False
    _same_as_fresh(folder, st, tmp_path)


def test_many_appends_end_in_one_whole_parse(tmp_path: Path) -> None:
    from gascorr import ingest

    folder, log, st = _one_log(tmp_path, "app.jsonl", APPEND_JSONL.encode())
    for i in range(ingest.MAX_APPENDS + 1):
        with open(log, "a") as f:
            f.write(APPEND_JSONL.replace("req-901", f"req-{i}"))
        _ingest([str(folder)], st)
    entry = json.loads((Path(st) / "manifest.json").read_text())["files"][str(log)]
    assert entry["appended"] == []
    assert entry["events"] == ingest.MAX_APPENDS + 2
    _same_as_fresh(folder, st, tmp_path)


def test_an_append_under_other_settings_parses_the_whole_file(tmp_path: Path) -> None:
    """Lines appended while --tz (or the id names, or --dialect) changed: the old events
    were read another way, so the whole file is parsed again with the new settings."""
    folder, log, st = _one_log(tmp_path, "api-server.log", (FIXTURES / "checkout" / "api-server.log").read_bytes())
    with open(log, "a") as f:
        f.write(APPEND_TEXT)
    r = run_cli("ingest", str(folder), "--store", st, "--tz", "Europe/Paris", "-f", "json", "--quiet")
    assert r.code == 0, r.err
    assert r.json()["files"][0]["appended"] is False
    first = run_cli("sql", "SELECT min(ts) AS t FROM events", "--store", st, "-f", "json").json()[0]["t"]
    assert first.startswith("2026-01-31T08:59:58")  # 09:59:58 in Paris (UTC+1): every line read again


def test_relinking_in_little_memory_gives_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relinking keeps DuckDB's memory bounded (it spills to the store's tmp/) and, when an
    operator cannot spill, tries again with the next limit: the same links and answers,
    and nothing left in tmp/."""
    from gascorr import ingest

    fixtures = str(Path(__file__).resolve().parent.parent / "fixtures")
    roomy, tight = str(tmp_path / "roomy"), str(tmp_path / "tight")
    _ingest([fixtures], roomy)
    monkeypatch.setattr(ingest, "RELINK_MEMORY", ("1MB", "64MB"))  # 1MB is too little for DuckDB
    _ingest([fixtures], tight)
    assert not (Path(tight) / "tmp").exists()
    links = "SELECT * FROM links ORDER BY kind, id"
    a = run_cli("sql", links, "--store", tight, "-f", "json")
    b = run_cli("sql", links, "--store", roomy, "-f", "json")
    assert a.code == 0 and a.json() == b.json() and len(a.json()) > 20
    assert _table_dump(tight) == _table_dump(roomy)
    for name in ("sessions", "requests"):
        assert (
            run_cli(name, "--store", tight, "-f", "json").json() == run_cli(name, "--store", roomy, "-f", "json").json()
        )


def test_out_of_memory_at_every_limit_is_not_retried_forever(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gascorr import ingest

    monkeypatch.setattr(ingest, "RELINK_MEMORY", ("1MB", "2MB"))
    st = str(tmp_path / "st")
    r = run_cli("ingest", str(FIXTURES / "checkout"), "--store", st, "--quiet")
    assert r.code == 2 and r.err.startswith("gascorr: not enough memory to link the store's ids (Out of Memory Error")
    assert not (Path(st) / "manifest.json").exists()  # nothing half-linked was committed


@pytest.mark.parametrize("batch", [1, 1000, 8192, 50_000])
def test_streamed_index_files_have_whole_row_groups(tmp_path: Path, batch: int) -> None:
    """An index streamed from DuckDB in batches of any size is written in row groups of
    exactly the index's size (but the last), the rows in order."""
    import duckdb
    import pyarrow.parquet as pq

    con = duckdb.connect()
    rows = con.sql("SELECT i, 'id-' || (i // 7) AS key FROM range(100_000) t(i) ORDER BY i").to_arrow_reader(batch)
    store.write_parquet_plain(str(tmp_path), "x.parquet", rows, row_group_size=8192, statistics=["key"])
    md = pq.ParquetFile(tmp_path / "x.parquet").metadata
    sizes = [md.row_group(g).num_rows for g in range(md.num_row_groups)]
    assert sizes == [8192] * 12 + [100_000 - 12 * 8192]
    assert pq.read_table(tmp_path / "x.parquet")["i"].to_pylist() == list(range(100_000))
    assert not list(tmp_path.glob("*.tmp"))

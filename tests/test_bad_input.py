"""Broken inputs: every one is counted and reported as `gascorr: <file>[:<line>]: …`, never a
traceback, and every good event next to it is kept.

`fixtures/bad/inputs/` holds the broken files (made by `fixtures/bad/make.py`);
`fixtures/bad/EXPECTED.json` holds, per input, the exact stderr lines of ingesting it alone
and the counts of every source it yields. `pytest --update-golden` rewrites EXPECTED.json.
Inputs that cannot live in git (a 4 MB line, permissions, symlink loops, FIFOs, files that
change while read) are made in each test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, ROOT, Result, run_cli

from gascorr import sources, store

BAD = FIXTURES / "bad"
INPUTS = BAD / "inputs"
EXPECTED = BAD / "EXPECTED.json"
MESSAGE = re.compile(r"^gascorr: \S.*?(:\d+)?: \S")


def line(i: int, msg: str = "") -> str:
    return f"2024-05-01 12:00:{i % 60:02d},{i % 1000:03d} - app.worker - INFO - {msg or f'step {i} done'}"


def ingest(path: str | Path, st: str, *extra: str) -> Result:
    r = run_cli("ingest", str(path), "--store", st, "--format", "table", *extra)
    assert "Traceback" not in r.err
    return r


def problems(r: Result) -> list[str]:
    """stderr without the closing `ingested …` summary."""
    lines = r.err.splitlines()
    if lines and lines[-1].startswith("gascorr: ingested "):
        lines = lines[:-1]
    return lines


def per_source(st: str) -> dict[str, dict[str, int | None]]:
    """Counts per source. A source whose bytes were damaged part-way has garbage after the
    damage, which the dialect's parser may group into any number of events: its event count
    is not compared (None); its lines, rejects and note are."""
    m = store.load(st)
    out: dict[str, dict[str, int | None]] = {}
    for f in m.files.values():
        garbled = any("corrupt" in why for _, why in f.notes)
        out[f.source] = {
            "lines": f.lines,
            "events": None if garbled else f.events,
            "rejected": f.rejected,
            "blank": f.blank,
        }
    return out


# -- the fixtures, one by one ----------------------------------------------------------------------


def _cases() -> list[str]:
    return sorted(p.name for p in INPUTS.iterdir())


@pytest.mark.parametrize("name", _cases())
def test_bad_fixture(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.chdir(ROOT)
    st = str(tmp_path / "store")
    r = ingest(f"fixtures/bad/inputs/{name}", st)
    got = {"code": r.code, "stderr": problems(r), "sources": per_source(st)}
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    if request.config.getoption("--update-golden"):
        expected[name] = got
        EXPECTED.write_text(json.dumps(dict(sorted(expected.items())), indent=2, ensure_ascii=False) + "\n")
    assert got == expected[name]
    for msg in got["stderr"]:
        assert MESSAGE.match(msg), msg
    # the second run reads nothing again and says nothing
    again = ingest(f"fixtures/bad/inputs/{name}", st)
    assert problems(again) == []
    assert per_source(st) == got["sources"]


def test_expected_covers_every_input() -> None:
    assert sorted(json.loads(EXPECTED.read_text())) == _cases()


def test_folder_of_bad_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All of them at once: exit 0, every file's messages, every good event kept."""
    monkeypatch.chdir(ROOT)
    st = str(tmp_path / "store")
    r = ingest("fixtures/bad/inputs", st)
    assert r.code == 0
    expected = json.loads(EXPECTED.read_text())
    want_msgs = sorted(m for case in expected.values() for m in case["stderr"])
    assert sorted(problems(r)) == want_msgs
    for msg in problems(r):
        assert MESSAGE.match(msg) and msg.startswith("gascorr: fixtures/bad/inputs/"), msg
    want_sources = {k: v for case in expected.values() for k, v in case["sources"].items()}
    assert per_source(st) == want_sources
    stats = run_cli("stats", "--store", st, "--format", "json").json()
    per_file = {f["source"]: f for f in stats["per_file"]}
    assert stats["events"] == sum(f["events"] for f in per_file.values())
    assert stats["rejected_lines"] == sum(v["rejected"] or 0 for v in want_sources.values())
    for src, counts in want_sources.items():
        for k in ("lines", "events", "rejected"):
            assert counts[k] is None or per_file[src][k] == counts[k], (src, k)


def test_invalid_utf8_raw_bytes_are_recoverable(tmp_path: Path) -> None:
    st = str(tmp_path / "store")
    ingest(INPUTS / "invalid-utf8.log", st)
    ingest(INPUTS / "invalid-utf8.jsonl", st)
    rows = run_cli(
        "sql", "SELECT source, line, attrs FROM events WHERE attrs LIKE '%_raw_b64%'", "--store", st, "--format", "json"
    ).json()
    originals = {
        "invalid-utf8.log": (INPUTS / "invalid-utf8.log").read_bytes().split(b"\n"),
        "invalid-utf8.jsonl": (INPUTS / "invalid-utf8.jsonl").read_bytes().split(b"\n"),
    }
    recovered = {}
    for row in rows:
        for n, b64 in json.loads(row["attrs"])["_raw_b64"].items():
            recovered[(Path(row["source"]).name, int(n))] = base64.b64decode(b64)
    # the Latin-1 line, the bad traceback line (kept on the ERROR event it continues), the cut character
    assert set(recovered) == {
        ("invalid-utf8.log", 2),
        ("invalid-utf8.log", 5),
        ("invalid-utf8.log", 7),
        ("invalid-utf8.jsonl", 2),
    }
    for (name, n), raw in recovered.items():
        assert raw == originals[name][n - 1]
    traceback_event = [r for r in rows if r["line"] == 3]
    assert list(json.loads(traceback_event[0]["attrs"])["_raw_b64"]) == ["5"]


def test_file_names_that_are_not_utf8_keep_their_events(tmp_path: Path) -> None:
    """Names written on a Latin-1 system: each file's events are kept under its name with
    the odd bytes shown as `\\xNN`, and a second ingest finds them unchanged."""
    folder = tmp_path / "in"
    folder.mkdir()
    try:
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.log"), "wb") as f:
            f.write(b"2024-03-07 12:00:00,000 - app - INFO - paid session_id=s1\n")
        with open(os.path.join(os.fsencode(folder), b"caf\xe8.jsonl"), "wb") as f:
            f.write(b'{"msg": "sent", "session_id": "s1"}\n')
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    (folder / "front.har").write_bytes((FIXTURES / "checkout" / "frontend.har").read_bytes())
    st = str(tmp_path / "store")
    r = run_cli("ingest", str(folder), "--store", st, "-q", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["unreadable"] == [] and r.json()["parsed"] == 3
    r = run_cli("trace", "--session", "s1", "--store", st, "-f", "json")
    assert r.code == 0, r.err
    names = {Path(e["source"]).name for e in r.json()["events"]}
    assert names == {"caf\\xe9.log", "caf\\xe8.jsonl"}
    assert {e["service"] for e in r.json()["events"]} == {"caf\\xe9", "caf\\xe8"}
    r = run_cli("ingest", str(folder), "--store", st, "-q", "-f", "json")
    assert r.code == 0 and r.json()["unchanged"] == 3, r.err


def test_truncated_har_keeps_complete_entries(tmp_path: Path) -> None:
    st = str(tmp_path / "store")
    ingest(INPUTS / "truncated.har", st)
    rows = run_cli("sql", "SELECT kind, url FROM events ORDER BY line", "--store", st, "--format", "json").json()
    assert [r["kind"] for r in rows] == ["page", "http", "http"]
    assert [r["url"] for r in rows[1:]] == ["https://shop.example/api/items/1", "https://shop.example/api/items/2"]


@pytest.mark.parametrize("cut", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_har_cut_anywhere(cut: float, tmp_path: Path) -> None:
    """A HAR cut at any point keeps every entry that was complete before the cut."""
    entries = [
        json.dumps(
            {
                "startedDateTime": f"2024-05-01T12:00:{i:02d}Z",
                "time": 5,
                "request": {"method": "GET", "url": f"https://x.example/{i}", "headers": []},
                "response": {"status": 200, "headers": []},
            },
            indent=1,
        )
        for i in range(40)
    ]
    doc = '{"log": {"version": "1.2", "creator": {"name": "t"}, "entries": [\n'
    ends = []
    for i, e in enumerate(entries):
        doc += ("" if i == 0 else ",\n") + e
        ends.append(len(doc))
    doc += "\n]}}\n"
    at = int(len(doc) * cut)
    (tmp_path / "cut.har").write_text(doc[:at])
    st = str(tmp_path / "store")
    r = ingest(tmp_path / "cut.har", st)
    assert r.code == 0
    complete = sum(1 for end in ends if end <= at)
    f = next(iter(store.load(st).files.values()))
    assert (f.format, f.events, f.rejected, f.lines) == ("har", complete, 1, complete + 1)
    assert re.match(r"^gascorr: .*cut\.har:\d+: rejected: the HAR is cut or malformed", problems(r)[0])


def test_four_megabyte_lines_are_kept_whole(tmp_path: Path) -> None:
    big = "x" * (4 * 1024 * 1024)
    (tmp_path / "big.log").write_text(line(1) + "\n" + line(2, big) + "\n" + line(3) + "\n")
    rec = json.dumps({"time": "2024-05-01T12:00:00Z", "level": "info", "msg": big})
    (tmp_path / "big.jsonl").write_text('{"msg": "a"}\n' + rec + '\n{"msg": "b"}\n')
    st = str(tmp_path / "store")
    r = ingest(tmp_path, st)
    assert r.code == 0 and problems(r) == []
    rows = run_cli(
        "sql",
        "SELECT format, line, length(message) AS n FROM events ORDER BY format, line",
        "--store",
        st,
        "--format",
        "json",
    ).json()
    assert [(x["format"], x["line"]) for x in rows] == [
        ("jsonl", 1),
        ("jsonl", 2),
        ("jsonl", 3),
        ("text", 1),
        ("text", 2),
        ("text", 3),
    ]
    assert rows[1]["n"] == len(big)
    assert rows[4]["n"] == len(big)


def test_over_long_line_is_cut_and_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gascorr import parsers

    monkeypatch.setattr(parsers, "MAX_LINE_BYTES", 1024)
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 300)
    (tmp_path / "long.log").write_text(line(1) + "\n" + line(2, "é" * 5000) + "\n" + line(3) + "\n")
    st = str(tmp_path / "store")
    r = ingest(tmp_path / "long.log", st)
    assert problems(r) == [f"gascorr: {tmp_path}/long.log:2: a line longer than 1.0 KiB; its first 1.0 KiB are kept"]
    rows = run_cli("sql", "SELECT line, message FROM events ORDER BY line", "--store", st, "--format", "json").json()
    assert [x["line"] for x in rows] == [1, 2, 3]
    assert len(rows[1]["message"].encode()) <= 1024 and "\ufffd" not in rows[1]["message"]


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    st = str(tmp_path / "store")
    ingest(INPUTS / "crlf-no-final-newline.log", st)
    rows = run_cli("sql", "SELECT line, message FROM events ORDER BY line", "--store", st, "--format", "json").json()
    assert [x["message"] for x in rows] == [f"step {i} done" for i in range(1, 6)]


def test_copytruncate_nul_padding(tmp_path: Path) -> None:
    st = str(tmp_path / "store")
    ingest(INPUTS / "copytruncate.log", st)
    rows = run_cli(
        "sql", "SELECT line, message, ts FROM events ORDER BY line", "--store", st, "--format", "json"
    ).json()
    assert [x["message"] for x in rows] == [f"step {i} done" for i in range(1, 5)]
    assert all(x["ts"] for x in rows)


def test_corrupt_gzip_keeps_prefix_and_fingerprint_is_stable(tmp_path: Path) -> None:
    gz = tmp_path / "cut-half.log.gz"
    gz.write_bytes((INPUTS / "cut-half.log.gz").read_bytes())
    st = str(tmp_path / "store")
    ingest(gz, st)
    f = store.load(st).files[str(gz)]
    assert 900 < f.events < 2000
    assert f.notes and "cut or corrupt" in f.notes[0][1]
    # touched but unchanged: the fingerprint of the readable prefix matches, nothing is parsed
    os.utime(gz, (1e9, 1e9))
    again = ingest(gz, st)
    assert problems(again) == []
    g = store.load(st).files[str(gz)]
    assert (g.mtime, g.parquet, g.ingested_at) == (1e9, f.parquet, f.ingested_at)


# -- inputs made here -------------------------------------------------------------------------------


def _skip_if_root() -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")


def test_unreadable_file_and_directory(tmp_path: Path) -> None:
    _skip_if_root()
    (tmp_path / "ok.log").write_text(line(1) + "\n")
    secret = tmp_path / "secret.log"
    secret.write_text(line(2) + "\n")
    secret.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "inner.log").write_text(line(3) + "\n")
    locked.chmod(0)
    try:
        r = ingest(tmp_path, str(tmp_path / "store"))
    finally:
        locked.chmod(stat.S_IRWXU)
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert r.code == 2  # input it could not read, as grep -r; the readable file is ingested
    assert f"gascorr: {tmp_path}/secret.log: cannot read: permission denied" in problems(r)
    assert f"gascorr: {tmp_path}/locked: cannot read: permission denied" in problems(r)
    assert "1 file" in r.err


def test_permission_denied_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same messages, with EACCES provoked by hand (tests may run as root)."""
    (tmp_path / "ok.log").write_text(line(1) + "\n")
    (tmp_path / "secret.log").write_text(line(2) + "\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inner.log").write_text(line(3) + "\n")
    real_open, real_walk = open, os.walk

    def guarded_open(path: Any, *a: Any, **k: Any) -> Any:
        if str(path).endswith("secret.log"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    def guarded_walk(top: Any, onerror: Any = None, **k: Any) -> Any:
        for dirpath, dirnames, filenames in real_walk(top, onerror=onerror, **k):
            if dirpath.endswith("locked"):
                if onerror:
                    onerror(PermissionError(13, "Permission denied", dirpath))
                continue
            yield dirpath, dirnames, filenames

    monkeypatch.setattr(sources, "open", guarded_open, raising=False)
    monkeypatch.setattr(sources.os, "walk", guarded_walk)
    r = ingest(tmp_path, str(tmp_path / "store"))
    assert r.code == 2  # input it could not read, as grep -r; the readable file is ingested
    assert sorted(problems(r)) == [
        f"gascorr: {tmp_path}/locked: cannot read: permission denied",
        f"gascorr: {tmp_path}/secret.log: cannot read: permission denied",
    ]
    assert "ingested 1 file (1 event," in r.err


def test_symlink_loops_and_broken_links(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "app.log").write_text(line(1) + "\n")
    os.symlink("a.log", d / "b.log")
    os.symlink("b.log", d / "a.log")  # a -> b -> a
    os.symlink("self.log", d / "self.log")
    os.symlink("missing.log", d / "gone.log")
    os.symlink(".", d / "again")  # a directory link back to its own folder
    os.symlink(str(tmp_path), d / "up")  # ... and to an ancestor
    (tmp_path / "elsewhere").mkdir()
    os.symlink(str(tmp_path / "elsewhere"), d / "side")
    r = ingest(d, str(tmp_path / "store"))
    assert r.code == 0
    assert sorted(problems(r)) == sorted(
        [
            f"gascorr: {d}/a.log: skipped: a symbolic link loop",
            f"gascorr: {d}/b.log: skipped: a symbolic link loop",
            f"gascorr: {d}/self.log: skipped: a symbolic link loop",
            f"gascorr: {d}/gone.log: skipped: a broken symbolic link",
            f"gascorr: {d}/again: skipped: a symbolic link loop",
            f"gascorr: {d}/up: skipped: a symbolic link loop",
            f"gascorr: {d}/side: skipped: a symbolic link to a directory (not followed)",
        ]
    )
    assert "ingested 1 file (1 event," in r.err


def test_fifo_is_skipped_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(line(1) + "\n")
    os.mkfifo(tmp_path / "pipe.log")
    r = ingest(tmp_path, str(tmp_path / "store"))
    assert problems(r) == [f"gascorr: {tmp_path}/pipe.log: skipped: not a regular file"]
    assert r.code == 0


class _Changing:
    """A stream that runs `change()` on the file after its first read (a writer racing the reader)."""

    def __init__(self, inner: Any, change: Any) -> None:
        self.inner, self.change, self.reads = inner, change, 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.reads += 1
        if self.reads == 1:
            self.change()
        return data

    def __enter__(self) -> _Changing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("how", ["grows", "truncated"])
def test_file_changing_while_read(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gascorr import parsers

    monkeypatch.setattr(parsers, "CHUNK_BYTES", 4096)
    log = tmp_path / "live.log"
    log.write_text("".join(line(i) + "\n" for i in range(1, 301)))

    def change() -> None:
        if how == "grows":
            with open(log, "a") as f:
                f.write("".join(line(i) + "\n" for i in range(301, 401)))
        else:
            os.truncate(log, 5000)

    real = sources.Source.open
    state = {"armed": True}

    def racing_open(self: sources.Source) -> Any:
        stream = real(self)
        if state["armed"] and self.path == str(log):
            state["armed"] = False
            return _Changing(stream, change)
        return stream

    st = str(tmp_path / "store")
    monkeypatch.setattr(sources.Source, "open", racing_open)
    # _kind's first peek triggers nothing: arm on the parse's open
    monkeypatch.setattr("gascorr.ingest._kind", lambda src: "text")
    r = ingest(log, st)
    assert r.code == 0 and "Traceback" not in r.err
    first = next(iter(store.load(st).files.values()))
    assert first.lines > 0 and first.events >= first.lines - 1  # a cut last line may continue the one above
    # the next run sees the change and reads the file as it is now, whole
    monkeypatch.undo()
    ingest(log, st)
    now = next(iter(store.load(st).files.values()))
    want = 400 if how == "grows" else log.read_text().count("\n") + (0 if log.read_text().endswith("\n") else 1)
    assert now.lines == want
    assert now.events >= want - 1


# -- accounting -------------------------------------------------------------------------------------


def _accounting_inputs() -> list[Path]:
    out = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".har", ".jsonl"))
    if CORPUS.is_dir():
        out += sorted(p for p in (CORPUS / "har").rglob("*") if p.is_file())
        out += sorted(p for p in (CORPUS / "jsonl").rglob("*") if p.is_file())
    return out


def test_accounting_every_line_is_an_event_rejected_or_blank(tmp_path: Path) -> None:
    """For JSON lines and HAR (whose `lines` count records): events + rejected + blank = lines.

    Text files are checked by the text parser's own tests (continuation lines join events).
    """
    st = str(tmp_path / "store")
    paths = [str(p) for p in _accounting_inputs()]
    r = run_cli("ingest", *paths, str(INPUTS), "--store", st, "--format", "table", "--quiet")
    assert "Traceback" not in r.err
    m = store.load(st)
    checked = 0
    for f in m.files.values():
        if f.format in ("jsonl", "har"):
            assert f.events + f.rejected + f.blank == f.lines, f
            checked += 1
        elif f.format == "text":
            assert f.events + f.rejected + f.blank <= f.lines, f
    assert checked >= 8


# -- values Python's JSON decoder cannot take ---------------------------------------------------


GOOD = '{"ts": "2024-05-01T12:00:0%d Z", "msg": "good %d", "request_id": "r%d"}'


@pytest.mark.parametrize("batched", [False, True])
def test_json_line_nested_too_deep_is_rejected_alone(tmp_path: Path, batched: bool) -> None:
    """A record nested thousands of levels deep is one rejected line; the good lines around it
    (and a wide record of many shallow objects) are kept, alone or in a batch of small files."""
    logs = tmp_path / "logs"
    logs.mkdir()
    wide = json.dumps({"msg": "wide", "items": [{"x": i} for i in range(800)]})
    lines = [GOOD % (1, 1, 1), '{"a":' * 5000 + "1" + "}" * 5000, GOOD % (2, 2, 2), '{"b":[' * 3000 + "]}" * 3000]
    (logs / "deep.jsonl").write_text("\n".join([*lines, wide, '{"c":' * 400 + "1" + "}" * 400]) + "\n")
    if batched:
        (logs / "other.jsonl").write_text(GOOD % (3, 3, 3) + "\n")
    st = str(tmp_path / "store")
    r = ingest(logs if batched else logs / "deep.jsonl", st)
    assert problems(r) == [
        f"gascorr: {logs / 'deep.jsonl'}:2: rejected: a JSON object nested more than 500 levels deep",
        f"gascorr: {logs / 'deep.jsonl'}:4: rejected: a JSON object nested more than 500 levels deep",
    ]
    assert per_source(st)[str(logs / "deep.jsonl")] == {"lines": 6, "events": 4, "rejected": 2, "blank": 0}
    rows = run_cli("grep", "good", "--store", st, "-f", "json").json()
    assert [x["message"] for x in rows] == ["good 1", "good 2"] + (["good 3"] if batched else [])


def _har(entries: list[str]) -> str:
    return '{"log": {"version": "1.2", "entries": [\n' + ",\n".join(entries) + "\n]}}\n"


def _entry(i: int, url: str = "") -> str:
    return json.dumps(
        {
            "startedDateTime": f"2024-05-01T12:00:0{i}Z",
            "time": 3,
            "request": {"method": "GET", "url": url or f"https://shop.example/api/{i}", "headers": []},
            "response": {"status": 200, "statusText": "OK", "headers": []},
        }
    )


@pytest.mark.parametrize(
    ("first", "second", "urls"),
    [
        # a lone escape: the entry is kept with U+FFFD in its place, and so are the others
        ("1", "\\ud800x", ["1", "\ufffdx", "3"]),
        # `\\\\ud800` is the text `\\ud800`, no escape and no note; after it, a real lone
        # `\\udc00` must still be found, or DuckDB refuses the whole capture
        ("\\\\ud800", "\\\\ud800\\udc00", ["\\ud800", "\\ud800\ufffd", "3"]),
    ],
)
def test_har_entry_with_a_lone_surrogate_escape_is_kept(
    tmp_path: Path, first: str, second: str, urls: list[str]
) -> None:
    """`\\ud800` alone is valid JSON but no text: the entry keeps U+FFFD in its place (in
    `attrs` too), noted at its line; the entries around it are kept."""
    one = _entry(1).replace("/api/1", "/api/" + first)
    two = _entry(2).replace("/api/2", "/api/" + second)
    (tmp_path / "s.har").write_text(_har([one, two, _entry(3)]))
    st = str(tmp_path / "store")
    r = ingest(tmp_path / "s.har", st)
    assert problems(r) == [
        f"gascorr: {tmp_path / 's.har'}:3: a lone UTF-16 surrogate escape in HAR entry 2, read as U+FFFD"
    ]
    rows = run_cli("sql", "SELECT url, attrs FROM events ORDER BY line", "--store", st, "-f", "json").json()
    assert [x["url"] for x in rows] == ["https://shop.example/api/" + u for u in urls]
    assert json.loads(rows[1]["attrs"])["request"]["url"] == "https://shop.example/api/" + urls[1]


def test_har_entry_nested_too_deep_costs_only_itself(tmp_path: Path) -> None:
    deep = _entry(2).replace('"time": 3', '"time": 3, "_x": ' + "[" * 5000 + "]" * 5000)
    (tmp_path / "d.har").write_text(_har([_entry(1), deep, _entry(3)]))
    st = str(tmp_path / "store")
    r = ingest(tmp_path / "d.har", st)
    assert problems(r) == [f"gascorr: {tmp_path / 'd.har'}:3: rejected: HAR entry 2 is nested too deeply to read"]
    assert per_source(st)[str(tmp_path / "d.har")] == {"lines": 3, "events": 2, "rejected": 1, "blank": 0}


# -- Ctrl-C ---------------------------------------------------------------------------------------


def test_ctrl_c_during_a_query_of_the_ingest_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB answers Ctrl-C with an error of its own: the ingest stops with status 130 and
    commits nothing, instead of reporting the file as unreadable and going on."""
    import duckdb

    from gascorr import ingest as ingest_module

    def interrupted(*_: Any, **__: Any) -> Any:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(ingest_module, "ingest_source", interrupted)
    st = str(tmp_path / "store")
    r = run_cli("ingest", str(FIXTURES / "checkout"), "--store", st)
    assert r.code == 130 and "error" not in r.err and "cannot read" not in r.err, r.err
    assert not (Path(st) / "manifest.json").exists()


def test_file_that_cannot_be_read_at_all_is_listed_exits_2_and_is_tried_again(tmp_path: Path) -> None:
    """A zip member whose deflate stream is damaged from its start yields nothing: it is an
    input error (status 2, as grep's for a file it cannot read), `stats` lists it as
    `unreadable` with the reason, the good member is ingested, and the next run tries it again."""
    import io
    import zipfile

    buf = io.BytesIO()
    body = "".join(json.dumps({"msg": f"line {i}", "n": i}) + "\n" for i in range(2000))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.jsonl", body)
        z.writestr("b.jsonl", '{"msg": "good"}\n')
    data = bytearray(buf.getvalue())
    start = 30 + len("a.jsonl")  # after the member's local header
    for k in range(start + 5, start + 40):
        data[k] ^= 0x5A
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(bytes(data))
    st = str(tmp_path / "store")
    for _ in range(2):
        r = run_cli("ingest", str(bundle), "--store", st, "-f", "json")
        assert r.code == 2
        [said] = problems(r)  # zlib's words for the damage follow
        assert said.startswith(f"gascorr: {bundle}!/a.jsonl: cannot read: Error -3 while decompressing data: ")
        assert r.json()["unreadable"] == [f"{bundle}!/a.jsonl"]
    stats = run_cli("stats", "--store", st, "-f", "json").json()
    by_source = {f["source"]: f for f in stats["per_file"]}
    assert by_source[f"{bundle}!/a.jsonl"]["format"] == "unreadable"
    assert by_source[f"{bundle}!/a.jsonl"]["warnings"] == [said.split("a.jsonl: ", 1)[1]]
    assert by_source[f"{bundle}!/b.jsonl"]["events"] == 1


def test_utf16_and_utf32_logs_with_a_byte_order_mark_are_read_as_text(tmp_path: Path) -> None:
    """Windows PowerShell writes `>` redirections in UTF-16: such a file (plain, gzipped or
    in a zip) reads as the same events as its UTF-8 text; a code unit that is no text is
    U+FFFD; a file that grew is parsed again whole (its bytes cannot be read from the middle)."""
    import gzip
    import zipfile

    text = "".join(line(i, f"caf\u00e9 {i} \u2713") + "\r\n" for i in range(1, 4))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "ps.log").write_bytes(text.encode("utf-16"))  # little-endian, with its mark
    (logs / "be.log").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    (logs / "wide.log").write_bytes(text.encode("utf-32"))
    (logs / "ps2.log.gz").write_bytes(gzip.compress(text.encode("utf-16")))
    with zipfile.ZipFile(logs / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ps3.log", text.encode("utf-16"))
    lone = b"\x00\xd8"  # a UTF-16 high surrogate with no low one after it
    bad = '{"msg": "a'.encode("utf-16") + lone + 'b"}\n{"msg": "ok"}\n'.encode("utf-16-le")
    (logs / "bad.jsonl").write_bytes(bad)
    st = str(tmp_path / "store")
    r = ingest(logs, st)
    assert r.code == 0 and problems(r) == []
    q = "SELECT source, message, level FROM events ORDER BY source, line"
    by: dict[str, list[str]] = {}
    for x in run_cli("sql", q, "--store", st, "-f", "json").json():
        by.setdefault(Path(x["source"].split("!/")[-1]).name, []).append(x["message"])
        assert x["level"] == ("INFO" if x["source"].endswith(("log", "gz")) else None), x
    want = [f"caf\u00e9 {i} \u2713" for i in range(1, 4)]
    assert by == {n: want for n in ("be.log", "ps.log", "ps2.log.gz", "ps3.log", "wide.log")} | {
        "bad.jsonl": ["a\ufffdb", "ok"]
    }
    with (logs / "ps.log").open("ab") as f:
        f.write((line(4, "appended") + "\r\n").encode("utf-16-le"))  # no second mark
    r = ingest(logs / "ps.log", st)
    assert r.code == 0
    msgs = run_cli(
        "sql", "SELECT message FROM events WHERE source LIKE '%ps.log' ORDER BY line", "--store", st, "-f", "json"
    ).json()
    assert [x["message"] for x in msgs] == [*want, "appended"]


def test_har_records_are_named_by_place_and_a_non_list_is_said(tmp_path: Path) -> None:
    """In a minified capture every record is on line 1, so a rejected one is named by its
    place; `entries` that is not a list says so (it is not a capture without entries)."""
    doc = {"log": {"version": "1.2", "entries": [json.loads(_entry(1)), 7, "x", json.loads(_entry(2))]}}
    (tmp_path / "min.har").write_text(json.dumps(doc))
    (tmp_path / "odd.har").write_text(json.dumps({"log": {"version": "1.2", "pages": [], "entries": {"a": 1}}}))
    st = str(tmp_path / "store")
    r = ingest(tmp_path, st)
    assert problems(r) == [
        f"gascorr: {tmp_path / 'min.har'}:1: rejected: HAR entry 2 is not a JSON object",
        f"gascorr: {tmp_path / 'min.har'}:1: rejected: HAR entry 3 is not a JSON object",
        f"gascorr: {tmp_path / 'odd.har'}:1: rejected: `log.entries` is not a list of records, so none of it can be read",
    ]
    counts = per_source(st)
    assert counts[str(tmp_path / "min.har")] == {"lines": 4, "events": 2, "rejected": 2, "blank": 0}
    assert counts[str(tmp_path / "odd.har")] == {"lines": 1, "events": 0, "rejected": 1, "blank": 0}


def test_json_values_that_are_not_objects_are_rejected_whatever_their_kind(tmp_path: Path) -> None:
    """An array, a number, a string or a literal on a JSON-lines line is a record that is not
    an object: rejected with its line, even when such lines outnumber the objects, whose
    fields are read as usual."""
    p = tmp_path / "values.jsonl"
    objects = [GOOD % (1, 1, 1), GOOD % (2, 2, 2)]
    p.write_text("\n".join([objects[0], "[1, 2]", "42", '"text"', "null", "true", "-1.5e3", objects[1]]) + "\n")
    st = str(tmp_path / "store")
    r = ingest(p, st)
    assert problems(r) == [f"gascorr: {p}:{n}: rejected: a JSON value that is not an object" for n in range(2, 8)]
    rows = run_cli("sql", "SELECT line, message, request_id FROM events", "--store", st, "-f", "json").json()
    assert rows == [
        {"line": 1, "message": "good 1", "request_id": "r1"},
        {"line": 8, "message": "good 2", "request_id": "r2"},
    ]


def test_zip_archive_that_cannot_be_opened_is_an_input_error(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("app.log", line(1) + "\n")
    whole = (tmp_path / "a.zip").read_bytes()
    (tmp_path / "a.zip").write_bytes(whole[: len(whole) // 2])  # no central directory
    (tmp_path / "ok.log").write_text(line(2) + "\n")
    r = ingest(tmp_path, str(tmp_path / "store"))
    assert r.code == 2
    assert problems(r)[0].startswith(f"gascorr: {tmp_path}/a.zip: cannot read: not a readable zip archive")
    assert per_source(str(tmp_path / "store"))[str(tmp_path / "ok.log")]["events"] == 1


def test_cut_utf16_gzip_keeps_every_line_before_the_damage(tmp_path: Path) -> None:
    """Transcoding must not cost the bytes that decompressed before the cut: every complete
    line zlib can still give is an event, as for a UTF-8 file."""
    import gzip
    import zlib

    text = "".join(line(i, f"utf16 line {i:06d}") + "\n" for i in range(60_000))
    whole = gzip.compress(text.encode("utf-16"))
    cut = whole[: len(whole) // 2]
    (tmp_path / "ps.log.gz").write_bytes(cut)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    readable = d.decompress(cut)  # what any reader can get before the cut
    lines_before = readable[: len(readable) // 2 * 2].decode("utf-16", "replace").count("\n")
    st = str(tmp_path / "store")
    r = ingest(tmp_path / "ps.log.gz", st)
    assert "cut or corrupt" in r.err
    got = store.load(st).files[str(tmp_path / "ps.log.gz")].events
    assert lines_before - 1 <= got <= lines_before + 1  # the line the cut runs through may count


def test_json_string_holding_json_too_deep_for_python_costs_nothing(tmp_path: Path) -> None:
    """A string value that is itself JSON nested beyond Python's reach (seen when the sample
    looks for JSON inside strings) is just a string."""
    payload = '{"a": ' + "[" * 1200 + "]" * 1200 + "}"
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"msg": "x", "payload": payload}) + "\n" + GOOD % (1, 1, 1) + "\n")
    st = str(tmp_path / "store")
    r = ingest(p, st)
    assert r.code == 0 and problems(r) == []
    assert per_source(st)[str(p)] == {"lines": 2, "events": 2, "rejected": 0, "blank": 0}


def test_otlp_line_too_deep_for_python_is_rejected_alone(tmp_path: Path) -> None:
    from test_jsonl import otlp_logs

    p = tmp_path / "otel.jsonl"
    deep = '{"resourceLogs": ' + "[" * 5000 + "]" * 5000 + "}"
    p.write_text(json.dumps(otlp_logs("5B8EFFF798038103D269B633813FC60C")) + "\n" + deep + "\n")
    st = str(tmp_path / "store")
    r = ingest(p, st)
    assert problems(r) == [f"gascorr: {p}:2: rejected: JSON nested too deeply to read"]
    assert per_source(st)[str(p)]["events"] == 1


def test_ctrl_c_during_a_batch_of_small_files_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    from gascorr.parsers import jsonl

    def interrupted(*_: Any, **__: Any) -> Any:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(jsonl, "parse_batch", interrupted)
    for i in (1, 2):
        (tmp_path / f"s{i}.jsonl").write_text(GOOD % (i, i, i) + "\n")
    st = str(tmp_path / "store")
    r = run_cli("ingest", str(tmp_path), "--store", st)
    assert r.code == 130 and "cannot read" not in r.err, r.err
    assert not (Path(st) / "manifest.json").exists()


def test_ingest_that_finds_nothing_still_makes_the_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    st = str(tmp_path / "store")
    assert ingest(tmp_path / "empty", st).code == 1  # nothing found
    r = run_cli("stats", "--store", st, "-f", "json")
    assert r.code == 1 and r.json()["files"] == 0  # an empty store, not "no store"

"""Small JSON-lines files are parsed several to a statement (`jsonl.parse_batch`): the store
must be exactly what parsing each file alone gives, for every kind of file a folder holds."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, run_cli

from gascorr import store
from gascorr.parsers import jsonl


def _folder(d: Path) -> Path:
    """Small JSON-lines files of many producers, shapes and faults."""
    d.mkdir()
    for f in [*(FIXTURES / "dialects").iterdir(), *(FIXTURES / "checkout").glob("*.jsonl")]:
        if f.suffix in (".json", ".jsonl") or f.name.startswith("docker-json"):
            shutil.copy(f, d / f.name)
    llm = d / "llm"
    shutil.copytree(FIXTURES / "cycling-ai" / "logs" / "llm_interactions", llm)
    if (CORPUS / "jsonl").is_dir():
        for f in sorted((CORPUS / "jsonl").rglob("*")):
            if (
                f.is_file()
                and f.stat().st_size <= jsonl.BATCH_FILE_BYTES
                and f.suffix in (".json", ".jsonl", ".ndjson")
            ):
                shutil.copy(f, d / f"corpus-{f.parent.name}-{f.name}")
    rec = lambda i, **kw: json.dumps({"ts": f"2026-01-31T10:00:{i:02d}Z", "level": "info", "msg": f"m{i}", **kw})  # noqa: E731
    (d / "faults.jsonl").write_bytes(
        "\n".join([rec(1, request_id="r-1"), "{not json", "", "[1, 2]", rec(2, session_id="s-1")]).encode()
        + b"\n"
        + rec(3).encode().replace(b"m3", b"m\xff3")
        + b"\n\n"
    )
    (d / "mixed-text.jsonl").write_text(rec(1) + "\nplain text line request_id=r-2\n" + rec(2) + "\n")
    (d / "empty.jsonl").write_text("")
    (d / "blank.jsonl").write_text("\n\n  \n")
    (d / "other-shape.jsonl").write_text(
        "\n".join(
            json.dumps({"@timestamp": f"2026-01-31T10:00:0{i}Z", "log": {"level": "WARN"}, "x": i}) for i in range(3)
        )
        + "\n"
    )
    with gzip.open(d / "zipped.jsonl.gz", "wt") as g:
        g.write("\n".join(rec(i, trace_id="0af7651916cd43dd8448eb211c80319c") for i in range(5)) + "\n")
    (d / "session_20260131_100000.jsonl").write_text(
        "\n".join(
            json.dumps({"timestamp": "2026-01-31T10:00:00Z", "model": "m", "messages": [], "step": i}) for i in range(4)
        )
        + "\n"
    )
    return d


def _store(tmp: Path, logs: Path, name: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], Any]:
    st = tmp / name
    r = run_cli("ingest", str(logs), "--store", str(st), "--quiet")
    assert r.code == 0, r.err
    ev = run_cli("sql", "SELECT * FROM events ORDER BY ALL", "--store", str(st), "--format", "json").json()
    sessions = run_cli("sessions", "--store", str(st), "--format", "json").json()
    skip = {"parquet", "edges", "ingested_at", "key", "source"}
    entries = {
        f.source.replace(str(logs), ""): {k: v for k, v in dataclasses.asdict(f).items() if k not in skip}
        for f in store.load(str(st)).files.values()
    }
    named = {rel for f in store.load(str(st)).files.values() for pair in f.pairs() for rel in pair if rel}
    on_disk = {f"events/{p.name}" for p in (st / "events").iterdir()}
    assert on_disk == named, "files in the store that the manifest does not name"
    return (
        [{k: v for k, v in e.items() if k != "source"} | {"src": e["source"].replace(str(logs), "")} for e in ev],
        entries,
        sessions,
    )


def test_batched_small_files_equal_each_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = _folder(tmp_path / "logs")
    batched: list[int] = []
    real = jsonl.parse_batch

    def counting(con: Any, items: Any) -> Any:
        out = real(con, items)
        batched.append(len(out))
        return out

    monkeypatch.setattr(jsonl, "parse_batch", counting)
    together = _store(tmp_path, logs, "together")
    assert sum(batched) >= 15, "most of the small files should have been parsed together"
    monkeypatch.setattr(jsonl, "BATCH_FILE_BYTES", 0)
    batched.clear()
    alone = _store(tmp_path, logs, "alone")
    assert not batched
    ev_t, files_t, sessions_t = together
    ev_a, files_a, sessions_a = alone
    assert files_t == files_a
    assert len(ev_t) == len(ev_a) > 100
    for a, b in zip(ev_t, ev_a, strict=True):
        assert a == b
    assert sessions_t == sessions_a
    faults = files_t["/faults.jsonl"]
    assert (faults["events"], faults["blank"], faults["rejected"]) == (3, 2, 2)
    assert [n for n, _ in faults["rejects"]] == [2, 4]
    assert any("invalid UTF-8" in why for _, why in faults["notes"])


def test_a_failing_batch_parses_each_file_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = _folder(tmp_path / "logs")
    expected = _store(tmp_path, logs, "expected")

    def broken(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("a bug in the batch")

    monkeypatch.setattr(jsonl, "_batch_objects", broken)
    got = _store(tmp_path, logs, "fallback")
    assert got == expected


def test_debug_shows_a_failing_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --debug a bug in the batch is raised, not worked around file by file."""
    logs = _folder(tmp_path / "logs")

    def broken(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("a bug in the batch")

    monkeypatch.setattr(jsonl, "_batch_objects", broken)
    with pytest.raises(RuntimeError, match="a bug in the batch"):
        run_cli("ingest", str(logs), "--store", str(tmp_path / "st"), "--quiet", "--debug")

"""Log content and command-line values must not act on the user's shell, disk or terminal.

- ids and patterns are bound parameters: an injection finds nothing (exit 1);
- the non-`sql` commands cannot reach files or URLs beyond the store;
- zip members are read in memory: `../` names write nothing;
- decompression is bounded: a bomb is refused quickly with one clear line;
- the store is created with the user's umask;
- control characters in names are shown escaped in gascorr's messages.
"""

from __future__ import annotations

import os
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

from gascorr import sources

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def checkout_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    st = str(tmp_path_factory.mktemp("sec") / "store")
    r = run_cli("ingest", str(FIXTURES / "checkout"), "--store", st, "--quiet")
    assert r.code == 0, r.err
    return st


INJECTIONS = [
    "x' OR '1'='1",
    'x" OR "1"="1',
    "' OR 1=1 --",
    "req-002' OR session_id IS NOT NULL OR '",
    "'; DROP TABLE events; --",
    "' UNION SELECT * FROM read_text('/etc/passwd') --",
    "'||(SELECT content FROM read_text('/etc/passwd'))||'",
]


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize(
    "command",
    [
        ["trace", "--session"],
        ["trace", "--request"],
        ["trace", "--trace"],
        ["requests", "--session"],
        ["sessions", "--service"],
        ["grep"],
        ["grep", "-i"],
        ["grep", "--count"],
    ],
    ids=" ".join,
)
def test_injected_values_find_nothing(command: list[str], value: str, checkout_store: str) -> None:
    r = run_cli(*command, value, "--store", checkout_store, "--format", "json")
    assert r.code == 1, (r.out, r.err)
    assert "root:" not in r.out + r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize(
    "field",
    [
        "message') OR true --",
        "x\") || read_text('/etc/passwd') --",
        "read_text('/etc/passwd')",
        "$.a' || (SELECT content FROM read_text('/etc/passwd')) || '",
    ],
)
def test_grep_field_cannot_reach_files(field: str, checkout_store: str) -> None:
    r = run_cli("grep", "--field", field, "root", "--store", checkout_store, "--format", "json")
    assert r.code == 1, (r.out, r.err)
    assert "root:" not in r.out


def test_the_store_still_answers_after_the_injections(checkout_store: str) -> None:
    r = run_cli("trace", "--request", "req-002", "--store", checkout_store, "--format", "json")
    assert r.code == 0


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/gascorr-escaped.csv'",
        "ATTACH '/tmp/gascorr-escaped.duckdb'",
        "SET enable_external_access = true",
        "INSTALL httpfs",
    ],
)
def test_non_sql_commands_open_a_closed_store(sql: str, checkout_store: str) -> None:
    """The connection the query commands use reads the store and nothing else."""
    from gascorr.query import QueryError, Store

    s = Store.open(checkout_store)
    with pytest.raises(QueryError):
        s.q(sql)
    assert not os.path.exists("/tmp/gascorr-escaped.csv")
    assert not os.path.exists("/tmp/gascorr-escaped.duckdb")
    assert s.q("SELECT count(*) AS n FROM events").to_pylist()[0]["n"] > 0


# -- archives ----------------------------------------------------------------------------------------


def test_zip_member_names_cannot_write_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = b"2024-05-01 12:00:00,000 - app - INFO - from the archive\n"
    archive = tmp_path / "work" / "deep" / "artifacts.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for name in (
            "../../escaped.log",
            "../../../../../../tmp/gascorr-zip-slip.log",
            "/abs/escaped.log",
            "ok/app.log",
        ):
            zf.writestr(name, line)
        link = zipfile.ZipInfo("link.log")
        link.external_attr = 0o120777 << 16  # a symbolic link member pointing at /etc/passwd
        zf.writestr(link, b"/etc/passwd")
    before = sorted(p for p in tmp_path.rglob("*"))
    monkeypatch.chdir(archive.parent)
    st = tmp_path / "store"
    r = run_cli("ingest", "artifacts.zip", "--store", str(st), "--format", "json")
    assert r.code == 0, r.err
    after = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(st))
    assert after == before
    assert not os.path.exists("/tmp/gascorr-zip-slip.log")
    rows = run_cli("sql", "SELECT source, message FROM events ORDER BY source", "--store", str(st), "--format", "json")
    got = {(x["source"], x["message"]) for x in rows.json()}
    assert ("artifacts.zip!/../../escaped.log", "from the archive") in got
    assert ("artifacts.zip!/ok/app.log", "from the archive") in got
    # the link member is its bytes ("/etc/passwd"), never followed
    assert ("artifacts.zip!/link.log", "/etc/passwd") in got
    assert not any("root:" in m for _, m in got)


def _deflate_zeros(mib: int) -> bytes:
    """Raw deflate of `mib` MiB of zeros, built in milliseconds: after a full flush the
    compressor starts afresh, so every further MiB compresses to the same bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(MiB)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(block) + c.flush(zlib.Z_FINISH)
    return first + again * (mib - 2) + last


def _crc_zeros(mib: int) -> int:
    crc, block = 0, bytes(MiB)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return crc


def gzip_bomb(path: Path, mib: int = 200) -> None:
    """A real gzip of `mib` MiB of zeros (about 200 KiB for 200 MiB)."""
    header = b"\x1f\x8b\x08\x00" + b"\x00" * 4 + b"\x02\xff"
    trailer = struct.pack("<II", _crc_zeros(mib), (mib * MiB) & 0xFFFFFFFF)
    path.write_bytes(header + _deflate_zeros(mib) + trailer)


def zip_bomb(path: Path, mib: int = 200) -> None:
    """A real zip whose one member is `mib` MiB of zeros, deflated."""
    data, crc, name = _deflate_zeros(mib), _crc_zeros(mib), b"logs/app.log"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), mib * MiB, len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), mib * MiB, len(name), 0, 0, 0, 0, 0, 0
    )
    body = local + name + data
    cd = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), len(body), 0)
    path.write_bytes(body + cd + end)


def test_bomb_helpers_make_real_archives(tmp_path: Path) -> None:
    import gzip

    gzip_bomb(tmp_path / "b.gz", 3)
    with gzip.open(tmp_path / "b.gz") as g:
        assert g.read() == bytes(3 * MiB)
    zip_bomb(tmp_path / "b.zip", 3)
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        assert zf.read("logs/app.log") == bytes(3 * MiB)


def test_gzip_bomb_is_refused_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "in" / "app.log.gz"
    bomb.parent.mkdir()
    gzip_bomb(bomb)
    assert bomb.stat().st_size < 300 * 1024
    (tmp_path / "in" / "ok.log").write_text("2024-05-01 12:00:00,000 - app - INFO - fine\n")
    started = time.monotonic()
    r = run_cli("ingest", str(tmp_path / "in"), "--store", str(tmp_path / "store"), "--format", "table")
    assert time.monotonic() - started < 20
    assert r.code == 0
    msgs = r.err.splitlines()
    assert msgs[0].startswith(f"gascorr: {bomb}: refused: it inflates to more than 16")
    assert msgs[0].endswith(f"compressed (more than {sources.MAX_RATIO} times); a likely decompression bomb")
    assert "ingested 1 file (1 event," in msgs[-1]


def test_zip_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = tmp_path / "bundle.zip"
    zip_bomb(bomb)
    r = run_cli("ingest", str(bomb), "--store", str(tmp_path / "store"), "--format", "table")
    assert r.code == 0
    assert re.fullmatch(
        rf"gascorr: {re.escape(str(bomb))}!/logs/app\.log: refused: it declares 200 MiB from \d+ KiB compressed "
        rf"\(more than {sources.MAX_RATIO} times\); a likely decompression bomb",
        r.err.splitlines()[0],
    )


def test_text_bomb_stops_before_any_parsing(tmp_path: Path) -> None:
    """A bomb of short lines would take minutes to parse: it is stopped within its first
    EARLY_BYTES, before the parser sees a line."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"a\n" * (MiB // 2)
    data = b"".join(c.compress(block) for _ in range(64)) + c.flush()
    (tmp_path / "lines.log.gz").write_bytes(data)
    started = time.monotonic()
    r = run_cli("ingest", str(tmp_path / "lines.log.gz"), "--store", str(tmp_path / "store"), "--format", "table")
    assert time.monotonic() - started < 20
    assert "refused: it inflates to more than" in r.err
    assert "0 events" in r.err


def test_compressible_but_real_logs_are_not_bombs(tmp_path: Path) -> None:
    import gzip

    lines = "".join(
        f"2024-05-01 12:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d} - app - INFO - request_id=req-{i} ok\n"
        for i in range(300_000)
    )
    (tmp_path / "big.log.gz").write_bytes(gzip.compress(lines.encode(), 9))
    src = sources.find_sources([str(tmp_path / "big.log.gz")])[0]
    with src.open() as f:
        n = 0
        while chunk := f.read(MiB):
            n += len(chunk)
    assert n == len(lines)


# -- the store on disk -------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_store_files_follow_the_umask(umask: int, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.log").write_text("2024-05-01 12:00:00,000 - app - INFO - request_id=r1 fine\n")
    old = os.umask(umask)
    try:
        r = run_cli("ingest", str(tmp_path / "in"), "--store", str(tmp_path / "store"))
    finally:
        os.umask(old)
    assert r.code == 0
    paths = [tmp_path / "store", *(tmp_path / "store").rglob("*")]
    assert len(paths) > 4
    for p in paths:
        mode = p.stat().st_mode & 0o777
        assert mode & umask == 0, f"{p}: {oct(mode)}"
        assert not mode & 0o002, f"{p} is world-writable"


# -- terminals ---------------------------------------------------------------------------------------


def test_control_characters_in_names_are_escaped_in_messages(tmp_path: Path) -> None:
    evil = tmp_path / "app\x1b]0;pwned\x07\x1b[2J.log"
    evil.write_bytes(b"2024-05-01 12:00:00,000 - app - INFO - caf\xe9\n")
    r = run_cli("ingest", str(tmp_path), "--store", str(tmp_path / "store"), "--format", "table")
    assert r.code == 0
    first = r.err.splitlines()[0]
    assert "\x1b" not in first and "\x07" not in first
    assert first == f"gascorr: {tmp_path}/app\\x1b]0;pwned\\x07\\x1b[2J.log:1: " + (
        "invalid UTF-8 in this line, decoded with U+FFFD; raw bytes in attrs._raw_b64"
    )


def test_control_characters_in_names_are_escaped_on_a_terminal(tmp_path: Path) -> None:
    """A source name is data: `grep` on a terminal shows its escapes as text (no colours, no
    window title); `grep -l` into a pipe gives the names as they are, as grep does."""
    evil = tmp_path / "svc\x1b[31mRED\x1b]0;title\x07.jsonl"
    evil.write_text('{"msg": "found it"}\n')
    st = str(tmp_path / "store")
    assert run_cli("ingest", str(tmp_path), "--store", st, "--quiet").code == 0
    for args in (["grep", "found"], ["grep", "found", "-f", "table"], ["grep", "-l", "found"]):
        r = run_cli(*args, "--store", st, "--color", "never", "--width", "300", tty=True)
        assert r.code == 0 and "\x1b" not in r.out and "\x07" not in r.out, args
        assert "svc\\x1b[31mRED\\x1b]0;title\\x07.jsonl" in r.out, args
    assert run_cli("grep", "-l", "found", "--store", st).out == f"{evil}\n"


def test_no_control_characters_reach_stderr(tmp_path: Path) -> None:
    evil = tmp_path / "svc\x1b[31m.jsonl"
    evil.write_text('{"msg": "ok"}\n{broken\n')
    r = run_cli("ingest", str(tmp_path), "--store", str(tmp_path / "store"), "--format", "table")
    assert "\x1b" not in r.err

"""A zip or gzip of log files yields exactly the events of the plain files."""

from __future__ import annotations

import gzip
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CORPUS, run_cli

from gascorr.sources import member_written

PICK = [
    "text/loghub/OpenStack_2k.log",
    "text/loghub/HDFS_2k_head1000.log",
    "text/lnav/logfile_syslog.0",
    "text/plaso/apache_access.log",
    "jsonl/humanlog/node-pino_head150.jsonl",
    "jsonl/plaso/gcp_logging.jsonl",
    "jsonl/otlp/opentelemetry-proto_examples_trace.json",
    "har/mitmproxy/chrome.har",
    "har/playwright/har-redirect.har",
]
COLS = "line, ts, level, kind, service, message, session_id, request_id, trace_id, span_id, method, url, status"


def _events(store: Path, prefix: str) -> list[tuple[object, ...]]:
    r = run_cli(
        "sql",
        f"SELECT regexp_replace(source, '^.*{prefix}', '') AS rel, {COLS} FROM events ORDER BY ALL",
        "--store",
        str(store),
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    return [tuple(row.values()) for row in r.json()]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")
def test_zip_and_gzip_yield_the_events_of_the_plain_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    for rel in PICK:
        dst = plain / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CORPUS / rel, dst)
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in PICK:
            zf.write(plain / rel, f"plain/{rel}")
    gz = tmp_path / "gz"
    for rel in PICK:
        dst = gz / "plain" / (rel + ".gz")
        dst.parent.mkdir(parents=True, exist_ok=True)
        with open(plain / rel, "rb") as src, gzip.open(dst, "wb") as out:
            shutil.copyfileobj(src, out)

    for name, path in (("p", plain), ("z", tmp_path / "bundle.zip"), ("g", gz)):
        r = run_cli("ingest", str(path), "--store", str(tmp_path / name), "-q", "-f", "json")
        assert r.code == 0, r.err
        assert r.json()["parsed"] == len(PICK)
    want = _events(tmp_path / "p", "plain/")
    assert len(want) > 3000
    assert _events(tmp_path / "z", "plain/") == want
    got_gz = [(str(row[0]).removesuffix(".gz"), *row[1:]) for row in _events(tmp_path / "g", "plain/")]
    # a .gz file's service comes from its name without `.gz`, so everything matches
    assert sorted(got_gz, key=repr) == sorted(want, key=repr)


def _stamp(when: str) -> float:
    return datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()


def test_times_without_year_or_date_are_completed_from_the_members_own_time(tmp_path: Path) -> None:
    """A CI artifact is zipped, then downloaded days or a year later: the archive's mtime is
    the download, the member's entry keeps when the log was written."""
    bundle = tmp_path / "artifacts.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        # written on 2023-02-10; no extended timestamp, so the DOS date and time count
        zf.writestr(zipfile.ZipInfo("syslog", date_time=(2023, 2, 10, 12, 0, 0)), "Feb 10 11:00:00 h sshd[1]: x\n")
        zf.writestr(
            zipfile.ZipInfo("app.log", date_time=(2024, 3, 1, 12, 0, 0)),
            "11:59:00.000 [main] INFO  com.acme.App - ready\n",
        )
        # the DOS epoch: no time recorded, the archive's mtime stands in
        zf.writestr(zipfile.ZipInfo("old.log", date_time=(1980, 1, 1, 0, 0, 0)), "Mar  1 10:00:00 h cron[2]: y\n")
    downloaded = _stamp("2024-03-08T06:00:00")
    os.utime(bundle, (downloaded, downloaded))
    r = run_cli("ingest", str(bundle), "--store", str(tmp_path / "s"), "-q")
    assert r.code == 0, r.err
    r = run_cli(
        "sql",
        "SELECT regexp_replace(source, '^.*!/', '') AS m, strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts FROM events ORDER BY m",
        "--store",
        str(tmp_path / "s"),
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    assert r.json() == [
        {"m": "app.log", "ts": "2024-03-01T11:59:00"},  # not the download's day, 2024-03-08
        {"m": "old.log", "ts": "2024-03-01T10:00:00"},
        {"m": "syslog", "ts": "2023-02-10T11:00:00"},  # not 2024, the download's year
    ]


def test_a_members_extended_timestamp_is_its_utc_write_time() -> None:
    info = zipfile.ZipInfo("a.log", date_time=(2024, 3, 1, 13, 0, 0))  # local time of some zone
    written = int(_stamp("2024-03-01T12:00:00"))
    info.extra = b"\x0a\x00\x04\x00abcd" + b"\x55\x54\x05\x00\x01" + written.to_bytes(4, "little")
    assert member_written(info) == written
    info.extra = b"\x55\x54\x01\x00\x00"  # flags without a modification time
    assert member_written(info) == datetime(2024, 3, 1, 13, 0, 0)  # zip's own: read in --tz
    assert member_written(zipfile.ZipInfo("b.log", date_time=(1980, 1, 1, 0, 0, 0))) is None


def test_a_rewritten_archive_replaces_its_members(tmp_path: Path) -> None:
    """Members gone from an archive read again lose their events and links; an archive
    that cannot be read any more keeps what it had."""
    bundle = tmp_path / "bundle.zip"
    app = "2024-03-07 12:00:00,000 - app - INFO - paid session_id=Z1 request_id=r1\n"
    sys_ = "2024-03-07 12:00:01,000 - sys - INFO - up request_id=r9\n"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("logs/app.log", app)
        zf.writestr("logs/sys.log", sys_)
    st = str(tmp_path / "s")
    assert run_cli("ingest", str(bundle), "--store", st, "-q").code == 0
    assert run_cli("trace", "--request", "r1", "--store", st, "-f", "json").code == 0
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("logs/sys.log", sys_ + "2024-03-07 12:00:02,000 - sys - INFO - again request_id=r9\n")
    r = run_cli("ingest", str(bundle), "--store", st)
    assert r.code == 0, r.err
    assert "bundle.zip!/logs/app.log: no longer in its archive" in r.err
    sources = run_cli("sql", "SELECT DISTINCT source FROM events", "--store", st, "-f", "json").json()
    assert [Path(row["source"]).name for row in sources] == ["sys.log"]
    assert run_cli("trace", "--request", "r1", "--store", st, "-f", "json").code == 1
    assert run_cli("trace", "--session", "Z1", "--store", st, "-f", "json").code == 1
    stats = run_cli("stats", "--store", st, "-f", "json").json()
    assert [Path(f["source"]).name for f in stats["per_file"]] == ["sys.log"]
    # a directory named like a member's path holds plain files, not members
    odd = tmp_path / "bundle.zip!" / "logs"
    odd.mkdir(parents=True)
    (odd / "plain.log").write_text("2024-03-07 12:00:03,000 - x - INFO - plain request_id=r9\n")
    assert run_cli("ingest", str(tmp_path / "bundle.zip!"), "--store", st, "-q").code == 0
    r = run_cli("ingest", str(bundle), "--store", st)
    assert r.code == 0 and "plain.log" not in r.err, r.err
    assert len(run_cli("trace", "--request", "r9", "--store", st, "-f", "json").json()["events"]) == 3
    bundle.write_bytes(b"PK\x03\x04 not an archive any more")
    r = run_cli("ingest", str(bundle), "--store", st)
    assert r.code == 2  # an input error, and the events it had stay
    assert len(run_cli("trace", "--request", "r9", "--store", st, "-f", "json").json()["events"]) == 3

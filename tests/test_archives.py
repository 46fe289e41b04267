"""A zip or gzip of log files yields exactly the events of the plain files."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import CORPUS, run_cli

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

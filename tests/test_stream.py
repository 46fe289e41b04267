"""NDJSON and JSON lists (`sessions`, `requests`, `grep`, `sql`) are streamed: rows come from
DuckDB in Arrow record batches and each batch is written and flushed before the next one is
fetched. Checked at the Python level with a fake reader (no timing), on a real store, and
through a pipe that closes early.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import FIXTURES, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from gascorr.render import jsonout
from gascorr.timeline import RawJSON, event_doc, row_batches

CHECKOUT = str(FIXTURES / "checkout")


class Recorder(io.StringIO):
    """A stdout that remembers what had been flushed when."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed = ""

    def flush(self) -> None:
        self.flushed = self.getvalue()


def fake_reader(out: Recorder, seen: list[str], batches: int = 3) -> Iterator[pa.RecordBatch]:
    """Record batches of 2 rows; before handing out each batch after the first, note what
    had reached stdout (flushed) by then."""
    for b in range(batches):
        if b:
            seen.append(out.flushed)
        yield pa.RecordBatch.from_pylist([{"session_id": f"s{b}-{i}", "errors": None} for i in range(2)])


@pytest.mark.parametrize("writer", [jsonout.write_ndjson_batches, jsonout.write_array_batches])
def test_each_batch_is_flushed_before_the_next_is_fetched(writer: Any) -> None:
    out = Recorder()
    seen: list[str] = []
    n = writer(out, row_batches(fake_reader(out, seen)))
    assert n == 6
    # when the 2nd batch was fetched, the 1st batch's rows were out; when the 3rd, the 2nd's
    assert "s0-1" in seen[0] and "s1-0" not in seen[0]
    assert "s1-1" in seen[1] and "s2-0" not in seen[1]


def test_streamed_output_is_byte_for_byte_the_whole_output() -> None:
    rows = [{"b": 1, "a": None, "t": "x\ny", "l": [], "o": {"k": [1, {}]}}, {"b": 2, "a": "é", "t": "", "l": [3]}]
    batches = [rows[:1], [], rows[1:]]
    nd, arr = io.StringIO(), io.StringIO()
    jsonout.write_ndjson_batches(nd, batches)
    jsonout.write_array_batches(arr, batches)
    assert nd.getvalue() == "".join(jsonout.dumps(r, indent=None) + "\n" for r in rows)
    assert arr.getvalue() == jsonout.dumps(rows) + "\n"
    empty = io.StringIO()
    assert jsonout.write_array_batches(empty, [[], []]) == 0 and empty.getvalue() == "[]\n"


def test_grep_rows_come_from_duckdb_in_batches(cli, store: str) -> None:  # type: ignore[no-untyped-def]
    from gascorr import query

    cli("ingest", CHECKOUT, "--quiet")
    s = query.Store.open(store)
    try:
        result = query.grep(s, "")  # every event
        batches = list(result.batches(rows=4))
        assert len(batches) > 1 and all(b.num_rows <= 4 for b in batches)
        streamed = [event_doc(r) for rows in row_batches(batches) for r in rows]
        assert streamed == [event_doc(r) for r in result.to_pylist()]
    finally:
        s.con.close()


@pytest.mark.parametrize(
    "args",
    [["sessions"], ["requests"], ["requests", "--by", "endpoint"], ["grep", "payment"], ["sql", "SELECT 1 AS x"]],
)
def test_ndjson_lines_are_the_json_array(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    arr = cli(*args, CHECKOUT, "-f", "json", "--quiet")
    nd = cli(*args, "-f", "ndjson")
    assert arr.code == nd.code == 0, (arr.err, nd.err)
    assert [list(r) for r in nd.ndjson()] == [list(r) for r in arr.json()]  # same keys, same order
    assert nd.ndjson() == arr.json()


def test_a_query_error_while_streaming_is_one_line_and_no_output(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("sql", "SELECT CAST('x' || range AS INTEGER) FROM range(10)", "-f", "ndjson")
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("gascorr: ") and "Traceback" not in r.err and "internal error" not in r.err


def test_head_closes_a_long_ndjson_stream_quietly(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    line = (
        '{{"ts": "2026-01-31T10:00:{s:02d}.{ms:03d}Z", "level": "INFO", "session_id": "s{k}", "msg": "tick {i} {pad}"}}'
    )
    (logs / "app.jsonl").write_text(
        "\n".join(line.format(s=i // 1000 % 60, ms=i % 1000, k=i % 50, i=i, pad="x" * 200) for i in range(20_000))
    )
    for args in ("grep tick -f ndjson", "grep tick -f json", "sessions -f ndjson"):
        cmd = f"{sys.executable} -m gascorr {args} {logs} --store {tmp_path / 's'} --quiet | head -1"
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0, (args, p.stderr)
        assert p.stdout.strip() and "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr
    first = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f"{sys.executable} -m gascorr grep tick -f ndjson --store {tmp_path / 's'} | head -1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert json.loads(first.stdout)["message"].startswith("tick 0 ")


def test_stored_attrs_are_written_as_they_are_even_beside_the_marker() -> None:
    """An event's attrs text goes out unchanged; a message that happens to hold the writer's
    internal marker still gives the same, valid JSON."""
    attrs = '{"b":[1,2],"a":"x\\"y"}'
    for message in ("plain", jsonout._MARK, f"a {jsonout._MARK} b"):
        doc = {"message": message, "attrs": RawJSON(attrs), "n": 1}
        text = jsonout.dumps(doc, indent=None)
        assert json.loads(text) == {"message": message, "attrs": {"b": [1, 2], "a": 'x"y'}, "n": 1}
        if message == "plain":
            assert attrs in text
    layout = jsonout.dumps({"events": [{"attrs": RawJSON(attrs)}, {"attrs": RawJSON("{}")}]})
    assert json.loads(layout) == {"events": [{"attrs": {"b": [1, 2], "a": 'x"y'}}, {"attrs": {}}]}


_TEXT = st.one_of(
    st.text(max_size=12), st.sampled_from([jsonout._MARK, jsonout._NEXT, f"x{jsonout._NEXT}", ", " + jsonout._NEXT])
)
_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_RAW = st.builds(lambda v: RawJSON(json.dumps(v)), st.dictionaries(_TEXT, st.one_of(st.integers(), _TEXT), max_size=3))


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(st.one_of(_VALUE, _RAW, st.dictionaries(_TEXT, st.one_of(_VALUE, _RAW), max_size=4)), max_size=6))
def test_a_list_is_laid_out_as_each_of_its_items_alone(docs: list[Any]) -> None:
    """The writer encodes a document's lists (a trace's events) in one call of the encoder:
    each item's text is the one it has alone, whatever markers or NaNs the values hold."""
    assert jsonout._compact_each(docs) == [jsonout._compact(d) for d in docs]
    if docs:
        text = jsonout.dumps({"events": docs})
        assert text.count("\n") == len(docs) + 3  # one item per line
        back = json.loads(text)["events"]
        assert len(back) == len(docs)

"""Property tests: the reading layer and the parsers never raise and never drop a valid line,
whatever bytes they are given (hypothesis; bounded to run in seconds — `bench/fuzz.py` is the
long run).
"""

from __future__ import annotations

import io
import json
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gascorr import parsers, sources
from gascorr.parsers import ParseContext, read_chunks
from gascorr.schema import conform

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# the SQL parsers cost a DuckDB bind per file: fewer examples keep this file under a minute
SQL_SETTINGS = settings(SETTINGS, max_examples=20)
WORK = Path(tempfile.mkdtemp(prefix="gascorr-props-"))


@pytest.fixture(scope="module")
def con() -> Any:
    from gascorr.engine import connect

    c = connect(threads=1)
    yield c
    c.close()


def parse_bytes(con: Any, data: bytes, name: str, kind: str | None = None) -> tuple[ParseContext, list[dict[str, Any]]]:
    """Parse `data` as a file called `name`: (the context, the events as rows)."""
    path = WORK / name
    path.write_bytes(data)
    found = sources.find_sources([str(path)])
    if not found:  # not a readable zip archive, say: a warning, no source
        return ParseContext(con=con), []
    src = found[0]
    if kind is None:
        try:
            with src.open() as f:
                kind = sources.sniff(f.read(sources.HEAD_BYTES))
        except parsers._damage_types():
            return ParseContext(con=con), []  # unreadable (a cut gzip header): ingest reports it
    ctx = ParseContext(con=con)
    rows: list[dict[str, Any]] = []
    if kind != "binary":
        for t in parsers.parse(src, kind, ctx):
            rows += conform(t).to_pylist()  # every batch matches the schema
    return ctx, rows


# -- the reading layer: an exact oracle --------------------------------------------------------------


def reference_lines(data: bytes) -> list[bytes]:
    """The lines `read_chunks` must produce: BOM skipped, NULs dropped, split on LF."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\x00", b"")
    if not data:
        return []
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines


class Damaged(io.RawIOBase):
    """A stream that fails with a zlib error after `at` bytes (a gzip corrupt half-way)."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at, self.pos = data, at, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.at:
            raise zlib.error("Error -3 while decompressing data: invalid block type")
        n = len(self.data) if n < 0 else n
        out = self.data[self.pos : min(self.pos + n, self.at)]
        self.pos += len(out)
        return out


lines_of_bytes = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=40).map(lambda s: s.replace("\n", " ").encode()),
        st.sampled_from([b"", b"\r", b"\x00\x00\x00", b"\xef\xbb\xbf", b"\xe2\x82", b"\xff\xfe", b"caf\xe9"]),
    ),
    max_size=30,
)


@SETTINGS
@given(parts=lines_of_bytes, final_newline=st.booleans(), chunk=st.integers(1, 64))
def test_read_chunks_matches_the_oracle(parts: list[bytes], final_newline: bool, chunk: int) -> None:
    data = b"\n".join(parts) + (b"\n" if final_newline and parts else b"")
    ctx = ParseContext(con=None)
    chunks = list(read_chunks(io.BytesIO(data), ctx, chunk_bytes=chunk))
    assert chunks and chunks[-1].last and not any(c.last for c in chunks[:-1])
    got: list[str] = []
    expect_first = 1
    for c in chunks:
        assert c.first == expect_first
        lines = c.text.split("\n") if c.nlines else []
        assert len(lines) == c.nlines
        got += lines
        expect_first += c.nlines
    want = reference_lines(data)
    assert got == [ln.decode("utf-8", errors="replace") for ln in want]
    bad = {i for i, ln in enumerate(want, 1) if _invalid(ln)}
    assert set(ctx.raw_lines) == bad
    for n in bad:
        assert ctx.raw_lines[n] == want[n - 1]


def _invalid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


@SETTINGS
@given(parts=lines_of_bytes, cut=st.floats(0, 1), chunk=st.integers(1, 64))
def test_damage_keeps_every_line_before_it(parts: list[bytes], cut: float, chunk: int) -> None:
    data = b"\n".join(parts) + b"\n"
    at = int(len(data) * cut)
    ctx = ParseContext(con=None)
    got = [ln for c in read_chunks(Damaged(data, at), ctx, chunk_bytes=chunk) if c.nlines for ln in c.text.split("\n")]
    assert got == [ln.decode("utf-8", errors="replace") for ln in reference_lines(data[:at])]
    assert [why for _, why in ctx.notes if "cut or corrupt" in why]


# -- JSON lines --------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
)
known_fields = st.fixed_dictionaries(
    {},
    optional={
        "time": st.sampled_from(["2024-05-01T12:00:00Z", "2024-05-01 12:00:00.123+02:00", "yesterday", ""]),
        "ts": st.one_of(st.integers(0, 2**62), st.floats(0, 2e9, allow_nan=False)),
        "level": st.one_of(st.sampled_from(["info", "WARN", "error", "30", ""]), st.integers(-5, 100)),
        "msg": st.text(max_size=30),
        "session_id": st.one_of(st.text(max_size=12), st.integers()),
        "request_id": st.text(max_size=12),
        "trace_id": st.text(alphabet="0123456789abcdef-", max_size=40),
    },
)
# Keys that name a nested object today fail the whole file when they are empty or hold a
# backslash or `*` (see test_jsonl_odd_keys below): the strategy leaves those out.
json_keys = st.text(min_size=1, max_size=8).filter(lambda k: "\\" not in k and "*" not in k)
json_values = st.recursive(
    json_scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(json_keys, kids, max_size=3),
    max_leaves=8,
)
json_objects = st.builds(lambda a, b: {**a, **b}, known_fields, st.dictionaries(json_keys, json_values, max_size=4))


@st.composite
def jsonl_lines(draw: Any) -> tuple[list[bytes], set[int]]:
    """(lines, the numbers of the lines that are valid JSON objects)."""
    kinds = draw(
        st.lists(
            st.sampled_from(["obj", "obj", "obj", "cut", "array", "blank", "text", "garbage"]), min_size=1, max_size=20
        )
    )
    out, valid = [], set()
    for i, k in enumerate(kinds, 1):
        if k == "obj":
            out.append(json.dumps(draw(json_objects), ensure_ascii=draw(st.booleans())).encode())
            valid.add(i)
        elif k == "cut":
            text = json.dumps(draw(json_objects)).encode()
            out.append(text[: draw(st.integers(1, max(1, len(text) - 1)))])
        elif k == "array":
            out.append(json.dumps(draw(st.lists(json_scalars, max_size=3))).encode())
        elif k == "blank":
            out.append(draw(st.sampled_from([b"", b"   ", b"\r", b"\t", b" \t "])))
        elif k == "text":
            out.append(draw(st.text(max_size=30)).replace("\n", " ").encode())
        else:
            out.append(draw(st.binary(max_size=30)).replace(b"\n", b" "))
    # the first line is an object, so the file is sniffed (and parsed) as JSON lines
    return out, valid


@SQL_SETTINGS
@given(doc=jsonl_lines())
def test_jsonl_never_raises_and_keeps_every_object(con: Any, doc: tuple[list[bytes], set[int]]) -> None:
    lines, valid = doc
    data = b"\n".join(lines) + b"\n"
    ctx, rows = parse_bytes(con, data, "prop.jsonl", kind="jsonl")
    event_lines = [r["line"] for r in rows]
    assert len(event_lines) == len(set(event_lines))
    assert valid <= set(event_lines), (sorted(valid - set(event_lines)), ctx.reject_locations)
    assert len(rows) + ctx.rejected + ctx.blank == ctx.lines == len(lines)


_DOCKER = '{"log": "%s\\n", "stream": "stdout", "time": "2024-03-07T12:00:0%dZ"}'


@pytest.mark.parametrize(
    ("data", "events"),
    [
        (b'{"msg": "a"}\n\t\n{"msg": "b"}\n', 2),
        (
            b'{"msg": "a"}\nLog file created at: 2024/03/07 12:00:00\n'
            b'I0307 12:00:00.000100  4242 server.cc:52] Serving\n{"msg": "b"}\n',
            3,
        ),
        (
            "\n".join(
                _DOCKER % (m, i) for i, m in enumerate(["2024-03-07 12:00:00,000 - app - INFO - up", "", "  "])
            ).encode(),
            1,
        ),
    ],
    ids=["tab-only line", "glog header lines", "docker blank log lines"],
)
def test_jsonl_accounting(con: Any, data: bytes, events: int) -> None:
    """Lines that are neither events nor errors (blank, a text dialect's header) count as blank."""
    ctx, rows = parse_bytes(con, data, "accounting.jsonl", kind="jsonl")
    assert len(rows) == events
    assert len(rows) + ctx.rejected + ctx.blank == ctx.lines


@pytest.mark.parametrize("obj", [{"": {}}, {"\\": {}}, {"*": {}}])
def test_jsonl_odd_keys(con: Any, obj: dict[str, Any]) -> None:
    data = b'{"msg": "first"}\n' + json.dumps(obj).encode() + b"\n"
    _, rows = parse_bytes(con, data, "odd-keys.jsonl", kind="jsonl")
    assert [r["line"] for r in rows] == [1, 2]


# -- plain-text logs ---------------------------------------------------------------------------------

message_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=40)


@st.composite
def text_log(draw: Any) -> tuple[list[str], set[int]]:
    """(lines, numbers of the lines that start an event): Python-logging lines with
    continuation lines (tracebacks) and stray text between them."""
    out, starts = [], set()
    n = draw(st.integers(1, 25))
    for _ in range(n):
        level = draw(st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]))
        sec = draw(st.integers(0, 59))
        out.append(
            f"2024-05-01 12:00:{sec:02d},{draw(st.integers(0, 999)):03d} - app.mod - {level} - {draw(message_text)}"
        )
        starts.add(len(out))
        for _ in range(draw(st.integers(0, 2))):
            out.append("    " + draw(message_text))  # a continuation line
    return out, starts


@SQL_SETTINGS
@given(doc=text_log(), crlf=st.booleans())
def test_text_never_raises_and_keeps_every_event_line(con: Any, doc: tuple[list[str], set[int]], crlf: bool) -> None:
    lines, starts = doc
    data = ("\r\n" if crlf else "\n").join(lines).encode()
    ctx, rows = parse_bytes(con, data, "prop.log", kind="text")
    assert ctx.dialect == "python-logging"
    assert {r["line"] for r in rows} == starts
    assert ctx.lines == len(lines)


@SQL_SETTINGS
@given(data=st.binary(max_size=2000))
def test_any_bytes_never_raise(con: Any, data: bytes) -> None:
    for name in ("any.log", "any.jsonl", "any.har"):
        ctx, rows = parse_bytes(con, data, name)
        assert len(rows) + ctx.rejected + ctx.blank <= max(ctx.lines, 1) or ctx.format == "text"


# -- HAR ---------------------------------------------------------------------------------------------

headers = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(
                ["X-Session-ID", "x-request-id", "traceparent", "X-B3-TraceId", "Accept", "X-TraceForge-Step-Index"]
            ),
            "value": st.one_of(
                st.text(max_size=60), st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), st.integers()
            ),
        }
    ),
    max_size=4,
)
har_entries = st.fixed_dictionaries(
    {
        "startedDateTime": st.one_of(st.just("2024-05-01T12:00:00.000Z"), st.text(max_size=25), st.integers()),
        "time": st.one_of(st.floats(allow_nan=False), st.integers(-5, 10**12), st.none(), st.text(max_size=4)),
        "request": st.fixed_dictionaries(
            {
                "method": st.one_of(st.sampled_from(["GET", "POST"]), st.none(), st.integers()),
                "url": st.one_of(st.text(max_size=40), st.none()),
                "headers": st.one_of(headers, st.none(), st.text(max_size=5)),
            }
        ),
        "response": st.one_of(
            st.fixed_dictionaries(
                {
                    "status": st.one_of(
                        st.integers(-10, 2**40), st.floats(allow_nan=False), st.text(max_size=4), st.none()
                    ),
                    "statusText": st.one_of(st.text(max_size=10), st.integers()),
                    "headers": headers,
                }
            ),
            st.none(),
            st.text(max_size=4),
        ),
    },
    optional={
        "pageref": st.text(max_size=8),
        "_error": st.one_of(st.text(max_size=20), st.integers()),
        "extra": json_values,
    },
)
har_pages = st.fixed_dictionaries(
    {
        "id": st.text(max_size=8),
        "title": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "startedDateTime": st.text(max_size=25),
    },
    optional={
        "pageTimings": st.one_of(
            st.fixed_dictionaries(
                {"onLoad": st.one_of(st.floats(allow_nan=False), st.integers(), st.text(max_size=3))}
            ),
            st.text(max_size=3),
        )
    },
)


def har_text(pages: list[Any], entries: list[Any], indent: int | None) -> tuple[str, list[int]]:
    """A HAR document and the offset where each page and entry ends."""
    sep = "\n" if indent else ""
    doc = '{"log": {"version": "1.2", "creator": {"name": "prop", "version": "1"}, "pages": [' + sep
    ends = []
    for i, p in enumerate(pages):
        doc += ("," + sep if i else "") + json.dumps(p, indent=indent)
        ends.append(len(doc))
    doc += "]," + sep + '"entries": [' + sep
    for i, e in enumerate(entries):
        doc += ("," + sep if i else "") + json.dumps(e, indent=indent)
        ends.append(len(doc))
    return doc + sep + "]}}" + sep, ends


@SETTINGS
@given(
    pages=st.lists(har_pages, max_size=3),
    entries=st.lists(st.one_of(har_entries, har_entries, json_scalars), min_size=1, max_size=6),
    indent=st.sampled_from([None, 1, 2]),
)
def test_har_never_raises_and_keeps_every_record(
    con: Any, pages: list[Any], entries: list[Any], indent: int | None
) -> None:
    doc, _ = har_text(pages, entries, indent)
    ctx, rows = parse_bytes(con, doc.encode(), "prop.har", kind="har")
    objects = [e for e in entries if isinstance(e, dict)]
    assert len(rows) == len(pages) + len(objects)
    assert ctx.rejected == len(entries) - len(objects)
    assert len(rows) + ctx.rejected == ctx.lines


@SETTINGS
@given(
    entries=st.lists(har_entries, min_size=1, max_size=6),
    indent=st.sampled_from([None, 2]),
    cut=st.floats(0.05, 0.999),
)
def test_cut_har_keeps_every_record_before_the_cut(
    con: Any, entries: list[Any], indent: int | None, cut: float
) -> None:
    doc, ends = har_text([], entries, indent)
    at = int(len(doc) * cut)
    ctx, rows = parse_bytes(con, doc[:at].encode(), "cut.har", kind="har")
    complete = sum(1 for end in ends if end <= at)
    if at < len(doc.rstrip()):
        assert len(rows) == complete
        assert ctx.rejected == 1
    assert len(rows) + ctx.rejected == ctx.lines


@SETTINGS
@given(
    entries=st.lists(har_entries, min_size=1, max_size=4),
    flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_near_valid_har_never_raises(con: Any, entries: list[Any], flips: list[tuple[float, int]]) -> None:
    raw = bytearray(har_text([], entries, 1)[0].encode())
    for where, byte in flips:
        raw[int(len(raw) * where)] = byte
    ctx, rows = parse_bytes(con, bytes(raw), "flip.har", kind="har")
    assert len(rows) + ctx.rejected == ctx.lines


def _iter_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


_MICROS = st.integers(-62_104_060_800_000_000, 253_370_764_799_999_999)  # years 2 to 9998


@SETTINGS
@given(times=st.lists(st.one_of(st.none(), _MICROS), max_size=30), zone=st.sampled_from(["UTC", "Europe/Paris"]))
def test_rows_are_what_arrow_gives(times: list[int | None], zone: str) -> None:
    """`timeline.to_rows` builds UTC times its own faster way: the rows, their times and the
    times' offsets are Arrow's, with and without nulls, far from the epoch, and in another zone."""
    import pyarrow as pa

    from gascorr.timeline import to_rows

    t = pa.table(
        {
            "ts": pa.array(times, pa.int64()).cast(pa.timestamp("us", tz=zone)),
            "n": pa.array(range(len(times)), pa.int64()),
            "s": pa.array([None if x is None else str(x) for x in times], pa.string()),
        }
    )
    want = t.to_pylist()
    got = to_rows(t)
    assert got == want
    assert [str(r["ts"]) for r in got] == [str(r["ts"]) for r in want]
    assert [r["ts"].utcoffset() for r in got if r["ts"]] == [r["ts"].utcoffset() for r in want if r["ts"]]
    assert to_rows(t.to_batches()[0] if t.num_rows else t) == want

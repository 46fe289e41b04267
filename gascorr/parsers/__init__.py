"""Parsers: one module per input kind behind one small interface.

`parse(source, ctx)` yields Arrow tables in the event schema. Parsers never print: they
record rejected lines, located notes and file-level warnings on the `ParseContext`, which
the ingest reports. Text and JSON lines are parsed in bulk as DuckDB SQL over Arrow chunks
of lines (no Python loop per line); HAR documents are walked in Python, one record per entry.

Reading (`read_chunks`) is streamed in chunks that end on a line boundary, so memory stays
flat however large a file is, and it never gives up on a file for what one line holds:

- A UTF-8 byte-order mark is skipped; CRLF is fine (parsers strip the CR); a missing final
  newline is fine.
- NUL bytes (copytruncate padding) are dropped; the first line that had them and their
  count are noted.
- A line that is not valid UTF-8 is decoded with U+FFFD in place of the bad bytes, and its
  raw bytes (NULs removed, CR kept) are kept in the event's `attrs` as
  `{"_raw_b64": {"<line>": "<base64>"}}` — for every such line of the event, up to
  `MAX_RAW_BYTES` per source. Text events own their continuation lines; a JSON-lines event
  owns the line it starts on. The note says for how many bad lines the raw bytes were kept.
  HAR and OTLP documents are decoded the same way but their raw bytes are not kept.
- A line longer than `MAX_LINE_BYTES` keeps its first `MAX_LINE_BYTES` (cut on a character
  boundary); the rest of it is dropped and noted.
- A stream that is cut or corrupt part-way (a broken gzip, a damaged zip member) keeps
  every line that decompressed before the damage, and the damage is noted at its line.
- An empty file is a file-level warning.

Notes carry a line number and reach the user as `<file>:<line>: <what>`; they are problems
with a line that was still kept. Rejects are lines that did not become events.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from gascorr.ids import DEFAULT, Names

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from gascorr.sources import Source

CHUNK_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 32 * 1024 * 1024
MAX_RAW_BYTES = 8 * 1024 * 1024
MAX_REJECT_LOCATIONS = 20
MAX_NOTES = 20
LINES_PER_BATCH = 16 * 1024
RAW_KEY = "_raw_b64"


@dataclass
class ParseContext:
    """What a parser needs, and what it reports back (rejected lines, notes, warnings, counts)."""

    con: duckdb.DuckDBPyConnection
    names: Names = DEFAULT
    dialect_hint: str | None = None
    tz: str = "UTC"
    hasher: Any = None
    first_line: int = 1  # number of the first line read (an append continues the file's count)
    format: str = ""
    dialect: str = ""
    lines: int = 0
    blank: int = 0
    rejected: int = 0
    reject_locations: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # located problems with kept lines
    warnings: list[str] = field(default_factory=list)  # problems of the whole file
    # raw bytes of the lines that were not valid UTF-8, by line, until attached to events
    raw_lines: dict[int, bytes] = field(default_factory=dict)
    keep_raw: bool = True
    _bad_utf8: list[int] = field(default_factory=lambda: [0, 0, 0])  # first line, lines, lines not kept
    _raw_kept: int = 0
    _nul: list[int] = field(default_factory=lambda: [0, 0])  # first line, bytes

    def reject(self, line: int, why: str) -> None:
        self.reject_lines([line], why, total=1)

    def reject_lines(self, lines: list[int], why: str, total: int) -> None:
        """Count `total` rejected lines, remembering the first few locations."""
        self.rejected += total
        room = MAX_REJECT_LOCATIONS - len(self.reject_locations)
        self.reject_locations.extend((n, why) for n in lines[: max(room, 0)])

    def note(self, line: int, why: str) -> None:
        """A problem at `line` of a line that was still kept (reported, not counted as rejected)."""
        if len(self.notes) < MAX_NOTES and (line, why) not in self.notes:
            self.notes.append((line, why))

    def open(self, source: Source) -> IO[bytes]:
        """The source's bytes; hashed on the way through when `hasher` is set (the ingest's
        content fingerprint costs no second read)."""
        stream = source.open()
        return cast(IO[bytes], _Tee(stream, self.hasher)) if self.hasher is not None else stream

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- the reading layer's bookkeeping ---------------------------------------------------

    def _bad_line(self, line: int, raw: bytes) -> None:
        bad = self._bad_utf8
        if not bad[1]:
            bad[0] = line
        bad[1] += 1
        if self.keep_raw and self._raw_kept + len(raw) <= MAX_RAW_BYTES:
            self.raw_lines[line] = raw
            self._raw_kept += len(raw)
        else:
            bad[2] += 1

    def _nul_bytes(self, line: int, count: int) -> None:
        if not self._nul[1]:
            self._nul[0] = line
        self._nul[1] += count

    def _finish_reading(self) -> None:
        """Note the NUL bytes dropped while reading (once per source)."""
        line, count = self._nul
        if count:
            self.note(line, f"{count:,} NUL byte{'s' if count != 1 else ''} dropped (from here on)")
            self._nul = [0, 0]

    def _finish_parsing(self) -> None:
        """Note the lines that were not valid UTF-8, saying for how many of them the raw bytes
        reached an event's attrs (not: past the size limit, in a rejected line, in a document)."""
        first, lines, _ = self._bad_utf8
        if lines:
            attached = self._bad_utf8[1] - self._bad_utf8[2] - len(self.raw_lines) if self.keep_raw else 0
            where = "this line" if lines == 1 else f"{lines} lines from here on"
            if attached == lines:
                kept = f"raw bytes in attrs.{RAW_KEY}"
            elif attached:
                kept = f"raw bytes in attrs.{RAW_KEY} for {attached} of them"
            else:
                kept = "the raw bytes are not kept"
            self.note(first, f"invalid UTF-8 in {where}, decoded with U+FFFD; {kept}")
            self._bad_utf8 = [0, 0, 0]
        self.raw_lines.clear()


class _Tee:
    """A binary stream that feeds what is read through it to a hash."""

    def __init__(self, inner: IO[bytes], hasher: Any) -> None:
        self.inner, self.hasher = inner, hasher

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.hasher.update(data)
        return data

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


@dataclass
class Chunk:
    """A run of whole lines: `text` holds lines `first`.. of the source, '\\n'-separated."""

    first: int
    text: str
    last: bool
    nlines: int = -1  # -1: count from text


def _damage_types() -> tuple[type[BaseException], ...]:
    """What a read raises when the bytes are cut or corrupt (as opposed to a refused bomb)."""
    import lzma
    import zipfile
    import zlib

    return (OSError, EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError)


def _read(stream: IO[bytes], n: int) -> tuple[bytes, BaseException | None]:
    """Up to `n` bytes, or (b"", the error) when the stream is damaged here."""
    from gascorr.sources import BombError

    try:
        return stream.read(n), None
    except BombError:
        raise
    except _damage_types() as e:
        return b"", e


def _damage(e: BaseException) -> str:
    why = str(e).strip() or type(e).__name__
    if "CRC" in why:
        return f"the content fails its checksum ({why}); every line is kept but may be corrupt"
    return f"the data is cut or corrupt from here on ({why}); the lines before it are kept"


def read_chunks(stream: IO[bytes], ctx: ParseContext, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """Whole-line chunks of a byte stream, decoded, with line numbers.

    The final chunk has `last=True` (it may be empty); a missing final newline is fine.
    Damage in the stream ends it early, noted on `ctx`; nothing read before it is lost.
    """
    from gascorr.display import human_size

    size = min(chunk_bytes or CHUNK_BYTES, MAX_LINE_BYTES)
    first = ctx.first_line  # line number of the first line in `buf`
    buf = bytearray()  # whole lines not yet handed out, then the current partial line
    tail = 0  # length of the current partial line (bytes after the last newline in `buf`)
    skipping = False  # inside an over-long line: dropping bytes until its newline
    total = 0
    held: Chunk | None = None  # whole lines decoded but not yet handed out
    # the first bytes, enough to see a byte-order mark even when reads come one byte at a time
    head, err = b"", None
    while len(head) < 3:
        more, err = _read(stream, size)
        if not more:
            break
        head += more
    while True:
        if total == 0 and head:
            data, total = head.removeprefix(b"\xef\xbb\xbf"), len(head)
            if not data and err is None:  # nothing but the mark: read on
                data, err = _read(stream, size)
                total += len(data)
        elif err is None:
            data, err = _read(stream, size)
            total += len(data)
        else:
            data = b""
        eof = not data
        if b"\x00" in data:
            at = data.index(b"\x00")
            ctx._nul_bytes(first + buf.count(b"\n") + data.count(b"\n", 0, at), data.count(b"\x00"))
            data = data.replace(b"\x00", b"")
        while data:
            if skipping:
                i = data.find(b"\n")
                if i < 0:
                    break
                data, skipping = data[i:], False
            i = data.find(b"\n")
            room = MAX_LINE_BYTES - tail
            if (i < 0 and len(data) > room) or i > room:
                keep = _char_boundary(data, room)
                buf += data[:keep]
                most = human_size(MAX_LINE_BYTES)
                ctx.note(first + buf.count(b"\n"), f"a line longer than {most}; its first {most} are kept")
                tail += keep
                data, skipping = data[keep:], True
                continue
            buf += data
            j = data.rfind(b"\n")
            tail = tail + len(data) if j < 0 else len(data) - j - 1
            data = b""
        if not eof:
            cut = buf.rfind(b"\n")
            if cut < 0:
                continue
            body = bytes(buf[: cut + 1])
            del buf[: cut + 1]
        else:
            if err is not None:
                ctx.note(first + buf.count(b"\n"), _damage(err))
            elif total == 0:
                ctx.warn("the file is empty")
            body = bytes(buf)
            buf.clear()
        text = _decode(body, first, ctx)
        nlines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
        # one chunk is held back until the next read, so the end of the file (a last line
        # without a newline, say a traceback's) joins the chunk before it: parsers see
        # `last=True` on the lines that really end the file
        if held is not None:
            if eof:
                text = held.text + text  # held.text ends with its newline
                nlines += held.nlines
                first = held.first
            else:
                yield Chunk(held.first, held.text.removesuffix("\n"), False, held.nlines)
        if not eof:
            held = Chunk(first, text, False, nlines)
            first += nlines
            continue
        ctx._finish_reading()
        yield Chunk(first, text.removesuffix("\n"), True, nlines)
        return


def read_whole(stream: IO[bytes], ctx: ParseContext) -> str:
    """A whole document (HAR, OTLP), decoded like `read_chunks` but without keeping raw bytes;
    damage part-way keeps the prefix and is noted."""
    ctx.keep_raw = False
    return "\n".join(c.text for c in read_chunks(stream, ctx))


def _char_boundary(data: bytes, at: int) -> int:
    """The largest index <= `at` that does not split a UTF-8 character of `data`."""
    k = max(0, min(at, len(data)))
    while 0 < k < len(data) and at - k < 3 and data[k] & 0xC0 == 0x80:
        k -= 1
    return k


def _decode(body: bytes, first: int, ctx: ParseContext) -> str:
    """`body` as text; lines that are not valid UTF-8 get U+FFFD and their raw bytes kept."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    pos, line = 0, first
    while True:
        try:
            out.append(body[pos:].decode("utf-8"))
            return "".join(out)
        except UnicodeDecodeError as e:
            bad = pos + e.start
        start = body.rfind(b"\n", pos, bad) + 1 or pos
        start = max(start, pos)
        end = body.find(b"\n", bad)
        end = len(body) if end < 0 else end
        out.append(body[pos:start].decode("utf-8"))
        line += body.count(b"\n", pos, start)
        raw = body[start:end]
        ctx._bad_line(line, raw)
        out.append(raw.decode("utf-8", errors="replace"))
        pos = end
        if pos >= len(body):
            return "".join(out)


def lines_table(chunk: Chunk) -> pa.Table:
    """The chunk's lines as a table `(n, line)` (`n`: the 1-based line number), in record
    batches of LINES_PER_BATCH rows, so that DuckDB can scan it on several threads."""
    import pyarrow as pa

    from gascorr.kernels import call, options

    if chunk.nlines == 0:
        return pa.table({"n": pa.array([], pa.int64()), "line": pa.array([], pa.large_string())})
    lines = call("list_flatten", call("split_pattern", pa.array([chunk.text], pa.large_string()), options=_split()))
    if "\r" in chunk.text:  # CRLF: strip trailing CRs here (DuckDB's rtrim costs ~1 µs a line)
        lines = call("utf8_rtrim", lines, options=options("TrimOptions", "\r"))
    n = pa.array(range(chunk.first, chunk.first + len(lines)), pa.int64())
    return pa.Table.from_batches(pa.table({"n": n, "line": lines}).to_batches(max_chunksize=LINES_PER_BATCH))


def _split() -> Any:
    from gascorr.kernels import options

    return options("SplitPatternOptions", "\n")


def in_line_order(t: pa.Table) -> pa.Table:
    """`t` sorted by `line`. A statement's rows mostly come out in line order already, so
    this checks first: sorting every event's columns in SQL cost a third of a chunk's parse."""
    from gascorr.kernels import call, options

    if t.num_rows < 2:
        return t
    line = t.column("line")
    ordered = call("less_equal", line.slice(0, len(line) - 1), line.slice(1))
    if call("all", ordered, options=options("ScalarAggregateOptions", skip_nulls=False)).as_py():
        return t
    return call("take", t, call("sort_indices", t, options=options("SortOptions", [("line", "ascending")])))


# SQL reading a registered `lines_table` named {rel} as (n, line).
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def bracket_depths(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """For each bracket of the JSON `text` from `start`, outside strings: the nesting depth
    after it and the index after it. Measures nesting without decoding, where Python's
    decoder would recurse too deep."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text, start):
        tok = m.group()
        if tok[0] != '"':
            depth += 1 if tok in ("[", "{") else -1
            yield depth, m.end()


def unnest_sql(rel: str) -> str:
    return f"SELECT n, line FROM {rel}"


def parse(source: Source, kind: str, ctx: ParseContext) -> Iterator[pa.Table]:
    """Event tables for `source`, already sniffed as `kind`."""
    yield from _parse(source, kind, ctx)
    ctx._finish_parsing()


def _parse(source: Source, kind: str, ctx: ParseContext) -> Iterator[pa.Table]:
    ctx.format = kind
    if kind == "har":
        from gascorr.parsers import har

        yield from har.parse(source, ctx)
    elif kind == "otlp":
        from gascorr.parsers import otlp

        yield from otlp.parse(source, ctx)
    elif kind == "jsonl":
        from gascorr.parsers import jsonl

        yield from _with_raw(jsonl.parse(source, ctx), ctx, spans=False)
    elif kind == "json":
        from gascorr.parsers import jsondoc

        yield from jsondoc.parse(source, ctx)
    else:
        from gascorr.parsers import text

        yield from _with_raw(text.parse(source, ctx), ctx, spans=True)


def _with_raw(tables: Iterator[pa.Table], ctx: ParseContext, *, spans: bool) -> Iterator[pa.Table]:
    """`tables` with the raw bytes of invalid-UTF-8 lines attached to the events holding them.

    JSON lines: the event whose `line` is the bad line. Text (`spans`): the event whose lines
    run from its `line` up to the next event's, so continuation lines count; a table is held
    back until the next one shows where its last event ends. Costs nothing when every line
    decoded cleanly.
    """
    held: pa.Table | None = None
    for t in tables:
        if not spans:
            yield _attach(t, ctx, None) if ctx.raw_lines and t.num_rows else t
            continue
        if (held is None and not ctx.raw_lines) or not t.num_rows:
            yield t
            continue
        if held is not None:
            yield _attach(held, ctx, t.column("line")[0].as_py())
        held = t
    if held is not None:
        yield _attach(held, ctx, 1 << 62)


def _attach(t: pa.Table, ctx: ParseContext, end: int | None) -> pa.Table:
    """`t` with `_raw_b64` added to the attrs of the events owning lines in `ctx.raw_lines`.

    `end` None: a line belongs to the event that starts on it. Otherwise a line belongs to
    the last event of `t` starting at or before it, when it comes before `end`.
    """
    import bisect

    import pyarrow as pa

    starts: list[int] = t.column("line").to_pylist()
    order = sorted(range(len(starts)), key=starts.__getitem__)
    keys = [starts[i] for i in order]
    owned: dict[int, dict[str, str]] = {}
    for n in sorted(ctx.raw_lines):
        if end is None:
            k = bisect.bisect_left(keys, n)
            if k == len(keys) or keys[k] != n:
                continue
        else:
            if n >= end:
                break
            k = bisect.bisect_right(keys, n) - 1
            if k < 0:
                continue
        raw = ctx.raw_lines.pop(n)
        owned.setdefault(order[k], {})[str(n)] = base64.b64encode(raw).decode("ascii")
    if not owned:
        return t
    attrs = t.column("attrs").to_pylist()
    for i, raw_map in owned.items():
        try:
            obj = json.loads(attrs[i]) if attrs[i] else {}
        except ValueError:
            obj = {"_attrs": attrs[i]}
        if not isinstance(obj, dict):
            obj = {"_attrs": obj}
        obj[RAW_KEY] = raw_map
        attrs[i] = json.dumps(obj, ensure_ascii=False)
    idx = t.schema.get_field_index("attrs")
    return t.set_column(idx, pa.field("attrs", pa.string()), pa.array(attrs, pa.string()))

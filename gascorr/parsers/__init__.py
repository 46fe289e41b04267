"""Parsers: one module per input kind behind one small interface.

`parse(source, ctx)` yields Arrow tables in the event schema. Parsers never print: they
record rejected lines and warnings on the `ParseContext`, which the ingest reports. Text
and JSON lines are parsed in bulk as DuckDB SQL over Arrow chunks of lines (no Python loop
per line); HAR documents are walked in Python, one record per entry.

Reading is streamed in chunks that end on a line boundary, so memory stays flat however
large a file is. Bytes are decoded as UTF-8; a chunk that is not valid UTF-8 is decoded
with replacement characters, and its first bad line is reported. NUL bytes (copytruncate
padding) are dropped and reported. A UTF-8 byte-order mark is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from gascorr.ids import DEFAULT, Names

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from gascorr.sources import Source

CHUNK_BYTES = 16 * 1024 * 1024
MAX_REJECT_LOCATIONS = 20


@dataclass
class ParseContext:
    """What a parser needs, and what it reports back (rejected lines, warnings, counts)."""

    con: duckdb.DuckDBPyConnection
    names: Names = DEFAULT
    dialect_hint: str | None = None
    tz: str = "UTC"
    hasher: Any = None
    format: str = ""
    dialect: str = ""
    lines: int = 0
    blank: int = 0
    rejected: int = 0
    reject_locations: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, line: int, why: str) -> None:
        self.reject_lines([line], why, total=1)

    def reject_lines(self, lines: list[int], why: str, total: int) -> None:
        """Count `total` rejected lines, remembering the first few locations."""
        self.rejected += total
        room = MAX_REJECT_LOCATIONS - len(self.reject_locations)
        self.reject_locations.extend((n, why) for n in lines[: max(room, 0)])

    def open(self, source: Source) -> IO[bytes]:
        """The source's bytes; hashed on the way through when `hasher` is set (the ingest's
        content fingerprint costs no second read)."""
        stream = source.open()
        return cast(IO[bytes], _Tee(stream, self.hasher)) if self.hasher is not None else stream

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


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


def read_chunks(stream: IO[bytes], ctx: ParseContext, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Whole-line chunks of a byte stream, decoded, with line numbers.

    The final chunk has `last=True`; a missing final newline is fine.
    """
    first = 1
    pending = b""
    at_start = True
    while True:
        data = stream.read(chunk_bytes)
        eof = not data
        buf = pending + data
        if at_start and buf.startswith(b"\xef\xbb\xbf"):
            buf = buf[3:]
        at_start = False
        if eof:
            body, pending = buf, b""
        else:
            cut = buf.rfind(b"\n")
            if cut < 0:
                pending = buf
                continue
            body, pending = buf[: cut + 1], buf[cut + 1 :]
        if body or eof:
            text = _decode(body, first, ctx)
            nlines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            if text.endswith("\n"):
                text = text[:-1]
            yield Chunk(first, text, eof, nlines)
            first += nlines
        if eof:
            return


def _decode(body: bytes, first: int, ctx: ParseContext) -> str:
    if b"\x00" in body:
        at = body[: body.index(b"\x00")].count(b"\n") + first
        nuls = body.count(b"\x00")
        ctx.warn(f"line {at}: NUL bytes dropped ({nuls} in all)")
        body = body.replace(b"\x00", b"")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        at = body[: e.start].count(b"\n") + first
        ctx.warn(f"line {at}: invalid UTF-8, decoded with replacement characters")
        return body.decode("utf-8", errors="replace")


def lines_table(chunk: Chunk) -> pa.Table:
    """A one-row Arrow table whose `lines` column is the list of the chunk's lines."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if chunk.nlines == 0:
        return pa.table({"lines": pa.array([[]], pa.list_(pa.large_string()))})
    arr = pa.array([chunk.text], pa.large_string())
    return pa.table({"lines": pc.split_pattern(arr, "\n")})


# SQL that unnests a registered `lines_table` named {rel} into (n, line), CR stripped.
def unnest_sql(rel: str, first: int) -> str:
    return f"SELECT generate_subscripts(lines, 1) + {first - 1} AS n, rtrim(unnest(lines), chr(13)) AS line FROM {rel}"


def parse(source: Source, kind: str, ctx: ParseContext) -> Iterator[pa.Table]:
    """Event tables for `source`, already sniffed as `kind`."""
    ctx.format = kind
    if kind == "har":
        from gascorr.parsers import har

        yield from har.parse(source, ctx)
    elif kind == "otlp":
        from gascorr.parsers import otlp

        yield from otlp.parse(source, ctx)
    elif kind == "jsonl":
        from gascorr.parsers import jsonl

        yield from jsonl.parse(source, ctx)
    else:
        from gascorr.parsers import text

        yield from text.parse(source, ctx)

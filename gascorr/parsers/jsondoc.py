"""JSON documents: a walker that reads a possibly cut document record by record, and the
parser of JSON documents that hold log records (`[{...}, {...}]` exports, CloudTrail's
`{"Records": [...]}`), whose records are read as JSON lines are.

The walker (`walk_object`, `walk_array`) decodes one member or element at a time with the C
JSON scanner, so a document cut part-way (a crashed job's half-written export) still
yields every complete record before the cut, and the cut is located at its text line. HAR
captures are walked the same way (`parsers.har`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from gascorr.parsers import ParseContext, bracket_depths, read_whole

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source


class Cut(Exception):
    """The document is cut or malformed at `pos`; `record` is where the broken record began."""

    def __init__(self, pos: int, why: str, record: int | None = None, *, deep: bool = False) -> None:
        super().__init__(why)
        self.pos, self.why, self.record, self.deep = pos, why, record, deep
        self.where: str | None = None  # in a JSON document, where the records before it were


class Deep:
    """A record nested too deeply for Python's JSON decoder: skipped and rejected."""


DEEP = Deep()
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_constant=str)  # NaN/Infinity stay text, so HAR attrs stay valid JSON


def ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def value_at(text: str, i: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, i)
    except json.JSONDecodeError as e:
        raise Cut(e.pos, e.msg) from None
    except RecursionError:
        raise Cut(i, "nested too deeply", deep=True) from None


def skip(text: str, i: int) -> int:
    """The index after the array or object opening at `text[i]`, found without decoding it."""
    for depth, end in bracket_depths(text, i):
        if depth == 0:
            return end
    raise Cut(len(text), "the document ends early", i)


def walk_object(text: str, i: int, member: Callable[[str, int], int]) -> int:
    """Walk the object opening at `text[i]`; `member(key, j)` reads the value at j and returns
    the index after it. Returns the index after the closing brace."""
    i = ws(text, i + 1)
    if text.startswith("}", i):
        return i + 1
    while True:
        if not text.startswith('"', i):
            raise Cut(i, "expected a member name")
        key, i = value_at(text, i)
        i = ws(text, i)
        if not text.startswith(":", i):
            raise Cut(i, "expected ':'")
        i, closed = _next(text, member(key, ws(text, i + 1)), "}")
        if closed:
            return i


def walk_array(text: str, i: int, each: Callable[[int, int, Any], None]) -> int:
    """Walk the array opening at `text[i]`, calling `each(start, end, value)` per element."""
    i = ws(text, i + 1)
    if text.startswith("]", i):
        return i + 1
    while True:
        start = i
        try:
            value, i = value_at(text, i)
        except Cut as c:
            if not c.deep:
                c.record = start
                raise
            value, i = DEEP, skip(text, start)  # one record too deep; the others are read
        each(start, i, value)
        i, closed = _next(text, i, "]")
        if closed:
            return i


def _next(text: str, i: int, close: str) -> tuple[int, bool]:
    """After a member or element ending at `i`: (where the next one starts, False), or (the
    index after the `close` bracket, True)."""
    i = ws(text, i)
    if text.startswith(",", i):
        return ws(text, i + 1), False
    if text.startswith(close, i):
        return i + 1, True
    raise Cut(i, f"expected ',' or '{close}'" if i < len(text) else "the document ends early")


class Lines:
    """Text line numbers of offsets, for offsets asked in increasing order (any order works)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


# -- JSON documents of records ---------------------------------------------------------------

# Members of a top-level object that hold its records: CloudTrail's and Azure's `Records`,
# CloudWatch Logs exports' `logEvents`, and the names APIs export lists under.
WRAPPERS = ("Records", "records", "logEvents", "events", "logs", "entries", "items", "data", "hits", "results")
BATCH = 8192  # records per statement


def records(text: str) -> tuple[list[tuple[int, int, Any]], Cut | None, str]:
    """(the records of a JSON document as (start, end, what): `what` is DEEP for a record too
    deep to decode, else whether it is an object; the cut if it is cut or malformed; where
    the last records were found). Decoded records are not kept: a large document's text is
    held once, not also as Python objects.

    The text may hold several JSON values one after another (`jq .` output, JSON lines with
    a record written over several lines). A top-level array gives its elements; an object,
    what `_object_records` says."""
    found: list[tuple[int, int, Any]] = []
    where = "the document"
    i = ws(text, 0)
    try:
        while i < len(text):
            if text.startswith("[", i):
                where = "the top-level array"
                end = walk_array(text, i, _keep(found))
            elif text.startswith("{", i):
                end, wrapper = _object_records(text, i, found)
                where = f"`{wrapper}`" if wrapper else "the document"
            else:
                raise Cut(i, "not a JSON array or object")
            i = ws(text, end)
    except Cut as c:
        return found, c, c.where or where
    return found, None, where


def _keep(found: list[tuple[int, int, Any]]) -> Callable[[int, int, Any], None]:
    def each(start: int, end: int, value: Any) -> None:
        found.append((start, end, DEEP if value is DEEP else isinstance(value, dict)))

    return each


@functools.cache
def _time_keys() -> frozenset[str]:
    from gascorr.parsers.fields import TIME_KEYS

    return frozenset(k.lower() for k in TIME_KEYS)


def _object_records(text: str, i: int, found: list[tuple[int, int, Any]]) -> tuple[int, str | None]:
    """Append the records of the object opening at `text[i]` to `found`: the elements of its
    first member named in WRAPPERS that is an array holding an object, unless the object has
    a time of its own (then it is a record that holds a list); else the object itself.
    Returns the index after the object and the wrapper member's name (None: the object is
    the record). On a cut, the wrapper's records before it stay in `found`."""
    mark, whole = len(found), {}
    wrapper: str | None = None

    def member(key: str, j: int) -> int:
        nonlocal wrapper
        if wrapper is None and key in WRAPPERS and text.startswith("[", j):
            wrapper = key
            return walk_array(text, j, _keep(found))
        value, after = value_at(text, j)
        whole[key] = value
        return after

    def wraps() -> bool:
        held = any(what is True for _, _, what in found[mark:])
        return wrapper is not None and held and not _time_keys() & {k.lower() for k in whole}

    try:
        end = walk_object(text, i, member)
    except Cut as c:
        if wraps():
            c.where = f"`{wrapper}`"
        else:
            del found[mark:]
        raise
    if wraps():
        return end, wrapper
    del found[mark:]
    found.append((i, end, True))
    return end, None


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    """Events of a JSON document's records, each read as a JSON line is (`jsonl.parse_lines`).

    A record's `line` is the text line it starts on; when records share a line (a document
    written on one line), every record's is its 1-based place in the document instead.
    `lines` counts records and rejects, as for HAR."""
    import pyarrow as pa

    from gascorr.parsers import jsonl

    with ctx.open(source) as f:
        text = read_whole(f, ctx)
    found, cut, where = records(text)
    lines = Lines(text)
    starts = [lines.at(start) for start, _, _ in found]
    numbers = starts if len(set(starts)) == len(starts) else list(range(1, len(found) + 1))
    if cut is not None:
        n = len(found)
        kept = (
            f"the record of {where} before it is kept" if n == 1 else f"the {n} records of {where} before it are kept"
        )
        at = lines.at(cut.record if cut.record is not None else cut.pos)
        ctx.reject(at, f"the JSON document is cut or malformed here ({cut.why}); {kept}")
        ctx.lines += 1

    def tables() -> Iterator[pa.Table]:
        ns: list[int] = []
        texts: list[str] = []
        for n, (start, end, value) in zip(numbers, found, strict=True):
            if value is DEEP:
                ctx.reject(n, "a JSON record nested too deeply to read")
                ctx.lines += 1
                continue
            raw = text[start:end]
            # a JSON string holds no raw line break: outside strings, they are only spacing
            ns.append(n)
            texts.append(raw.replace("\r", " ").replace("\n", " ") if "\n" in raw or "\r" in raw else raw)
            if len(ns) == BATCH:
                yield pa.table({"n": pa.array(ns, pa.int64()), "line": pa.array(texts, pa.large_string())})
                ns, texts = [], []
        if ns:
            yield pa.table({"n": pa.array(ns, pa.int64()), "line": pa.array(texts, pa.large_string())})

    yield from jsonl.parse_lines(tables(), source, ctx, fmt="json")

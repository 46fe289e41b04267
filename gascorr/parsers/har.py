"""HAR 1.2 captures: pages become `page` events, entries become `http` events.

A HAR is one JSON document. It is walked by `_scan`: the top level and `log` member by
member, and `log.pages` / `log.entries` element by element (each element decoded by the C
JSON scanner), so a document cut part-way — a crashed job's half-written capture — still
yields every complete page and entry before the cut, and the cut is rejected at its line.
Request and response headers are scanned for ids, names compared case-insensitively:
session headers, request headers, W3C `traceparent` (trace and span id), B3 and TraceForge
trace ids, the TraceForge step index. Status 0 (a failed request) and status >= 400 are
ERROR; the failure text (`_error`, `_failureText`) is part of the message. The entry
itself, minus very large bodies, is kept in `attrs` with its `pageref`, through which a
page later joins its requests' session.

Records are numbered in the `line` column: pages 1..P first, then entries P+1..P+E.
Accounting counts records, not text lines: `lines` = pages + entries + rejected, where a
record is rejected when it is not a JSON object, when it cannot be turned into an event,
and once for a cut or malformed document (located at the text line of the damage). Each
record is converted on its own, so one odd entry never costs the others.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gascorr.ids import MAX_ID, Names, is_placeholder, parse_traceparent, trace_id
from gascorr.parsers import ParseContext, read_whole
from gascorr.parsers.jsondoc import DEEP, Cut, Lines, value_at, walk_array, walk_object, ws
from gascorr.sources import service_from_name
from gascorr.timeparse import iso_to_utc

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source

MAX_BODY = 16 * 1024
_B3_SPANS = {"x-b3-spanid": "span_id", "x-b3-parentspanid": "parent_span_id"}
INT32 = 2**31 - 1


@functools.lru_cache(maxsize=8)
def _parse_time(value: Any, tz: str) -> datetime | None:
    return iso_to_utc(value, tz) if isinstance(value, str) else None


@functools.lru_cache(maxsize=8)
def _wanted(n: Names) -> frozenset[str]:
    """The (lower-case) header names that carry an id or a step."""
    fixed = ("traceparent", "x-b3-spanid", "x-b3-parentspanid")
    return frozenset((*n.session_headers, *n.request_headers, *n.trace_headers, *n.step_headers, *fixed))


def _headers(items: Any, wanted: frozenset[str]) -> list[tuple[str, str]]:
    """The headers of `items` named in `wanted`, as (lower-case name, value); the others
    (most of them) are skipped before any other work."""
    out = []
    if isinstance(items, list):
        for h in items:
            if isinstance(h, dict):
                name = h.get("name")
                if isinstance(name, str) and (name := name.strip().lower()) in wanted:
                    v = h.get("value", "")
                    out.append((name, v if isinstance(v, str) else json.dumps(v)))
    return out


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub(v: Any) -> Any:
    """`v` with every UTF-16 surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(v, str):
        return _SURROGATE.sub("\ufffd", v)
    if isinstance(v, list):
        return [_scrub(x) for x in v]
    if isinstance(v, dict):
        return {_scrub(k): _scrub(x) for k, x in v.items()}
    return v


def _scan(
    text: str,
) -> tuple[dict[str, Any] | None, list[tuple[str, int, int, Any]], Cut | None, list[tuple[str, int]]]:
    """(the `log` object's other members, its pages and entries as (key, start, end, value) in
    document order, the cut if the document is cut or malformed, and where a `pages` or
    `entries` member that is not an array stands). `log` is None when the document has no
    top-level `log` object."""
    log: dict[str, Any] | None = None
    records: list[tuple[str, int, int, Any]] = []
    not_arrays: list[tuple[str, int]] = []

    def in_log(key: str, j: int) -> int:
        assert log is not None
        if key in ("pages", "entries") and text.startswith("[", j):
            return walk_array(text, j, lambda start, end, v: records.append((key, start, end, v)))
        value, end = value_at(text, j)  # (a cut here is the document's cut, not a bad member)
        if key in ("pages", "entries"):
            not_arrays.append((key, j))
        log[key] = value
        return end

    def top(key: str, j: int) -> int:
        nonlocal log
        if key == "log" and text.startswith("{", j) and log is None:
            log = {}
            return walk_object(text, j, in_log)
        return value_at(text, j)[1]

    i = ws(text, 0)
    try:
        if not text.startswith("{", i):
            raise Cut(i, "not a JSON object")
        end = ws(text, walk_object(text, i, top))
        if end < len(text):
            raise Cut(end, "extra data after the document")
    except Cut as c:
        return log, records, c, not_arrays
    return log, records, None, not_arrays


# -- records to events ---------------------------------------------------------------------------


def _trim_bodies(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` with response and request bodies over MAX_BODY characters cut (their length kept)."""
    entry = dict(entry)
    for side, key in (("response", "content"), ("request", "postData")):
        part = entry.get(side)
        body = part.get(key) if isinstance(part, dict) else None
        if isinstance(body, dict) and isinstance(body.get("text"), str) and len(body["text"]) > MAX_BODY:
            assert isinstance(part, dict)
            cut = dict(body)
            cut["text"] = body["text"][:MAX_BODY]
            cut["_gascorr_truncated"] = len(body["text"])
            entry[side] = {**part, key: cut}
    return entry


def _attrs(entry: dict[str, Any], raw: str) -> str:
    """An entry as the `attrs` JSON: its own text when that is one line, has no NaN or
    Infinity (not JSON, though Python's decoder accepts them) and no body to cut; else
    encoded again."""
    if raw and "\n" not in raw and "NaN" not in raw and "Infinity" not in raw and len(raw) <= MAX_BODY:
        return raw
    return _dumps(_trim_bodies(entry))


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _int32(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    n = int(v)
    return n if -INT32 <= n <= INT32 else None


def _ms(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        return None
    return float(v)


def _dumps(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from \ud800-style escapes: keep them escaped
        text = json.dumps(obj)
    return text


def _page(p: dict[str, Any], line: int, tz: str) -> dict[str, Any]:
    timings = p.get("pageTimings") if isinstance(p.get("pageTimings"), dict) else {}
    assert isinstance(timings, dict)
    title = p.get("title") or p.get("id") or ""
    return dict(
        ts=_parse_time(p.get("startedDateTime"), tz),
        ts_raw=_str(p.get("startedDateTime")),
        line=line,
        kind="page",
        level="INFO",
        message=f"Page load: {title if isinstance(title, str) else _dumps(title)}".rstrip(),
        duration_ms=_ms(timings.get("onLoad")),
        attrs=_dumps({"pageref": p.get("id"), **p}),
    )


def _entry(ent: dict[str, Any], line: int, ctx: ParseContext, raw: str = "") -> dict[str, Any]:
    """The `http` event of entry `ent`; `raw` is its text in the document, kept as `attrs`
    as it is when it is one compact line needing no change (most HARs write entries so),
    which saves encoding every entry again."""
    n = ctx.names
    req: dict[str, Any] = ent["request"] if isinstance(ent.get("request"), dict) else {}
    resp: dict[str, Any] = ent["response"] if isinstance(ent.get("response"), dict) else {}
    ids: dict[str, str] = {}
    wanted = _wanted(n)
    for name, value in _headers(req.get("headers"), wanted) + _headers(resp.get("headers"), wanted):
        value = value.strip()
        if name in n.step_headers:  # a number: step 0 is the first step, not an all-zero id
            ids.setdefault("step", value)
            continue
        if is_placeholder(value) or len(value) > MAX_ID:
            continue
        if name in n.session_headers:
            ids.setdefault("session_id", value)
        elif name in n.request_headers:
            ids.setdefault("request_id", value)
        elif name == "traceparent":
            tp = parse_traceparent(value)
            if tp:
                ids.setdefault("trace_id", tp[0])
                ids.setdefault("span_id", tp[1])
        else:  # read as log lines' trace ids are (`gc_trace`), or the two would not meet
            col = "trace_id" if name in n.trace_headers else _B3_SPANS.get(name)
            if col and (t := trace_id(value)):
                ids.setdefault(col, t)
    status = _int32(resp.get("status"))
    err = resp.get("_error") or ent.get("_error") or resp.get("_failureText") or ent.get("_failureText")
    level = "ERROR" if status is None or status == 0 or status >= 400 else "INFO"
    method = req.get("method")
    method = method.strip().upper() or None if isinstance(method, str) else None
    url = _str(req.get("url"))
    status_text = resp.get("statusText")
    parts = (
        method,
        url,
        str(status) if status is not None else None,
        status_text if isinstance(status_text, str) else None,
    )
    msg = " ".join(x for x in parts if x)
    if err:
        msg += f" ({err if isinstance(err, str) else _dumps(err)})"
    step = ids.pop("step", None)
    return dict(
        ts=_parse_time(ent.get("startedDateTime"), ctx.tz),
        ts_raw=_str(ent.get("startedDateTime")),
        line=line,
        kind="http",
        level=level,
        message=msg,
        method=method,
        url=url,
        status=status,
        duration_ms=_ms(ent.get("time")),
        step=_int32(int(step)) if step and step.isascii() and step.isdigit() else None,
        **ids,
        attrs=_attrs(ent, raw),
    )


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    import pyarrow as pa

    from gascorr.schema import NAMES, arrow_schema

    with ctx.open(source) as f:
        text = read_whole(f, ctx)
    log, records, cut, not_arrays = _scan(text)
    lines = Lines(text)
    if log is None and cut is None:
        ctx.reject(1, "not a HAR document: there is no top-level `log` object")
    log = log or {}
    creator = log.get("creator")
    ctx.dialect = _flavour(str(creator.get("name") or "") if isinstance(creator, dict) else "")
    pages = [(start, text[start:end], v) for key, start, end, v in records if key == "pages"]
    entries = [(start, text[start:end], v) for key, start, end, v in records if key == "entries"]
    if cut is not None:
        kept = f"{len(pages)} page{'s' if len(pages) != 1 else ''} and {len(entries)} entr{'ies' if len(entries) != 1 else 'y'}"
        if cut.record is not None:
            why = f"the HAR is cut or malformed inside this record ({cut.why}); the {kept} before it are kept"
            at = lines.at(cut.record)
        else:
            why = f"the HAR is cut or malformed here ({cut.why}); the {kept} before it are kept"
            at = lines.at(cut.pos)
        ctx.reject(at, why)
    for key, pos in not_arrays:
        ctx.reject(lines.at(pos), f"`log.{key}` is not a list of records, so none of it can be read")
    if cut is None and not records and log and not not_arrays:
        ctx.warn("the HAR has no pages and no entries")
    ctx.lines = len(records) + ctx.rejected
    service = service_from_name(source.name)
    base = dict(source=source.name, format="har", dialect=ctx.dialect, service=service)
    rows: list[dict[str, Any]] = []
    numbered = [(i, "pages", start, raw, p) for i, (start, raw, p) in enumerate(pages, 1)]
    numbered += [(j, "entries", start, raw, e) for j, (start, raw, e) in enumerate(entries, len(pages) + 1)]
    for number, key, start, raw, value in numbered:
        # named by its place too: a minified capture has every record on line 1
        what = f"page {number}" if key == "pages" else f"entry {number - len(pages)}"
        if value is DEEP:
            ctx.reject(lines.at(start), f"HAR {what} is nested too deeply to read")
            continue
        if not isinstance(value, dict):
            ctx.reject(lines.at(start), f"HAR {what} is not a JSON object")
            continue
        try:
            # `\ud800` alone is valid JSON but no text: DuckDB and Arrow refuse it, so the
            # record's strings get U+FFFD in its place (and its attrs are encoded again). The
            # decoded strings tell, not the escapes: `\\ud800` is text, a pair is one character.
            if ("\\ud" in raw or "\\uD" in raw) and (scrubbed := _scrub(value)) != value:
                value, raw = scrubbed, ""
                ctx.note(lines.at(start), f"a lone UTF-16 surrogate escape in HAR {what}, read as U+FFFD")
            row = _page(value, number, ctx.tz) if key == "pages" else _entry(value, number, ctx, raw)
            rows.append({**base, **row})
        except Exception as e:  # one odd record must not cost the others
            ctx.reject(lines.at(start), f"HAR {what} cannot be read ({type(e).__name__}: {e})")
    yield _table(rows, NAMES, arrow_schema(), pa)


def _table(rows: list[dict[str, Any]], names: list[str], schema: pa.Schema, pa: Any) -> pa.Table:
    cols = {k: [r.get(k) for r in rows] for k in names}
    try:
        return pa.table(cols, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        # a string Arrow refuses (a lone surrogate from a \\ud800 escape): replace it
        def clean(v: Any) -> Any:
            return v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v

        return pa.table({k: [clean(v) for v in col] for k, col in cols.items()}, schema=schema)


def _flavour(creator: str) -> str:
    c = creator.lower()
    for key, name in (
        ("webinspector", "chrome"),
        ("chrome", "chrome"),
        ("firefox", "firefox"),
        ("safari", "safari"),
        ("webkit", "safari"),
        ("playwright", "playwright"),
        ("mitmproxy", "mitmproxy"),
        ("charles", "charles"),
        ("insomnia", "insomnia"),
        ("polly", "polly"),
        ("fiddler", "fiddler"),
        ("puppeteer", "puppeteer"),
    ):
        if key in c:
            return name
    return "har"

"""Shaping query results into documents and timelines. No I/O, no rich, no SQL.

- `event_doc(row)` is one event as JSON-ready data: every event-table column in schema
  order plus `resolved_session`/`resolved_request`, times as ISO-8601 UTC with `Z`,
  `attrs` parsed back into an object, nulls kept (never a missing key).
- `session_doc` / `request_doc` / `trace_doc` wrap an ordered list of events with the
  summary SPEC.md names (started_at, last_activity, duration_ms, total_requests,
  services_touched, errors).
- `row_batches(batches)` turns streamed Arrow batches into row dicts batch by batch.
- `build_tree(rows)` nests each request's events under it (its HTTP event first, when
  there is one); events without a request stay at the top level; spans nest under their
  parent span, and events logged inside a span under it. A request is known by
  its id, or — when an HTTP call carries only a trace id (TraceForge, OTel) — by that
  trace id. A request whose events name a parent trace (`parent_trace`) nests under the
  request whose HTTP call carries that trace id (`nest_requests`).
- `parent_trace(event)` is the trace id an event names as its parent (TraceForge's
  `setParentTraceId`), read from its `attrs` (a HAR entry's request headers, a JSON
  record's keys) rather than from a column: the event table's columns are a contract.
- `collapse(nodes)` folds runs of like sibling events (same service, level, kind, status
  and message once numbers, hex ids and UUIDs are masked) into their first event; runs only
  ever join events of one level, so an ERROR in a run of INFO lines breaks the run and is
  shown, and a folded run of errors still says ERROR. `limit(nodes, rows)` keeps the first
  `rows` rows of a tree and counts the events it leaves out. Folded and cut events stay
  in `Node.rows()`, so every summary still counts them.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gascorr.ids import DEFAULT, Names, is_placeholder
from gascorr.schema import NAMES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import pyarrow as pa

ERROR_LEVELS = ("ERROR", "FATAL")
MAX_ID = 256  # a longer value is not an id (as in the parsers)
MAX_NESTING = 8  # requests nest at most this deep under one another


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 UTC with `Z`; milliseconds, or microseconds when they are not whole ms."""
    if ts is None:
        return None
    spec = "milliseconds" if ts.microsecond % 1000 == 0 else "microseconds"
    return ts.astimezone(UTC).isoformat(timespec=spec)[:-6] + "Z"  # "+00:00" -> "Z"


class RawJSON(str):
    """Text that is already a JSON value: the JSON writer puts it out as it is (an event's
    `attrs`, written by the parsers as a JSON object, is not decoded and encoded again)."""


_DOC_KEYS = (*NAMES, "resolved_session", "resolved_request")


def event_doc(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row) if tuple(row) == _DOC_KEYS else {k: row.get(k) for k in _DOC_KEYS}
    out["ts"] = iso(out["ts"])
    if isinstance(out["attrs"], str):
        out["attrs"] = _attrs_doc(out["attrs"])
    return out


def _attrs_doc(text: str) -> Any:
    """`attrs` for a document: the stored text when it is one JSON object as parsers write
    it (one line, braces at both ends), else decoded (or `{"_raw": text}` if it is not JSON).

    Logs may hold `NaN` and `Infinity`, which JSON does not: decoded, they become null, as
    JavaScript's `JSON.stringify` writes them, so that `jq` and strict parsers read the output."""
    odd = "NaN" in text or "Infinity" in text
    if not odd and text.startswith("{") and text.endswith("}") and "\n" not in text:
        return RawJSON(text)
    try:
        return json.loads(text, parse_constant=_null) if odd else json.loads(text)
    except ValueError:
        return {"_raw": text}


def _null(_constant: str) -> None:
    return None


def to_rows(t: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    """`t.to_pylist()`, with its UTC microsecond times made 5x faster: Arrow builds each
    zone-aware datetime through the zone (~2.5 µs, a tenth of a 1,400-event `trace`); the
    same time is the epoch plus a timedelta. (Its zone is `datetime.UTC`, where Arrow's is
    `ZoneInfo("UTC")`: equal times, equal offsets, and no import of `zoneinfo`.)"""
    import pyarrow as pa

    fast = [
        i
        for i, f in enumerate(t.schema)
        if pa.types.is_timestamp(f.type) and f.type.unit == "us" and f.type.tz in ("UTC", "+00:00")
    ]
    if not fast:
        return t.to_pylist()  # type: ignore[no-any-return]
    names = t.schema.names
    cols = [[] if i in fast else c.to_pylist() for i, c in enumerate(t.columns)]
    for i in fast:
        col = t.column(i)
        # the integers under the times, viewed without copying (`cast` would import pyarrow.compute)
        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        us = [x for c in chunks for x in c.view(pa.int64()).to_pylist()]
        cols[i] = [None if x is None else _EPOCH + timedelta(microseconds=x) for x in us]
    return [dict(zip(names, r, strict=True)) for r in zip(*cols, strict=True)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def row_batches(
    batches: Iterable[pa.RecordBatch], shape: Callable[[dict[str, Any]], Any] | None = None
) -> Iterator[list[Any]]:
    """Arrow record batches as lists of row dicts (or of `shape(row)`), one list per batch,
    each converted only when asked for: the way a streamed query reaches a writer."""
    for b in batches:
        rows = to_rows(b)
        yield [shape(r) for r in rows] if shape is not None else rows


def _ms(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() * 1000, 3)


def end_ms(r: dict[str, Any]) -> float:
    """When event `r` ended, in ms since the epoch (it has a time): its time plus its duration
    when its time is when it began (a HAR entry or page, a span, a record of an LLM
    interaction file). A log line is written when what it times has ended, so its
    `duration_ms` (a request's, a call's) is already behind it."""
    began = r.get("format") == "har" or r.get("kind") == "span" or r.get("dialect") == "llm-interaction"
    return float(r["ts"].timestamp() * 1000 + ((r.get("duration_ms") or 0) if began else 0))


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["ts"] for r in rows if r.get("ts") is not None]
    ends = [end_ms(r) for r in rows if r.get("ts") is not None]
    start = min(times) if times else None
    last = max(times) if times else None
    requests = {r["resolved_request"] for r in rows if r.get("resolved_request")}
    http_without_id = sum(1 for r in rows if r.get("kind") == "http" and not r.get("resolved_request"))
    return {
        "started_at": iso(start),
        "last_activity": iso(last),
        "duration_ms": round(max(ends) - start.timestamp() * 1000, 3) if start is not None and ends else None,
        "total_requests": len(requests) + http_without_id,
        "services_touched": sorted({r["service"] for r in rows if r.get("service")}),
        "errors": sum(1 for r in rows if r.get("level") in ERROR_LEVELS),
        "event_count": len(rows),
    }


def session_doc(
    session_id: str, rows: list[dict[str, Any]], ambiguous: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "session_id": session_id,
        **summary(rows),
        "ambiguous_ids": ambiguous or [],
        "events": [event_doc(r) for r in rows],
    }


def request_doc(request_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    sessions = sorted({r["resolved_session"] for r in rows if r.get("resolved_session")})
    http = next((r for r in rows if r.get("kind") == "http"), None)
    s = summary(rows)
    return {
        "request_id": request_id,
        "session_id": sessions[0] if len(sessions) == 1 else None,
        "sessions": sessions,
        "method": http.get("method") if http else None,
        "url": http.get("url") if http else None,
        "status": http.get("status") if http else None,
        **s,
        "events": [event_doc(r) for r in rows],
    }


def trace_doc(trace_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    sessions = sorted({r["resolved_session"] for r in rows if r.get("resolved_session")})
    requests = sorted({r["resolved_request"] for r in rows if r.get("resolved_request")})
    return {
        "trace_id": trace_id,
        "session_id": sessions[0] if len(sessions) == 1 else None,
        "request_ids": requests,
        **summary(rows),
        "events": [event_doc(r) for r in rows],
    }


@dataclass
class Node:
    """A timeline node: one event, or a request with its events as children."""

    event: dict[str, Any] | None = None
    key: str | None = None  # request id (or `trace:<id>`) for request nodes
    children: list[Node] = field(default_factory=list)
    repeats: list[dict[str, Any]] = field(default_factory=list)  # like events folded into this one
    cut: list[Node] = field(default_factory=list)  # children left out by `limit`

    @property
    def is_request(self) -> bool:
        return self.key is not None

    @property
    def start(self) -> datetime | None:
        if self.event is not None and self.event.get("ts") is not None:
            return self.event["ts"]
        times = [c.start for c in self.children if c.start is not None]
        return min(times) if times else None

    def rows(self, *, nested: bool = True) -> list[dict[str, Any]]:
        """Every event under this node, folded and cut ones included; with `nested=False`,
        not those of the requests nested under it (child traces)."""
        out = [self.event] if self.event is not None else []
        out.extend(self.repeats)
        for c in [*self.children, *self.cut]:
            if nested or not c.is_request:
                out.extend(c.rows())
        return out

    @property
    def own_rows(self) -> int:
        """Rows this node takes in a tree, its children apart: its line, and one for a folded run."""
        return 1 + (1 if self.repeats else 0)


def _group_key(r: dict[str, Any], http_traces: set[str]) -> str | None:
    if r.get("resolved_request"):
        return str(r["resolved_request"])
    t = r.get("trace_id")
    if t and t in http_traces:
        return f"trace:{t}"
    return None


def build_tree(rows: list[dict[str, Any]], *, group: bool = True, names: Names = DEFAULT) -> list[Node]:
    """Top-level nodes in timeline order; requests nest their events (HTTP event first), and
    requests that name a parent trace nest under its request (`names.parent_trace_*`)."""
    if not group:
        return [Node(event=r) for r in rows]
    http_traces = {
        r["trace_id"] for r in rows if r.get("kind") == "http" and r.get("trace_id") and not r.get("resolved_request")
    }
    top: list[Node] = []
    reqs: dict[str, Node] = {}
    for r in rows:
        key = _group_key(r, http_traces)
        if key is None:
            top.append(Node(event=r))
            continue
        node = reqs.get(key)
        if node is None:
            node = reqs[key] = Node(key=key)
            top.append(node)
        if r.get("kind") == "http" and node.event is None:
            node.event = r
        else:
            node.children.append(Node(event=r))
    for n in top:
        if n.is_request:
            n.children = nest_spans(n.children)
    return nest_requests(nest_spans(top), names)


def _id(value: Any) -> str | None:
    """`value` as a trace id: stripped and lower-cased; None for a placeholder or a non-string."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if not v or len(v) > MAX_ID or is_placeholder(v):
        return None
    return v.lower()


def _header(headers: Any, wanted: tuple[str, ...]) -> str | None:
    """The first header of `headers` (a HAR list of `{name, value}`, or an object of name to
    value or to a list of values) named in `wanted` (lower-case), compared case-insensitively."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(headers, list):
        pairs = [(h.get("name"), h.get("value")) for h in headers if isinstance(h, dict)]
    elif isinstance(headers, dict):
        pairs = [(k, v[0] if isinstance(v, list) and v else v) for k, v in headers.items()]
    for name, value in pairs:
        if isinstance(name, str) and name.strip().lower() in wanted and (v := _id(value)):
            return v
    return None


def _key(obj: dict[str, Any], key: str) -> Any:
    """The value of `key` in `obj`, compared case-insensitively; a dotted key is also looked up
    as a nested path (`traceforge.parent_trace_id`)."""
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    head, dot, rest = key.partition(".")
    if dot:
        for k, v in obj.items():
            if isinstance(k, str) and k.lower() == head.lower() and isinstance(v, dict):
                return _key(v, rest)
    return None


@functools.lru_cache(maxsize=8)
def _mentions(names: Names) -> re.Pattern[str] | None:
    """A test that attrs text may name a parent trace (a header name or the last part of a
    key, any case), run before parsing it: most events name none."""
    words = {*names.parent_trace_headers, *(k.rsplit(".", 1)[-1] for k in names.parent_trace_keys)}
    words.discard("")
    return re.compile("|".join(re.escape(w) for w in sorted(words)), re.I) if words else None


def parent_trace(e: dict[str, Any], names: Names = DEFAULT) -> str | None:
    """The trace id event `e` names as its parent trace, lower-cased, or None. Read from its
    `attrs`: a HAR entry's (or JSON record's) `request.headers` named in
    `names.parent_trace_headers`, else a key named in `names.parent_trace_keys` (or a header
    name used as a key). Placeholders are not ids."""
    raw = e.get("attrs")
    if isinstance(raw, str):
        hint = _mentions(names)
        if hint is None or not hint.search(raw):
            return None
        try:
            attrs = json.loads(raw)
        except ValueError:
            return None
    else:
        attrs = raw
    if not isinstance(attrs, dict):
        return None
    req = attrs.get("request")
    if isinstance(req, dict) and (v := _header(req.get("headers"), names.parent_trace_headers)):
        return v
    for key in (*names.parent_trace_keys, *names.parent_trace_headers):
        if v := _id(_key(attrs, key)):
            return v
    return None


def nest_requests(nodes: list[Node], names: Names = DEFAULT) -> list[Node]:
    """`nodes` with every request that names a parent trace moved under the request whose HTTP
    call carries that trace id, after the parent's own events, in timeline order among its
    children. What a request names is its HTTP event's `parent_trace`, else the first one its
    other events name. A parent that is not among `nodes` leaves the request where it is, and
    so does a request naming itself; of a cycle of parents, the earliest request keeps its
    place and the others nest under it. Requests nest at most `MAX_NESTING` deep: deeper ones
    are shown among the children of their ancestor at that depth, in timeline order."""
    by_trace: dict[str, Node] = {}
    for n in nodes:
        t = n.event.get("trace_id") if n.is_request and n.event is not None else None
        if t:
            by_trace.setdefault(str(t).lower(), n)
    if not by_trace:
        return nodes
    parent_of: dict[int, Node] = {}
    # Latest first, so that of a cycle of parents the last link looked at, the one left out,
    # is that of its earliest request. The links kept always form a forest.
    for n in reversed(nodes):
        if not n.is_request:
            continue
        wanted = next((t for e in n.rows() if (t := parent_trace(e, names))), None)
        parent = by_trace.get(wanted) if wanted else None
        if parent is None or parent is n:
            continue
        q: Node | None = parent
        while q is not None and q is not n:  # up its parents: it ends, as there is no cycle
            q = parent_of.get(id(q))
        if q is None:
            parent_of[id(n)] = parent
    if not parent_of:
        return nodes
    # A chain of steps that each name the one before would nest as deep as the session is long;
    # a request deeper than MAX_NESTING joins its ancestor at that depth's other children.
    depth: dict[int, int] = {}
    anchor: dict[int, Node] = {}  # for depth >= MAX_NESTING - 1: the ancestor at that depth
    for n in nodes:
        path: list[Node] = []
        m: Node | None = n
        while m is not None and id(m) not in depth:
            path.append(m)
            m = parent_of.get(id(m))
        d = depth[id(m)] if m is not None else -1
        for x in reversed(path):
            d += 1
            depth[id(x)] = d
            if d == MAX_NESTING - 1:
                anchor[id(x)] = x
            elif d >= MAX_NESTING:
                anchor[id(x)] = anchor[id(parent_of[id(x)])]
    out: list[Node] = []
    for n in nodes:
        up = parent_of.get(id(n))
        if up is None:
            out.append(n)
        else:
            if depth[id(n)] > MAX_NESTING:
                up = anchor[id(up)]
            up.children.append(n)
    return out


def nest_spans(nodes: list[Node]) -> list[Node]:
    """Nest span events under their parent span, and events logged inside a span (same
    `span_id`) under that span. Only an earlier node can be a parent, so malformed ids can
    never make a cycle; everything else keeps its place."""
    spans: dict[str, Node] = {}
    out: list[Node] = []
    for n in nodes:
        e = n.event
        parent = None
        if e is not None and not n.is_request:
            if e.get("kind") == "span":
                parent = spans.get(e.get("parent_span_id") or "")
            else:
                parent = spans.get(e.get("span_id") or "")
        if parent is not None:
            parent.children.append(n)
        else:
            out.append(n)
        if e is not None and e.get("kind") == "span" and e.get("span_id") and not n.is_request:
            spans.setdefault(e["span_id"], n)
    return out


# What varies between repeats of one log line: UUIDs, hex ids (with a digit, so words like
# "added" stay), then any number.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEX = re.compile(r"\b(?:0x)?(?=[0-9a-f]*\d)[0-9a-f]{6,}\b", re.I)
_NUM = re.compile(r"\d+(?:[.,]\d+)*")

MIN_RUN = 3  # runs shorter than this are shown whole


def shape(message: str | None) -> str:
    """`message` with UUIDs, hex ids and numbers masked: equal for repeats of one log line."""
    s = _UUID.sub("<uuid>", message or "")
    s = _HEX.sub("<hex>", s)
    return _NUM.sub("#", s)


def _like_key(n: Node) -> tuple[Any, ...] | None:
    """What makes two sibling events alike, or None for nodes that never fold: nodes with
    events nested under them (a request with its services' lines, a span with its logs). A
    request that is only its HTTP call (a polling browser) folds like an event."""
    e = n.event
    if e is None or n.children:
        return None
    return (
        n.is_request,
        e.get("service"),
        e.get("level"),
        e.get("kind"),
        e.get("method"),
        e.get("status"),
        shape(e.get("url")),
        shape(e.get("message")),
    )


def collapse(nodes: list[Node], min_run: int = MIN_RUN) -> list[Node]:
    """`nodes` with every run of `min_run` or more consecutive like siblings folded into its
    first event (`Node.repeats` holds the others), at every depth of the tree."""
    out: list[Node] = []
    i = 0
    while i < len(nodes):
        n = nodes[i]
        key = _like_key(n)
        j = i + 1
        if key is not None:
            while j < len(nodes) and _like_key(nodes[j]) == key:
                j += 1
        if j - i >= min_run:
            out.append(replace(n, repeats=[m.event for m in nodes[i + 1 : j] if m.event is not None]))
        elif n.children:
            out.append(replace(n, children=collapse(n.children, min_run)))
        else:
            out.extend(nodes[i:j])
        i = j
    return out


def limit(nodes: list[Node], max_rows: int) -> tuple[list[Node], int]:
    """The first `max_rows` rows of a tree, in order, and the number of events left out.

    A row is an event, a request's header line, or a folded run's summary line. A request
    is never shown as a bare header: it comes with its first row or not at all. Nodes that
    lose children keep them in `Node.cut`, so request headers still summarise all events."""
    left = max_rows
    hidden = 0
    stopped = False

    def take(ns: list[Node]) -> tuple[list[Node], list[Node]]:
        nonlocal left, hidden, stopped
        kept: list[Node] = []
        for i, n in enumerate(ns):
            first = n.children[0].own_rows if n.is_request and n.children else 0
            if stopped or n.own_rows + first > left:
                stopped = True
                rest = ns[i:]
                hidden += sum(len(m.rows()) for m in rest)
                return kept, rest
            left -= n.own_rows
            if n.children:
                shown, cut = take(n.children)
                n = replace(n, children=shown, cut=[*cut, *n.cut])
            kept.append(n)
        return kept, []

    shown, _ = take(nodes)
    return shown, hidden

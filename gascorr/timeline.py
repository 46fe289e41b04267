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
  trace id.
- `collapse(nodes)` folds runs of like sibling events (same service, level, kind, status
  and message once numbers, hex ids and UUIDs are masked) into their first event; runs only
  ever join events of one level, so an ERROR in a run of INFO lines breaks the run and is
  shown, and a folded run of errors still says ERROR. `limit(nodes, rows)` keeps the first
  `rows` rows of a tree and counts the events it leaves out. Folded and cut events stay
  in `Node.rows()`, so every summary still counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gascorr.schema import NAMES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import pyarrow as pa

ERROR_LEVELS = ("ERROR", "FATAL")


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 UTC with `Z`; milliseconds, or microseconds when they are not whole ms."""
    if ts is None:
        return None
    ts = ts.astimezone(UTC)
    spec = "milliseconds" if ts.microsecond % 1000 == 0 else "microseconds"
    return ts.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def event_doc(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in [*NAMES, "resolved_session", "resolved_request"]:
        v = row.get(k)
        if k == "ts":
            v = iso(v)
        elif k == "attrs" and isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                v = {"_raw": v}
        out[k] = v
    return out


def row_batches(
    batches: Iterable[pa.RecordBatch], shape: Callable[[dict[str, Any]], Any] | None = None
) -> Iterator[list[Any]]:
    """Arrow record batches as lists of row dicts (or of `shape(row)`), one list per batch,
    each converted only when asked for: the way a streamed query reaches a writer."""
    for b in batches:
        rows = b.to_pylist()
        yield [shape(r) for r in rows] if shape is not None else rows


def _ms(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() * 1000, 3)


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["ts"] for r in rows if r.get("ts") is not None]
    ends = [r["ts"].timestamp() * 1000 + (r.get("duration_ms") or 0) for r in rows if r.get("ts") is not None]
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

    def rows(self) -> list[dict[str, Any]]:
        """Every event under this node, folded and cut ones included."""
        out = [self.event] if self.event is not None else []
        out.extend(self.repeats)
        for c in [*self.children, *self.cut]:
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


def build_tree(rows: list[dict[str, Any]], *, group: bool = True) -> list[Node]:
    """Top-level nodes in timeline order; requests nest their events (HTTP event first)."""
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
    return nest_spans(top)


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

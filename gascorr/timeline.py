"""Shaping query results into documents and timelines. No I/O, no rich, no SQL.

- `event_doc(row)` is one event as JSON-ready data: every event-table column in schema
  order plus `resolved_session`/`resolved_request`, times as ISO-8601 UTC with `Z`,
  `attrs` parsed back into an object, nulls kept (never a missing key).
- `session_doc` / `request_doc` / `trace_doc` wrap an ordered list of events with the
  summary SPEC.md names (started_at, last_activity, duration_ms, total_requests,
  services_touched, errors).
- `build_tree(rows)` nests each request's events under it (its HTTP event first, when
  there is one); events without a request stay at the top level; spans nest under their
  parent span, and events logged inside a span under it. A request is known by
  its id, or — when an HTTP call carries only a trace id (TraceForge, OTel) — by that
  trace id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gascorr.schema import NAMES

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
        out = [self.event] if self.event is not None else []
        for c in self.children:
            out.extend(c.rows())
        return out


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

"""Which names and patterns carry session, request and trace ids, and which values are not ids.

One `Names` value holds every list; parsers read it and users extend it (`--config`).
Header names compare case-insensitively; JSON keys compare lower-cased and without
`_ - . /`, up to 4 levels deep (`parsers.fields`).

The parent trace names (`parent_trace_keys`, `parent_trace_headers`) are not read by parsers:
a call's parent trace (TraceForge's `setParentTraceId`) is taken from the event's `attrs`
when a timeline is built (`timeline.parent_trace`), so it needs no column of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

MAX_ID = 256  # longer values are not ids (the SQL macro `gc_id` has the same limit)
PLACEHOLDERS = frozenset({"", "-", "--", "in-progress", "null", "none", "nil", "unknown", "undefined", "n/a"})

_ZERO = re.compile(r"^[0-]+$")


def is_placeholder(value: str | None) -> bool:
    """True when `value` is not a real id: empty, `-`, `in-progress`, `null`, an all-zero id, ..."""
    if value is None:
        return True
    v = value.strip()
    return v.lower() in PLACEHOLDERS or bool(_ZERO.match(v))


@dataclass(frozen=True)
class Names:
    """Every name gascorr looks for, by role."""

    session_keys: tuple[str, ...] = (
        "session_id",
        "sessionId",
        "sessionID",
        "SessionId",
        "session.id",
        "session",
        "sid",
        "X-Session-ID",
    )
    request_keys: tuple[str, ...] = (
        "request_id",
        "requestId",
        "requestID",
        "RequestId",
        "req_id",
        "reqId",
        "request.id",
        "correlation_id",
        "correlationId",
        "CorrelationId",
        "x_request_id",
        "X-Request-ID",
        "http.request_id",
    )
    trace_keys: tuple[str, ...] = (
        "trace_id",
        "traceId",
        "traceID",
        "TraceId",
        "trace.id",
        "dd.trace_id",
        "logging.googleapis.com/trace",
        "trace",
    )
    span_keys: tuple[str, ...] = (
        "span_id",
        "spanId",
        "spanID",
        "SpanId",
        "span.id",
        "dd.span_id",
        "logging.googleapis.com/spanId",
    )
    parent_keys: tuple[str, ...] = (
        "parent_span_id",
        "parentSpanId",
        "parent_id",
        "parentId",
        "parent.id",
        "ParentSpanId",
    )
    step_keys: tuple[str, ...] = ("step", "step_index", "stepIndex")
    # The trace a call is a child of. A dotted key is also looked up as a nested path. Not part
    # of the repr: ingest digests repr(names) to tell when a file must be parsed again, and
    # parsers never read these names (timelines do).
    parent_trace_keys: tuple[str, ...] = field(
        default=(
            "parent_trace_id",
            "parentTraceId",
            "traceforge.parent_trace_id",
            "traceforge.parentTraceId",
        ),
        repr=False,
    )
    session_headers: tuple[str, ...] = ("x-session-id", "x-cagent-session-id", "x-traceforge-session-id")
    request_headers: tuple[str, ...] = (
        "x-request-id",
        "x-correlation-id",
        "request-id",
        "x-amzn-requestid",
        "x-amz-request-id",
        "x-github-request-id",
    )
    trace_headers: tuple[str, ...] = (
        "x-b3-traceid",
        "x-traceforge-trace-id",
        "x-amzn-trace-id",
        "x-cloud-trace-context",
    )
    step_headers: tuple[str, ...] = ("x-traceforge-step-index",)
    parent_trace_headers: tuple[str, ...] = field(default=("x-traceforge-parent-trace-id",), repr=False)
    # Regexes whose group 1 is an id, searched inside free-text messages.
    # `key=value`, `key: value`, and quoted: `key="value"`, `"key": "value"`, `key='value'`
    session_patterns: tuple[str, ...] = (r"session[_-]?id[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9][\w.:-]*)",)
    request_patterns: tuple[str, ...] = (
        r"(?:request[_-]?id|req[_-]id|correlation[_-]id)[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9][\w.:-]*)",
    )
    trace_patterns: tuple[str, ...] = (r"trace[_-]?id[\"']?\s*[=:]\s*[\"']?([0-9A-Fa-f-]{16,36})",)

    def extended(
        self,
        role: str,
        *,
        keys: list[str] | None = None,
        headers: list[str] | None = None,
        patterns: list[str] | None = None,
    ) -> Names:
        """A copy with user-added names for `role` (session, request, trace or parent_trace,
        which takes no patterns)."""
        changes: dict[str, tuple[str, ...]] = {}
        if keys:
            changes[f"{role}_keys"] = tuple(keys) + getattr(self, f"{role}_keys")
        if headers:
            changes[f"{role}_headers"] = tuple(h.lower() for h in headers) + getattr(self, f"{role}_headers")
        if patterns:
            for p in patterns:
                if re.compile(p).groups < 1:
                    raise ValueError(f"id pattern {p!r} needs a capture group for the id")
            changes[f"{role}_patterns"] = tuple(patterns) + getattr(self, f"{role}_patterns")
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT = Names()

_TRACEPARENT = re.compile(r"^\s*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", re.I)


_TRACEPARENT_ONLY = re.compile(r" *[0-9A-Fa-f]{2}-([0-9A-Fa-f]{32})-[0-9A-Fa-f]{16}-[0-9A-Fa-f]{2} *")
_HEXISH = re.compile(r" *[0-9A-Fa-f-]+ *")
# what DuckDB's trim() removes: the Unicode space separators (not tabs or line breaks)
_SPACES = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def trace_id(value: str) -> str | None:
    """A trace (or span) id as the store holds it: the trace id of a whole W3C `traceparent`,
    a hex id lower-cased, any other id as written, trimmed. None for a placeholder, an id
    over MAX_ID characters or a JSON object or array. The SQL macro `gc_trace` reads the ids
    found in logs by the same rule (checked by a property test), so the two always meet."""
    bare = value.strip(" ")
    if len(value) > MAX_ID or bare.casefold() in PLACEHOLDERS or _ZERO.fullmatch(bare) or bare[:1] in ("{", "["):
        return None
    if m := _TRACEPARENT_ONLY.fullmatch(value):
        t = m.group(1).lower()
        return None if _ZERO.fullmatch(t) else t
    # `gc_trim`: trimmed only when it begins or ends with a space
    v = value.strip(_SPACES) if value[:1] == " " or value[-1:] == " " else value
    return v.lower() if _HEXISH.fullmatch(value) else v


def parse_traceparent(value: str) -> tuple[str, str] | None:
    """(trace_id, span_id) from a W3C `traceparent`, or None when malformed or all-zero."""
    m = _TRACEPARENT.match(value)
    if not m:
        return None
    trace, span = m.group(2).lower(), m.group(3).lower()
    if is_placeholder(trace):
        return None
    return trace, span

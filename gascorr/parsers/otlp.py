"""OpenTelemetry JSON (OTLP/JSON): log records and spans, from whole documents or one per line.

The collector's file exporter writes one `{"resourceLogs": …}` / `{"resourceSpans": …}`
document per line; the protocol's examples are single indented documents. Both are read
here. Each log record becomes a `log` event; each span a `span` event with its trace id,
span id, parent span id, start time and duration. The service comes from the resource's
`service.name`. Ids are lower-cased hex (OTLP/JSON examples use upper case, W3C headers
lower case, and they must compare equal); ids in base64, as protobuf's generic JSON mapping
writes them, are turned into hex. Attributes of the resource, scope and record are
flattened into `attrs`, where id names (`session.id`, `request_id` …) are also found.

The `line` of an event is the line of its document in a one-document-per-line file, and the
record's ordinal (1, 2, …) in a whole-file document, whose records have no line of their own.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gascorr.ids import is_placeholder
from gascorr.parsers import ParseContext
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source

SEVERITY = ((4, "TRACE"), (8, "DEBUG"), (12, "INFO"), (16, "WARN"), (20, "ERROR"), (24, "FATAL"))
SPAN_ERROR = {2, "2", "STATUS_CODE_ERROR"}


def _value(v: Any) -> Any:
    """The plain value of an OTLP AnyValue."""
    if not isinstance(v, dict):
        return v
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "arrayValue" in v:
        return [_value(x) for x in (v["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in v:
        return _attrs((v["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _attrs(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for a in items:
            if isinstance(a, dict) and "key" in a:
                out[str(a["key"])] = _value(a.get("value"))
    return out


def _nanos(v: Any) -> datetime | None:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return None
    if n <= 0:
        return None
    return datetime.fromtimestamp(n // 1000 / 1_000_000, tz=UTC)


_HEX = re.compile(r"^[0-9a-fA-F]+$")
_B64 = re.compile(r"^[A-Za-z0-9+/]{10,}={0,2}$")


def _hex(v: Any) -> str | None:
    """A trace or span id as lower-case hex. OTLP/JSON writes hex (upper case in the spec's
    examples); protobuf's generic JSON mapping writes base64, turned into hex here."""
    if not isinstance(v, str) or is_placeholder(v):
        return None
    v = v.strip()
    if not _HEX.match(v) and _B64.match(v) and len(v) in (12, 24):
        try:
            return base64.b64decode(v, validate=True).hex()
        except (binascii.Error, ValueError):
            pass
    return v.lower()


def _level(num: Any, text: Any) -> str | None:
    if isinstance(text, str) and text:
        t = text.upper()
        for name in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"):
            if t.startswith(name):
                return name
    try:
        n = int(num)
    except (TypeError, ValueError):
        return None
    for hi, name in SEVERITY:
        if 0 < n <= hi:
            return name
    return None


def _pick(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = attrs.get(k)
        if v is not None and not isinstance(v, (dict, list)) and not is_placeholder(str(v)):
            return str(v)
    return None


def _docs(text: str, ctx: ParseContext) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, document) for a whole-file document (line 0) or one document per line."""
    stripped = text.lstrip("\ufeff")
    try:
        doc = json.loads(stripped)
        if isinstance(doc, dict):
            yield 0, doc
            return
    except (ValueError, RecursionError):
        pass
    lines = stripped.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text after the final newline is not a line
    for i, line in enumerate(lines, 1):
        if not line.strip():
            ctx.blank += 1
            continue
        try:
            d = json.loads(line)
        except ValueError:
            ctx.reject(i, "malformed JSON")
            continue
        except RecursionError:
            ctx.reject(i, "JSON nested too deeply to read")
            continue
        if isinstance(d, dict):
            yield i, d
        else:
            ctx.reject(i, "a JSON value that is not an object")


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    import pyarrow as pa

    from gascorr.parsers import read_whole
    from gascorr.schema import NAMES, arrow_schema

    with ctx.open(source) as f:
        text = read_whole(f, ctx)
    ctx.lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    ctx.dialect = "otlp-json"
    names = ctx.names
    fallback = service_from_name(source.name)
    cols: dict[str, list[Any]] = {k: [] for k in NAMES}
    seq = 0

    def row(**kw: Any) -> None:
        for k in NAMES:
            cols[k].append(kw.get(k))

    for line, doc in _docs(text, ctx):
        for rl in doc.get("resourceLogs") or []:
            res = _attrs((rl.get("resource") or {}).get("attributes"))
            service = _pick(res, ("service.name",)) or fallback
            for sl in rl.get("scopeLogs") or rl.get("instrumentationLibraryLogs") or []:
                scope = sl.get("scope") or sl.get("instrumentationLibrary") or {}
                for rec in sl.get("logRecords") or []:
                    seq += 1
                    a = _attrs(rec.get("attributes"))
                    ts = _nanos(rec.get("timeUnixNano")) or _nanos(rec.get("observedTimeUnixNano"))
                    body = _value(rec.get("body"))
                    merged = {**res, **a}
                    row(
                        ts=ts,
                        ts_raw=rec.get("timeUnixNano") or rec.get("observedTimeUnixNano"),
                        source=source.name,
                        line=line or seq,
                        format="otlp",
                        dialect="otlp-logs",
                        kind="log",
                        service=service,
                        level=_level(rec.get("severityNumber"), rec.get("severityText")),
                        message=body
                        if isinstance(body, str)
                        else ("" if body is None else json.dumps(body, ensure_ascii=False)),
                        session_id=_pick(merged, names.session_keys),
                        request_id=_pick(merged, names.request_keys),
                        trace_id=_hex(rec.get("traceId")),
                        span_id=_hex(rec.get("spanId")),
                        attrs=json.dumps(
                            {
                                "resource": res,
                                "scope": scope.get("name"),
                                "attributes": a,
                                "severityNumber": rec.get("severityNumber"),
                            },
                            ensure_ascii=False,
                        ),
                    )
        for rs in doc.get("resourceSpans") or []:
            res = _attrs((rs.get("resource") or {}).get("attributes"))
            service = _pick(res, ("service.name",)) or fallback
            for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
                scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
                for sp in ss.get("spans") or []:
                    seq += 1
                    a = _attrs(sp.get("attributes"))
                    start, end = _nanos(sp.get("startTimeUnixNano")), _nanos(sp.get("endTimeUnixNano"))
                    dur = (end - start).total_seconds() * 1000 if start and end else None
                    status = sp.get("status") or {}
                    error = status.get("code") in SPAN_ERROR
                    merged = {**res, **a}
                    http_status = _pick(a, ("http.status_code", "http.response.status_code"))
                    row(
                        ts=start,
                        ts_raw=sp.get("startTimeUnixNano"),
                        source=source.name,
                        line=line or seq,
                        format="otlp",
                        dialect="otlp-spans",
                        kind="span",
                        service=service,
                        level="ERROR" if error else "INFO",
                        message=str(sp.get("name") or "span")
                        + (f" ({status['message']})" if status.get("message") else ""),
                        session_id=_pick(merged, names.session_keys),
                        request_id=_pick(merged, names.request_keys),
                        trace_id=_hex(sp.get("traceId")),
                        span_id=_hex(sp.get("spanId")),
                        parent_span_id=_hex(sp.get("parentSpanId")),
                        method=_pick(a, ("http.method", "http.request.method")),
                        url=_pick(a, ("http.url", "url.full", "http.target")),
                        status=int(http_status) if http_status and http_status.isdigit() else None,
                        duration_ms=dur,
                        attrs=json.dumps(
                            {
                                "resource": res,
                                "scope": scope.get("name"),
                                "attributes": a,
                                "kind": sp.get("kind"),
                                "status": status,
                                "events": sp.get("events") or [],
                            },
                            ensure_ascii=False,
                        ),
                    )
    yield pa.table(cols, schema=arrow_schema())

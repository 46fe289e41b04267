"""HAR 1.2 captures: pages become `page` events, entries become `http` events.

A HAR is one JSON document, so it is read whole and walked in Python, one record per entry
(the headers need per-entry logic anyway). Request and response headers are scanned for
ids, names compared case-insensitively: session headers, request headers, W3C
`traceparent` (trace and span id), B3 and TraceForge trace ids, the TraceForge step index.
Status 0 (a failed request) and status >= 400 are ERROR; the failure text (`_error`,
`_failureText`) is part of the message. The entry itself, minus very large bodies, is kept
in `attrs` with its `pageref`, through which a page later joins its requests' session.

Records are numbered in the `line` column: pages 1..P first, then entries P+1..P+E.

A truncated HAR (a crashed job's half-written file) is recovered entry by entry: every
complete entry before the cut is kept and the cut is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gascorr.ids import is_placeholder, parse_traceparent
from gascorr.parsers import ParseContext
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source

MAX_BODY = 16 * 1024


def _parse_time(value: Any, tz: str) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            from dateutil import parser as du

            dt = du.isoparse(value.strip())
        except (ValueError, OverflowError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)


def _headers(items: Any) -> list[tuple[str, str]]:
    out = []
    if isinstance(items, list):
        for h in items:
            if isinstance(h, dict) and isinstance(h.get("name"), str):
                out.append((h["name"].lower(), str(h.get("value", ""))))
    return out


def _recover(text: str) -> tuple[dict[str, Any], int, str]:
    """Complete pages and entries of a truncated HAR; (document, records kept, why)."""
    dec = json.JSONDecoder()
    doc: dict[str, Any] = {"log": {"pages": [], "entries": []}}
    kept = 0
    for key in ("pages", "entries"):
        at = text.find(f'"{key}"')
        if at < 0:
            continue
        at = text.find("[", at)
        if at < 0:
            continue
        i = at + 1
        while True:
            while i < len(text) and text[i] in " \t\r\n,":
                i += 1
            if i >= len(text) or text[i] != "{":
                break
            try:
                obj, i = dec.raw_decode(text, i)
            except ValueError:
                break
            doc["log"][key].append(obj)
            kept += 1
    return doc, kept, "the document is truncated or malformed"


def _trim_bodies(entry: dict[str, Any]) -> dict[str, Any]:
    content = (entry.get("response") or {}).get("content")
    if isinstance(content, dict) and isinstance(content.get("text"), str) and len(content["text"]) > MAX_BODY:
        entry = dict(entry)
        resp = dict(entry["response"])
        c = dict(content)
        c["text"] = c["text"][:MAX_BODY]
        c["_gascorr_truncated"] = len(content["text"])
        resp["content"] = c
        entry["response"] = resp
    return entry


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    import pyarrow as pa

    from gascorr.schema import NAMES, arrow_schema

    with ctx.open(source) as f:
        raw = f.read()
    text = raw.decode("utf-8-sig", errors="replace")
    ctx.lines = text.count("\n") + 1
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("log"), dict):
            raise ValueError("no top-level `log` object")
    except ValueError as e:
        doc, kept, why = _recover(text)
        line = text.count("\n", 0, getattr(e, "pos", len(text))) + 1 if hasattr(e, "pos") else 1
        ctx.reject(line, f"{why}: {e}; kept {kept} complete records before it")
    log = doc["log"]
    creator = (log.get("creator") or {}).get("name") if isinstance(log.get("creator"), dict) else None
    ctx.dialect = _flavour(str(creator or ""))
    pages = [p for p in (log.get("pages") or []) if isinstance(p, dict)]
    entries = [e for e in (log.get("entries") or []) if isinstance(e, dict)]
    if not entries and not pages:
        ctx.warn("the HAR has no pages and no entries")
    service = service_from_name(source.name)
    n = ctx.names
    cols: dict[str, list[Any]] = {k: [] for k in NAMES}

    def row(**kw: Any) -> None:
        for k in NAMES:
            cols[k].append(kw.get(k))

    base = dict(source=source.name, format="har", dialect=ctx.dialect, service=service)
    for i, p in enumerate(pages, 1):
        timings: dict[str, Any] = p["pageTimings"] if isinstance(p.get("pageTimings"), dict) else {}
        onload = timings.get("onLoad") if isinstance(timings.get("onLoad"), (int, float)) else None
        row(
            **base,
            ts=_parse_time(p.get("startedDateTime"), ctx.tz),
            ts_raw=p.get("startedDateTime"),
            line=i,
            kind="page",
            level="INFO",
            message=f"Page load: {p.get('title') or p.get('id') or ''}".rstrip(),
            duration_ms=float(onload) if onload is not None and onload >= 0 else None,
            attrs=json.dumps({"pageref": p.get("id"), **p}, ensure_ascii=False),
        )
    for j, ent in enumerate(entries, len(pages) + 1):
        req: dict[str, Any] = ent["request"] if isinstance(ent.get("request"), dict) else {}
        resp: dict[str, Any] = ent["response"] if isinstance(ent.get("response"), dict) else {}
        hreq, hresp = _headers(req.get("headers")), _headers(resp.get("headers"))
        ids: dict[str, str] = {}
        for name, value in hreq + hresp:
            if is_placeholder(value):
                continue
            if name in n.session_headers:
                ids.setdefault("session_id", value.strip())
            elif name in n.request_headers:
                ids.setdefault("request_id", value.strip())
            elif name == "traceparent":
                tp = parse_traceparent(value)
                if tp:
                    ids.setdefault("trace_id", tp[0])
                    ids.setdefault("span_id", tp[1])
            elif name in n.trace_headers:
                ids.setdefault("trace_id", value.strip().lower())
            elif name == "x-b3-spanid":
                ids.setdefault("span_id", value.strip().lower())
            elif name == "x-b3-parentspanid":
                ids.setdefault("parent_span_id", value.strip().lower())
            elif name in n.step_headers:
                ids.setdefault("step", value.strip())
        status = resp.get("status")
        status = int(status) if isinstance(status, (int, float)) else None
        err = resp.get("_error") or ent.get("_error") or resp.get("_failureText") or ent.get("_failureText")
        level = "ERROR" if status is None or status == 0 or status >= 400 else "INFO"
        method = str(req.get("method") or "").upper() or None
        url = req.get("url") if isinstance(req.get("url"), str) else None
        status_text = resp.get("statusText") or ""
        msg = " ".join(x for x in (method, url, str(status) if status is not None else None, status_text) if x)
        if err:
            msg += f" ({err})"
        t = ent.get("time")
        step = ids.pop("step", None)
        row(
            **base,
            ts=_parse_time(ent.get("startedDateTime"), ctx.tz),
            ts_raw=ent.get("startedDateTime"),
            line=j,
            kind="http",
            level=level,
            message=msg,
            method=method,
            url=url,
            status=status,
            duration_ms=float(t) if isinstance(t, (int, float)) and t >= 0 else None,
            step=int(step) if step and step.strip().isdigit() else None,
            **ids,
            attrs=json.dumps(_trim_bodies(ent), ensure_ascii=False),
        )
    yield pa.table(cols, schema=arrow_schema())


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

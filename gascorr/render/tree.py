"""Timelines as rich trees: a summary header, requests as branches, events as leaves.

Each event line reads `+rel  service  LEVEL  message`; a request branch reads
`METHOD path  STATUS  latency  request-id`. A request nested under another (a child trace,
`timeline.nest_requests`) is a branch after the parent's own events; the parent's line
counts only its own services and errors. Relative times count from the start of the
session (top level) or of the enclosing request (inside it); `absolute=True` shows UTC
clock times instead. Levels and HTTP statuses are coloured by class and errors are bold red.
Continuation lines (tracebacks) follow their event, indented, up to `max_lines`.

A folded run (`timeline.collapse`) shows its first event, then one line in the level column
and the message column: `INFO  … 41 more like this over 2.3s (+1.2s … +3.5s)`, the times
being those of the folded events. A tree cut by `timeline.limit` ends with one line that
says how many events it leaves out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gascorr.render import inert
from gascorr.timeline import Node

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text
    from rich.tree import Tree

LEVEL_STYLE = {
    "FATAL": "bold white on red",
    "ERROR": "bold red",
    "WARN": "yellow",
    "INFO": "green",
    "DEBUG": "dim",
    "TRACE": "dim",
}


def status_style(status: int | None) -> str:
    if status is None or status == 0 or status >= 500:
        return "bold red"
    if status >= 400:
        return "bold yellow"
    if status >= 300:
        return "cyan"
    return "green"


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms == 0:
        return "0ms"
    if ms < 1:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    if ms < 3_600_000:
        return f"{int(ms // 60_000)}m{(ms % 60_000) / 1000:04.1f}s"
    return f"{int(ms // 3_600_000)}h{int(ms % 3_600_000 // 60_000):02d}m"


def rel(ts: datetime | None, origin: datetime | None) -> str:
    if ts is None or origin is None:
        return "?"
    ms = (ts - origin).total_seconds() * 1000
    return ("-" if ms < 0 else "+") + fmt_ms(abs(ms)) if ms else "+0ms"


def clock(ts: datetime | None) -> str:
    if ts is None:
        return "--:--:--.---"
    return ts.strftime("%H:%M:%S.") + f"{ts.microsecond // 1000:03d}"


def short_url(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    path = parts.path or "/"
    return path + ("?" + parts.query if parts.query else "") if parts.netloc else url


class TreeRenderer:
    def __init__(self, *, absolute: bool = False, max_lines: int = 12, service_width: int = 0) -> None:
        self.absolute = absolute
        self.max_lines = max_lines
        self.service_width = service_width

    def _time(self, ts: datetime | None, origin: datetime | None) -> str:
        return clock(ts) if self.absolute else rel(ts, origin)

    def event_text(self, e: dict[str, Any], origin: datetime | None) -> RenderableType:
        """One event as a row: time, service, level, then the message in its own column, so a
        long message or a traceback wraps under the message and never under the tree."""
        from rich.table import Table
        from rich.text import Text

        level = e.get("level")
        error = level in ("ERROR", "FATAL")
        msg = Text(overflow="fold")
        first, *rest = inert(e.get("message") or "").split("\n")
        if e.get("kind") == "http":
            self._http(msg, e)
        else:
            msg.append(first, style="bold" if error else "")
        if e.get("kind") in ("llm", "span", "page") and e.get("duration_ms") is not None:
            msg.append(f"  {fmt_ms(e['duration_ms'])}", style="dim")
        shown = rest[: self.max_lines]
        for ln in shown:
            msg.append("\n" + ln, style="red" if error else "dim")
        if len(rest) > len(shown):
            msg.append(f"\n… {len(rest) - len(shown)} more lines", style="dim italic")
        row = Table.grid(padding=(0, 1))
        row.add_column(width=12 if self.absolute else 9, justify="right", no_wrap=True)
        row.add_column(width=self.service_width, no_wrap=True, overflow="ellipsis")
        row.add_column(width=5, no_wrap=True)
        row.add_column(ratio=1, overflow="fold")
        row.add_row(
            Text(self._time(e.get("ts"), origin), style="dim cyan" if self.absolute else "cyan"),
            Text(inert(e.get("service") or "-"), style="magenta"),
            Text(level or "·", style=LEVEL_STYLE.get(level or "", "dim")),
            msg,
        )
        return row

    def _http(self, t: Text, e: dict[str, Any]) -> None:
        status = e.get("status")
        t.append(f"{e.get('method') or ''} ", style="bold")
        t.append(inert(short_url(e.get("url"))))
        t.append(f"  {status if status is not None else '—'}", style=status_style(status))
        if e.get("duration_ms") is not None:
            t.append(f"  {fmt_ms(e['duration_ms'])}", style="bold" if (e["duration_ms"] or 0) >= 1000 else "")
        if e.get("level") in ("ERROR", "FATAL") and (why := _failure(e)):
            t.append(f"  {inert(why)}", style="red")

    def request_label(self, node: Node, origin: datetime | None) -> Text:
        from rich.text import Text

        # its own events: not those of requests folded into it, nor of child traces nested under it
        rows = replace(node, repeats=[]).rows(nested=False)
        start = node.start
        t = Text()
        t.append(f"{self._time(start, origin):>9} ", style="cyan")
        key = node.key or ""
        e = node.event
        if e is not None:
            t.append("▶ ", style="bold")
            self._http(t, e)
            t.append(f"  {inert(e.get('service') or '')}", style="magenta")
            if e.get("step") is not None:
                t.append(f"  step {e['step']}", style="bold cyan")
        else:
            times = [r["ts"] for r in rows if r.get("ts") is not None]
            span = (max(times) - min(times)).total_seconds() * 1000 if times else None
            t.append("▶ request ", style="bold")
            t.append(f"  {fmt_ms(span)}" if span is not None else "")
        t.append(f"  {inert(key)}", style="dim")
        errors = sum(1 for r in rows if r.get("level") in ("ERROR", "FATAL"))
        services = sorted({r["service"] for r in rows if r.get("service")})
        t.append(f"  · {len(services)} service{'s' if len(services) != 1 else ''}", style="dim")
        if errors:
            t.append(f"  · {errors} error{'s' if errors != 1 else ''}", style="bold red")
        return t

    def run_text(self, first: dict[str, Any], repeats: list[dict[str, Any]], origin: datetime | None) -> RenderableType:
        """The line under the first event of a folded run: how many more, over how long, when."""
        from rich.table import Table
        from rich.text import Text

        level = first.get("level")
        error = level in ("ERROR", "FATAL")
        t = Text(f"… {len(repeats):,} more like this", style="bold red" if error else "dim italic")
        times = [r["ts"] for r in repeats if r.get("ts") is not None]
        if times:
            lo, hi = min(times), max(times)
            if hi > lo:
                span = fmt_ms((hi - lo).total_seconds() * 1000)
                t.append(f" over {span} ({self._time(lo, origin)} … {self._time(hi, origin)})")
            else:
                t.append(f" at {self._time(lo, origin)}")
        row = Table.grid(padding=(0, 1))
        row.add_column(width=12 if self.absolute else 9, no_wrap=True)
        row.add_column(width=self.service_width, no_wrap=True)
        row.add_column(width=5, no_wrap=True)
        row.add_column(ratio=1, overflow="fold")
        row.add_row("", "", Text(level or "·", style=LEVEL_STYLE.get(level or "", "dim")), t)
        return row

    def render(self, title: Text, nodes: list[Node], origin: datetime | None, hidden: int = 0) -> Tree:
        """The tree of `nodes` under `title`; `hidden` events left out by `timeline.limit` are
        counted on a last line."""
        from rich.text import Text
        from rich.tree import Tree

        all_rows = [r for n in nodes for r in n.rows()]
        if not self.service_width:
            self.service_width = min(max((len(r.get("service") or "-") for r in all_rows), default=1), 24)
        tree = Tree(title, guide_style="dim")
        self._add(tree, nodes, origin)
        if hidden:
            tree.add(
                Text(
                    f"… {hidden:,} more event{'s' if hidden != 1 else ''} not shown (use --full or --max-events)",
                    style="bold yellow",
                )
            )
        return tree

    def _add(self, parent: Tree, nodes: list[Node], origin: datetime | None) -> None:
        """Add `nodes` under `parent`: requests as branches (times relative to the request's
        start), spans with the events nested inside them, a folded run as its first event and
        a summary line."""
        for n in nodes:
            if n.is_request:
                self._add(parent.add(self.request_label(n, origin)), n.children, n.start)
            elif n.event is not None:
                branch = parent.add(self.event_text(n.event, origin))
                self._add(branch, n.children, origin)
            if n.repeats and n.event is not None:
                parent.add(self.run_text(n.event, n.repeats, origin))


def header(kind: str, ident: str, doc: dict[str, Any]) -> Text:
    """Two summary lines over a timeline: what and how long, then requests, services, errors."""
    from rich.text import Text

    t = Text()
    t.append(f"{kind} ", style="bold")
    t.append(inert(ident), style="bold cyan")
    if kind == "request" and doc.get("method"):
        t.append(f"  {doc.get('method') or ''} {inert(short_url(doc.get('url')))}")
        if doc.get("status") is not None:
            t.append(f"  {doc['status']}", style=status_style(doc["status"]))
    if doc.get("duration_ms") is not None:
        t.append(f"  {fmt_ms(doc['duration_ms'])}", style="bold")
    if kind != "session" and doc.get("session_id"):
        t.append("  session ", style="dim")
        t.append(inert(doc["session_id"]), style="cyan")
    t.append("\n")
    if doc.get("started_at"):
        t.append(f"{doc['started_at']} → {doc.get('last_activity') or '?'}", style="dim")
    n_req = doc.get("total_requests", 0)
    t.append(f"  · {n_req} request{'s' if n_req != 1 else ''}", style="dim")
    svcs = doc.get("services_touched") or []
    t.append(f"  · {len(svcs)} service{'s' if len(svcs) != 1 else ''}", style="dim")
    if svcs:
        t.append(f": {', '.join(inert(s) for s in svcs[:8])}{', …' if len(svcs) > 8 else ''}", style="dim")
    errs = doc.get("errors", 0)
    t.append(f"  · {errs} error{'s' if errs != 1 else ''}", style="bold red" if errs else "dim")
    amb = doc.get("ambiguous_ids") or []
    if amb:
        t.append(f"  · {len(amb)} ambiguous id{'s' if len(amb) != 1 else ''}: ", style="yellow")
        t.append(", ".join(inert(a["id"]) for a in amb[:5]), style="yellow")
    return t


def _failure(e: dict[str, Any]) -> str:
    """What a failed HTTP event's message says beyond its method, URL and status: the status
    text and the failure (`(net::ERR_CONNECTION_REFUSED)` after a status 0, `Service
    Unavailable` after a 503), written by the HAR parser; "" for other messages."""
    status = e.get("status")
    head = " ".join(str(x) for x in (e.get("method"), e.get("url"), status) if x is not None and x != "")
    first = (e.get("message") or "").split("\n", 1)[0]
    return first[len(head) :].strip() if head and first.startswith(head) else ""

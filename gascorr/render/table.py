"""Rows as aligned rich tables: numbers right-aligned, times in UTC, lists joined."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gascorr.render import inert
from gascorr.render.tree import LEVEL_STYLE, fmt_ms, short_url, status_style
from gascorr.timeline import iso

if TYPE_CHECKING:
    from rich.table import Table


def cell(key: str, v: Any, raw: bool = False) -> tuple[str, str]:
    """(text, style) for one value of column `key`. `raw` (a SQL result, whose columns may be
    named anything) shows every value whole: full times and URLs, numbers as they are."""
    if v is None:
        return "", ""
    if raw:
        style = cell(key, v)[1] if key in ("status", "level") else ""
        return inert(_raw(v)), style
    if isinstance(v, datetime):
        return (iso(v) or "")[:19].replace("T", " "), ""
    if key == "url" and isinstance(v, str):
        return inert(short_url(v)), ""
    if key.endswith("duration_ms") or key in ("p50_ms", "p90_ms", "p99_ms"):
        return fmt_ms(float(v)), ""
    if key == "status" and isinstance(v, int):
        return str(v), status_style(v)
    if key == "status" and v in ("error", "ok"):
        return v, "bold red" if v == "error" else "green"
    if key == "level":
        return str(v), LEVEL_STYLE.get(str(v), "")
    if key == "errors" and isinstance(v, int) and v:
        return str(v), "bold red"
    if isinstance(v, (list, tuple)):
        return inert(", ".join(str(x) for x in v)), ""
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip("."), ""
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v), ""
    return inert(str(v)), ""


def _raw(v: Any) -> str:
    """A SQL value as text: lists `[1.5, NULL]`, structs `{'a': 1}`, blobs with `\\xNN`
    escapes, times in ISO-8601 UTC, everything else as `str` writes it."""
    if v is None:
        return "NULL"
    if isinstance(v, datetime):
        return iso(v) or ""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "backslashreplace")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_raw(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_raw(x)}" for k, x in v.items()) + "}"
    return str(v)


# Short headers for terminal tables (JSON keeps the full names).
HEADERS = {
    "session_id": "session",
    "request_id": "request",
    "started_at": "started",
    "last_activity": "last",
    "duration_ms": "duration",
    "total_requests": "requests",
    "event_count": "events",
    "services_touched": "services",
    "llm_calls": "llm",
    "max_duration_ms": "max",
    "p50_ms": "p50",
    "p90_ms": "p90",
    "p99_ms": "p99",
    "resolved_request": "request",
    "resolved_session": "session",
}
# Columns cut short (…) when the terminal is narrow; all others keep their full text.
SQUEEZABLE = {"url", "services_touched", "sessions", "endpoint", "source", "value", "message"}


# Columns dropped first, in this order, when a table does not fit the terminal.
OPTIONAL = ("llm_calls", "event_count", "last_activity", "method", "kind", "total_requests")


def table(
    rows: list[dict[str, Any]],
    columns: list[str] | None = None,
    title: str | None = None,
    width: int | None = None,
    *,
    raw: bool = False,
) -> Table:
    """A table of `rows`. Within `width`, every column keeps its full text except the
    squeezable ones (URLs, service lists, messages …), which share what is left and end in
    …; when even that does not fit, the OPTIONAL columns go first. `raw`: values as they
    are (`cell`), under the columns' own names, every column kept."""
    from rich.table import Table
    from rich.text import Text

    cols = list(columns or (list(rows[0].keys()) if rows else []))

    def natural_width(c: str) -> int:
        return max([len(head(c))] + [Text(*cell(c, r.get(c), raw)).cell_len for r in rows])

    def fixed_width(cs: list[str]) -> int:
        return sum(natural_width(c) + 2 for c in cs if c not in SQUEEZABLE) + 10 * sum(c in SQUEEZABLE for c in cs)

    def head(c: str) -> str:
        return c if raw else HEADERS.get(c, c)

    for opt in () if raw else OPTIONAL:
        if width is None or fixed_width(cols) <= width:
            break
        if opt in cols:
            cols.remove(opt)
    cells = [[Text(*cell(c, r.get(c), raw)) for c in cols] for r in rows]
    natural = [natural_width(c) for c in cols]
    squeeze = [c in SQUEEZABLE for c in cols]
    fixed = sum(w + 2 for w, sq in zip(natural, squeeze, strict=True) if not sq)
    n_sq = sum(squeeze)
    share = max(8, ((width or 10_000) - fixed) // n_sq - 2) if n_sq else 0
    t = Table(title=title, show_edge=False, header_style="bold", pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for i, c in enumerate(cols):
        sample = next((r.get(c) for r in rows if r.get(c) is not None), None)
        numeric = isinstance(sample, (int, float)) and not isinstance(sample, bool)
        w = min(natural[i], share) if squeeze[i] else natural[i]
        t.add_column(
            head(c),
            justify="right" if numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=w,
            min_width=w,
        )
    for row in cells:
        t.add_row(*row)
    return t

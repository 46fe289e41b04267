"""Rows as aligned rich tables: numbers right-aligned, times in UTC, lists joined."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gascorr.render import inert
from gascorr.render.tree import LEVEL_STYLE, fmt_ms, status_style
from gascorr.timeline import iso

if TYPE_CHECKING:
    from rich.table import Table


def cell(key: str, v: Any) -> tuple[str, str]:
    """(text, style) for one value of column `key`."""
    if v is None:
        return "", ""
    if isinstance(v, datetime):
        return (iso(v) or "").replace("T", " "), ""
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


def table(rows: list[dict[str, Any]], columns: list[str] | None = None, title: str | None = None) -> Table:
    from rich.table import Table
    from rich.text import Text

    cols = columns or (list(rows[0].keys()) if rows else [])
    t = Table(title=title, show_edge=False, header_style="bold", pad_edge=False, box=None, padding=(0, 1))
    for c in cols:
        sample = next((r.get(c) for r in rows if r.get(c) is not None), None)
        numeric = isinstance(sample, (int, float)) and not isinstance(sample, bool)
        t.add_column(
            c,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=c in ("started_at", "last_activity", "ts"),
        )
    for r in rows:
        t.add_row(*[Text(*cell(c, r.get(c))) for c in cols])
    return t

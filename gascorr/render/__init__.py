"""Renderers: rows and documents in, text out. They never query.

Log text is data: everything shown on a terminal passes through `inert()`, which turns
terminal control sequences (ANSI colours, OSC titles, clear-screen, any C0/C1 control
character but newline and tab) into visible escapes, and every string reaches rich as a
`Text` object, never as markup, so `[bold red]` in a log line is printed as written.
"""

from __future__ import annotations

from gascorr.display import printable


def inert(s: str) -> str:
    """`s` with control characters made visible (`\\x1b`), newlines and tabs kept: safe to
    print on a terminal."""
    return printable(s, keep_lines=True)

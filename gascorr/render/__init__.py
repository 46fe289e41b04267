"""Renderers: rows and documents in, text out. They never query.

Log text is data: everything shown on a terminal passes through `inert()`, which turns
terminal control sequences (ANSI colours, OSC titles, clear-screen, any C0/C1 control
character but newline and tab) into visible escapes, and every string reaches rich as a
`Text` object, never as markup, so `[bold red]` in a log line is printed as written.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(s: str) -> str:
    """`s` with control characters made visible (`\\x1b`), safe to print on a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)

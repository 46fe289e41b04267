"""How gascorr writes values it did not make into its own messages and onto a terminal.

Kept apart from `sources` (archives, decompression) so that showing a result imports no
more than it needs.
"""

from __future__ import annotations

import re


def printable(text: str, *, keep_lines: bool = False) -> str:
    """`text` with control characters (terminal escapes, and newlines and tabs unless
    `keep_lines`) shown as `\\xNN`: for one-line messages, and for log text on a terminal."""
    return (_CONTROL_IN_LINES if keep_lines else _CONTROL).sub(lambda m: f"\\x{ord(m.group()):02x}", text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def human_size(n: int) -> str:
    """`n` bytes for a message: `512 bytes`, `200 KiB`, `64 MiB`."""
    if n < 1024:
        return f"{n} bytes"
    x = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        x /= 1024
        if x < 1024 or unit == "TiB":
            return f"{x:.0f} {unit}" if x >= 10 else f"{x:.1f} {unit}"
    raise AssertionError  # pragma: no cover

"""JSON and NDJSON output: one document, or one JSON object per line, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from gascorr.timeline import iso


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return iso(o)
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def dumps(doc: Any, *, indent: int | None = 2) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=indent, default=_default)


def write_doc(out: IO[str], doc: Any) -> None:
    out.write(dumps(doc))
    out.write("\n")
    out.flush()


def write_ndjson(out: IO[str], docs: Iterable[Any]) -> int:
    """Write each doc on its own line as it comes, flushing per batch; returns the count."""
    n = 0
    for d in docs:
        out.write(dumps(d, indent=None))
        out.write("\n")
        n += 1
        if n % 512 == 0:
            out.flush()
    out.flush()
    return n

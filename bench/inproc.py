#!/usr/bin/env python3
"""In-process latency of one session trace: `Store.open` once, then `query.trace` N times.

    python bench/inproc.py STORE SESSION_ID [N]

Prints JSON: open_ms, first_ms (the first query, cold), median_ms and min_ms of the
following N queries, and the number of events returned.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


def main(argv: list[str]) -> int:
    store, session = argv[0], argv[1]
    n = int(argv[2]) if len(argv) > 2 else 20
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # the allocator the CLI picks
    from gascorr import query

    t = time.perf_counter()
    s = query.Store.open(store)
    open_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    rows = query.trace(s, session=session).num_rows
    first_ms = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(n):
        t = time.perf_counter()
        query.trace(s, session=session)
        times.append((time.perf_counter() - t) * 1000)
    print(
        json.dumps(
            {
                "open_ms": round(open_ms, 2),
                "first_ms": round(first_ms, 2),
                "median_ms": round(statistics.median(times), 2),
                "min_ms": round(min(times), 2),
                "runs": n,
                "events": rows,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

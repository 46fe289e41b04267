"""Answering `trace --session` and `trace --request` from the store's indexes, without DuckDB.

Each ingest writes two small tables (see `correlate.INDEX_SQL`): every event that resolves
to a session or a request, as `(file, row, session, request)`, one sorted by session and
one by request, in row groups of `store.INDEX_ROW_GROUP` rows. A trace reads:

1. the index row groups whose min/max statistics can hold the id (usually one), keeping
   the rows of that id: which events files, which rows, and the other resolved id;
2. from each of those events files, only the row groups holding those rows (events files
   are written in row groups of about `store.ROW_GROUP_BYTES`), then the rows themselves;
3. the filters and the timeline order, in Arrow compute.

The result is the same table as resolving every event in SQL from the links
(`query.RESOLUTION`) and keeping `resolved_session = id` (or `resolved_request = id`),
filtered and ordered the same way; `tests/test_index.py` checks that on every session and
request of the fixtures and of a generated folder. (The `events` view itself is built on
these indexes when a store has them.)

"""

from __future__ import annotations

import bisect
import os
from typing import TYPE_CHECKING, Any

from gascorr.kernels import call, options, parquet_reader

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.query import Filters
    from gascorr.store import Manifest


def matching(path: str, col: str, value: Any) -> pa.Table:
    """The rows of a Parquet file whose `col` equals `value`, reading only the row groups
    whose min/max statistics allow it (the file is sorted by `col` for this to pay)."""
    import pyarrow as pa

    pf = parquet_reader(path)
    try:
        md = pf.metadata
        at = pf.schema_arrow.get_field_index(col)
        groups = []
        for i in range(md.num_row_groups):
            st = md.row_group(i).column(at).statistics
            if st is None or not st.has_min_max or st.min <= value <= st.max:
                groups.append(i)
        t = pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()
    finally:
        pf.close()
    return call("filter", t, call("equal", t[col], pa.scalar(value, t.schema.field(col).type)))


def _rows_of(path: str, rows: list[int]) -> pa.Table:
    """Rows `rows` (0-based, ascending) of a Parquet file, decoding only their row groups."""
    import pyarrow as pa

    pf = parquet_reader(path)
    try:
        md = pf.metadata
        starts = [0]
        for i in range(md.num_row_groups):
            starts.append(starts[-1] + md.row_group(i).num_rows)
        groups = sorted({bisect.bisect_right(starts, r) - 1 for r in rows})
        t = pf.read_row_groups(groups)
    finally:
        pf.close()
    # where each chosen group begins in `t`
    base, acc = {}, 0
    for g in groups:
        base[g] = acc
        acc += starts[g + 1] - starts[g]
    take = []
    for r in rows:
        g = bisect.bisect_right(starts, r) - 1
        take.append(base[g] + r - starts[g])
    return call("take", t, pa.array(take, pa.int64()))


def trace(root: str, m: Manifest, col: str, value: str, filters: Filters) -> pa.Table | None:
    """The events of session (`col="session"`) or request (`col="request"`) `value`, with
    `resolved_session` and `resolved_request`, filtered and in timeline order; None when
    the store has no index (an empty store)."""
    rels = m.index_files(col)
    if not rels:
        return None
    import pyarrow as pa

    from gascorr.schema import arrow_schema

    found = [matching(os.path.join(root, rel), col, value) for rel in rels]
    hits = found[0] if len(found) == 1 else pa.concat_tables(found)
    other = "request" if col == "session" else "session"
    by_file: dict[str, list[tuple[int, str | None]]] = {}
    for f, row, o in zip(hits["file"].to_pylist(), hits["row"].to_pylist(), hits[other].to_pylist(), strict=True):
        by_file.setdefault(f, []).append((row, o))
    spans = [(f, sorted(pairs)) for f, pairs in sorted(by_file.items())]

    def read(span: tuple[str, list[tuple[int, str | None]]]) -> pa.Table:
        f, pairs = span
        t = _rows_of(os.path.join(root, f), [row for row, _ in pairs])
        resolved = {col: [value] * len(pairs), other: [o for _, o in pairs]}
        t = t.append_column("resolved_session", pa.array(resolved["session"], pa.string()))
        return t.append_column("resolved_request", pa.array(resolved["request"], pa.string()))

    if len(spans) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(4, len(spans))) as pool:  # Arrow decodes without the GIL
            parts = list(pool.map(read, spans))
    else:
        parts = [read(sp) for sp in spans]
    if not parts:
        schema = arrow_schema()
        schema = schema.append(pa.field("resolved_session", pa.string()))
        schema = schema.append(pa.field("resolved_request", pa.string()))
        return schema.empty_table()
    table = pa.concat_tables(parts, promote_options="default")
    return _order(_filter(table, filters))


def _filter(t: pa.Table, f: Filters) -> pa.Table:
    import pyarrow as pa

    from gascorr.query import KIND_GROUPS
    from gascorr.schema import LEVELS

    conds: list[Any] = []
    ts = t["ts"]
    if f.since is not None:
        conds.append(call("greater_equal", ts, pa.scalar(f.since, ts.type)))
    if f.until is not None:
        conds.append(call("less_equal", ts, pa.scalar(f.until, ts.type)))
    if f.kinds:
        kinds = [k for g in f.kinds for k in KIND_GROUPS.get(g, (g,))]
        conds.append(call("is_in", t["kind"], options=options("SetLookupOptions", pa.array(kinds, pa.string()))))
    if f.min_level:
        levels = list(LEVELS[LEVELS.index(f.min_level) :])
        conds.append(call("is_in", t["level"], options=options("SetLookupOptions", pa.array(levels, pa.string()))))
    if not conds:
        return t
    keep = conds[0]
    for c in conds[1:]:
        keep = call("and_kleene", keep, c)
    # a NULL comparison (no time, no level) drops the row, as SQL's WHERE does
    return call("filter", t, keep, options=options("FilterOptions", "drop"))


def _order(t: pa.Table) -> pa.Table:
    """Timeline order: time (events without one last), then source, then line."""
    keys = [("ts", "ascending"), ("source", "ascending"), ("line", "ascending")]
    return call("take", t, call("sort_indices", t, options=options("SortOptions", keys)))

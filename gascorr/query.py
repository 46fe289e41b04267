"""The DuckDB queries behind every command. Queries return Arrow; they never print. List
queries (`sessions`, `requests`, `endpoints`, `grep`, `run_sql`) return `Rows`, fetched
whole as a table or streamed in record batches.

`Store.open(root)` reads the manifest once and defines three views over the files it
names, so every query in the process sees one consistent generation of the store:

- `raw_events`: the event table exactly as parsers wrote it;
- `links`: the correlation table (see `correlate.py`);
- `events`: `raw_events` plus `resolved_session` and `resolved_request`, the session and
  request each event belongs to after linking (its own ids win over linked ones).

Ordering is total everywhere: time (events without one last), then source, then line.
User values (ids, patterns, times) are always bound parameters, never spliced into SQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gascorr import store
from gascorr.engine import arrow

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

ORDER = "ts ASC NULLS LAST, source, line"
ERROR_LEVELS = "('ERROR', 'FATAL')"

# How an event resolves to a session and a request: its own ids win, then its request's
# link, its trace's link, its HAR page's link. One text for the view and for `resolved()`.
RESOLUTION = """
SELECT e.*,
       coalesce(e.session_id, lr.session, lt.session, lp.session) AS resolved_session,
       coalesce(e.request_id, lt.request) AS resolved_request
FROM {events} e
LEFT JOIN {links} lr ON lr.kind = 'request' AND lr.id = e.request_id
LEFT JOIN {links} lt ON lt.kind = 'trace' AND lt.id = e.trace_id
LEFT JOIN {links} lp ON lp.kind = 'page' AND e.format = 'har'
                  AND lp.id = e.source || '#' || json_extract_string(e.attrs, '$.pageref')
"""

EVENTS_VIEW = "CREATE OR REPLACE TEMP VIEW events AS" + RESOLUTION.format(events="raw_events", links="links")


def _indexed_events_view(root: str, files: list[str], by_session: list[str], by_request: list[str]) -> str:
    """The `events` view from the ingest's indexes: each event's resolved session and request
    looked up by (file, row), the same answer as RESOLUTION without reading `attrs` or
    joining the links table three times (`tests/test_index.py` checks they agree)."""
    from gascorr.engine import literal

    prefix = literal(os.path.join(root, ""))
    index = " UNION ALL ".join(
        f"SELECT {prefix} || file AS path, row, session, request "
        f"FROM read_parquet({literal([os.path.join(root, r) for r in rels])}){where}"
        for rels, where in ((by_session, ""), (by_request, " WHERE session IS NULL"))
    )
    return f"""CREATE OR REPLACE TEMP VIEW events AS
        SELECT e.* EXCLUDE (filename, file_row_number),
               r.session AS resolved_session, r.request AS resolved_request
        FROM read_parquet({literal(files)}, filename = true, file_row_number = true) e
        LEFT JOIN ({index}) r ON r.path = e.filename AND r.row = e.file_row_number"""


KIND_GROUPS = {"network": ("http",), "logs": ("log",), "pages": ("page",), "llm": ("llm",), "spans": ("span",)}


class QueryError(Exception):
    """A query the user wrote (or an option value) that DuckDB rejects."""


@dataclass
class Store:
    """One generation of a store: its manifest, and a DuckDB connection with the views,
    made on first use (a trace answered from the indexes never needs one)."""

    root: str
    manifest: store.Manifest
    tz: str = "UTC"
    allow_external: bool = False
    _con: duckdb.DuckDBPyConnection | None = None

    @classmethod
    def open(cls, root: str, tz: str = "UTC", *, allow_external: bool = False) -> Store:
        return cls(root, store.load(root), tz, allow_external)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self._connect()
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        from gascorr.engine import connect, literal
        from gascorr.schema import NAMES, sql_type

        root, m = self.root, self.manifest
        con = connect(self.tz)
        files = m.event_files(root)
        if files:
            con.execute(f"CREATE TEMP VIEW raw_events AS SELECT * FROM read_parquet({literal(files)})")
        else:
            cols = ", ".join(f"NULL::{sql_type(n)} AS {n}" for n in NAMES)
            con.execute(f"CREATE TEMP VIEW raw_events AS SELECT {cols} WHERE false")
        if m.links:
            paths = [os.path.join(root, f) for f in m.links_files()]
            con.execute(f"CREATE TEMP VIEW links AS SELECT * FROM read_parquet({literal(paths)})")
        else:
            con.execute("""CREATE TEMP VIEW links AS SELECT NULL::VARCHAR AS kind, NULL::VARCHAR AS id,
                NULL::VARCHAR AS session, NULL::VARCHAR AS request, false AS ambiguous,
                []::VARCHAR[] AS sessions, false AS conflict WHERE false""")
        if files and m.by_session and m.by_request:
            con.execute(_indexed_events_view(root, files, m.index_files("session"), m.index_files("request")))
        else:
            con.execute(EVENTS_VIEW)
        con.execute(SESSIONS_VIEW)
        con.execute(REQUESTS_VIEW)
        if not self.allow_external:
            # everything the views need is bound; nothing else on disk or the network is reachable
            con.execute(f"SET allowed_directories = {literal([os.path.abspath(root) + os.sep])}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        return con

    def q(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pa.Table:
        import duckdb

        try:
            return arrow(self.con, sql, params)
        except duckdb.Error as e:
            raise QueryError(str(e).split("\n")[0]) from e


@dataclass
class Filters:
    since: Any = None  # aware datetime
    until: Any = None
    kinds: tuple[str, ...] = ()
    min_level: str | None = None


def _filter_sql(f: Filters, params: dict[str, Any]) -> str:
    from gascorr.schema import LEVELS

    parts = []
    if f.since is not None:
        params["since"] = f.since
        parts.append("ts >= $since")
    if f.until is not None:
        params["until"] = f.until
        parts.append("ts <= $until")
    if f.kinds:
        kinds = [k for g in f.kinds for k in KIND_GROUPS.get(g, (g,))]
        params["kinds"] = kinds
        parts.append("list_contains($kinds, kind)")
    if f.min_level:
        params["levels"] = list(LEVELS[LEVELS.index(f.min_level) :])
        parts.append("list_contains($levels, level)")
    return "".join(f" AND {p}" for p in parts)


def _in_list(values: list[str]) -> str:
    from gascorr.engine import literal

    return "(" + ", ".join(literal(v) for v in values) + ")" if values else "(NULL)"


def session_candidates(s: Store, session: str) -> str:
    """SQL for the raw events that may belong to `session`, as a union of scans that each
    filter one id column (so Parquet row-group statistics can skip what cannot match),
    instead of resolving every event in the store. The exact resolution is applied after.
    Ids come from the links table; they are data of the store, quoted as literals."""
    ids: dict[str, list[str]] = {"request": [], "trace": [], "page": []}
    for row in s.q(
        "SELECT kind, list(id ORDER BY id) AS ids FROM links WHERE session = $s GROUP BY kind", {"s": session}
    ).to_pylist():
        ids[row["kind"]] = row["ids"]
    parts = ["SELECT * FROM raw_events WHERE session_id = $id"]
    if ids["request"]:
        parts.append(f"SELECT * FROM raw_events WHERE session_id IS NULL AND request_id IN {_in_list(ids['request'])}")
    if ids["trace"]:
        parts.append(
            f"SELECT * FROM raw_events WHERE session_id IS NULL AND trace_id IN {_in_list(ids['trace'])}"
            f" AND (request_id IS NULL OR request_id NOT IN {_in_list(ids['request'])})"
        )
    if ids["page"]:
        sources = sorted({p.rsplit("#", 1)[0] for p in ids["page"]})
        parts.append(
            "SELECT * FROM raw_events WHERE session_id IS NULL AND request_id IS NULL AND trace_id IS NULL "
            f"AND format = 'har' AND source IN {_in_list(sources)}"
        )
    return " UNION ALL ".join(parts)


def request_candidates(s: Store, request: str) -> str:
    traces = [
        r["id"]
        for r in s.q(
            "SELECT id FROM links WHERE kind = 'trace' AND request = $r ORDER BY id", {"r": request}
        ).to_pylist()
    ]
    parts = ["SELECT * FROM raw_events WHERE request_id = $id"]
    if traces:
        parts.append(f"SELECT * FROM raw_events WHERE request_id IS NULL AND trace_id IN {_in_list(traces)}")
    return " UNION ALL ".join(parts)


def resolved(candidates: str) -> str:
    """The `events` view's resolution, applied to a candidate set only (and to the links of
    that set's ids only, so the joins stay as small as the answer)."""
    sql = RESOLUTION.format(events="cand", links="cand_links")
    return (
        f"WITH cand AS MATERIALIZED ({candidates}), "
        "cand_links AS MATERIALIZED (SELECT * FROM links WHERE id IN (SELECT request_id FROM cand) "
        "OR id IN (SELECT trace_id FROM cand) OR kind = 'page') " + sql
    )


def trace(
    s: Store,
    *,
    session: str | None = None,
    request: str | None = None,
    trace_id: str | None = None,
    filters: Filters | None = None,
) -> pa.Table:
    """The events of one session, request or trace, in timeline order."""
    if session is not None or request is not None:
        from gascorr import index

        col, value = ("session", session) if session is not None else ("request", request)
        assert value is not None
        found = index.trace(s.root, s.manifest, col, value, filters or Filters())
        if found is not None:
            return found
    params: dict[str, Any] = {}
    if session is not None:
        params["id"] = session
        source = resolved(session_candidates(s, session))
        where = "resolved_session = $id"
    elif request is not None:
        params["id"] = request
        source = resolved(request_candidates(s, request))
        where = "resolved_request = $id"
    elif trace_id is not None:
        from gascorr.ids import trace_id as stored

        # as the store holds it: hex ids in any case, other ids as written
        params["id"] = stored(trace_id) or trace_id.strip()
        source = "events"
        where = (
            "(trace_id = $id OR resolved_request IN "
            "(SELECT request FROM links WHERE kind = 'trace' AND id = $id AND request IS NOT NULL))"
        )
    else:
        raise ValueError("trace needs a session, request or trace id")
    where += _filter_sql(filters or Filters(), params)
    if source != "events":
        source = f"({source})"
    return s.q(f"SELECT * FROM {source} AS ev WHERE {where} ORDER BY {ORDER}", params)


def ambiguous_ids(s: Store) -> pa.Table:
    return s.q("SELECT kind, id, sessions FROM links WHERE ambiguous ORDER BY kind, id")


def links_for(s: Store, session: str) -> pa.Table:
    """Ids linked to `session` that are ambiguous (seen with other sessions too)."""
    if s._con is None and s.manifest.links:
        # read straight from the links file: a trace answered from the indexes needs no DuckDB
        import pyarrow as pa

        from gascorr.index import matching
        from gascorr.kernels import call

        # ambiguous ids are written first, in row groups of their own: a handful of rows (an
        # append's delta links never hold one: see `correlate.added_links`)
        t = matching(os.path.join(s.root, s.manifest.links), "ambiguous", True)
        t = call("filter", t, pa.array([session in x for x in t["sessions"].to_pylist()], pa.bool_()))
        keys = sorted(range(t.num_rows), key=lambda i: (t["kind"][i].as_py(), t["id"][i].as_py()))
        return call("take", t.select(["kind", "id", "sessions"]), pa.array(keys, pa.int64()))
    return s.q(
        "SELECT kind, id, sessions FROM links WHERE ambiguous AND list_contains(sessions, $s) ORDER BY kind, id",
        {"s": session},
    )


# Token counts of an LLM call, under the names LLM loggers and proxies use.
_TOKEN_PATHS = {
    "input": (
        "tokens.input",
        "tokens.prompt",
        "usage.prompt_tokens",
        "usage.input_tokens",
        "input_tokens",
        "prompt_tokens",
        "gen_ai.usage.input_tokens",
    ),
    "output": (
        "tokens.output",
        "tokens.completion",
        "usage.completion_tokens",
        "usage.output_tokens",
        "output_tokens",
        "completion_tokens",
        "gen_ai.usage.output_tokens",
    ),
}


def _tokens(which: str) -> str:
    paths = ", ".join(
        "try_cast(json_extract_string(attrs, '$." + ".".join(f'"{k}"' for k in p.split(".")) + "') AS BIGINT)"
        for p in _TOKEN_PATHS[which]
    )
    return f"coalesce({paths})"


# The end of an event (`timeline.end_ms`): its time plus its duration when its time is when
# it began (a HAR entry or page, a span, a record of an LLM interaction file); a log line is
# written when what it times has ended.
_END = (
    "(ts + CASE WHEN format = 'har' OR kind = 'span' OR dialect = 'llm-interaction' "
    "THEN to_microseconds(CAST(coalesce(duration_ms, 0) * 1000 AS BIGINT)) ELSE INTERVAL 0 SECOND END)"
)

# One row per session. status: `error` when any event is ERROR/FATAL or any HTTP status >= 500.
# duration_ms: from the first event to the latest end of any event (as in `trace`).
SESSIONS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW sessions AS
SELECT resolved_session AS session_id, min(ts) AS started_at, max(ts) AS last_activity,
       date_diff('microsecond', min(ts), max({_END})) / 1000.0 AS duration_ms,
       count(DISTINCT resolved_request) + count(*) FILTER (WHERE kind = 'http' AND resolved_request IS NULL)
         AS total_requests,
       coalesce(list(DISTINCT service ORDER BY service) FILTER (WHERE service IS NOT NULL), [])
         AS services_touched,
       count(*) FILTER (WHERE level IN {ERROR_LEVELS}) AS errors,
       count(*) AS event_count,
       count(*) FILTER (WHERE kind = 'llm') AS llm_calls,
       sum(CASE WHEN kind = 'llm' THEN {_tokens("input")} END) AS llm_input_tokens,
       sum(CASE WHEN kind = 'llm' THEN {_tokens("output")} END) AS llm_output_tokens,
       CASE WHEN count(*) FILTER (WHERE level IN {ERROR_LEVELS} OR status >= 500) > 0 THEN 'error' ELSE 'ok' END
         AS status
FROM events WHERE resolved_session IS NOT NULL
GROUP BY resolved_session
"""

# One row per request; duration_ms as for sessions, so it covers the HTTP call's own time.
REQUESTS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW requests AS
SELECT resolved_request AS request_id,
       CASE WHEN count(DISTINCT resolved_session) = 1 THEN any_value(resolved_session) END AS session_id,
       arg_min(method, CASE WHEN kind = 'http' THEN 0 ELSE 1 END) FILTER (WHERE method IS NOT NULL) AS method,
       arg_min(url, CASE WHEN kind = 'http' THEN 0 ELSE 1 END) FILTER (WHERE url IS NOT NULL) AS url,
       arg_min(status, CASE WHEN kind = 'http' THEN 0 ELSE 1 END) FILTER (WHERE status IS NOT NULL) AS status,
       min(ts) AS started_at, max(ts) AS last_activity,
       date_diff('microsecond', min(ts), max({_END})) / 1000.0 AS duration_ms,
       coalesce(list(DISTINCT service ORDER BY service) FILTER (WHERE service IS NOT NULL), [])
         AS services_touched,
       count(*) FILTER (WHERE level IN {ERROR_LEVELS}) AS errors,
       count(*) AS event_count
FROM events WHERE resolved_request IS NOT NULL
GROUP BY resolved_request
"""


BATCH_ROWS = 2048  # rows per Arrow batch when a result is streamed (DuckDB's vector size)


@dataclass(frozen=True)
class Rows:
    """A list query's answer, fetched when asked: `table()` reads it whole, `batches()`
    streams it in Arrow record batches as DuckDB produces them, so the first rows can be
    written before the last are computed (where the plan allows: a sort sees every row
    first). While a stream is open its connection runs nothing else: drain it or close it."""

    store: Store
    sql: str
    params: dict[str, Any]

    def _relation(self) -> duckdb.DuckDBPyRelation | None:
        """The bound query (not run yet for a SELECT); None for a statement without rows."""
        import duckdb

        params = {k: v for k, v in self.params.items() if f"${k}" in self.sql}  # DuckDB rejects unused ones
        try:
            return self.store.con.sql(self.sql, params=params or None)
        except duckdb.Error as e:
            raise QueryError(str(e).split("\n")[0]) from e

    @property
    def column_names(self) -> list[str]:
        rel = self._relation()
        return list(rel.columns) if rel is not None else []

    def table(self) -> pa.Table:
        import duckdb
        import pyarrow as pa

        rel = self._relation()
        if rel is None:
            return pa.table({})
        try:
            return rel.to_arrow_table()
        except duckdb.Error as e:
            raise QueryError(str(e).split("\n")[0]) from e

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.table().to_pylist()  # type: ignore[no-any-return]

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """The rows in order, `rows` at a time at most, each batch fetched only when the
        previous one has been consumed. DuckDB errors met on the way become QueryError."""
        import duckdb

        rel = self._relation()
        if rel is None:
            return
        try:
            reader = rel.to_arrow_reader(rows)
        except duckdb.Error as e:
            raise QueryError(str(e).split("\n")[0]) from e
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (duckdb.Error, OSError) as e:  # an error while running surfaces through Arrow's stream
                    raise QueryError(str(e).strip().split("\n")[0]) from e
                yield batch
        finally:
            reader.close()


SESSION_SORTS = {
    "started": "started_at",
    "last": "last_activity DESC",
    "duration": "duration_ms DESC",
    "errors": "errors DESC",
    "requests": "total_requests DESC",
    "events": "event_count DESC",
    "id": "session_id",
}


def sessions(
    s: Store,
    *,
    service: str | None = None,
    status: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int | None = None,
    sort: str = "started",
) -> Rows:
    """One row per session with its summary; filters as in SPEC.md."""
    params: dict[str, Any] = {}
    where = ["true"]
    if service:
        params["service"] = service
        where.append("list_contains(services_touched, $service)")
    if status:
        params["status"] = status
        where.append("status = $status")
    if since is not None:
        params["since"] = since
        where.append("last_activity >= $since")
    if until is not None:
        params["until"] = until
        where.append("started_at <= $until")
    lim = ""
    if limit is not None:
        params["limit"] = limit
        lim = " LIMIT $limit"
    order = SESSION_SORTS[sort]
    return Rows(s, f"SELECT * FROM sessions WHERE {' AND '.join(where)} ORDER BY {order}, session_id{lim}", params)


def requests(
    s: Store,
    *,
    session: str | None = None,
    slowest: int | None = None,
    status: str | None = None,
    service: str | None = None,
    limit: int | None = None,
) -> Rows:
    """One row per request: id, session, method, URL, status, start, duration_ms, services."""
    params: dict[str, Any] = {}
    where = ["true"]
    if session:
        params["session"] = session
        where.append("session_id = $session")
    if service:
        params["service"] = service
        where.append("list_contains(services_touched, $service)")
    if status:
        where.append(_status_sql(status, params))
    order = "duration_ms DESC NULLS LAST, request_id" if slowest else "started_at NULLS LAST, request_id"
    n = slowest or limit
    lim = ""
    if n is not None:
        params["limit"] = n
        lim = " LIMIT $limit"
    return Rows(s, f"SELECT * FROM requests WHERE {' AND '.join(where)} ORDER BY {order}{lim}", params)


def _status_sql(status: str, params: dict[str, Any]) -> str:
    st = status.strip().lower()
    if st == "error":
        return "(status >= 400 OR status = 0 OR errors > 0)"
    if st == "ok":
        return "(coalesce(status, 200) BETWEEN 100 AND 399 AND errors = 0)"
    if len(st) == 3 and st.endswith("xx") and st[0] in "12345":
        params["lo"] = int(st[0]) * 100
        return "(status >= $lo AND status < $lo + 100)"
    if st.isascii() and st.isdigit() and len(st) <= 3:  # 0: a HAR entry that failed
        params["code"] = int(st)
        return "status = $code"
    raise QueryError(f"--status takes error, ok, a code like 502 or a class from 1xx to 5xx, not {status!r}")


def endpoints(s: Store, *, session: str | None = None, service: str | None = None) -> Rows:
    """Latency percentiles per endpoint (method + URL path)."""
    params: dict[str, Any] = {}
    where = ["url IS NOT NULL"]
    if session:
        params["session"] = session
        where.append("session_id = $session")
    if service:
        params["service"] = service
        where.append("list_contains(services_touched, $service)")
    return Rows(
        s,
        f"""
        SELECT method, regexp_replace(regexp_replace(url, '^[a-z]+://[^/]+', ''), '\\?.*$', '') AS endpoint,
               count(*) AS requests,
               count(*) FILTER (WHERE status >= 400 OR status = 0 OR errors > 0) AS errors,
               quantile_cont(duration_ms, 0.5) AS p50_ms, quantile_cont(duration_ms, 0.9) AS p90_ms,
               quantile_cont(duration_ms, 0.99) AS p99_ms, max(duration_ms) AS max_duration_ms
        FROM requests WHERE {" AND ".join(where)}
        GROUP BY ALL ORDER BY p90_ms DESC NULLS LAST, endpoint, method""",
        params,
    )


def grep(
    s: Store,
    pattern: str,
    *,
    regex: bool = False,
    ignore_case: bool = False,
    field: str | None = None,
    sources: list[str] | None = None,
    limit: int | None = None,
) -> Rows:
    """Events whose message (or `field`: a column or an attrs key) matches `pattern`."""
    from gascorr.schema import NAMES

    params: dict[str, Any] = {"p": pattern}
    if field is None:
        target = "message"
    elif field in NAMES or field in ("resolved_session", "resolved_request"):
        target = f"CAST({field} AS VARCHAR)"
    else:
        params["path"] = "$." + ".".join('"' + part.replace('"', "") + '"' for part in field.split("."))
        target = "json_extract_string(attrs, $path)"
    if regex:
        try:
            re_check = s.con.execute("SELECT regexp_matches('', $p)", {"p": pattern})
            re_check.fetchall()
        except Exception as e:
            raise QueryError(f"invalid regular expression {pattern!r}: {str(e).splitlines()[0]}") from e
        cond = f"regexp_matches({target}, $p{', ' + repr('i') if ignore_case else ''})"
    elif ignore_case:
        cond = f"contains(lower({target}), lower($p))"
    else:
        cond = f"contains({target}, $p)"
    where = [cond]
    if sources is not None:
        params["sources"] = sources
        where.append("list_contains($sources, source)")
    lim = ""
    if limit is not None:
        params["limit"] = limit
        lim = " LIMIT $limit"
    return Rows(s, f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY {ORDER}{lim}", params)


def stats(s: Store) -> dict[str, Any]:
    """Totals for `gascorr stats`: files, formats, dialects, events, rejects, ids, ambiguity."""
    files = list(s.manifest.files.values())
    counts = s.q("""
        SELECT count(*) AS events, count(*) FILTER (WHERE ts IS NULL) AS events_without_time,
               count(DISTINCT session_id) AS sessions, count(DISTINCT request_id) AS requests,
               count(DISTINCT trace_id) AS traces, min(ts) AS first_event, max(ts) AS last_event
        FROM raw_events""").to_pylist()[0]
    linked = s.q("""SELECT count(*) FILTER (WHERE resolved_session IS NOT NULL) AS events_in_sessions,
                           count(*) FILTER (WHERE resolved_request IS NOT NULL) AS events_in_requests
                    FROM events""").to_pylist()[0]
    amb = ambiguous_ids(s).to_pylist()
    by_format: dict[str, dict[str, int]] = {}
    for f in files:
        d = by_format.setdefault(f.format, {"files": 0, "events": 0, "rejected": 0})
        d["files"] += 1
        d["events"] += f.events
        d["rejected"] += f.rejected
    return {
        "files": len(files),
        "lines": sum(f.lines for f in files),
        **counts,
        **linked,
        "rejected_lines": sum(f.rejected for f in files),
        "formats": by_format,
        "ambiguous_ids": amb,
        "per_file": [
            {
                "source": f.source,
                "format": f.format,
                "dialect": f.dialect,
                "events": f.events,
                "lines": f.lines,
                "blank": f.blank,
                "rejected": f.rejected,
                "rejects": [{"line": n, "why": w} for n, w in f.rejects],
                "notes": [{"line": n, "why": w} for n, w in f.notes],
                "warnings": f.warnings,
            }
            for f in sorted(files, key=lambda f: f.source)
        ],
    }


def run_sql(s: Store, sql: str) -> Rows:
    """The user's own SQL over the views."""
    return Rows(s, sql, {})

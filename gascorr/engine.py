"""The DuckDB connection every parser and query runs on, with gascorr's SQL macros.

Time handling lives here as SQL so that it runs vectorized: `gc_ts(text)` turns a written
time into TIMESTAMPTZ (ISO-8601 in any common spelling, then the extra strptime formats a
dialect names), `gc_epoch(number)` reads epoch seconds, ms, µs or ns told apart by
magnitude, and `gc_level(text)` normalizes level names and numbers. Times written without
an offset are read in the connection's TimeZone, which is UTC unless `--tz` names another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

LEVEL_NAMES = {
    "TRACE": ["TRACE", "TRC", "FINEST", "FINER", "T", "VERBOSE", "V", "TRAC"],
    "DEBUG": ["DEBUG", "DBG", "DEBU", "FINE", "D", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"],
    "INFO": ["INFO", "INF", "INFORMATION", "INFORMATIONAL", "NOTICE", "I", "CONFIG", "LOG", "N", "STATEMENT"],
    "WARN": ["WARN", "WARNING", "WRN", "W", "WARN_"],
    "ERROR": ["ERROR", "ERR", "EROR", "E", "SEVERE", "FAIL", "FAILURE"],
    "FATAL": ["FATAL", "CRITICAL", "CRIT", "EMERG", "EMERGENCY", "ALERT", "PANIC", "F", "C", "A", "FTL", "DPANIC"],
}


def _level_case(expr: str) -> str:
    arms = []
    for level, names in LEVEL_NAMES.items():
        quoted = ", ".join("'" + n + "'" for n in names)
        arms.append(f"WHEN {expr} IN ({quoted}) THEN '{level}'")
    return "CASE " + " ".join(arms) + " END"


MACROS = [
    # epoch number -> TIMESTAMPTZ, unit by magnitude (s < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns)
    """CREATE OR REPLACE MACRO gc_epoch(x) AS CASE
        WHEN x IS NULL OR abs(x) > 1e20 THEN NULL
        WHEN abs(x) < 1e11 THEN to_timestamp(x)
        WHEN abs(x) < 1e14 THEN to_timestamp(x / 1e3)
        WHEN abs(x) < 1e17 THEN to_timestamp(x / 1e6)
        ELSE to_timestamp(x / 1e9) END""",
    # written time -> TIMESTAMPTZ; ISO first (comma decimals and a space before the zone allowed)
    """CREATE OR REPLACE MACRO gc_iso(s) AS
        try_cast(regexp_replace(replace(trim(s), ',', '.'), ' (Z|[+-]\\d\\d:?\\d\\d)$', '\\1') AS TIMESTAMPTZ)""",
    """CREATE OR REPLACE MACRO gc_ts(s) AS CASE
        WHEN s IS NULL OR trim(s) = '' THEN NULL
        WHEN regexp_full_match(trim(s), '-?\\d{9,19}(\\.\\d+)?') THEN gc_epoch(try_cast(trim(s) AS DOUBLE))
        ELSE gc_iso(s) END""",
    """CREATE OR REPLACE MACRO gc_num_level(n) AS CASE
        WHEN n IS NULL THEN NULL
        WHEN n >= 60 THEN 'FATAL' WHEN n >= 50 THEN 'ERROR' WHEN n >= 40 THEN 'WARN'
        WHEN n >= 30 THEN 'INFO' WHEN n >= 20 THEN 'DEBUG' WHEN n >= 10 THEN 'TRACE'
        WHEN n <= 2 THEN 'FATAL' WHEN n = 3 THEN 'ERROR' WHEN n = 4 THEN 'WARN'
        WHEN n <= 6 THEN 'INFO' ELSE 'DEBUG' END""",
    f"""CREATE OR REPLACE MACRO gc_level(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN regexp_full_match(trim(s), '\\d{{1,2}}') THEN gc_num_level(try_cast(trim(s) AS INTEGER))
        ELSE {_level_case("upper(trim(s))")} END""",
    # OpenTelemetry severity numbers 1-24
    """CREATE OR REPLACE MACRO gc_otel_level(n) AS CASE
        WHEN n IS NULL OR n <= 0 THEN NULL WHEN n <= 4 THEN 'TRACE' WHEN n <= 8 THEN 'DEBUG'
        WHEN n <= 12 THEN 'INFO' WHEN n <= 16 THEN 'WARN' WHEN n <= 20 THEN 'ERROR' ELSE 'FATAL' END""",
    """CREATE OR REPLACE MACRO gc_scalar(s) AS CASE WHEN left(s, 1) IN ('{', '[') THEN NULL ELSE s END""",
    # an id value: trimmed, NULL for placeholders and for JSON objects/arrays
    """CREATE OR REPLACE MACRO gc_id(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN lower(trim(s)) IN ('', '-', '--', 'in-progress', 'null', 'none', 'nil', 'unknown', 'undefined', 'n/a')
          OR regexp_full_match(trim(s), '[0-]+') OR left(trim(s), 1) IN ('{', '[') OR length(s) > 256 THEN NULL
        ELSE trim(s) END""",
    # trace ids: W3C traceparent -> its trace id; hex ids lower-cased
    """CREATE OR REPLACE MACRO gc_trace(s) AS CASE
        WHEN gc_id(s) IS NULL THEN NULL
        WHEN regexp_full_match(trim(s), '[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}')
          THEN gc_id(lower(split_part(trim(s), '-', 2)))
        WHEN regexp_full_match(trim(s), '[0-9a-fA-F-]+') THEN lower(trim(s))
        ELSE gc_id(s) END""",
]


def connect(tz: str = "UTC", threads: int | None = None, *, external_access: bool = True) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with gascorr's macros and `tz` as its TimeZone."""
    import duckdb

    con = duckdb.connect(config={"threads": threads or 2, "preserve_insertion_order": True})
    con.execute("SET TimeZone = ?", [tz])
    for m in MACROS:
        con.execute(m)
    if not external_access:
        con.execute("SET enable_external_access = false")
    return con


def arrow(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | Sequence[object] | None = None
) -> pa.Table:
    """Run a query and fetch it as an Arrow table. Named params ($name) that `sql` does not
    use are dropped (DuckDB rejects unused ones)."""
    if isinstance(params, Mapping):
        params = {k: v for k, v in params.items() if f"${k}" in sql}
    rel = con.sql(sql, params=params or None)
    return rel.to_arrow_table()


def literal(value: str | list[str]) -> str:
    """A SQL string (or list of strings) literal, quotes escaped: for the few statements,
    like CREATE VIEW, that cannot take bound parameters. Only ever given paths from the
    store's own manifest."""
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + value.replace("'", "''") + "'"

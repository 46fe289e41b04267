"""The event table: one Arrow schema, the single source of truth.

Every parser fills exactly these columns (null where its input says nothing), the store
checks every batch against this schema before writing it, and the README and man page
document it as the contract users query with SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1

# (name, arrow type name, meaning) — the order is the on-disk column order.
COLUMNS: list[tuple[str, str, str]] = [
    ("ts", "timestamp[us, UTC]", "when it happened, normalized to UTC; null if the event has no time"),
    ("ts_raw", "string", "the time as written in the input"),
    (
        "source",
        "string",
        "the input path as named (bytes that are not UTF-8 as `\\xNN`); inside archives `bundle.zip!/logs/app.log`",
    ),
    (
        "line",
        "int64",
        "1-based line of the event's first line (HAR: the entry's or page's index; a JSON document "
        "written on one line: the record's index)",
    ),
    ("format", "string", "`text`, `jsonl`, `json`, `har`, `otlp`"),
    ("dialect", "string", "the detected sub-format, e.g. `python-logging`, `logfmt`, `syslog`, `clf`"),
    ("kind", "string", "`log`, `http`, `page`, `llm`, `span`"),
    ("service", "string", "from a field, else from the file name (`payment-service.log` -> `payment-service`)"),
    ("level", "string", "TRACE, DEBUG, INFO, WARN, ERROR or FATAL"),
    ("message", "string", "the message, continuation lines included"),
    ("session_id", "string", "the session id as found on the event"),
    ("request_id", "string", "the request id as found on the event"),
    ("trace_id", "string", "the trace id (lower-case hex for W3C/OTLP ids)"),
    ("span_id", "string", "the span id"),
    ("parent_span_id", "string", "the parent span id"),
    ("method", "string", "HTTP method"),
    ("url", "string", "HTTP URL"),
    ("status", "int32", "HTTP status"),
    ("duration_ms", "float64", "duration in milliseconds (HTTP time, span length, LLM call)"),
    ("step", "int32", "step index within a session, where given"),
    ("attrs", "string", "a JSON object with every other field or header, so nothing is lost"),
]

NAMES: list[str] = [c[0] for c in COLUMNS]
ID_COLUMNS = ("session_id", "request_id", "trace_id", "span_id", "parent_span_id")
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

# DuckDB type for each column, used when parsers build rows in SQL.
SQL_TYPES: dict[str, str] = {
    "ts": "TIMESTAMPTZ",
    "line": "BIGINT",
    "status": "INTEGER",
    "duration_ms": "DOUBLE",
    "step": "INTEGER",
}


def sql_type(name: str) -> str:
    return SQL_TYPES.get(name, "VARCHAR")


def arrow_schema() -> pa.Schema:
    """The event table's Arrow schema."""
    import pyarrow as pa

    types = {
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
        "string": pa.string(),
        "int64": pa.int64(),
        "int32": pa.int32(),
        "float64": pa.float64(),
    }
    return pa.schema([pa.field(n, types[t]) for n, t, _ in COLUMNS]).with_metadata(
        {"gascorr.schema_version": str(SCHEMA_VERSION)}
    )


def conform(table: pa.Table) -> pa.Table:
    """Return `table` with exactly the event schema, or raise ValueError naming what differs.

    Columns are reordered and safely cast (e.g. a TIMESTAMPTZ in another zone becomes
    UTC, large_string becomes string); a missing or extra column is an error, because it
    means a parser broke the contract.
    """
    schema = arrow_schema()
    have = set(table.column_names)
    missing = [n for n in NAMES if n not in have]
    extra = sorted(have - set(NAMES))
    if missing or extra:
        raise ValueError(f"event batch does not match the schema: missing {missing}, extra {extra}")
    table = table.select(NAMES)
    if table.schema.remove_metadata() != schema.remove_metadata():
        from gascorr.kernels import cast

        table = cast(table, schema)
    return table.replace_schema_metadata(schema.metadata)

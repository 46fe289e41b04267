"""The DuckDB connection every parser and query runs on, with gascorr's SQL macros.

Time handling lives here as SQL so that it runs vectorized: `gc_ts(text)` turns a written
time into TIMESTAMPTZ (ISO-8601 in any common spelling, then the extra strptime formats a
dialect names), `gc_epoch(number)` reads epoch seconds, ms, µs or ns told apart by
magnitude, and `gc_level(text)` normalizes level names and numbers. `gc_time(text)` reads
what `gc_ts` does plus zone abbreviations and the other common layouts (CLF, ctime,
RFC 1123 …); `gc_noyear` / `gc_nodate` complete times written without a year or a date from
a reference time (the file's mtime). Times written without an offset are read in the
connection's TimeZone, which is UTC unless `--tz` names another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

LEVEL_NAMES = {
    "TRACE": ["TRACE", "TRC", "FINEST", "FINER", "T", "VERBOSE", "V", "TRAC", "VRB"],
    "DEBUG": ["DEBUG", "DBG", "DEBU", "FINE", "D", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"],
    "INFO": [
        "INFO",
        "INF",
        "INFORMATION",
        "INFORMATIONAL",
        "NOTICE",
        "I",
        "CONFIG",
        "LOG",
        "N",
        "STATEMENT",
        "NOTE",
        "SYSTEM",
        "DETAIL",
        "HINT",
    ],
    "WARN": ["WARN", "WARNING", "WRN", "W", "WARN_"],
    "ERROR": ["ERROR", "ERR", "EROR", "ERRO", "E", "SEVERE", "FAIL", "FAILURE"],
    "FATAL": [
        "FATAL",
        "CRITICAL",
        "CRIT",
        "EMERG",
        "EMERGENCY",
        "ALERT",
        "PANIC",
        "F",
        "C",
        "A",
        "FTL",
        "DPANIC",
        "FATA",
        "PANI",
    ],
}


def _level_lookup(expr: str) -> str:
    """SQL mapping a level name to its normalized level with one list lookup (an IN list per
    level would become a hash join per level in DuckDB's plan: slow to start per query)."""
    names = [n for ns in LEVEL_NAMES.values() for n in ns]
    levels = [lv for lv, ns in LEVEL_NAMES.items() for _ in ns]
    lit = lambda xs: "[" + ", ".join("'" + x + "'" for x in xs) + "]"  # noqa: E731
    return f"{lit(levels)}[list_position({lit(names)}, {expr})]"


MACROS = [
    # trim(s) (spaces only), without its cost (~1 µs a value in DuckDB 2.0) when there is
    # nothing to trim, which is nearly always
    """CREATE OR REPLACE MACRO gc_trim(s) AS CASE WHEN ascii(s) <> 32 AND NOT suffix(s, ' ') THEN s ELSE trim(s) END""",
    # epoch number -> TIMESTAMPTZ, unit by magnitude (s < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns)
    """CREATE OR REPLACE MACRO gc_epoch(x) AS CASE
        WHEN x IS NULL OR abs(x) > 1e20 THEN NULL
        WHEN abs(x) < 1e11 THEN to_timestamp(x)
        WHEN abs(x) < 1e14 THEN to_timestamp(x / 1e3)
        WHEN abs(x) < 1e17 THEN to_timestamp(x / 1e6)
        ELSE to_timestamp(x / 1e9) END""",
    # written time -> TIMESTAMPTZ; ISO first (comma decimals and a space before the zone allowed)
    # (`t` already trimmed: a macro's argument is copied into every place it is used, so the
    # macros below trim once or not at all; a large expression tree costs planning time in
    # every statement, ~0.2 ms a node)
    """CREATE OR REPLACE MACRO gc_iso(t) AS
        try_cast(regexp_replace(replace(t, ',', '.'), ' (Z|[+-]\\d\\d:?\\d\\d)$', '\\1') AS TIMESTAMPTZ)""",
    # (casts to numbers ignore surrounding spaces)
    """CREATE OR REPLACE MACRO gc_ts(s) AS CASE
        WHEN regexp_full_match(s, ' *-?\\d{9,19}(\\.\\d+)? *') THEN gc_epoch(try_cast(s AS DOUBLE))
        ELSE gc_iso(gc_trim(s)) END""",
    """CREATE OR REPLACE MACRO gc_num_level(n) AS CASE
        WHEN n IS NULL THEN NULL
        WHEN n >= 60 THEN 'FATAL' WHEN n >= 50 THEN 'ERROR' WHEN n >= 40 THEN 'WARN'
        WHEN n >= 30 THEN 'INFO' WHEN n >= 20 THEN 'DEBUG' WHEN n >= 10 THEN 'TRACE'
        WHEN n <= 2 THEN 'FATAL' WHEN n = 3 THEN 'ERROR' WHEN n = 4 THEN 'WARN'
        WHEN n <= 6 THEN 'INFO' ELSE 'DEBUG' END""",
    f"""CREATE OR REPLACE MACRO gc_level(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN regexp_full_match(s, ' *\\d{{1,2}} *') THEN gc_num_level(try_cast(s AS INTEGER))
        ELSE {_level_lookup("upper(gc_trim(s))")} END""",
    # OpenTelemetry severity numbers 1-24
    """CREATE OR REPLACE MACRO gc_otel_level(n) AS CASE
        WHEN n IS NULL OR n <= 0 THEN NULL WHEN n <= 4 THEN 'TRACE' WHEN n <= 8 THEN 'DEBUG'
        WHEN n <= 12 THEN 'INFO' WHEN n <= 16 THEN 'WARN' WHEN n <= 20 THEN 'ERROR' ELSE 'FATAL' END""",
    """CREATE OR REPLACE MACRO gc_scalar(s) AS CASE WHEN left(s, 1) IN ('{', '[') THEN NULL ELSE s END""",
    # an id value: trimmed, NULL for placeholders (ids.PLACEHOLDERS, all-zero ids) and for JSON
    # objects/arrays. One regular expression: DuckDB 2.0's lower/translate/trim cost ~1 µs a
    # value each, RE2 a fraction of that; and no IN list or list_contains, which DuckDB plans
    # as a hash join each.
    """CREATE OR REPLACE MACRO gc_id(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN regexp_full_match(s, '(?s) *((?i:-|--|in-progress|null|none|nil|unknown|undefined|n/a)|[0-]*|[{\\[].*) *')
          OR length(s) > 256 THEN NULL
        ELSE gc_trim(s) END""",
    # trace ids: W3C traceparent -> its trace id; hex ids lower-cased
    """CREATE OR REPLACE MACRO gc_trace(s) AS CASE
        WHEN gc_id(s) IS NULL THEN NULL
        WHEN regexp_full_match(s, ' *[0-9A-Fa-f]{2}-[0-9A-Fa-f]{32}-[0-9A-Fa-f]{16}-[0-9A-Fa-f]{2} *')
          THEN nullif(lower(regexp_extract(s, '-([0-9A-Fa-f]{32})-', 1)), '00000000000000000000000000000000')
        WHEN regexp_full_match(s, ' *[0-9A-Fa-f-]+ *') THEN lower(gc_trim(s))
        ELSE gc_trim(s) END""",
]


# Time-zone abbreviations DuckDB does not read by itself, as UTC offsets (`gc_time`). The
# ambiguous ones (IST, CST …) take their most common meaning in logs.
TZ_ABBREVIATIONS = {
    "AEST": "+10:00", "AEDT": "+11:00", "ACST": "+09:30", "ACDT": "+10:30", "AWST": "+08:00",
    "NZST": "+12:00", "NZDT": "+13:00", "JST": "+09:00", "KST": "+09:00", "HKT": "+08:00",
    "SGT": "+08:00", "IST": "+05:30", "MSK": "+03:00", "EEST": "+03:00", "CEST": "+02:00",
    "BST": "+01:00", "WEST": "+01:00", "WET": "+00:00", "EET": "+02:00", "CET": "+01:00",
    "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00", "MST": "-07:00",
    "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00", "AKST": "-09:00", "AKDT": "-08:00",
    "HST": "-10:00", "UTC": "+00:00", "GMT": "+00:00",
}  # fmt: skip

# strptime layouts `gc_time` tries after ISO-8601 and epoch numbers; the first list has no
# zone (read in the connection's TimeZone), the second has one.
NAIVE_LAYOUTS = [
    "%d/%b/%Y:%H:%M:%S",  # CLF without its offset
    "%d/%b/%Y %H:%M:%S",  # werkzeug
    "%a %b %d %H:%M:%S %Y",  # ctime, Apache error log
    "%a %b %d %H:%M:%S.%f %Y",
    "%d %b %Y %H:%M:%S.%f",  # redis
    "%d %b %Y %H:%M:%S",
    "%d-%b-%Y %H:%M:%S.%f",  # tomcat
    "%b %d, %Y %I:%M:%S %p",  # java.util.logging
    "%y/%m/%d %H:%M:%S",  # spark
    "%Y-%m-%d-%H.%M.%S.%f",  # BGL
    "%Y%m%d-%H:%M:%S:%g",  # HealthApp
    "%Y.%m.%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y %H:%M:%S",
]
ZONED_LAYOUTS = [
    "%d/%b/%Y:%H:%M:%S %z",  # CLF
    "%d/%b/%Y:%H:%M:%S.%f %z",
    "%a, %d %b %Y %H:%M:%S %Z",  # RFC 1123
    "%a, %d %b %Y %H:%M:%S %z",  # RFC 2822
    "%a %b %d %H:%M:%S %Z %Y",  # date(1)
]


def _strlist(xs: Sequence[str]) -> str:
    return "[" + ", ".join("'" + x.replace("'", "''") + "'" for x in xs) + "]"


EXTRA_MACROS = [
    # any written time -> TIMESTAMPTZ: a plain cast for the common ISO-8601 case, then gc_ts
    # (ISO variants, epoch numbers), then a trailing zone
    # abbreviation DuckDB does not know, then the layouts above
    f"""CREATE OR REPLACE MACRO gc_time(s) AS coalesce(
        CASE WHEN regexp_matches(s, '^\\d{{4}}-\\d\\d-\\d\\d') THEN try_cast(replace(s, ',', '.') AS TIMESTAMPTZ) END,
        CASE WHEN NOT regexp_matches(s, '^\\s*\\d\\d/') THEN gc_ts(s) END,
        CASE WHEN regexp_matches(s, '\\d ?[A-Z]{{3,4}} *$') THEN gc_iso(
            regexp_replace(gc_trim(s), ' ?[A-Z]{{3,4}}$', '')
            || {_strlist(list(TZ_ABBREVIATIONS.values()))}[list_position(
                {_strlist(list(TZ_ABBREVIATIONS))}, regexp_extract(s, '([A-Z]{{3,4}}) *$', 1))]) END,
        try_strptime(gc_trim(s), {_strlist(NAIVE_LAYOUTS)})::TIMESTAMPTZ,
        try_strptime(gc_trim(s), {_strlist(ZONED_LAYOUTS)}))""",
    # a time written without its year (syslog RFC 3164, glog, logcat …): `fmts` start with
    # '%Y '; the year is the reference time's (the file's mtime), or the one before when that
    # would put the time more than a day after the reference
    """CREATE OR REPLACE MACRO gc_noyear(s, fmts, ref) AS CASE
        WHEN try_strptime(year(ref)::VARCHAR || ' ' || s, fmts)::TIMESTAMPTZ > ref + INTERVAL 1 DAY
          THEN try_strptime((year(ref) - 1)::VARCHAR || ' ' || s, fmts)::TIMESTAMPTZ
        ELSE try_strptime(year(ref)::VARCHAR || ' ' || s, fmts)::TIMESTAMPTZ END""",
    # a time of day without a date (logback's console layout): `fmts` start with '%Y-%m-%d ';
    # the reference time's date, or the day before when that is more than an hour ahead of it
    """CREATE OR REPLACE MACRO gc_nodate(s, fmts, ref) AS CASE
        WHEN try_strptime(strftime(ref, '%Y-%m-%d') || ' ' || s, fmts)::TIMESTAMPTZ > ref + INTERVAL 1 HOUR
          THEN try_strptime(strftime(ref - INTERVAL 1 DAY, '%Y-%m-%d') || ' ' || s, fmts)::TIMESTAMPTZ
        ELSE try_strptime(strftime(ref, '%Y-%m-%d') || ' ' || s, fmts)::TIMESTAMPTZ END""",
    # a line with nothing but whitespace (trim only when it starts with some: most lines don't)
    """CREATE OR REPLACE MACRO gc_blank(s) AS
        s = '' OR (ascii(s) IN (9, 32) AND trim(s, chr(9) || ' ') = '')""",
    # HTTP status -> level: 5xx ERROR, 4xx WARN, else INFO
    """CREATE OR REPLACE MACRO gc_status_level(st) AS CASE
        WHEN st IS NULL OR st <= 0 THEN NULL WHEN st >= 500 THEN 'ERROR' WHEN st >= 400 THEN 'WARN'
        ELSE 'INFO' END""",
    # syslog PRI (facility * 8 + severity) -> level
    """CREATE OR REPLACE MACRO gc_pri_level(pri) AS CASE
        WHEN pri IS NULL OR pri < 0 OR pri > 191 THEN NULL ELSE gc_num_level(pri % 8) END""",
    # Nextcloud / PHP-style level numbers: 0 DEBUG, 1 INFO, 2 WARN, 3 ERROR, 4 FATAL
    """CREATE OR REPLACE MACRO gc_level04(s) AS CASE
        WHEN regexp_full_match(s, ' *[0-4] *') THEN ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][try_cast(s AS INTEGER) + 1]
        ELSE gc_level(s) END""",
    # a duration as written -> milliseconds: a bare number is ms; units ns, us/µs, ms, s, m, h
    """CREATE OR REPLACE MACRO gc_duration_ms(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN regexp_full_match(s, ' *-?\\d+(\\.\\d+)?([eE][-+]?\\d+)? *') THEN try_cast(s AS DOUBLE)
        WHEN regexp_full_match(s, '(?i) *\\d+(\\.\\d+)? ?(ns|us|µs|micros|ms|s|m|h|sec|secs|msec|msecs) *')
          THEN try_cast(regexp_extract(s, '^ *([\\d.]+)', 1) AS DOUBLE)
               * [0.000001, 0.001, 0.001, 0.001, 1.0, 1000.0, 60000.0, 3600000.0, 1000.0, 1000.0, 1.0, 1.0][list_position(
                   ['ns', 'us', 'µs', 'micros', 'ms', 's', 'm', 'h', 'sec', 'secs', 'msec', 'msecs'],
                   lower(regexp_extract(s, '([A-Za-zµ]+) *$', 1)))]
        END""",
]


def connect(tz: str = "UTC", threads: int | None = None, *, external_access: bool = True) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with gascorr's macros and `tz` as its TimeZone."""
    import duckdb

    con = duckdb.connect(config={"threads": threads or 2, "preserve_insertion_order": True})
    con.execute("SET TimeZone = ?", [tz])
    for m in MACROS + EXTRA_MACROS:
        con.execute(m)
    if not external_access:
        con.execute("SET enable_external_access = false")
    return con


# answers up to this many rows are fetched through `execute` (see `arrow`)
SMALL_ROWS = 5000


def arrow(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, object] | Sequence[object] | None = None,
    *,
    small: bool = False,
) -> pa.Table:
    """Run a query and fetch it as an Arrow table. Named params ($name) that `sql` does not
    use are dropped (DuckDB rejects unused ones).

    A relation (`con.sql`) binds a query when it is made and again when it runs: 15-20 ms
    for gascorr's macro-heavy statements. `small=True` (a few thousand rows at most) runs
    it once through `execute` instead, whose Arrow result is one extra copy of the rows:
    cheaper than the second binding for a small answer, dearer for a large one."""
    if isinstance(params, Mapping):
        params = {k: v for k, v in params.items() if f"${k}" in sql}
    if small:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            return con.execute(sql, params or None).to_arrow_table()
    return con.sql(sql, params=params or None).to_arrow_table()


def literal(value: str | list[str]) -> str:
    """A SQL string (or list of strings) literal, quotes escaped: for the few statements,
    like CREATE VIEW, that cannot take bound parameters. Only ever given paths from the
    store's own manifest."""
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + value.replace("'", "''") + "'"


def interrupted(e: BaseException) -> bool:
    """Whether `e` is DuckDB's answer to Ctrl-C: its InterruptException, or its message when
    the error came through an Arrow stream or from a worker process as another class."""
    import sys

    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(e, duckdb.InterruptException):
        return True
    return str(e).startswith("Query interrupted") or isinstance(e.__cause__, KeyboardInterrupt)

"""Plain-text logs: line dialects detected per file, parsed in bulk in SQL.

A dialect is one row of `DIALECTS`: a regular expression (RE2-compatible, so DuckDB runs
it) whose named groups say where the time, level, session, service and message are; any
other named group lands in `attrs`. The first group must be non-empty whenever the line
matches: that is how a line is known to start an event. Lines that do not match continue
the event above them (tracebacks, Java stack traces, indented continuations).

Detection tries every dialect on the first lines of the file with Python's `re` and keeps
the one that matches most lines (ties go to the earlier, more specific row). `logfmt` is
special: its key=value pairs are turned into a JSON object and read through the shared
JSON projection. A file no dialect recognises still becomes events, one per line
(`plain`).

Each chunk is parsed in one SQL statement; the lines of its last, possibly unfinished event
are carried into the next chunk so continuation lines are never cut from their event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gascorr.engine import arrow
from gascorr.parsers import Chunk, ParseContext, lines_table, read_chunks, unnest_sql
from gascorr.parsers.fields import Projection, _q
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source

SAMPLE_LINES = 200
_ISO = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z| ?[+-]\d\d:?\d\d)?"
_LEVEL_WORDS = (
    "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG|"
    "trace|debug|info|notice|warn|warning|error|err|critical|fatal|Trace|Debug|Info|Warn|Warning|"
    "Error|Fatal"
)


@dataclass(frozen=True)
class Dialect:
    name: str
    regex: str
    ts_formats: tuple[str, ...] = ()  # strptime formats for the ts group; empty: ISO via gc_ts
    no_year: bool = False  # the time has no year (syslog RFC 3164): inferred, see `_year_sql`
    kind: str = "log"

    @property
    def groups(self) -> list[str]:
        idx = re.compile(self.regex).groupindex
        return sorted(idx, key=idx.__getitem__)


DIALECTS: list[Dialect] = [
    Dialect(
        "session-prefix",
        rf"^\[(?P<session>[^\]\s]+)\] - (?P<ts>{_ISO}) - (?P<logger>\S+) - (?P<level>[A-Za-z]+) - (?P<message>.*)$",
    ),
    Dialect("session-prefix-short", r"^\[(?P<session>[^\]\s]+)\] - (?P<level>[A-Z]+) - (?P<message>.*)$"),
    Dialect("python-logging", rf"^(?P<ts>{_ISO}) - (?P<logger>\S+) - (?P<level>[A-Za-z]+) - (?P<message>.*)$"),
    Dialect("logfmt", r"^(?P<kv>[A-Za-z_][\w.@/-]*=\S.*)$"),
    Dialect("iso-generic", rf"^(?P<ts>{_ISO})\s*(?:\[?(?P<level>{_LEVEL_WORDS})\]?:?\s+)?(?P<message>.*)$"),
]
PLAIN = Dialect("plain", r"^(?P<message>.*)$")
BY_NAME = {d.name: d for d in [*DIALECTS, PLAIN]}

_LOGFMT_KV = r'([A-Za-z_][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
_LOGFMT_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.@/-]*=(?:\"(?:[^\"\\]|\\.)*\"|\S*)\s*){2,}$")
_LOGFMT_TIME = re.compile(r"(?:^|\s)(?:time|ts|t|timestamp|date)=")


def _matches(d: Dialect, lines: list[str]) -> int:
    if d.name == "logfmt":
        return sum(1 for ln in lines if _LOGFMT_LINE.match(ln) and _LOGFMT_TIME.search(ln))
    rx = re.compile(d.regex)
    first = d.groups[0]
    return sum(1 for ln in lines if (m := rx.match(ln)) and m.group(first))


def detect(lines: list[str]) -> Dialect:
    """The dialect matching most of `lines` (ties: the earlier one), else `PLAIN`."""
    sample = [ln.rstrip("\r") for ln in lines if ln.strip()][:SAMPLE_LINES]
    best, score = PLAIN, 0
    for d in DIALECTS:
        s = _matches(d, sample)
        if s > score:
            best, score = d, s
    return best


def _ts_sql(d: Dialect) -> str:
    if not d.ts_formats:
        return "gc_ts(ts_raw)"
    fmts = "[" + ", ".join(_q(f) for f in d.ts_formats) + "]"
    return f"coalesce(try_strptime(ts_raw, {fmts})::TIMESTAMPTZ, gc_ts(ts_raw))"


def _regex_sql(d: Dialect, ctx: ParseContext, first: int) -> str:
    groups = d.groups
    names = "[" + ", ".join(_q(g) for g in groups) + "]"
    known = {"ts", "level", "session", "service", "message"}
    extras = [g for g in groups if g not in known]
    attrs = (
        "CASE WHEN started THEN json_object(" + ", ".join(f"{_q(g)}, nullif(f.{g}, '')" for g in extras) + ") END"
        if extras
        else "NULL"
    )
    head = "f.message" if "message" in groups else "''"
    n = ctx.names
    msg_id = {
        role: "coalesce("
        + ", ".join(f"nullif(regexp_extract(message, '(?i)' || {_q(p)}, 1), '')" for p in pats)
        + ", NULL)"
        for role, pats in (
            ("session", n.session_patterns),
            ("request", n.request_patterns),
            ("trace", n.trace_patterns),
        )
    }
    g = lambda name: f"nullif(f.{name}, '')" if name in groups else "NULL"  # noqa: E731
    return f"""
    WITH tl AS (SELECT n, line, regexp_extract(line, {_q(d.regex)}, {names}) AS f
                FROM ({unnest_sql("gc_lines", first)})),
    g AS (SELECT *, f.{groups[0]} <> '' AS st,
                 sum(CASE WHEN f.{groups[0]} <> '' THEN 1 ELSE 0 END) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) AS gid
          FROM tl),
    e AS (SELECT CASE WHEN gid = 0 OR {d.name == "plain"} THEN -n ELSE gid END AS gk, min(n) AS n,
                 arg_min(f, n) AS f, arg_min(line, n) AS head, bool_or(st) AS started,
                 string_agg(CASE WHEN NOT st THEN line END, chr(10) ORDER BY n) AS tail,
                 bool_and(trim(line) = '') AS blank
          FROM g GROUP BY 1),
    p AS (SELECT n, started, f, head,
                 CASE WHEN started THEN {g("ts")} END AS ts_raw,
                 rtrim(CASE WHEN started THEN coalesce({head}, '') || coalesce(chr(10) || tail, '') ELSE head END,
                       chr(10) || ' ') AS message
          FROM e WHERE NOT blank)
    SELECT {_ts_sql(d)} AS ts, ts_raw, $source AS source, n AS line, 'text' AS format, $dialect AS dialect,
           '{d.kind}' AS kind, coalesce({g("service")}, $service) AS service,
           CASE WHEN started THEN gc_level({g("level")}) END AS level, message,
           coalesce(CASE WHEN started THEN gc_id({g("session")}) END, gc_id({msg_id["session"]})) AS session_id,
           gc_id({msg_id["request"]}) AS request_id, gc_trace({msg_id["trace"]}) AS trace_id,
           NULL AS span_id, NULL AS parent_span_id, NULL AS method, NULL AS url, NULL::INTEGER AS status,
           NULL::DOUBLE AS duration_ms, NULL::INTEGER AS step, {attrs} AS attrs
    FROM p ORDER BY n"""


def _logfmt_sql(proj: Projection, first: int) -> str:
    kv = _q(_LOGFMT_KV)
    rel = f"""(
      WITH tl AS (SELECT n, line, regexp_matches(line, '^[A-Za-z_][\\w.@/-]*=') AS st
                  FROM ({unnest_sql("gc_lines", first)})),
      g AS (SELECT *, sum(st::INTEGER) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) AS gid FROM tl),
      e AS (SELECT CASE WHEN gid = 0 THEN -n ELSE gid END AS gk, min(n) AS n, arg_min(line, n) AS head,
                   bool_or(st) AS started, string_agg(CASE WHEN NOT st THEN line END, chr(10) ORDER BY n) AS tail,
                   bool_and(trim(line) = '') AS blank
            FROM g GROUP BY 1)
      SELECT n, tail,
             CASE WHEN started THEN '{{' || array_to_string(list_transform(
                 list_zip(regexp_extract_all(head, {kv}, 1), regexp_extract_all(head, {kv}, 2)),
                 lambda p: to_json(p[1]) || ':' || to_json(CASE WHEN left(p[2], 1) = '"'
                     THEN replace(replace(p[2][2:-2], '\\"', '"'), '\\\\', '\\') ELSE p[2] END)), ',') || '}}'
             ELSE json_object('msg', head) END AS j
      FROM e WHERE NOT blank)"""
    return proj.sql(rel) + " ORDER BY line"


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    con = ctx.con
    dialect: Dialect | None = BY_NAME.get(ctx.dialect_hint or "")
    params = {"source": source.name, "format": "text", "service": service_from_name(source.name), "session": None}
    proj = Projection(ctx.names)
    carry = ""
    carry_first = 1
    with ctx.open(source) as stream:
        for chunk in read_chunks(stream, ctx):
            text = carry + ("\n" if carry and chunk.text else "") + chunk.text if carry else chunk.text
            first = carry_first if carry else chunk.first
            ctx.lines += chunk.nlines
            if dialect is None:
                dialect = detect(text[: 256 * 1024].split("\n"))
                ctx.dialect = dialect.name
            params["dialect"] = dialect.name
            work = Chunk(first, text, chunk.last, -1 if carry else chunk.nlines)
            con.register("gc_lines", lines_table(work))
            sql = _logfmt_sql(proj, first) if dialect.name == "logfmt" else _regex_sql(dialect, ctx, first)
            table = arrow(con, sql, params)
            con.unregister("gc_lines")
            if not chunk.last and table.num_rows > 1 and dialect.name != "plain":
                # hold back the last event: its continuation lines may be in the next chunk
                last_line = table.column("line")[-1].as_py()
                table = table.slice(0, table.num_rows - 1)
                keep = text.count("\n") + 1 - (last_line - first)  # lines from the held event on
                carry = "\n".join(text.rsplit("\n", keep)[1:])
                carry_first = last_line
            else:
                carry = ""
            yield table
    ctx.dialect = dialect.name if dialect else "plain"

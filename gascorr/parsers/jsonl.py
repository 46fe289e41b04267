"""JSON lines: one object per line, any producer's field names.

Each chunk of lines is classified in SQL (blank, JSON object, malformed JSON, not an object,
plain text), objects go through the shared JSON projection (`fields.py`), plain-text lines
in a mixed file become text events with a leading timestamp if they have one, and
malformed or non-object lines are rejected with their line numbers. The producer family
(pino, bunyan, ECS, Docker json-file, …) is named from the first object's keys and
recorded as the dialect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gascorr.engine import arrow
from gascorr.parsers import ParseContext, lines_table, read_chunks, unnest_sql
from gascorr.parsers.fields import Projection
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.sources import Source

_SESSION_FILE = re.compile(r"(?:^|/)session[_-]([A-Za-z0-9][\w.-]*?)\.(?:jsonl|ndjson|json)(?:\.gz)?$")

# Plain-text lines inside a JSON-lines file: a leading ISO time, then the rest.
TEXT_LINE_SQL = r"""
SELECT n, line,
       nullif(regexp_extract(line, '^\s*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)', 1), '') AS ts_raw
FROM cls WHERE cls = 'text'
"""


def session_from_filename(name: str) -> str | None:
    """`logs/llm_interactions/session_20251105_143052.jsonl` -> `20251105_143052`."""
    m = _SESSION_FILE.search(name.replace("\\", "/"))
    return m.group(1) if m else None


def family(obj: dict[str, object]) -> str:
    """The producer family of a JSON log record, from its keys."""
    k = set(obj)
    if {"log", "stream", "time"} <= k:
        return "docker-json"
    if "__REALTIME_TIMESTAMP" in k or "_SOURCE_REALTIME_TIMESTAMP" in k or "MESSAGE" in k:
        return "journald"
    if "@t" in k and ("@mt" in k or "@m" in k):
        return "serilog-clef"
    if "@timestamp" in k and ("ecs.version" in k or "log.level" in k or isinstance(obj.get("ecs"), dict)):
        return "ecs"
    if "v" in k and "name" in k and "hostname" in k and isinstance(obj.get("level"), int):
        return "bunyan"
    if isinstance(obj.get("level"), int) and isinstance(obj.get("time"), int) and "msg" in k:
        return "pino"
    if isinstance(obj.get("ts"), float) and "msg" in k:
        return "zap"
    if "resourceLogs" in k or "resourceSpans" in k:
        return "otlp"
    if "severity" in k and ("logName" in k or "insertId" in k or "jsonPayload" in k or "textPayload" in k):
        return "gcp-logging"
    if "eventVersion" in k and "eventSource" in k:
        return "cloudtrail"
    if "model" in k and ({"request", "response", "messages", "prompt", "usage", "tokens"} & k):
        return "llm-interaction"
    if "event" in k and "timestamp" in k:
        return "structlog"
    if "instant" in k and "loggerName" in k:
        return "log4j2-json"
    if {"time", "level", "msg"} <= k:
        level = obj.get("level")
        return "slog-json" if isinstance(level, str) and level.isupper() else "logrus"
    return "json"


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    con = ctx.con
    proj = Projection(ctx.names)
    session = session_from_filename(source.name)
    params = {
        "source": source.name,
        "format": "jsonl",
        "dialect": "json",
        "service": service_from_name(source.name),
        "session": session,
    }
    with ctx.open(source) as stream:
        for chunk in read_chunks(stream, ctx):
            lt = lines_table(chunk)
            con.register("gc_lines", lt)
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE cls AS
                SELECT n, line, CASE
                    WHEN trim(line) = '' THEN 'blank'
                    WHEN left(ltrim(line), 1) = '{{' THEN CASE WHEN json_valid(line) THEN 'obj' ELSE 'bad' END
                    WHEN left(ltrim(line), 1) = '[' AND json_valid(line) THEN 'notobj'
                    ELSE 'text' END AS cls
                FROM ({unnest_sql("gc_lines", chunk.first)})""")
            con.unregister("gc_lines")
            counts = dict(con.execute("SELECT cls, count(*) FROM cls GROUP BY cls").fetchall())
            ctx.lines += sum(counts.values())
            ctx.blank += counts.get("blank", 0)
            if ctx.dialect in ("", "json"):
                rows = con.execute("SELECT line FROM cls WHERE cls = 'obj' ORDER BY n LIMIT 1").fetchall()
                if rows:
                    try:
                        ctx.dialect = family(json.loads(rows[0][0]))
                    except ValueError:
                        ctx.dialect = "json"
                params["dialect"] = ctx.dialect or "json"
            for cls, why in (("bad", "malformed JSON"), ("notobj", "a JSON value that is not an object")):
                if counts.get(cls):
                    bad = con.execute(f"SELECT n FROM cls WHERE cls = '{cls}' ORDER BY n LIMIT 20").fetchall()
                    ctx.reject_lines([n for (n,) in bad], why, total=counts[cls])
            if counts.get("obj"):
                sql = proj.sql("(SELECT n, line AS j, NULL::VARCHAR AS tail FROM cls WHERE cls = 'obj')")
                yield arrow(con, sql + " ORDER BY line", params)
            if counts.get("text"):
                yield arrow(
                    con,
                    f"""
                    SELECT gc_ts(ts_raw) AS ts, ts_raw, $source AS source, n AS line, 'jsonl' AS format,
                           'text-line' AS dialect, 'log' AS kind, $service AS service, NULL AS level,
                           line AS message, gc_id($session) AS session_id, NULL AS request_id, NULL AS trace_id,
                           NULL AS span_id, NULL AS parent_span_id, NULL AS method, NULL AS url,
                           NULL::INTEGER AS status, NULL::DOUBLE AS duration_ms, NULL::INTEGER AS step,
                           NULL AS attrs
                    FROM ({TEXT_LINE_SQL}) ORDER BY n""",
                    {"source": source.name, "service": params["service"], "session": session},
                )
    if not ctx.dialect:
        ctx.dialect = "json"

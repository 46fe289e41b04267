"""JSON lines: one object per line, any producer's field names.

Each chunk of lines is classified in SQL (blank, JSON object, malformed JSON, not an object,
plain text). Objects go through the shared JSON projection (`fields.py`), planned from the
shape of the chunk's objects. Malformed and non-object lines are rejected with their line
numbers; blank lines are counted. Every other line is one event, so a file's events,
blank and rejected lines add up to its lines.

The producer family (pino, bunyan, ECS, Docker json-file, …) is named from the keys of the
first objects and recorded as the dialect; it also tunes the reading:

- Docker json-file: a `log` that is itself a JSON object (a JSON-logging container) is read
  as the record, with `stream` and `time` kept; a `log` of text in a layout the text
  dialects know (an access log, log4j …) is parsed as that dialect, the record's `time`
  first.
- A string field that holds a whole JSON object (CloudTrail's `CloudTrailEvent`) is read as
  that object, so the ids inside it are found.
- Serilog's compact JSON leaves `@l` out for Information; Nextcloud numbers its levels 0-4.

Plain-text lines in a mixed file are read with the text dialect that fits them (logfmt, a
leading timestamp …), one event per line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gascorr.engine import SMALL_ROWS, arrow
from gascorr.parsers import ParseContext, bracket_depths, in_line_order, lines_table, read_chunks, unnest_sql
from gascorr.parsers.fields import Projection, _q
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import pyarrow as pa

    from gascorr.parsers.text import Dialect
    from gascorr.sources import Source

_SESSION_FILE = re.compile(r"(?:^|/)session[_-]([A-Za-z0-9][\w.-]*?)\.(?:jsonl|ndjson|json)(?:\.gz)?$")
SAMPLE_OBJECTS = 50


# each line's class: blank, a JSON object, malformed JSON, a JSON value that is not an
# object, or plain text
CLASSIFY = """CASE
    WHEN regexp_full_match(line, ' *') THEN 'blank'
    WHEN regexp_matches(line, '^ *\\{') THEN CASE WHEN json_valid(line) THEN 'obj' ELSE 'bad' END
    WHEN regexp_matches(line, '^ *[\\["0-9tfn-]') AND json_valid(line) THEN 'notobj'
    ELSE 'text' END"""
# Records nested deeper than this are rejected: Python's JSON decoder (for samples, shapes
# and attrs read back at query time) recurses once a level, up to about 1,000 in all.
MAX_DEPTH = 500
REJECTED_CLASSES = (
    ("bad", "malformed JSON"),
    ("notobj", "a JSON value that is not an object"),
    ("deep", f"a JSON object nested more than {MAX_DEPTH} levels deep"),
)
# a line that may be nested that deep: it has that many opening brackets (checked exactly in
# Python, `_too_deep`); most lines are shorter than that, which ends the test early
_DEEP_CANDIDATE = f"""cls = 'obj' AND strlen(line) > {2 * MAX_DEPTH}
    AND strlen(line) - strlen(replace(replace(line, '{{', ''), '[', '')) > {MAX_DEPTH}"""


def _too_deep(line: str) -> bool:
    return any(depth > MAX_DEPTH for depth, _ in bracket_depths(line))


def _mark_deep(con: Any, table: str, keys: tuple[str, ...]) -> None:
    """Class `deep` for the object lines of `table` nested more than MAX_DEPTH levels; `keys`
    are the integer columns that tell its lines apart."""
    cols = ", ".join(keys)
    rows = con.execute(f"SELECT {cols}, line FROM {table} WHERE {_DEEP_CANDIDATE}").fetchall()
    deep = [r[:-1] for r in rows if _too_deep(r[-1])]
    if deep:
        values = ", ".join("(" + ", ".join(str(int(x)) for x in k) + ")" for k in deep)
        on = " AND ".join(f"{table}.{k} = d.{k}" for k in keys)
        con.execute(f"UPDATE {table} SET cls = 'deep' FROM (VALUES {values}) d({cols}) WHERE {on}")


def session_from_filename(name: str) -> str | None:
    """`logs/llm_interactions/session_20251105_143052.jsonl` -> `20251105_143052`."""
    m = _SESSION_FILE.search(name.replace("\\", "/"))
    return m.group(1) if m else None


def family(obj: dict[str, Any]) -> str:
    """The producer family of a JSON log record, from its keys."""
    k = set(obj)
    level = obj.get("level")
    if {"log", "stream", "time"} <= k:
        return "docker-json"
    if "__REALTIME_TIMESTAMP" in k or "_SOURCE_REALTIME_TIMESTAMP" in k or "MESSAGE" in k:
        return "journald"
    if "@t" in k and ("@mt" in k or "@m" in k):
        return "serilog-clef"
    if "@timestamp" in k and ("ecs.version" in k or "log.level" in k or isinstance(obj.get("ecs"), dict)):
        return "ecs"
    if "v" in k and "name" in k and "hostname" in k and isinstance(level, int):
        return "bunyan"
    if isinstance(obj.get("time"), int) and "msg" in k and (isinstance(level, int) or {"pid", "hostname"} <= k):
        return "pino"
    if "caller" in k and "msg" in k and (isinstance(obj.get("ts"), float) or "timestamp" in k):
        return "zap"
    if "caller" in k and isinstance(obj.get("ts"), str):
        return "go-kit"
    if "resourceLogs" in k or "resourceSpans" in k:
        return "otlp"
    if "severity" in k and ("logName" in k or "insertId" in k or "jsonPayload" in k or "textPayload" in k):
        return "gcp-logging"
    if ("eventVersion" in k and "eventSource" in k) or "CloudTrailEvent" in k:
        return "cloudtrail"
    if "correlation_id" in k and ("operation_name" in k or "event_timestamp" in k):
        return "azure-activity"
    if "CreationTime" in k and "Operation" in k and "Workload" in k:
        return "m365-audit"
    if "RayID" in k and "EdgeStartTimestamp" in k:
        return "cloudflare"
    if "reqId" in k and "app" in k and isinstance(level, int) and "remoteAddr" in k:
        return "nextcloud"
    if "model" in k and ({"request", "response", "messages", "prompt", "usage", "tokens"} & k):
        return "llm-interaction"
    if "event" in k and "timestamp" in k:
        return "structlog"
    if "loggerName" in k and ({"instant", "threadName", "contextMap", "thread"} & k):
        return "log4j2-json"
    if "target" in k and isinstance(obj.get("fields"), dict) and "timestamp" in k:
        return "rust-tracing"
    if "payload" in k and "name" in k and "message" in k and isinstance(obj.get("thread"), dict):
        return "semantic-logger"
    if {"time", "level", "msg"} <= k:
        return "slog-json" if isinstance(level, str) and level.isupper() else "logrus"
    return "json"


class Reading:
    """How a JSON-lines file is read, decided from its first objects (and text lines)."""

    def __init__(self, ctx: ParseContext, sample: list[dict[str, Any]]) -> None:
        fams = Counter(family(o) for o in sample)
        self.family = fams.most_common(1)[0][0] if fams else "json"
        self.lift_log = False  # docker json-file whose `log` holds JSON objects
        self.inner: Dialect | None = None  # docker json-file whose `log` holds text of a dialect
        self.nested: list[str] = []  # top-level string keys holding JSON objects
        kw: dict[str, Any] = {}
        if self.family == "serilog-clef":
            kw["default_level"] = "INFO"
        if self.family == "nextcloud":
            kw["level_scheme"] = "04"
        self.projection = Projection(ctx.names, **kw)
        if self.family == "docker-json":
            logs: list[str] = [o["log"] for o in sample if isinstance(o.get("log"), str)]
            if logs and sum(1 for x in logs if x.lstrip().startswith("{")) * 2 > len(logs):
                self.lift_log = True
            elif logs:
                from gascorr.parsers import text

                d = text.detect([x.rstrip("\r\n") for x in logs])
                if d.name != "plain" and not d.generic:
                    self.inner = d
        for o in sample:
            for key, v in o.items():
                if key in self.nested or key == "log" or not isinstance(v, str) or not v.startswith("{"):
                    continue
                try:
                    if isinstance(json.loads(v), dict):
                        self.nested.append(key)
                except (ValueError, RecursionError):  # not JSON, or too deep for Python to read
                    pass

    def object_sql(self) -> str:
        """SQL of the record as a JSON object, from the line (`line`)."""
        j = "line"
        for key in self.nested[:8]:
            path = _q('$."' + key.replace('"', '\\"') + '"')
            inner = f"json_extract_string({j}, {path})"
            j = f"""CASE WHEN json_valid({inner}) AND left({inner}, 1) = '{{'
                    THEN json_merge_patch({j}, json_object({_q(key)}, json({inner}))) ELSE {j} END"""
        if self.lift_log:
            log = "json_extract_string(line, '$.log')"
            j = f"""CASE WHEN json_valid({log}) AND regexp_matches({log}, '^ *\\{{')
                    THEN json_merge_patch(json_merge_patch({j}, '{{"log": null}}'), {log}) ELSE {j} END"""
        return j


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    with ctx.open(source) as stream:
        yield from parse_lines((lines_table(chunk) for chunk in read_chunks(stream, ctx)), source, ctx)


def parse_lines(
    tables: Iterator[pa.Table], source: Source, ctx: ParseContext, fmt: str = "jsonl"
) -> Iterator[pa.Table]:
    """The events of `tables` of `(n, line)` (line `n` of `source` holds `line`), each line
    one JSON record, the events' `format` being `fmt`."""
    con = ctx.con
    session = session_from_filename(source.name)
    from gascorr.parsers import text

    params: dict[str, object] = {
        "source": source.name,
        "format": fmt,
        "dialect": "json",
        "service": service_from_name(source.name),
        "session": session,
        "ref": text.ref_time(source, ctx.tz),
    }
    reading: Reading | None = None
    text_dialect: Dialect | None = None
    for lines in tables:
        con.register("gc_lines", lines)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE cls AS SELECT n, line, {CLASSIFY} AS cls FROM ({unnest_sql('gc_lines')})"
        )
        con.unregister("gc_lines")
        _mark_deep(con, "cls", ("n",))
        counts = dict(con.execute("SELECT cls, count(*) FROM cls GROUP BY cls").fetchall())
        ctx.lines += sum(counts.values())
        ctx.blank += counts.get("blank", 0)
        if reading is None and counts.get("obj"):
            rows = con.execute(f"SELECT line FROM cls WHERE cls = 'obj' ORDER BY n LIMIT {SAMPLE_OBJECTS}").fetchall()
            reading = Reading(ctx, _objects_of([line for (line,) in rows]))
            ctx.dialect = reading.family
            params["dialect"] = reading.family
        for cls, why in REJECTED_CLASSES:
            if counts.get(cls):
                bad = con.execute(f"SELECT n FROM cls WHERE cls = '{cls}' ORDER BY n LIMIT 20").fetchall()
                ctx.reject_lines([n for (n,) in bad], why, total=counts[cls])
        if counts.get("obj") and reading is not None:
            yield from _objects(con, reading, ctx, params)
        if counts.get("text"):
            if text_dialect is None:
                sample_lines = [
                    r[0]
                    for r in con.execute(
                        f"SELECT line FROM cls WHERE cls = 'text' ORDER BY n LIMIT {text.SAMPLE_LINES}"
                    ).fetchall()
                ]
                text_dialect = text.detect(sample_lines)
            yield text.parse_rows(
                con,
                "SELECT n, line, NULL::VARCHAR AS svc0, NULL::VARCHAR AS ts0 FROM cls WHERE cls = 'text'",
                text_dialect,
                ctx,
                params,
                label="text-line",
                rows=counts["text"],
            )
    con.execute("DROP TABLE IF EXISTS cls")
    if not ctx.dialect:
        ctx.dialect = "json"


def _objects_of(lines: list[str]) -> list[dict[str, Any]]:
    """The JSON objects among `lines` (a sample to name the producer from)."""
    out = []
    for line in lines:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # nested too deeply for Python: not a sample
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


# JSON-lines files up to this size are parsed several to a statement by `parse_batch`
BATCH_FILE_BYTES = 1 << 20


def parse_batch(con: Any, items: list[tuple[Source, ParseContext]]) -> dict[int, pa.Table]:
    """The events of several small JSON-lines files, parsed together: by each file's index
    in `items`, for the files this parses exactly as `parse` would.

    A DuckDB statement costs ~30-60 ms to plan with gascorr's projection, whatever its size:
    more than parsing a file of a few hundred KB takes. Here the lines of all the files are
    classified in one statement, and the records of all files whose readings and shapes
    give the same projection go through it in one statement, each file's own values
    (source, service, session …) joined in from a table. A file with plain-text lines, a
    Docker json-file log or more than one chunk of lines is left out (parse it alone)."""
    import pyarrow as pa

    from gascorr.parsers import MAX_REJECT_LOCATIONS, _attach
    from gascorr.schema import arrow_schema

    parts = []
    ok: list[int] = []  # the files read in one chunk
    for i, (src, ctx) in enumerate(items):
        ctx.format = "jsonl"
        with ctx.open(src) as stream:
            chunk = next(read_chunks(stream, ctx))
        if chunk.last:
            ok.append(i)
            t = lines_table(chunk)
            parts.append(t.append_column("g", pa.array([i] * t.num_rows, pa.int32())))
    if not parts:
        return {}
    con.register("gc_lines", pa.concat_tables(parts))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE gc_bcls AS SELECT g, n, line, {CLASSIFY} AS cls FROM gc_lines")
    finally:
        con.unregister("gc_lines")
    _mark_deep(con, "gc_bcls", ("g", "n"))
    counts: dict[int, dict[str, int]] = {g: {} for g in range(len(items))}
    for g, cls, c in con.execute("SELECT g, cls, count(*) FROM gc_bcls GROUP BY ALL").fetchall():
        counts[g][cls] = c
    bad: dict[tuple[int, str], list[int]] = {}
    for g, cls, n in con.execute(
        f"""SELECT g, cls, n FROM gc_bcls WHERE cls IN {tuple(c for c, _ in REJECTED_CLASSES)}
           QUALIFY row_number() OVER (PARTITION BY g, cls ORDER BY n) <= ? ORDER BY g, cls, n""",
        [MAX_REJECT_LOCATIONS],
    ).fetchall():
        bad.setdefault((g, cls), []).append(n)
    samples: dict[int, list[str]] = {}
    for g, line in con.execute(
        f"""SELECT g, line FROM gc_bcls WHERE cls = 'obj'
            QUALIFY row_number() OVER (PARTITION BY g ORDER BY n) <= {SAMPLE_OBJECTS} ORDER BY g, n"""
    ).fetchall():
        samples.setdefault(g, []).append(line)

    out: dict[int, pa.Table] = {}
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, Reading]]] = {}
    for i in ok:
        ctx = items[i][1]
        c = counts[i]
        if c.get("text"):
            continue
        ctx.lines += sum(c.values())
        ctx.blank += c.get("blank", 0)
        for cls, why in REJECTED_CLASSES:
            if c.get(cls):
                ctx.reject_lines(bad.get((i, cls), []), why, total=c[cls])
        if not c.get("obj"):
            ctx.dialect = ctx.dialect or "json"
            out[i] = arrow_schema().empty_table()
            continue
        reading = Reading(ctx, _objects_of(samples.get(i, [])))
        if reading.family == "docker-json":
            continue
        ctx.dialect = reading.family
        groups.setdefault((reading.family, tuple(reading.nested)), []).append((i, reading))
    try:
        for members in groups.values():
            out.update(_batch_objects(con, items, members, {i: counts[i]["obj"] for i, _ in members}))
    finally:
        con.execute("DROP TABLE IF EXISTS gc_bcls")
        con.execute("DROP TABLE IF EXISTS gc_jobj")
    for i, t in out.items():
        ctx = items[i][1]
        if ctx.raw_lines and t.num_rows:
            out[i] = _attach(t, ctx, None)
        ctx._finish_parsing()
    return out


def _batch_objects(
    con: Any, items: list[tuple[Source, ParseContext]], members: list[tuple[int, Reading]], counts: dict[int, int]
) -> dict[int, pa.Table]:
    """Events of the objects of files `members` (same producer family, same nested keys), in
    one statement per distinct projection."""
    import pyarrow as pa

    from gascorr.parsers.fields import Shape

    reading = members[0][1]
    gs = ", ".join(str(i) for i, _ in members)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gc_jobj AS
        SELECT g, n, {reading.object_sql()} AS j, NULL::VARCHAR AS tail, NULL::VARCHAR AS svc0, NULL::VARCHAR AS ts0
        FROM gc_bcls WHERE cls = 'obj' AND g IN ({gs})""")
    shapes = Shape.of_each(con, "gc_jobj")
    plans: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, _ in members:
        src = items[i][0]
        plan = reading.projection.plan(shapes[i])
        sql = reading.projection.sql(
            "gc_jsub", plan, has_session=session_from_filename(src.name) is not None, batch=True
        )
        plans.setdefault((sql, tuple(plan.paths)), []).append(i)
    con.register(
        "gc_params",
        pa.table(
            {
                "g": pa.array([i for i, _ in members], pa.int32()),
                "source": [items[i][0].name for i, _ in members],
                "format": ["jsonl"] * len(members),
                "dialect": [r.family for _, r in members],
                "service": [service_from_name(items[i][0].name) for i, _ in members],
                "session": pa.array([session_from_filename(items[i][0].name) for i, _ in members], pa.string()),
            }
        ),
    )
    out: dict[int, pa.Table] = {}
    try:
        for (sql, paths), gids in plans.items():
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW gc_jsub AS SELECT * FROM gc_jobj WHERE g IN ({', '.join(map(str, gids))})"
            )
            rows = sum(counts[i] for i in gids)
            t = arrow(con, sql + " ORDER BY g, line", {"paths": list(paths)}, small=rows <= SMALL_ROWS)
            if t.num_rows != rows:  # one event per object: anything else is a bug (the batch falls back)
                raise RuntimeError(f"the batch projection gave {t.num_rows} events for {rows} records")
            t = t.drop_columns(["g"])
            start = 0
            for i in sorted(gids):  # ordered by file: each file's events are the next counts[i] rows
                out[i] = t.slice(start, counts[i])
                start += counts[i]
    finally:
        con.unregister("gc_params")
        con.execute("DROP VIEW IF EXISTS gc_jsub")
    return out


def _objects(con: Any, reading: Reading, ctx: ParseContext, params: dict[str, object]) -> Iterator[pa.Table]:
    """Events of this chunk's JSON objects (in the temp table `cls`)."""
    from gascorr.parsers import text

    where = "cls = 'obj'"
    if reading.inner is not None:
        # Docker json-file records whose `log` is text in a known layout
        log = "json_extract_string(line, '$.log')"
        textual = f"NOT (json_valid({log}) AND regexp_matches({log}, '^ *\\{{'))"
        yield text.parse_rows(
            con,
            f"""SELECT n, regexp_replace({log}, '[\n\r]+$', '') AS line, NULL::VARCHAR AS svc0,
                       json_extract_string(line, '$.time') AS ts0
                FROM cls WHERE {where} AND {textual}""",
            reading.inner,
            ctx,
            params,
            label=reading.family,
        )
        where += f" AND NOT {textual}"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gc_jobj AS
        SELECT n, {reading.object_sql()} AS j, NULL::VARCHAR AS tail, NULL::VARCHAR AS svc0, NULL::VARCHAR AS ts0
        FROM cls WHERE {where}""")
    try:
        objects = con.execute("SELECT count(*) FROM gc_jobj").fetchall()[0][0]
        if objects:
            sql, p = reading.projection.select(con, "gc_jobj", params)
            if reading.family == "docker-json":
                # the `log` text ends with the newline the container wrote
                sql = f"SELECT * REPLACE (regexp_replace(message, '[\n\r]+$', '') AS message) FROM ({sql})"
            yield in_line_order(arrow(con, sql, p, small=objects <= SMALL_ROWS))
    finally:
        con.execute("DROP TABLE IF EXISTS gc_jobj")

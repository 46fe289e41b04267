"""From JSON objects to event columns: one SQL projection, planned from the data's own shape.

Structured logs name the same thing many ways (`ts`/`time`/`@timestamp`, `level`/`severity`/
`log.level`, ids at the top level or under `labels`, `contextMap`, `payload.context` …).
Listing every alias under every container would make thousands of JSON paths, each looked
up in every record. Instead each batch of records is planned from its shape: one
`json_group_structure` pass tells which key paths actually occur, and the projection
extracts only those that play a role — usually a dozen — with one `json_extract_string`
call per record (the JSON is parsed once more, not once per alias).

- **Scalar roles** (time, level, message, service, HTTP method / URL / status / duration,
  LLM model, step) are looked up by alias, case-insensitively: at the top level first, in
  the order the alias lists below give, then inside the usual wrapper objects (`@fields`,
  `fields`, `jsonPayload`, `attributes` …). A dotted alias (`service.name`) matches both a
  literal dotted key and the nested path.
- **Id roles** (session, request, trace, span, parent span, W3C `traceparent`) are found up
  to MAX_ID_DEPTH levels deep: a key whose name, or whose last two names (`req.id`), lower-cased and with
  `_ - . /` removed, is one of the role's names (`request_id`, `requestId`, `X-Request-ID`
  all read `requestid`). Shallower keys win, then the order of the name lists. Under a
  `headers` object, an array of strings (HTTP headers as Caddy logs them) gives its first.
- Object-valued keys never fill a scalar role (ECS nests `service` as an object; its name is
  `service.name`). A key whose type differs between records is resolved by a second,
  targeted structure pass over the records where it is an object.

`Projection.sql()` takes a relation `(n, j, tail, svc0, ts0)`: the record as JSON text, text
to append to the message (continuation lines), and a fallback service and written time
(a `docker compose` prefix, a CRI timestamp); it is used by JSON lines, logfmt and every text
dialect whose lines carry key=value pairs or a JSON object.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gascorr.ids import Names

if TYPE_CHECKING:
    import duckdb

TIME_KEYS = (
    "ts",
    "time",
    "timestamp",
    "@timestamp",
    "@t",
    "date",
    "datetime",
    "t",
    "asctime",
    "eventTime",
    "event_time",
    "event_timestamp",
    "EventTime",
    "time_local",
    "timeUnixNano",
    "observedTimeUnixNano",
    "_SOURCE_REALTIME_TIMESTAMP",  # journald: when the program logged it ...
    "__REALTIME_TIMESTAMP",  # ... and when journald received it
    "EdgeStartTimestamp",
    "eventTimestamp",
    "receiveTimestamp",
    "logged_at",
    "timeMillis",
    "created",
    "created_at",
    "time_iso8601",
    "timeGenerated",
    "creationTime",
    "event.created",
    "start_time",
    "started_at",
    "startTime",
    "log_time",
    "logtime",
    "submission_timestamp",
)
LEVEL_KEYS = (
    "level",
    "lvl",
    "levelname",
    "level_name",
    "log.level",
    "loglevel",
    "log_level",
    "@l",
    "severity",
    "severity_text",
    "severityText",
    "levelStr",
    "syslog.severity",
    "PRIORITY",
    "log.level.name",
    "status_level",
    "sev",
)
OTEL_LEVEL_KEYS = ("severity_number", "severityNumber")
MESSAGE_KEYS = (
    "msg",
    "message",
    "@m",
    "body.stringValue",
    "body",
    "log",
    "textPayload",
    "event",
    "text",
    "short_message",
    "full_message",
    "msgtext",
    "log.message",
    "error.message",
    "protoPayload.methodName",
    "operationName",
    "operation_name.value",
    "eventName",
    "Operation",
)
TEMPLATE_KEYS = ("@mt", "messageTemplate", "message_template")
EXCEPTION_KEYS = (
    "@x",
    "exception",
    "exc_info",
    "stack_trace",
    "stacktrace",
    "stack",
    "error.stack_trace",
    "error.stack",
    "err.stack",
)
SERVICE_KEYS = (
    "service",
    "service.name",
    "service_name",
    "serviceName",
    "resource.service.name",
    "resource.attributes.service.name",
    "app",
    "application",
    "app_name",
    "appname",
    "component",
    "name",
    "kubernetes.container_name",
    "kubernetes.labels.app",
    "SYSLOG_IDENTIFIER",
    "_SYSTEMD_UNIT",
    "eventSource",
    "serviceContext.service",
    "protoPayload.serviceName",
    "process.name",
    "Workload",
)
METHOD_KEYS = (
    "method",
    "http.method",
    "http.request.method",
    "request.method",
    "httpRequest.requestMethod",
    "req.method",
    "http_method",
    "request_method",
    "httpMethod",
    "ClientRequestMethod",
    "verb",
    "cs-method",
)
URL_KEYS = (
    "url",
    "uri",
    "url.full",
    "http.url",
    "request.url",
    "request.uri",
    "httpRequest.requestUrl",
    "req.url",
    "request_uri",
    "ClientRequestURI",
    "http.target",
    "url.path",
    "path",
    "requestUri",
    "originalRequestUriWithArgs",
    "cs-uri",
    "cs-uri-stem",
)
STATUS_KEYS = (
    "status",
    "status_code",
    "statusCode",
    "http.status_code",
    "http.response.status_code",
    "httpRequest.status",
    "res.statusCode",
    "response.status",
    "response_status",
    "EdgeResponseStatus",
    "httpStatus",
    "http_status",
    "resp.status",
    "sc-status",
)
DURATION_KEYS = (
    "duration_ms",
    "durationMs",
    "elapsed_ms",
    "latency_ms",
    "took_ms",
    "response_time_ms",
    "responseTime",
    "time_ms",
    "timeTaken",
    "request_time_ms",
    "duration.ms",
    "latencyMs",
    "httpRequest.latency",
    "time-taken",
)
MODEL_KEYS = ("model", "request.model", "response.model", "gen_ai.request.model", "llm.model", "model_name")
LLM_HINT_KEYS = (
    "messages",
    "prompt",
    "completion",
    "response",
    "request.messages",
    "usage",
    "tokens",
    "input_tokens",
    "prompt_tokens",
    "gen_ai.usage.input_tokens",
    "choices",
)
STEP_KEYS = ("step", "step_index", "stepIndex")

# Objects whose members stand in for top-level keys (scalar roles look inside them after the
# top level, in this order).
WRAPPERS = (
    "@fields",
    "fields",
    "jsonPayload",
    "properties",
    "record",
    "attributes",
    "attrs",
    "labels",
    "resource.attributes",
    "payload",
    "data",
    "context",
)
# HTTP fields are looked for in fewer wrappers: a log record that merely describes a request
# in its attributes is not the request itself (its HAR entry or access-log line is).
HTTP_WRAPPERS = ("@fields", "fields", "jsonPayload", "properties")
HTTP_ROLES = frozenset({"method", "url", "status", "duration"})
# Aliases too generic to be trusted inside a wrapper.
TOP_ONLY = frozenset({"name", "event", "text", "path", "date", "t", "created", "log", "body", "status"})

# Id names beyond the SPEC's, found in real logs (matched like the Names lists, normalized).
EXTRA_ID_NAMES: dict[str, tuple[str, ...]] = {
    "session": ("_SYSTEMD_INVOCATION_ID", "cs-sessionid"),
    "request": (
        "RayID",
        "cf-ray",
        "logContext",
        "transactionId",
        "operation.id",
        "x-amzn-requestid",
        "requestID",
        "x-request-id",
    ),
    "span": ("x-b3-spanid",),
    "parent": ("x-b3-parentspanid",),
}
MAX_ID_DEPTH = 4

ROLES_SCALAR: dict[str, tuple[str, ...]] = {
    "ts": TIME_KEYS,
    "level": LEVEL_KEYS,
    "otel_level": OTEL_LEVEL_KEYS,
    "message": MESSAGE_KEYS,
    "template": TEMPLATE_KEYS,
    "exception": EXCEPTION_KEYS,
    "service": SERVICE_KEYS,
    "method": METHOD_KEYS,
    "url": URL_KEYS,
    "status": STATUS_KEYS,
    "duration": DURATION_KEYS,
    "model": MODEL_KEYS,
    "llm_hint": LLM_HINT_KEYS,
    "step": STEP_KEYS,
}
# roles whose value may be an object or array (the others take scalars only)
ANY_VALUE_ROLES = frozenset({"message", "llm_hint"})
ID_ROLES = ("session", "request", "trace", "span", "parent", "traceparent")

Path = tuple[str, ...]


@functools.lru_cache(maxsize=4096)
def norm(key: str) -> str:
    """An id name as compared: lower case, without `_ - . /` and spaces."""
    return re.sub(r"[-_./\s]", "", key.lower())


@dataclass
class Shape:
    """The key paths that occur in a batch of JSON records, with what they hold: `object`,
    `array`, `strings` (an array of strings), `scalar`, `mixed` (differs between records)
    or `null`."""

    kinds: dict[Path, str] = field(default_factory=dict)

    def add(self, node: object, prefix: Path = (), depth: int = 0) -> None:
        if not isinstance(node, dict) or depth > 6:
            return
        for k, v in node.items():
            if not _SAFE_KEY.match(str(k)):
                continue  # a key a JSONPath cannot name ("", "*", backslashes): kept in attrs only
            p = (*prefix, str(k))
            if isinstance(v, dict):
                self.kinds[p] = "object"
                self.add(v, p, depth + 1)
            elif isinstance(v, list):
                strings = len(v) == 1 and v[0] == "VARCHAR"
                self.kinds[p] = "strings" if strings else "array"
            elif v == "JSON":
                self.kinds.setdefault(p, "mixed")
            elif v == "NULL":
                self.kinds.setdefault(p, "null")
            else:
                self.kinds[p] = "scalar"

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, rel: str) -> Shape:
        """The shape of the `j` column of `rel` (a table or view name)."""
        rows = con.execute(f"SELECT json_group_structure(j::JSON) FROM {rel}").fetchall()
        return cls._of(con, rel, rows[0][0] if rows else None)

    @classmethod
    def of_each(cls, con: duckdb.DuckDBPyConnection, rel: str) -> dict[int, Shape]:
        """The shape of each file's records in `rel`, a table of several files' records told
        apart by its column `g`, in one statement."""
        rows = con.execute(f"SELECT g, json_group_structure(j::JSON) FROM {rel} GROUP BY g").fetchall()
        return {int(g): cls._of(con, f"(SELECT * FROM {rel} WHERE g = {int(g)})", st) for g, st in rows}

    @classmethod
    def _of(cls, con: duckdb.DuckDBPyConnection, rel: str, structure: object) -> Shape:
        shape = cls()
        shape.add(_loads(structure))
        # keys that are objects in some records and not in others: look inside those records
        mixed = [p for p, k in shape.kinds.items() if k == "mixed" and len(p) <= 3][:8]
        for p in mixed:
            jp = jsonpath(p)
            rows = con.execute(
                f"SELECT json_group_structure(json_extract(j, ?)) FROM {rel} WHERE json_type(j, ?) = 'OBJECT'",
                [jp, jp],
            ).fetchall()
            sub = _loads(rows[0][0] if rows else None)
            if isinstance(sub, dict):
                shape.add(sub, p, len(p))
        return shape


def _loads(s: object) -> object:
    if not isinstance(s, str):
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None


_SAFE_KEY = re.compile(r'^[^"\\*\x00-\x1f\[\]]+$')


def jsonpath(p: Path) -> str:
    """`$."a"."b"` for the path (a, b)."""
    return "$" + "".join('."' + k.replace('"', '\\"') + '"' for k in p)


@functools.lru_cache(maxsize=1024)
def _alias_paths(alias: str) -> tuple[tuple[str, ...], ...]:
    """An alias as lower-cased key paths: the literal (dotted) key, then the nested path."""
    low = alias.lower()
    if "." in low and "/" not in low:
        return ((low,), tuple(low.split(".")))
    return ((low,),)


@dataclass
class Plan:
    """Which JSON paths fill which role, for one batch of records."""

    paths: list[str] = field(default_factory=list)
    slots: dict[str, tuple[int, int]] = field(default_factory=dict)
    scalar_only: dict[str, bool] = field(default_factory=dict)

    def add(self, role: str, paths: list[str], scalar_only: bool) -> None:
        if not paths:
            return
        start = len(self.paths) + 1
        self.paths.extend(paths)
        self.slots[role] = (start, len(self.paths))
        self.scalar_only[role] = scalar_only

    def get(self, role: str, var: str = "v") -> str:
        """SQL for the first usable value among the role's paths, or NULL."""
        if role not in self.slots:
            return "NULL::VARCHAR"
        a, b = self.slots[role]
        if a == b and not self.scalar_only[role]:
            return f"{var}[{a}]"
        if self.scalar_only[role]:
            cond = "x IS NOT NULL AND left(x, 1) <> '{' AND left(x, 1) <> '['"
        else:
            cond = "x IS NOT NULL"
        if a == b:
            return f"(CASE WHEN {cond.replace('x', f'{var}[{a}]')} THEN {var}[{a}] END)"
        return f"list_filter({var}[{a}:{b}], lambda x: {cond})[1]"


class Projection:
    """A JSON-to-event projection: the alias lists of one ingest (with the user's id names)."""

    def __init__(
        self,
        names: Names,
        *,
        extra_ids: dict[str, tuple[str, ...]] | None = None,
        level_scheme: str = "default",
        default_level: str | None = None,
        kind: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self.names = names
        self.skip = skip
        self.level_scheme = level_scheme
        self.default_level = default_level
        self.kind = kind
        ids: dict[str, list[str]] = {
            "session": [*names.session_keys, *names.session_headers],
            "request": [*names.request_keys, *names.request_headers],
            "trace": [*names.trace_keys, *names.trace_headers],
            "span": list(names.span_keys),
            "parent": list(names.parent_keys),
            "traceparent": ["traceparent"],
        }
        for role, extra in {**EXTRA_ID_NAMES, **(extra_ids or {})}.items():
            ids.setdefault(role, []).extend(extra)
        self.id_names: dict[str, dict[str, int]] = {}
        for role, keys in ids.items():
            ranks: dict[str, int] = {}
            for i, k in enumerate(keys):
                ranks.setdefault(norm(k), i)
            self.id_names[role] = ranks
        self._plans: dict[tuple[tuple[Path, str], ...], Plan] = {}

    # -- planning ---------------------------------------------------------------------------

    def plan(self, shape: Shape) -> Plan:
        """The paths of each role present in `shape` (files of one producer mostly share a
        shape: each is planned once)."""
        key = tuple(shape.kinds.items())
        if key not in self._plans:
            self._plans[key] = self._plan(shape)
        return self._plans[key]

    def _plan(self, shape: Shape) -> Plan:
        plan = Plan()
        lower: dict[tuple[str, ...], list[Path]] = {}
        for p in shape.kinds:
            lower.setdefault(tuple(k.lower() for k in p), []).append(p)
        for role, aliases in ROLES_SCALAR.items():
            if role in self.skip:
                continue
            found: list[str] = []
            any_value = role in ANY_VALUE_ROLES
            wrappers = HTTP_WRAPPERS if role in HTTP_ROLES else WRAPPERS
            for prefix in [(), *[tuple(w.lower().split(".")) for w in wrappers]]:
                for alias in aliases:
                    if prefix and alias.lower() in TOP_ONLY:
                        continue
                    for ap in _alias_paths(alias):
                        for p in lower.get(prefix + ap, []):
                            kind = shape.kinds[p]
                            if kind == "object" and not any_value:
                                continue
                            if kind in ("array", "strings") and not any_value:
                                continue
                            jp = jsonpath(p)
                            if jp not in found:
                                found.append(jp)
            plan.add(role, found, scalar_only=not any_value)
        # log4j2 JsonLayout's `instant`
        es = lower.get(("instant", "epochsecond"))
        if es:
            ns = lower.get(("instant", "nanoofsecond"))
            plan.add("instant_s", [jsonpath(es[0])], scalar_only=True)
            if ns:
                plan.add("instant_ns", [jsonpath(ns[0])], scalar_only=True)
        for role in ID_ROLES:
            plan.add(role, self._id_paths(role, shape), scalar_only=True)
        return plan

    def _id_paths(self, role: str, shape: Shape) -> list[str]:
        ranks = self.id_names[role]
        hits: list[tuple[int, int, str]] = []
        for p, kind in shape.kinds.items():
            if kind in ("object", "array") or len(p) > MAX_ID_DEPTH:
                continue
            cands = [norm(p[-1])]
            if len(p) >= 2:
                cands.append(norm(p[-2] + p[-1]))
            cands.append(norm(".".join(p)))
            rank = min((ranks[c] for c in cands if c in ranks), default=None)
            if rank is None:
                continue
            if kind == "strings" and not any("header" in k.lower() for k in p[:-1]):
                continue  # a list of values is an id only as a logged HTTP header
            jp = jsonpath(p) + ("[0]" if kind == "strings" else "")
            hits.append((len(p), rank, jp))
        return [jp for _, _, jp in sorted(hits)]

    # -- SQL ----------------------------------------------------------------------------------

    def sql(
        self, rel: str, plan: Plan, *, text_fallback: str = "NULL", has_session: bool = False, batch: bool = False
    ) -> str:
        """SELECT over `rel(n, j, tail, svc0, ts0)` producing the event columns.

        Parameters: $source, $format, $dialect, $service, $session, and $paths (`plan.paths`,
        bound rather than spliced). Each stage is MATERIALIZED so that DuckDB does not inline
        the extraction into every expression that reads it.

        `batch`: `rel` holds the records of several files, told apart by a column `g`; the
        per-file values come from the table `gc_params(g, source, format, dialect, service,
        session)` instead of parameters, and `g` is the last column of the result.
        """

        def param(name: str) -> str:
            return f"gp.{name}" if batch else f"${name}"

        g_col = "g, " if batch else ""
        n = self.names
        msg_ids = {
            role: "coalesce("
            + ", ".join(f"nullif(regexp_extract(msg, '(?i)' || {_q(p)}, 1), '')" for p in pats)
            + ", NULL)"
            for role, pats in (
                ("session", n.session_patterns),
                ("request", n.request_patterns),
                ("trace", n.trace_patterns),
            )
        }
        g = plan.get
        extract = "json_extract_string(j, $paths)" if plan.paths else "NULL::VARCHAR[]"
        instant = "NULL"
        if "instant_s" in plan.slots:
            ns = f"lpad(coalesce({g('instant_ns')}, '0'), 9, '0')" if "instant_ns" in plan.slots else "'000000000'"
            instant = f"({g('instant_s')} || '.' || {ns})"
        template = "NULL"
        if "template" in plan.slots:
            # Serilog's message template: {Prop} (or {Prop:format}) replaced by the record's Prop
            template = (
                "list_reduce(list_prepend(mt, regexp_extract_all(mt, '\\{[^{}]+\\}')), "
                "lambda acc, tok: replace(acc, tok, coalesce(json_extract_string(j, '$.\"' || "
                "regexp_extract(tok, '^\\{[@$]?([^:,}]+)', 1) || '\"'), tok)))"
            )
        has = plan.slots.__contains__
        level_fn = "gc_level04" if self.level_scheme == "04" else "gc_level"
        # only the macros a role with paths needs: each one costs planning time
        levels = [f"{level_fn}(lvl)"] if has("level") else []
        if has("otel_level"):
            levels.append("gc_otel_level(try_cast(otel_lvl AS INTEGER))")
        if has("status"):
            levels.append("CASE WHEN kind = 'http' THEN gc_status_level(status) END")
        if self.default_level:
            levels.append(_q(self.default_level))
        level = _coalesce(levels)
        session = _coalesce(
            [
                *(["gc_id(sess)"] if has("session") else []),
                "gc_id(msg_sess)",
                *([f"gc_id({param('session')})"] if has_session else []),
            ]
        )
        request = _coalesce([*(["gc_id(req)"] if has("request") else []), "gc_id(msg_req)"])
        traces = ["gc_trace(regexp_replace(trc, '^projects/[^/]+/traces/', ''))"] if has("trace") else []
        if has("traceparent"):
            traces.append("tp_trace")
        trace = _coalesce([*traces, "gc_trace(msg_trace)"])
        spans = ["gc_trace(spn)"] if has("span") else []
        if has("traceparent"):
            spans.append("CASE WHEN tp_trace IS NOT NULL THEN lower(split_part(trim(tparent), '-', 3)) END")
        span = _coalesce(spans)
        parent = "gc_trace(par)" if has("parent") else "NULL::VARCHAR"
        duration = "gc_duration_ms(dur0)" if has("duration") else "NULL::DOUBLE"
        tp_trace = "gc_trace(tparent)" if has("traceparent") else "NULL::VARCHAR"
        kind = (
            _q(self.kind)
            if self.kind
            else """CASE WHEN model IS NOT NULL AND llm_hint IS NOT NULL THEN 'llm'
                         WHEN method0 IS NOT NULL AND status0 IS NOT NULL THEN 'http' ELSE 'log' END"""
        )
        return f"""
        WITH src AS MATERIALIZED (
          SELECT {g_col}n, j::VARCHAR AS j, tail, svc0, ts0, {extract} AS v FROM {rel}
        ),
        x AS MATERIALIZED (
          SELECT {g_col}n, j, tail, svc0, coalesce({g("ts")}, {instant}, ts0) AS ts_raw, {g("level")} AS lvl,
                 {g("otel_level")} AS otel_lvl, {g("message")} AS msg_field, {g("template")} AS mt,
                 {g("exception")} AS exc, {g("service")} AS svc, {g("method")} AS method0,
                 {g("url")} AS url, {g("status")} AS status0, {g("duration")} AS dur0, {g("step")} AS step0,
                 {g("session")} AS sess, {g("request")} AS req, {g("trace")} AS trc, {g("span")} AS spn,
                 {g("parent")} AS par, {g("traceparent")} AS tparent, {g("model")} AS model,
                 {g("llm_hint")} AS llm_hint
          FROM src
        ),
        y AS MATERIALIZED (
          SELECT *, {kind} AS kind,
                 try_cast(status0 AS INTEGER) AS status,
                 coalesce(coalesce(msg_field, {template}, {text_fallback}) || coalesce(chr(10) || exc, '')
                            || coalesce(chr(10) || tail, ''),
                          CASE WHEN model IS NOT NULL AND llm_hint IS NOT NULL
                               THEN concat_ws(' ', 'LLM call', model) END, j) AS msg,
                 {tp_trace} AS tp_trace
          FROM x
        ),
        z AS MATERIALIZED (
          SELECT *, {msg_ids["session"]} AS msg_sess, {msg_ids["request"]} AS msg_req,
                 {msg_ids["trace"]} AS msg_trace
          FROM y
        )
        SELECT gc_time(ts_raw) AS ts, ts_raw, {param("source")} AS source, n AS line, {param("format")} AS format,
               {param("dialect")} AS dialect, kind, coalesce(svc, svc0, {param("service")}) AS service,
               {level} AS level, msg AS message, {session} AS session_id, {request} AS request_id,
               {trace} AS trace_id, {span} AS span_id, {parent} AS parent_span_id,
               upper(method0) AS method, url, status, {duration} AS duration_ms,
               try_cast(step0 AS INTEGER) AS step, j AS attrs{", g" if batch else ""}
        FROM z{" JOIN gc_params AS gp USING (g)" if batch else ""}
        """

    def select(
        self,
        con: duckdb.DuckDBPyConnection,
        rel: str,
        params: dict[str, object],
        *,
        text_fallback: str = "NULL",
    ) -> tuple[str, dict[str, object]]:
        """The projection SQL over the table or view `rel` and its parameters, planned from
        the shape of `rel`'s records. Its rows are in no set order (`in_line_order` sorts
        them)."""
        plan = self.plan(Shape.of(con, rel))
        has_session = params.get("session") is not None
        sql = self.sql(rel, plan, text_fallback=text_fallback, has_session=has_session)
        return sql, {**params, "paths": plan.paths}


def _coalesce(items: list[str]) -> str:
    if not items:
        return "NULL::VARCHAR"
    return items[0] if len(items) == 1 else "coalesce(" + ", ".join(items) + ")"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"

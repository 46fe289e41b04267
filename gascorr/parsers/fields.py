"""From a JSON object to event columns, in one SQL projection.

Structured logs name the same thing many ways (`ts`/`time`/`@timestamp`, `level`/
`severity`/`log.level`, ids at the top level or under `labels`, `attributes`,
`contextMap` …). `json_projection()` builds one SELECT that extracts every alias with a
single `json_extract_string(j, [paths])` call per row (the JSON is parsed once), then picks
the first non-null value per column. Used by JSON lines, logfmt (turned into a JSON object
first) and anything else that can present its records as JSON objects.
"""

from __future__ import annotations

from gascorr.ids import Names, json_paths

ID_CONTAINERS = (
    "",
    "labels.",
    "attributes.",
    "attrs.",
    "context.",
    "contextMap.",
    "ctx.",
    "fields.",
    "extra.",
    "payload.",
    "mdc.",
    "properties.",
    "Properties.",
    "tags.",
    "jsonPayload.",
    "data.",
    "resource.attributes.",
    "meta.",
    "headers.",
    "request.headers.",
    "req.headers.",
)

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
    "Timestamp",
    "TimeStamp",
    "time_local",
    "timeUnixNano",
    "observedTimeUnixNano",
    "__REALTIME_TIMESTAMP",
    "_SOURCE_REALTIME_TIMESTAMP",
    "EdgeStartTimestamp",
    "eventTimestamp",
    "receiveTimestamp",
    "logged_at",
    "instant.epochSecond",
    "timeMillis",
    "created",
    "time_iso8601",
    "timeGenerated",
    "TimeGenerated",
    "creationTime",
    "CreationTime",
    "event.created",
    "start_time",
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
    "Level",
    "severity",
    "severity_text",
    "severityText",
    "SeverityText",
    "levelStr",
    "syslog.severity",
    "PRIORITY",
    "log.level.name",
    "status_level",
    "LogLevel",
)
OTEL_LEVEL_KEYS = ("severity_number", "severityNumber", "SeverityNumber")
MESSAGE_KEYS = (
    "msg",
    "message",
    "@m",
    "body.stringValue",
    "body",
    "log",
    "MESSAGE",
    "Message",
    "textPayload",
    "@mt",
    "event",
    "text",
    "short_message",
    "full_message",
    "msgtext",
    "log.message",
    "error.message",
    "protoPayload.methodName",
    "operationName",
    "eventName",
    "Operation",
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
    "process.name",
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


def _top(keys: tuple[str, ...]) -> list[str]:
    return json_paths(keys, ("",))


class Projection:
    """The path list and the column expressions of one JSON-to-event projection."""

    def __init__(self, names: Names) -> None:
        self.paths: list[str] = []
        self.slots: dict[str, tuple[int, int]] = {}
        self._add("ts", _top(TIME_KEYS))
        self._add("level", _top(LEVEL_KEYS))
        self._add("otel_level", _top(OTEL_LEVEL_KEYS))
        self._add("message", _top(MESSAGE_KEYS))
        self._add("service", _top(SERVICE_KEYS))
        self._add("method", _top(METHOD_KEYS))
        self._add("url", _top(URL_KEYS))
        self._add("status", _top(STATUS_KEYS))
        self._add("duration", _top(DURATION_KEYS))
        self._add("model", _top(MODEL_KEYS))
        self._add("llm_hint", _top(LLM_HINT_KEYS))
        self._add("session", json_paths(names.session_keys, ID_CONTAINERS))
        self._add("request", json_paths(names.request_keys, ID_CONTAINERS))
        self._add("trace", json_paths(names.trace_keys, ID_CONTAINERS))
        self._add("span", json_paths(names.span_keys, ID_CONTAINERS))
        self._add("parent", json_paths(names.parent_keys, ID_CONTAINERS))
        self._add("step", json_paths(names.step_keys, ("", "attributes.", "labels.", "context.")))
        self._add("traceparent", json_paths(("traceparent",), ID_CONTAINERS))
        self.names = names

    def _add(self, role: str, paths: list[str]) -> None:
        start = len(self.paths) + 1
        self.paths.extend(paths)
        self.slots[role] = (start, len(self.paths))

    def first(self, role: str, var: str = "v") -> str:
        """The first non-null value among `role`'s paths; for scalar roles, JSON objects and
        arrays are skipped (ECS nests `service` as an object, its name is `service.name`)."""
        a, b = self.slots[role]
        if role in ("message", "llm_hint"):
            items = [f"{var}[{i}]" for i in range(a, b + 1)]
        else:
            items = [f"gc_scalar({var}[{i}])" for i in range(a, b + 1)]
        return "coalesce(" + ", ".join(items) + ")"

    def sql(self, rel: str, *, text_fallback: str = "NULL") -> str:
        """SELECT over `rel(n, j, tail)` producing the event columns.

        `j` is a JSON object as text; `tail` is text to append to the message (continuation
        lines), or NULL. Parameters: $source, $format, $dialect, $service, $session.
        """
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
        return f"""
        SELECT gc_ts(ts_raw) AS ts, ts_raw, $source AS source, n AS line, $format AS format,
               $dialect AS dialect, kind, coalesce(svc, $service) AS service,
               coalesce(gc_level(lvl), gc_otel_level(try_cast(otel_lvl AS INTEGER))) AS level,
               msg AS message,
               coalesce(gc_id(sess), gc_id({msg_ids["session"]}), gc_id($session)) AS session_id,
               coalesce(gc_id(req), gc_id({msg_ids["request"]})) AS request_id,
               coalesce(gc_trace(trc), gc_trace(tparent), gc_trace({msg_ids["trace"]})) AS trace_id,
               coalesce(gc_trace(spn), CASE WHEN gc_trace(tparent) IS NOT NULL
                                            THEN lower(split_part(trim(tparent), '-', 3)) END) AS span_id,
               gc_trace(par) AS parent_span_id,
               method, url, status, duration_ms, step, j AS attrs
        FROM (
          SELECT n, j, {self.first("ts")} AS ts_raw, {self.first("level")} AS lvl,
                 {self.first("otel_level")} AS otel_lvl,
                 CASE WHEN {self.first("message")} IS NULL THEN {text_fallback}
                      ELSE {self.first("message")} END
                   || coalesce(chr(10) || tail, '') AS msg0,
                 {self.first("service")} AS svc,
                 upper({self.first("method")}) AS method, {self.first("url")} AS url,
                 try_cast({self.first("status")} AS INTEGER) AS status,
                 try_cast({self.first("duration")} AS DOUBLE) AS duration_ms,
                 try_cast({self.first("step")} AS INTEGER) AS step,
                 {self.first("session")} AS sess, {self.first("request")} AS req,
                 {self.first("trace")} AS trc, {self.first("span")} AS spn, {self.first("parent")} AS par,
                 {self.first("traceparent")} AS tparent,
                 {self.first("model")} AS model,
                 CASE WHEN {self.first("model")} IS NOT NULL AND {self.first("llm_hint")} IS NOT NULL THEN 'llm'
                      WHEN {self.first("method")} IS NOT NULL AND {self.first("status")} IS NOT NULL THEN 'http'
                      ELSE 'log' END AS kind
          FROM (SELECT n, j::VARCHAR AS j, tail, json_extract_string(j, {_list(self.paths)}) AS v FROM {rel})
        ) AS x, LATERAL (SELECT coalesce(msg0, CASE WHEN kind = 'llm' THEN concat_ws(' ', 'LLM call', model) END, j) AS msg)
        """


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"

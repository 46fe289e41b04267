#!/usr/bin/env python3
"""A deterministic, realistic multi-service artifact folder, with ground truth.

    python bench/synth.py OUT_DIR [--scale N] [--seed S]

writes `OUT_DIR/artifacts/` (the folder to point gascorr at) and `OUT_DIR/truth.json`
(what a correct correlator must answer). Scale 1 (the default) is about 600K events in
about 250 MB and ~100 files; `--scale 0.01` is a few hundred events for unit tests.
Only the standard library is used; the same seed and scale always give the same bytes.

What is in the folder (the shapes of the seed documents):

- `har/web-<time>.har`: one HAR per end-to-end test run, several browser sessions each.
  Pages, their HTML document and static assets (no ids: they join their session through
  the page), XHR/fetch calls carrying `X-Session-ID`, `X-Request-ID` and a W3C
  `traceparent`; analytics beacons whose request id is a placeholder and whose
  traceparent is all zeros; some 4xx/5xx answers and status-0 network failures.
  Creators alternate between Chrome, Firefox (local +01:00 times) and Playwright; one
  export is pretty-printed as browsers write them, the others hold one record per line.
- `services/api-gateway.log`: Python `logging` text, ids inside the message
  (`(request_id: req-…, session_id: session-…)`), tracebacks as continuation lines,
  health checks with `session_id: -`, anonymous calls with `session_id: null`, and
  requests from a mobile app whose sessions appear nowhere else.
- `services/payment-service.log`: logfmt with `request_id` and `trace_id`; some lines carry
  only the trace id; background jobs with `request_id=-` and an all-zero trace id.
- `services/inventory-service.jsonl`: `{"ts", "level", "service", "msg", "request_id"}`.
- `services/notifications.ecs.jsonl`: ECS-like records whose only id is `trace.id` (the
  service name comes from `service.name`, not from the file name).
- `agent/cycling-ai.log`: `[<session>] - time - logger - LEVEL - msg` lines of an LLM
  agent, `[in-progress]` outside a session; `agent/llm/session_<id>.jsonl`: its LLM calls,
  whose lines carry no id at all (the file name names the session).

Deliberately ambiguous ids: request ids reused by two browser sessions (a client whose id
generator was seeded the same way twice) and a trace id stamped on two sessions' calls by a
misconfigured proxy. An ambiguous id joins no session; events that carry it and nothing
else belong to no session (but still to the request, for a request id).

`truth.json` (paths relative to `artifacts/`, lines numbered as gascorr numbers them: a
text/JSONL event by its first line; in a HAR, pages 1..P in document order, then entries
P+1..P+E):

    {"sessions": {id: {"events": {path: [line, …]}, "services": [...], "error": bool,
                       "kind": "browser"|"mobile"|"agent"}},
     "requests": {id: {"events": {path: [line, …]}, "session": id|null}},
     "ambiguous_ids": [{"kind", "id", "sessions"}], "files": {path: {...}}, "picks": {...}}

A session's events are those that carry its id, or an unambiguous request, trace or HAR
page id of it. A session has an error when one of its events is at level ERROR or FATAL, or
is an HTTP answer with status >= 500. HAR entries are ERROR when their status is 0 or
>= 400 (a failed call), INFO otherwise; pages are INFO.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

VERSION = 1
T0 = datetime(2026, 1, 31, 10, 0, 0, tzinfo=UTC)
T0_US = int(T0.timestamp()) * 1_000_000
CET = timedelta(hours=1)

GATEWAY = "services/api-gateway.log"
PAYMENT = "services/payment-service.log"
INVENTORY = "services/inventory-service.jsonl"
NOTIFY = "services/notifications.ecs.jsonl"
APPLOG = "agent/cycling-ai.log"
LLM_DIR = "agent/llm"
HAR_DIR = "har"

# The service each file's events are attributed to (field first, else the file name; for
# LLM interaction files `session_<id>.jsonl`, the folder).
SERVICE = {
    GATEWAY: "api-gateway",
    PAYMENT: "payment-service",
    INVENTORY: "inventory-service",
    NOTIFY: "notification-service",
    APPLOG: "cycling-ai",
}
HAR_SERVICE = "web"
LLM_SERVICE = "llm"

# Which reader each file needs; the benchmark times each group alone.
GROUP = {
    GATEWAY: "text/python-logging",
    PAYMENT: "text/logfmt",
    INVENTORY: "jsonl/flat",
    NOTIFY: "jsonl/ecs",
    APPLOG: "text/session-prefix",
}

PY_LEVEL = {"DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR", "FATAL": "CRITICAL"}
ERRORS = ("ERROR", "FATAL")

WORDS = (  # noqa: SIM905
    "route climb cadence power zone interval recovery tempo endurance threshold"
    " sprint watts heart rate training plan week ride distance elevation gradient"
    " segment weather wind forecast rain temperature hydration nutrition carbohydrate"
    " protein rest day fatigue form fitness target goal event race pace average"
    " maximum analysis summary suggestion adjust increase decrease keep moderate easy"
    " hard long short morning evening commute loop valley ridge coast city park trail"
    " the a of to and in for with on at from by about over after before during"
).split()

HOST = "https://shop.example.test"
BEACON = "https://collect.analytics.example.test/v1/events"
UA = {
    "chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
    "firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0",
    "playwright": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/132.0.0.0 Safari/537.36",
}
CREATOR = {
    "chrome": {"name": "WebInspector", "version": "537.36"},
    "firefox": {"name": "Firefox", "version": "134.0"},
    "playwright": {"name": "Playwright", "version": "1.50.1"},
}
PAGES = ["/", "/products", "/products/bikes", "/cart", "/checkout", "/account", "/orders", "/help"]
ASSETS = [
    ("/static/app.3f9c2e.js", "application/javascript", "script", 182_331),
    ("/static/vendor.91ab07.js", "application/javascript", "script", 402_118),
    ("/static/app.77d1c0.css", "text/css", "stylesheet", 38_442),
    ("/static/logo.svg", "image/svg+xml", "image", 4_210),
    ("/static/fonts/inter-var.woff2", "font/woff2", "font", 96_004),
]
# name: (method, path template, weight, duration range ms)
ENDPOINTS = {
    "profile": ("GET", "/api/user/profile", 14, (15, 60)),
    "products": ("GET", "/api/products?page={n}", 20, (30, 140)),
    "cart": ("GET", "/api/cart", 14, (20, 90)),
    "cart_add": ("POST", "/api/cart/items", 12, (40, 160)),
    "recs": ("GET", "/api/recommendations", 9, (25, 110)),
    "payments": ("POST", "/api/payments", 5, (200, 900)),
    "checkout": ("POST", "/api/checkout", 3, (180, 800)),
    "orders": ("GET", "/api/orders/{order}", 10, (20, 80)),
    "beacon": ("POST", "", 13, (5, 40)),
}
EP_NAMES = list(ENDPOINTS)
EP_WEIGHTS = [ENDPOINTS[n][2] for n in EP_NAMES]
FAILURES = ["decline", "500", "504", "status0", "404", "inventory_error", "asset_blocked"]


@dataclass(frozen=True)
class Plan:
    runs: int
    sessions_per_run: int
    xhr_per_session: int
    mobile_sessions: int
    mobile_requests: int
    agent_sessions: int
    agent_steps: int
    amb_requests: int
    amb_traces: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        if scale <= 0:
            raise ValueError("scale must be positive")
        depth = min(1.0, scale * 5)  # small scales also shorten sessions
        return cls(
            runs=max(2, round(40 * scale)),
            sessions_per_run=10 if scale >= 0.2 else 3,
            xhr_per_session=max(12, round(215 * depth)),
            mobile_sessions=max(1, round(40 * scale)),
            mobile_requests=max(5, round(90 * depth)),
            agent_sessions=max(2, round(60 * scale)),
            agent_steps=max(3, round(45 * depth)),
            amb_requests=2 if scale >= 0.2 else 1,
            amb_traces=1,
        )


# ---- time formatting (integer microseconds since the Unix epoch) --------------------------


def _dt(us: int) -> datetime:
    return T0 + timedelta(microseconds=us - T0_US)


def py_time(us: int) -> str:  # 2026-01-31 10:00:00,130
    d = _dt(us)
    return f"{d:%Y-%m-%d %H:%M:%S},{d.microsecond // 1000:03d}"


def iso_ms(us: int) -> str:  # 2026-01-31T10:00:00.130Z
    d = _dt(us)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond // 1000:03d}Z"


def iso_us(us: int) -> str:  # 2026-01-31T10:00:00.130123Z
    d = _dt(us)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond:06d}Z"


def iso_cet(us: int) -> str:  # 2026-01-31T11:00:00.130+01:00 (Firefox writes local time)
    d = _dt(us) + CET
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond // 1000:03d}+01:00"


def http_date(us: int) -> str:
    return f"{_dt(us):%a, %d %b %Y %H:%M:%S} GMT"


S = 1_000_000
MS = 1_000


# ---- events --------------------------------------------------------------------------------


class TextFile:
    """Events of one line-oriented file: (us, seq, text, level, status, session, request, trace, page)."""

    def __init__(self, rel: str, service: str, group: str) -> None:
        self.rel, self.service, self.group = rel, service, group
        self.events: list[tuple] = []

    def add(self, us: int, text: str, level: str, s=None, r=None, t=None) -> None:
        self.events.append((us, len(self.events), text, level, None, s, r, t, None))


class HarFile:
    def __init__(self, rel: str, flavour: str, pretty: bool = False) -> None:
        self.rel, self.flavour, self.pretty = rel, flavour, pretty
        self.pages: list[tuple] = []  # (us, seq, page dict, page id)
        self.entries: list[tuple] = []  # (us, seq, entry as JSON text, level, status, s, r, t, page)

    def when(self, us: int) -> str:
        return iso_cet(us) if self.flavour == "firefox" else iso_ms(us)


class Generator:
    def __init__(self, scale: float = 1.0, seed: int = 7) -> None:
        self.scale, self.seed = scale, seed
        self.plan = Plan.for_scale(scale)
        self.rng = random.Random(seed)
        self.text = {rel: TextFile(rel, svc, GROUP[rel]) for rel, svc in SERVICE.items()}
        self.llm: dict[str, TextFile] = {}
        self.hars: list[HarFile] = []
        # what the generator knows about every id it handed out
        self.req_sessions: dict[str, set[str]] = defaultdict(set)
        self.trace_sessions: dict[str, set[str]] = defaultdict(set)
        self.trace_requests: dict[str, set[str]] = defaultdict(set)
        self.page_session: dict[tuple[str, str], str] = {}
        self.session_kind: dict[str, str] = {}
        self.flows: dict[str, int] = defaultdict(int)
        self.end_us = T0_US

    # ---- ids ------------------------------------------------------------------------------
    def hexid(self, nbytes: int) -> str:
        return f"{self.rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def new_session(self, kind: str) -> str:
        sid = "session-" + self.hexid(8)
        self.session_kind[sid] = kind
        return sid

    def new_request(self) -> str:
        return "req-" + self.hexid(10)

    def words(self, n: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=n))

    # ---- service log writers --------------------------------------------------------------
    def gw(
        self,
        us: int,
        level: str,
        msg: str,
        r: str | None,
        s: str | None = None,
        *,
        sess_text: str | None = None,
        logger: str = "api-gateway",
        tail: str = "",
    ) -> None:
        """An api-gateway line; `sess_text` overrides what is written for the session (placeholders)."""
        ids = f"request_id: {r}" if r else ""
        if s is not None or sess_text is not None:
            ids += f", session_id: {sess_text if sess_text is not None else s}"
        line = f"{py_time(us)} - {logger} - {PY_LEVEL[level]} - {msg}" + (f" ({ids})" if ids else "") + tail
        self.text[GATEWAY].add(us, line, level, s=s, r=r)

    def pay(
        self,
        us: int,
        level: str,
        msg: str,
        r: str | None,
        t: str | None,
        extra: str = "",
        *,
        r_text: str | None = None,
        t_text: str | None = None,
        omit_request: bool = False,
    ) -> None:
        parts = [f"time={iso_us(us)}", f"level={level.lower()}", f'msg="{msg}"']
        if not omit_request:
            parts.append(f"request_id={r_text if r_text is not None else r}")
        parts.append(f"trace_id={t_text if t_text is not None else t}")
        line = " ".join(parts) + (" " + extra if extra else "")
        self.text[PAYMENT].add(us, line, level, r=r, t=t)

    def inv(self, us: int, level: str, msg: str, r: str | None, extra: dict | None = None, *, r_value=None) -> None:
        obj = {
            "ts": iso_ms(us),
            "level": level.lower(),
            "service": "inventory-service",
            "msg": msg,
            "request_id": r if r is not None else r_value,
        }
        if extra:
            obj.update(extra)
        self.text[INVENTORY].add(us, json.dumps(obj), level, r=r)

    def ecs(self, us: int, level: str, msg: str, t: str | None, dataset: str, *, t_value: str | None = None) -> None:
        obj = {
            "@timestamp": iso_ms(us),
            "log.level": level.lower(),
            "message": msg,
            "service": {"name": "notification-service"},
            "trace": {"id": t if t is not None else t_value},
            "event": {"dataset": dataset},
            "ecs.version": "8.11.0",
        }
        self.text[NOTIFY].add(us, json.dumps(obj), level, t=t)

    def traceback(self, exc: str, where: str) -> str:
        n = self.rng.randint(120, 480)
        return (
            "\nTraceback (most recent call last):"
            f'\n  File "/app/gateway/handlers.py", line {n}, in dispatch'
            "\n    response = await self.upstream.send(req)"
            f'\n  File "/app/gateway/upstream.py", line {n // 3 + 40}, in send'
            '\n    raise UpstreamError(f"{self.name} answered {resp.status}")'
            f"\ngateway.upstream.{exc}: {where}"
        )

    # ---- one API call's backend flow ------------------------------------------------------
    def backend(
        self,
        ep: str,
        us: int,
        dur: int,
        method: str,
        path: str,
        s: str | None,
        r: str,
        t: str,
        failure: str | None,
        *,
        browser: bool,
        sess_text: str | None = None,
    ) -> int:
        """Log what the services do for one call; returns the HTTP status."""
        rng = self.rng
        end = us + dur * MS
        self.gw(us + rng.randint(300, 2500), "INFO", f"Received {method} {path}", r, s, sess_text=sess_text)
        if s is not None:
            self.gw(
                us + rng.randint(2600, 4000),
                "DEBUG",
                f"Authenticated user u-{rng.randint(10000, 99999)} (scopes=shop:read,shop:write)",
                r,
                logger="gateway.auth",
            )
        if failure == "status0":
            if rng.random() < 0.5:
                self.gw(
                    end + rng.randint(5, 60) * MS,
                    "WARN",
                    "Client closed connection before the response was sent",
                    r,
                    s,
                    sess_text=sess_text,
                )
            return 0
        status = 201 if method == "POST" and ep in ("cart_add", "payments", "checkout") else 200
        mid = us + (dur * MS) // 2
        if failure == "500":
            self.gw(
                end - rng.randint(800, 3000),
                "ERROR",
                f"Unhandled exception while handling {method} {path}",
                r,
                s,
                sess_text=sess_text,
                logger="gateway.http",
                tail=self.traceback("UpstreamError", "inventory-service answered 500"),
            )
            status = 500
        elif ep in ("payments", "checkout"):
            self.upstream(
                end - 4 * MS,
                "payment-service",
                402 if failure == "decline" else 504 if failure == "504" else 201,
                dur - 6,
                r,
            )
            amount = f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}"
            self.gw(us + rng.randint(2, 6) * MS, "DEBUG", "Forwarding to payment-service", r, logger="gateway.upstream")
            self.pay(
                us + rng.randint(6, 15) * MS,
                "INFO",
                "Authorizing payment with Stripe",
                r,
                t,
                f"amount={amount} currency=EUR",
            )
            self.pay(
                mid,
                "DEBUG",
                "card network round trip",
                None,
                t,
                f"span_id={self.hexid(8)} duration_ms={dur // 2}",
                omit_request=True,
            )
            if failure == "decline":
                self.pay(
                    end - rng.randint(4, 9) * MS,
                    "ERROR",
                    "Insufficient funds",
                    r,
                    t,
                    'error="card_declined: \\"insufficient_funds\\"" decline_code=insufficient_funds',
                )
                self.gw(
                    end - rng.randint(1, 3) * MS, "WARN", "Returning 402 Payment Required", r, s, sess_text=sess_text
                )
                status = 402
            elif failure == "504":
                self.pay(
                    end - rng.randint(4, 9) * MS, "ERROR", "Stripe API timeout after 10000ms", r, t, "retryable=true"
                )
                self.gw(
                    end - rng.randint(1, 3) * MS,
                    "ERROR",
                    "Upstream payment-service timed out",
                    r,
                    s,
                    sess_text=sess_text,
                    logger="gateway.upstream",
                    tail=self.traceback("UpstreamTimeout", "payment-service did not answer in 10.0s"),
                )
                status = 504
            else:
                self.pay(
                    end - rng.randint(8, 20) * MS, "INFO", "Payment authorized", r, t, f"charge_id=ch_{self.hexid(6)}"
                )
                self.inv(
                    end - rng.randint(5, 8) * MS,
                    "INFO",
                    "Reserving items",
                    r,
                    {"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 3)},
                )
                self.inv(end - rng.randint(3, 4) * MS, "DEBUG", "Query stock_levels took 2ms", r, {"rows": 1})
                # the payment lines above carry request and trace id together: this joins them
                self.ecs(end + rng.randint(20, 400) * MS, "INFO", "Sending confirmation email", t, "notification.email")
        elif ep in ("products", "cart", "cart_add", "recs", "orders"):
            self.upstream(end - 3 * MS, "inventory-service", 404 if failure == "404" else 200, dur - 5, r)
            status = self.inventory(ep, mid, end, path, r, t, failure, browser) or status
        if rng.random() < 0.02:
            self.gw(end - 2 * MS, "WARN", f"Slow request: {dur}ms over the 250ms budget", r, s, sess_text=sess_text)
        self.gw(
            end - rng.randint(100, 900),
            "INFO" if status < 400 else "WARN" if status < 500 else "ERROR",
            f"Completed {status} in {dur}ms",
            r,
            s,
            sess_text=sess_text,
        )
        return status

    def inventory(
        self, ep: str, mid: int, end: int, path: str, r: str, t: str, failure: str | None, browser: bool
    ) -> int | None:
        """inventory-service (and notification-service) lines of a shop call; a status when it decides one."""
        rng = self.rng
        if ep == "recs":
            self.inv(mid, "INFO", "Computed recommendations", r, {"model": "co-bought-v3", "count": 12})
        elif ep == "products":
            lvl, msg = ("INFO", "Listed products")
            self.inv(mid - 3 * MS, "DEBUG", f"Query products took {rng.randint(1, 30)}ms", r, {"rows": 24})
            if failure == "inventory_error":
                self.inv(
                    mid - 2 * MS,
                    "ERROR",
                    "Stock service timeout; serving cached stock levels",
                    r,
                    {"upstream": "stock-db", "timeout_ms": 2000},
                )
            self.inv(mid, lvl, msg, r, {"page": rng.randint(1, 9), "count": 24})
        elif ep == "cart":
            self.inv(mid - MS, "DEBUG", "cart cache hit", r)
            if failure == "inventory_error":
                self.inv(
                    mid,
                    "ERROR",
                    "Stock service timeout; serving cached stock levels",
                    r,
                    {"upstream": "stock-db", "timeout_ms": 2000},
                )
            self.inv(mid + MS, "INFO", "Loaded cart", r, {"items": rng.randint(0, 6)})
        elif ep == "cart_add":
            self.inv(mid, "INFO", "Reserving items", r, {"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": 1})
            self.inv(mid + MS, "DEBUG", "Query stock_levels took 3ms", r, {"rows": 1})
            if browser:  # a mobile call's trace id appears nowhere else: it could not be linked
                self.ecs(end + rng.randint(10, 200) * MS, "INFO", "Queued push notification", t, "notification.push")
        elif ep == "orders":
            self.inv(
                mid - 2 * MS,
                "DEBUG",
                f"Query orders took {rng.randint(1, 9)}ms",
                r,
                {"rows": 0 if failure == "404" else 1},
            )
            if failure == "404":
                self.inv(mid, "WARN", "Order not found", r, {"order": path.rsplit("/", 1)[1]})
                return 404
            else:
                self.inv(mid, "INFO", "Fetched order", r, {"order": path.rsplit("/", 1)[1]})
        return None

    def upstream(self, us: int, service: str, status: int, dur: int, r: str) -> None:
        level = "DEBUG" if status < 500 else "WARN"
        self.gw(us, level, f"Upstream {service} answered {status} in {max(1, dur)}ms", r, logger="gateway.upstream")

    # ---- browser sessions -----------------------------------------------------------------
    def har_entry(
        self,
        har: HarFile,
        us: int,
        method: str,
        url: str,
        status: int,
        dur: int,
        page: str,
        *,
        req_headers: list[tuple[str, str]],
        mime: str,
        body: str,
        resource: str,
        size: int,
        error: str | None = None,
    ) -> dict:
        rng = self.rng
        hdrs = [{"name": n, "value": v} for n, v in req_headers]
        wait = max(1.0, dur * rng.uniform(0.55, 0.85))
        recv = max(0.1, dur - wait - 2.0)
        entry: dict = {
            "pageref": page,
            "startedDateTime": har.when(us),
            "time": round(float(dur), 3),
            "request": {
                "method": method,
                "url": url,
                "httpVersion": "HTTP/2.0",
                "cookies": [],
                "headers": hdrs,
                "queryString": [],
                "headersSize": -1,
                "bodySize": 0 if method == "GET" else len(body) // 2,
            },
            "response": {},
            "cache": {},
            "timings": {
                "blocked": round(rng.uniform(0.2, 3.0), 3),
                "dns": -1,
                "ssl": -1,
                "connect": -1,
                "send": 0.12,
                "wait": round(wait, 3),
                "receive": round(recv, 3),
            },
            "serverIPAddress": "203.0.113.10",
            "_resourceType": resource,
        }
        if method == "POST":
            entry["request"]["postData"] = {
                "mimeType": "application/json",
                "text": '{"items":[{"sku":"SKU-' + str(rng.randint(1000, 9999)) + '","qty":1}]}',
            }
        if status == 0:
            entry["response"] = {
                "status": 0,
                "statusText": "",
                "httpVersion": "",
                "cookies": [],
                "headers": [],
                "content": {"size": 0, "mimeType": "x-unknown"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
                "_error": error or "net::ERR_FAILED",
            }
        else:
            rh = [
                ("content-type", mime),
                ("date", http_date(us)),
                ("server", "envoy"),
                ("cache-control", "no-store" if resource in ("fetch", "xhr") else "public, max-age=31536000"),
            ]
            for n, v in req_headers:
                if n == "X-Request-ID":
                    rh.append(("x-request-id", v))
            entry["response"] = {
                "status": status,
                "statusText": _REASON.get(status, ""),
                "httpVersion": "HTTP/2.0",
                "cookies": [],
                "headers": [{"name": n, "value": v} for n, v in rh],
                "content": {"size": size, "mimeType": mime, **({"text": body} if body else {})},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": size,
            }
        return entry

    def browser_session(
        self,
        har: HarFile,
        start: int,
        sid: str,
        failures: list[tuple[int, str]],
        forced: dict[int, tuple[str, str | None, str | None]],
        page_counter: list[int],
    ) -> int:
        """One browser session into `har` and the service logs; returns its end time."""
        rng = self.rng
        p = self.plan
        n_xhr = max(4, int(rng.gauss(p.xhr_per_session, p.xhr_per_session * 0.15)), max(forced, default=0) + 2)
        n_pages = max(1, min(len(PAGES), round(n_xhr / 45) + rng.randint(1, 3)))
        per_page = [n_xhr // n_pages + (1 if i < n_xhr % n_pages else 0) for i in range(n_pages)]
        ua = UA[har.flavour]
        fail_at = dict(failures)
        t = start
        k = 0  # index of the XHR within the session
        for pi in range(n_pages):
            page_counter[0] += 1
            pid = f"page_{page_counter[0]}"
            self.page_session[(har.rel, pid)] = sid
            path = PAGES[(pi + rng.randint(0, 2)) % len(PAGES)]
            onload = rng.uniform(350, 1800)
            har.pages.append(
                (
                    t,
                    len(har.pages),
                    {
                        "startedDateTime": har.when(t),
                        "id": pid,
                        "title": HOST + path,
                        "pageTimings": {"onContentLoad": round(onload * 0.7, 3), "onLoad": round(onload, 3)},
                    },
                    pid,
                )
            )
            base = [("User-Agent", ua), ("Accept-Language", "en-GB,en;q=0.9"), ("Accept-Encoding", "gzip, br")]
            doc = self.har_entry(
                har,
                t,
                "GET",
                HOST + path,
                200,
                rng.randint(60, 300),
                pid,
                req_headers=[("Accept", "text/html,application/xhtml+xml"), *base],
                mime="text/html",
                body="",
                resource="document",
                size=rng.randint(9000, 40000),
            )
            self._add_entry(har, t, doc, None, None, None, pid)
            blocked = fail_at.get(-1 - pi) == "asset_blocked"
            for ai, (apath, mime, kind, size) in enumerate(ASSETS[: rng.randint(2, len(ASSETS))]):
                at = t + rng.randint(20, 400) * MS
                st = 0 if blocked and ai == 0 else rng.choice((200, 200, 304))
                e = self.har_entry(
                    har,
                    at,
                    "GET",
                    HOST + apath,
                    st,
                    rng.randint(5, 120),
                    pid,
                    req_headers=[("Accept", "*/*"), ("Referer", HOST + path), *base],
                    mime=mime,
                    body="",
                    resource=kind,
                    size=size if st == 200 else 0,
                    error="net::ERR_BLOCKED_BY_CLIENT" if st == 0 else None,
                )
                self._add_entry(har, at, e, None, None, None, pid)
            t += rng.randint(300, 900) * MS
            for _ in range(per_page[pi]):
                t += rng.randint(300, 4000) * MS
                ep, fr, ft = forced.get(k, (None, None, None))
                self.xhr(har, t, sid, pid, path, base, ep, fr, ft, fail_at.get(k))
                k += 1
            t += rng.randint(1000, 5000) * MS
        return t

    def _add_entry(self, har: HarFile, us: int, entry: dict, s, r, t, page) -> None:
        status = entry["response"]["status"]
        level = "ERROR" if status == 0 or status >= 400 else "INFO"
        har.entries.append((us, len(har.entries), json.dumps(entry), level, status, s, r, t, page))

    def xhr(
        self,
        har: HarFile,
        us: int,
        sid: str,
        pid: str,
        page_path: str,
        base: list,
        ep: str | None,
        forced_r: str | None,
        forced_t: str | None,
        failure: str | None,
    ) -> None:
        rng = self.rng
        if ep is None:
            ep = rng.choices(EP_NAMES, EP_WEIGHTS)[0]
            if failure in ("decline", "504") and ep not in ("payments", "checkout"):
                ep = "payments"
            elif failure == "404":
                ep = "orders"
            elif failure == "inventory_error" and ep not in ("products", "cart"):
                ep = "products"
            elif failure in ("500", "status0") and ep == "beacon":
                ep = "profile"
        method, tmpl, _, (lo, hi) = ENDPOINTS[ep]
        dur = rng.randint(lo, hi)
        self.flows[ep] += 1
        if ep == "beacon":
            hdrs = [
                ("Accept", "*/*"),
                ("Content-Type", "text/plain"),
                ("Origin", HOST),
                ("X-Session-ID", sid),
                ("X-Request-ID", rng.choice(("-", "null"))),
                ("traceparent", "00-00000000000000000000000000000000-0000000000000000-00"),
                *base,
            ]
            e = self.har_entry(
                har,
                us,
                "POST",
                BEACON,
                204,
                dur,
                pid,
                req_headers=hdrs,
                mime="text/plain",
                body="",
                resource="ping",
                size=0,
            )
            self._add_entry(har, us, e, sid, None, None, pid)
            return
        r = forced_r or self.new_request()
        t = forced_t or self.hexid(16)
        path = tmpl.format(n=rng.randint(1, 9), order=f"ord-{rng.randint(10000, 99999)}")
        self.req_sessions[r].add(sid)
        self.trace_sessions[t].add(sid)
        self.trace_requests[t].add(r)
        status = self.backend(ep, us, dur, method, path, sid, r, t, failure, browser=True)
        hdrs = [
            ("Accept", "application/json"),
            ("Referer", HOST + page_path),
            ("X-Session-ID", sid),
            ("X-Request-ID", r),
            ("traceparent", f"00-{t}-{self.hexid(8)}-01"),
            *base,
        ]
        if method == "POST":
            hdrs.insert(1, ("Content-Type", "application/json"))
        body = ""
        if status == 200 or status == 201:
            body = json.dumps(
                {
                    "ok": True,
                    "items": [
                        {"sku": f"SKU-{rng.randint(1000, 9999)}", "price": rng.randint(5, 300)}
                        for _ in range(rng.randint(1, 4))
                    ],
                }
            )
        elif status:
            body = json.dumps({"error": _REASON.get(status, "error"), "request_id": r})
        e = self.har_entry(
            har,
            us,
            method,
            HOST + path,
            status,
            dur,
            pid,
            req_headers=hdrs,
            mime="application/json",
            body=body,
            resource=rng.choice(("fetch", "xhr")),
            size=len(body),
            error="net::ERR_CONNECTION_RESET" if status == 0 else None,
        )
        self._add_entry(har, us, e, sid, r, t, pid)

    # ---- sessions from a mobile app (gateway and services only) ---------------------------
    def mobile_session(self, start: int, sid: str, failure: tuple[int, str] | None) -> None:
        rng = self.rng
        t = start
        for k in range(max(3, int(rng.gauss(self.plan.mobile_requests, self.plan.mobile_requests * 0.2)))):
            t += rng.randint(500, 6000) * MS
            ep = rng.choices(EP_NAMES[:-1], EP_WEIGHTS[:-1])[0]
            f = failure[1] if failure and failure[0] == k else None
            if f in ("decline", "504"):
                ep = "payments"
            elif f == "404":
                ep = "orders"
            elif f == "inventory_error":
                ep = "cart"
            method, tmpl, _, (lo, hi) = ENDPOINTS[ep]
            r = self.new_request()
            tr = self.hexid(16)
            self.req_sessions[r].add(sid)
            if ep in ("payments", "checkout"):
                # the trace id rides with the request id on payment-service lines: linkable
                self.trace_sessions[tr].add(sid)
                self.trace_requests[tr].add(r)
            path = tmpl.format(n=rng.randint(1, 9), order=f"ord-{rng.randint(10000, 99999)}")
            self.backend(ep, t, rng.randint(lo, hi), method, path, sid, r, tr, f, browser=False)
        self.end_us = max(self.end_us, t)

    # ---- the LLM agent: app log + interaction files ---------------------------------------
    def agent_session(self, start: int, erroneous: bool) -> int:
        rng = self.rng
        app = self.text[APPLOG]
        sid = f"{_dt(start):%Y%m%d_%H%M%S}"
        self.session_kind[sid] = "agent"
        rel = f"{LLM_DIR}/session_{sid}.jsonl"
        llm = self.llm[rel] = TextFile(rel, LLM_SERVICE, "jsonl/llm")

        def log(us: int, level: str, logger: str, msg: str, session: str | None, tail: str = "") -> None:
            app.add(
                us,
                f"[{session or 'in-progress'}] - {py_time(us)} - {logger} - {PY_LEVEL[level]} - {msg}{tail}",
                level,
                s=session,
            )

        t = start - rng.randint(800, 3000) * MS
        log(t, "INFO", "cycling_ai.cli", "Starting application", None)
        log(
            t + 40 * MS,
            "INFO",
            "cycling_ai.config",
            f"Loaded configuration from /home/rider/.cycling-ai/config.toml"
            f" (profile={rng.choice(('default', 'coach', 'race'))})",
            None,
        )
        log(t + 90 * MS, "DEBUG", "cycling_ai.providers", "Provider openai ready (model=gpt-4o-mini)", None)
        t = start
        log(
            t,
            "INFO",
            "cycling_ai.providers.interaction_logger",
            f"LLM interaction logging enabled. Log file: logs/llm/session_{sid}.jsonl",
            sid,
        )
        steps = max(2, int(rng.gauss(self.plan.agent_steps, self.plan.agent_steps * 0.2)))
        fail_step = rng.randrange(steps) if erroneous else -1
        system = "You are a cycling coach. " + self.words(rng.randint(60, 140))
        history: list[dict] = []
        for step in range(steps):
            t += rng.randint(2, 20) * S
            log(t, "INFO", "cycling_ai.agent", f"Processing user message ({rng.randint(20, 400)} chars)", sid)
            log(t + 5 * MS, "DEBUG", "cycling_ai.agent", f"Calling LLM API (model=gpt-4o-mini, step={step})", sid)
            dur = rng.randint(400, 9000)
            pt, ct = rng.randint(300, 6000), rng.randint(40, 900)
            rec = {
                "timestamp": _dt(t + 6 * MS).isoformat(),
                "step": step,
                "model": "gpt-4o-mini",
                "provider": "openai",
                "messages": [
                    {"role": "system", "content": system},
                    *history[-8:],
                    {"role": "user", "content": self.words(rng.randint(15, 60))},
                ],
                "response": {"role": "assistant", "content": self.words(rng.randint(60, 220))},
                "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
                "duration_ms": dur,
            }
            if rng.random() < 0.4:
                rec["response"]["tool_calls"] = [
                    {
                        "type": "function",
                        "function": {
                            "name": rng.choice(("get_weather", "plan_route", "fetch_activities")),
                            "arguments": json.dumps({"days": rng.randint(1, 14)}),
                        },
                    }
                ]
            llm.add(t + 6 * MS, json.dumps(rec), "INFO", s=sid)
            history += [rec["messages"][-1], {"role": "assistant", "content": rec["response"]["content"]}]
            t += dur * MS
            if step == fail_step:
                kind = rng.random()
                if kind < 0.8:
                    log(
                        t + 2 * MS,
                        "ERROR",
                        "cycling_ai.tools",
                        "Tool execution failed: plan_route",
                        sid,
                        tail=(
                            "\nTraceback (most recent call last):"
                            '\n  File "/app/cycling_ai/tools/routes.py", line 77, in plan_route'
                            "\n    segments = client.segments(bounds)"
                            "\nTimeoutError: route service did not answer in 5.0s"
                        ),
                    )
                else:
                    log(t + 2 * MS, "FATAL", "cycling_ai.agent", "Agent loop aborted: token budget exhausted", sid)
            elif rng.random() < 0.05:
                log(t + 2 * MS, "WARN", "cycling_ai.providers", "Rate limited by provider, retrying in 2s", sid)
            log(
                t + 3 * MS,
                "INFO",
                "cycling_ai.agent",
                f"LLM response received (prompt_tokens={pt}, completion_tokens={ct})",
                sid,
            )
        t += rng.randint(1, 4) * S
        log(t, "INFO", "cycling_ai.agent", f"Session complete after {steps} steps", sid)
        log(t + 30 * MS, "INFO", "cycling_ai.cli", "Shutting down", None)
        return t

    # ---- background work that belongs to no session ---------------------------------------
    def noise(self, start: int, end: int) -> None:
        rng = self.rng
        t = start
        while t < end:  # load balancer health checks: a request id, no session
            self.gw(t, "INFO", "Health check OK", self.new_request(), None, sess_text="-")
            t += rng.randint(8_000, 12_000) * MS
        t = start + 3 * S
        while t < end:  # crawlers: anonymous calls
            r = self.new_request()
            self.backend(
                "products",
                t,
                rng.randint(30, 140),
                "GET",
                f"/api/products?page={rng.randint(1, 9)}",
                None,
                r,
                self.hexid(16),
                None,
                browser=False,
                sess_text="null",
            )
            t += rng.randint(40_000, 80_000) * MS
        t = start + 1 * S
        while t < end:
            self.gw(
                t,
                "INFO",
                f"Connection pool: {rng.randint(2, 40)} active, {rng.randint(0, 8)} idle",
                None,
                logger="gateway.pool",
            )
            t += rng.randint(25_000, 35_000) * MS
        t = start + 2 * S
        while t < end:  # payment-service jobs: placeholder ids
            self.pay(
                t,
                "INFO",
                "reconciliation batch processed",
                None,
                None,
                f"batch={rng.randint(1, 99999)}",
                r_text="-",
                t_text="0" * 32,
            )
            if rng.random() < 0.03:
                self.pay(
                    t + 50 * MS,
                    "ERROR",
                    "settlement export failed",
                    None,
                    None,
                    "retry_in=60s",
                    r_text="-",
                    t_text=self.hexid(16),
                )
            t += rng.randint(20_000, 40_000) * MS
        t = start + 4 * S
        while t < end:
            self.inv(
                t,
                "DEBUG",
                "stock cache refresh",
                None,
                {"entries": rng.randint(900, 1200)},
                r_value=rng.choice((None, "null", "-")),
            )
            t += rng.randint(10_000, 20_000) * MS
        t = start + 5 * S
        while t < end:
            self.ecs(t, "INFO", f"queue depth {rng.randint(0, 30)}", None, "notification.queue", t_value="0" * 32)
            t += rng.randint(15_000, 25_000) * MS

    # ---- the whole folder -------------------------------------------------------------------
    def build(self) -> None:
        rng, p = self.rng, self.plan
        flavours = ("chrome", "firefox", "playwright")
        runs: list[tuple[HarFile, int, list[str]]] = []
        for i in range(p.runs):
            start = T0_US + i * 12 * 60 * S + rng.randint(0, 60) * S
            rel = f"{HAR_DIR}/web-{_dt(start):%Y%m%dT%H%M%S}.har"
            har = HarFile(rel, flavours[i % 3], pretty=i == 1)  # one export pretty-printed, as browsers do
            self.hars.append(har)
            runs.append((har, start, [self.new_session("browser") for _ in range(p.sessions_per_run)]))
        browser = [(ri, sid) for ri, (_, _, sids) in enumerate(runs) for sid in sids]
        # ambiguous ids: pairs of sessions in different runs
        pool = browser[:]
        rng.shuffle(pool)
        pool.sort(key=lambda x: x[0] % 2)  # alternate runs so pairs differ in file
        forced: dict[str, dict[int, tuple[str, str | None, str | None]]] = defaultdict(dict)
        evens = [x for x in pool if x[0] % 2 == 0]
        odds = [x for x in pool if x[0] % 2 == 1]
        for j in range(p.amb_requests):
            (_, a), (_, b) = evens[j], odds[j]
            rid = self.new_request()
            forced[a][3 + j] = ("payments", rid, None)
            forced[b][5 + j] = ("checkout", rid, None)
        for j in range(p.amb_traces):
            (_, c), (_, d) = evens[p.amb_requests + j], odds[p.amb_requests + j]
            tid = self.hexid(16)
            forced[c][7 + j] = ("cart_add", None, tid)
            forced[d][2 + j] = ("cart_add", None, tid)
        end = T0_US
        for har, start, sids in runs:
            counter = [0]
            for sid in sids:
                s0 = start + rng.randint(0, 120) * S
                fails: list[tuple[int, str]] = []
                if rng.random() < 0.4:
                    for _ in range(rng.randint(1, 3)):
                        kind = rng.choice(FAILURES)
                        fails.append((-1 if kind == "asset_blocked" else rng.randint(10, p.xhr_per_session - 2), kind))
                # keep forced (ambiguous) calls clean
                fails = [(k, f) for k, f in fails if k not in forced[sid]]
                end = max(end, self.browser_session(har, s0, sid, fails, forced[sid], counter))
        span_end = max(end, T0_US + p.runs * 12 * 60 * S)
        for _ in range(p.mobile_sessions):
            sid = self.new_session("mobile")
            f = (
                (rng.randint(0, 4), rng.choice(["decline", "500", "504", "404", "inventory_error"]))
                if rng.random() < 0.4
                else None
            )
            self.mobile_session(T0_US + rng.randint(0, max(1, (span_end - T0_US) // S - 900)) * S, sid, f)
        gap = max(120 * S, (span_end - T0_US) // max(1, p.agent_sessions))
        t = T0_US + 30 * S
        for _ in range(p.agent_sessions):
            t = max(t + rng.randint(60, 180) * S, self.agent_session(t, rng.random() < 0.4) + rng.randint(60, 180) * S)
            t = max(t, T0_US + gap * len(self.llm))
        self.end_us = max(self.end_us, span_end, t)
        self.noise(T0_US - 60 * S, self.end_us)

    # ---- writing files and the truth -----------------------------------------------------------
    def write(self, out: str) -> dict:
        root = os.path.join(out, "artifacts")
        sess_ev: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        req_ev: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        sess_svc: dict[str, set[str]] = defaultdict(set)
        sess_err: set[str] = set()
        amb_req = {r for r, ss in self.req_sessions.items() if len(ss) > 1}
        amb_trace = {t for t, ss in self.trace_sessions.items() if len(ss) > 1}
        req_session = {r: next(iter(ss)) for r, ss in self.req_sessions.items() if len(ss) == 1}
        trace_session = {t: next(iter(ss)) for t, ss in self.trace_sessions.items() if len(ss) == 1}
        trace_request = {t: next(iter(rs)) for t, rs in self.trace_requests.items() if len(rs) == 1}
        files: dict[str, dict] = {}

        def resolve(rel: str, line: int, level: str, status, s, r, t, page, service: str) -> None:
            sess = (
                s
                or (req_session.get(r) if r else None)
                or (trace_session.get(t) if t else None)
                or (self.page_session.get((rel, page)) if page else None)
            )
            req = r or (trace_request.get(t) if t else None)
            if sess:
                sess_ev[sess][rel].append(line)
                sess_svc[sess].add(service)
                if level in ERRORS or (status is not None and status >= 500):
                    sess_err.add(sess)
            if req:
                req_ev[req][rel].append(line)

        for f in [*self.text.values(), *self.llm.values()]:
            path = os.path.join(root, f.rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            f.events.sort(key=lambda e: (e[0], e[1]))
            line = 1
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                buf = []
                for _us, _, text, level, status, s, r, t, page in f.events:
                    resolve(f.rel, line, level, status, s, r, t, page, f.service)
                    line += text.count("\n") + 1
                    buf.append(text)
                    if len(buf) >= 4096:
                        fh.write("\n".join(buf) + "\n")
                        buf.clear()
                if buf:
                    fh.write("\n".join(buf) + "\n")
            files[f.rel] = {
                "group": f.group,
                "service": f.service,
                "events": len(f.events),
                "lines": line - 1,
                "bytes": os.path.getsize(path),
            }
        for har in self.hars:
            path = os.path.join(root, har.rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            har.pages.sort(key=lambda e: (e[0], e[1]))
            har.entries.sort(key=lambda e: (e[0], e[1]))
            n = 0
            for _, _, _, pid in har.pages:
                n += 1
                resolve(har.rel, n, "INFO", None, None, None, None, pid, HAR_SERVICE)
            for _, _, _, level, status, s, r, t, page in har.entries:
                n += 1
                resolve(har.rel, n, level, status, s, r, t, page, HAR_SERVICE)
            head = {
                "version": "1.2",
                "creator": CREATOR[har.flavour],
                "browser": {"name": har.flavour, "version": "134.0"},
            }
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                if har.pretty:
                    doc = {
                        "log": {
                            **head,
                            "pages": [p for _, _, p, _ in har.pages],
                            "entries": [json.loads(e[2]) for e in har.entries],
                        }
                    }
                    json.dump(doc, fh, indent=2)
                    fh.write("\n")
                else:  # one record per line
                    fh.write('{"log": ' + json.dumps(head)[:-1] + ', "pages": [\n')
                    fh.write(",\n".join(json.dumps(p) for _, _, p, _ in har.pages))
                    fh.write('\n], "entries": [\n')
                    fh.write(",\n".join(e[2] for e in har.entries))
                    fh.write("\n]}}\n")
            files[har.rel] = {
                "group": "har",
                "service": HAR_SERVICE,
                "events": n,
                "lines": None,
                "bytes": os.path.getsize(path),
            }

        sessions = {
            sid: {
                "events": {k: v for k, v in sorted(ev.items())},
                "services": sorted(sess_svc[sid]),
                "error": sid in sess_err,
                "kind": self.session_kind.get(sid, "?"),
            }
            for sid, ev in sorted(sess_ev.items())
        }
        requests = {
            rid: {
                "events": {k: v for k, v in sorted(ev.items())},
                "session": None if rid in amb_req else req_session.get(rid),
            }
            for rid, ev in sorted(req_ev.items())
        }
        ambiguous = sorted(
            [{"kind": "request", "id": r, "sessions": sorted(self.req_sessions[r])} for r in amb_req]
            + [{"kind": "trace", "id": t, "sessions": sorted(self.trace_sessions[t])} for t in amb_trace],
            key=lambda d: (d["kind"], d["id"]),
        )

        def size(d: dict) -> int:
            return sum(len(v) for v in d["events"].values())

        browser = sorted((size(v), k) for k, v in sessions.items() if v["kind"] == "browser")
        multi = [(size(v), k) for k, v in requests.items() if len(v["events"]) >= 4 and v["session"]]
        picks = {
            "session": browser[len(browser) // 2][1] if browser else None,
            "largest_session": browser[-1][1] if browser else None,
            "request": max(multi)[1] if multi else None,
            "grep": "Insufficient funds",
            "append_to": PAYMENT,
        }
        truth = {
            "version": VERSION,
            "scale": self.scale,
            "seed": self.seed,
            "root": "artifacts",
            "events": sum(f["events"] for f in files.values()),
            "bytes": sum(f["bytes"] for f in files.values()),
            "files": dict(sorted(files.items())),
            "flows": dict(sorted(self.flows.items())),
            "sessions": sessions,
            "requests": requests,
            "ambiguous_ids": ambiguous,
            "placeholders": ["-", "null", "in-progress", "0" * 32, "00-" + "0" * 32 + "-" + "0" * 16 + "-00"],
            "picks": picks,
        }
        tmp = os.path.join(out, "truth.json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(truth, fh, separators=(",", ":"))
        os.replace(tmp, os.path.join(out, "truth.json"))
        return truth


_REASON = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    402: "Payment Required",
    404: "Not Found",
    500: "Internal Server Error",
    504: "Gateway Timeout",
}


def generate(out: str, scale: float = 1.0, seed: int = 7) -> dict:
    """Write `out/artifacts/` and `out/truth.json`; returns the truth."""
    g = Generator(scale, seed)
    g.build()
    return g.write(out)


def load_truth(out: str) -> dict:
    with open(os.path.join(out, "truth.json"), encoding="utf-8") as fh:
        return json.load(fh)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (artifacts/ and truth.json are written in it)")
    ap.add_argument("--scale", type=float, default=1.0, help="1 = ~600K events, ~250 MB (default)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    truth = generate(a.out, a.scale, a.seed)
    print(
        f"{a.out}: {len(truth['files'])} files, {truth['events']:,} events, {truth['bytes'] / 1e6:.1f} MB, "
        f"{len(truth['sessions'])} sessions, {len(truth['requests'])} requests, "
        f"{len(truth['ambiguous_ids'])} ambiguous ids ({time.perf_counter() - t:.1f}s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

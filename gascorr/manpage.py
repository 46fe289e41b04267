"""Man pages generated from the CLI definition itself, so they cannot drift from `--help`.

`pages()` walks typer's click command tree (`typer.main.get_command(app)`) and returns
`{file name: roff text}`: `gascorr.1`, the overview, and one `gascorr-<command>.1` per
command with every argument and option, its help text, default, choices and range. Lists
that live in code are read from the module that owns them, never copied: the event-table
columns from `schema.COLUMNS`, the id names from `ids.Names`, the placeholders from
`ids.PLACEHOLDERS`, the text dialects from `parsers.text.BY_NAME`, the config keys from
`config`, and the keys of every JSON document from the code that builds it (an empty store
answers the row-shaped queries). Only prose lives here; an option or command that prose
or an example names is checked against the CLI when the pages are built, so renaming an
option breaks the build instead of leaving a stale page.

Roff: all text passes through `esc()`, which writes backslashes as `\\e`, every hyphen as
`\\-` (ids and options copy-paste as typed), quotes as `\\(aq`/`\\(dq` and anything beyond
ASCII as `\\[uXXXX]`; a line that would start with `.` or `'` gets a `\\&` guard. Output is
pure ASCII, needs no preprocessor, and is byte-for-byte reproducible (no dates).

Regenerate with `python -m gascorr.manpage man/`; `--check` exits 1 when `man/` is stale.
This module is never imported by the CLI's normal path, so heavy imports are fine here.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROG = "gascorr"
MANUAL = "gascorr manual"

# ---- roff ----------------------------------------------------------------------------


def esc(s: str) -> str:
    """`s` as roff text: safe anywhere inside a line, pure ASCII."""
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ch == "'":
            out.append("\\(aq")
        elif ch == '"':
            out.append("\\(dq")
        elif ch == "`":
            out.append("\\(ga")
        elif ch == "\t":
            out.append(" ")
        elif o < 32 or o == 127:
            out.append(f"\\ex{o:02x}")  # a control character, shown as it would be escaped
        elif o > 127:
            out.append(f"\\[u{o:04X}]")
        else:
            out.append(ch)
    return "".join(out)


def bold(s: str) -> str:
    return f"\\fB{esc(s)}\\fR"


def ital(s: str) -> str:
    return f"\\fI{esc(s)}\\fR"


def md(s: str) -> str:
    """Prose with `code` spans: code in bold; everything escaped."""
    parts = s.split("`")
    return "".join(bold(p) if i % 2 else esc(p) for i, p in enumerate(parts))


def _guard(line: str) -> str:
    return "\\&" + line if line.startswith((".", "'")) else line


class Roff:
    """A roff document built line by line; text lines are escaped and guarded."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def macro(self, name: str, *args: str) -> None:
        quoted = [f'"{esc(a)}"' if (" " in a or not a) else esc(a) for a in args]
        self.lines.append(" ".join([f".{name}", *quoted]))

    def raw(self, text: str) -> None:
        """Lines of text that are already roff (escaped, with font changes)."""
        for line in text.splitlines():
            line = line.strip()
            if line:
                self.lines.append(_guard(line))

    def para(self, text: str, *, macro: str = "PP") -> None:
        """A filled paragraph of prose (`code` spans allowed)."""
        self.macro(macro)
        self.raw(md(" ".join(text.split())))

    def pre(self, text: str) -> None:
        """Lines shown as written (no filling), indented."""
        self.macro("RS", "4")
        self.macro("nf")
        for line in text.splitlines():
            self.lines.append(_guard(esc(line.rstrip())) if line.strip() else "")
        self.macro("fi")
        self.macro("RE")

    def item(self, tag: str, *body: str) -> None:
        """A tagged paragraph: `tag` is roff, `body` lines are roff."""
        self.macro("TP")
        self.raw(tag)
        for b in body:
            self.raw(b)

    def render(self) -> str:
        # an empty line in a page body is a blank output line; `.sp` says so explicitly
        return "\n".join(line if line else ".sp" for line in self.lines) + "\n"


# ---- the CLI definition ------------------------------------------------------------------


@dataclass
class Param:
    """One argument or option, read from the click tree in a typer-version-tolerant way."""

    kind: str  # "argument" or "option"
    name: str
    opts: list[str]
    secondary: list[str]
    help: str
    metavar: str
    choices: list[str]
    default: str | None
    default_literal: bool  # a value (shown in bold) rather than a phrase from the help text
    flag: bool
    multiple: bool
    variadic: bool
    required: bool
    envvar: list[str]
    minimum: Any
    maximum: Any

    @property
    def longs(self) -> list[str]:
        return [o for o in [*self.opts, *self.secondary] if o.startswith("--")]

    @property
    def key(self) -> str:
        return " ".join(self.opts + self.secondary)


@dataclass
class Command:
    name: str
    help: str
    params: list[Param]

    @property
    def arguments(self) -> list[Param]:
        return [p for p in self.params if p.kind == "argument"]

    @property
    def options(self) -> list[Param]:
        return [p for p in self.params if p.kind == "option"]

    def option_names(self) -> set[str]:
        return {o for p in self.options for o in [*p.opts, *p.secondary]}

    @property
    def paragraphs(self) -> list[str]:
        return [" ".join(p.split()) for p in re.split(r"\n\s*\n", self.help.strip()) if p.strip()]

    @property
    def summary(self) -> str:
        first = self.paragraphs[0] if self.paragraphs else ""
        return first.split(". ")[0].rstrip(".")

    @property
    def examples(self) -> list[str]:
        return [p[len("Example:") :].strip() for p in self.paragraphs if p.startswith("Example:")]

    @property
    def description(self) -> list[str]:
        return [p for p in self.paragraphs if not p.startswith("Example:")]


_DEFAULT_IN_HELP = re.compile(r"\s*\[default: ([^\]]*)\]")


def _value(v: Any) -> str:
    v = getattr(v, "value", v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    return str(v)


def _base_type(p: Any) -> Any:
    """The Python type behind a parameter: `int | None` -> int, `list[str]` -> str."""
    desc = getattr(p, "type_descriptor", None)
    if desc is not None:
        t = desc.annotation
        while True:
            args = [a for a in typing.get_args(t) if a is not type(None)]
            if not args:
                return t
            t = args[0]
    name = getattr(getattr(p, "type", None), "name", "")  # older typer: a click ParamType
    return {"integer": int, "float": float, "boolean": bool}.get(name, str)


def _choices(p: Any) -> list[str]:
    desc = getattr(p, "type_descriptor", None)
    raw = getattr(desc, "choices", None) if desc is not None else getattr(getattr(p, "type", None), "choices", None)
    return [_value(c) for c in raw or ()]


def _param(p: Any) -> Param:
    kind = p.param_type_name
    flag = bool(getattr(p, "is_flag", False))
    choices = _choices(p)
    help_text = " ".join((getattr(p, "help", None) or "").split())
    default: str | None = None
    literal = True
    m = _DEFAULT_IN_HELP.search(help_text)
    if m:
        default, literal = m.group(1), False
        help_text = _DEFAULT_IN_HELP.sub("", help_text)
    show = getattr(p, "show_default", False)
    if isinstance(show, str) and show:
        default, literal = show, False
    elif default is None and show and not flag and p.default is not None and not callable(p.default):
        default = _value(p.default)
    variadic = p.nargs == -1
    t = _base_type(p)
    if p.metavar:
        metavar = p.metavar
    elif kind == "argument":
        metavar = p.name.upper().strip("_")
    elif choices:
        metavar = "{" + "|".join(choices) + "}"
    elif t is int:
        metavar = "N"
    elif t is float:
        metavar = "NUM"
    else:
        metavar = max(p.opts, key=len).lstrip("-").upper().replace("-", "_")
    envvar = p.envvar if isinstance(p.envvar, (list, tuple)) else [p.envvar] if p.envvar else []
    return Param(
        kind=kind,
        name=p.name,
        opts=list(p.opts) if kind == "option" else [],
        secondary=list(getattr(p, "secondary_opts", []) or []),
        help=help_text,
        metavar=metavar,
        choices=choices,
        default=default,
        default_literal=literal,
        flag=flag,
        multiple=bool(p.multiple),
        variadic=variadic,
        required=bool(p.required),
        envvar=[str(e) for e in envvar],
        # typer < 0.29 puts the range on the click type (IntRange), 0.29 on the parameter
        minimum=_bound(p, "min"),
        maximum=_bound(p, "max"),
    )


def _bound(p: Any, which: str) -> Any:
    value = getattr(p, which, None)
    return value if value is not None else getattr(p.type, which, None)


def _context(cmd: Any, name: str, parent: Any = None) -> Any:
    return cmd.context_class(cmd, info_name=name, parent=parent, **(cmd.context_settings or {}))


def cli_tree() -> tuple[Command, list[Command]]:
    """The root command and every visible subcommand, in the order `--help` lists them."""
    import typer.main

    from gascorr.cli import app

    root: Any = typer.main.get_command(app)  # a group: list_commands/get_command
    rctx = _context(root, PROG)
    top = Command(PROG, root.help or "", [_param(p) for p in root.get_params(rctx) if not getattr(p, "hidden", False)])
    subs = []
    for name in root.list_commands(rctx):
        cmd = root.get_command(rctx, name)
        if cmd is None or getattr(cmd, "hidden", False):
            continue
        ctx = _context(cmd, name, rctx)
        params = [_param(p) for p in cmd.get_params(ctx) if not getattr(p, "hidden", False)]
        subs.append(Command(name, cmd.help or "", params))
    return top, subs


def common_options(cmds: list[Command]) -> list[Param]:
    """Options every command has, in the order the first command lists them."""
    keys = set.intersection(*({p.key for p in c.options} for c in cmds)) if cmds else set()
    return [p for p in cmds[0].options if p.key in keys] if cmds else []


# ---- hand-written prose (checked against the CLI when the pages are built) ----------------

DESCRIPTION = [
    "gascorr is a log correlator over files. Point it at a folder of logs and captures "
    "(CI artifacts, a support bundle, a laptop's `logs/`) and ask what happened in one session, "
    "to one request, or along one trace.",
    "It reads plain-text logs, JSON-lines logs, JSON documents of records, OpenTelemetry JSON and HAR "
    "captures, sniffs each "
    "file's kind from its content, and normalizes every record into one event table stored as "
    "Parquet (see THE EVENT TABLE). Events are linked through the ids they carry (see CORRELATION "
    "IDS): a backend line that carries only a trace id joins the session of the browser request "
    "whose `traceparent` carried that trace id. Nobody has to change how their services log.",
    "Query commands given PATHs ingest what is new or changed first, so `gascorr trace --session X "
    "artifacts/` works with no separate step, and a second run parses nothing.",
]

INPUTS = [
    "PATHs are files, directories (searched recursively; `.git`, `.gascorr` and `node_modules` are "
    "skipped), globs, `.gz` files and `.zip` archives; archive members are read in memory and named "
    "`bundle.zip!/logs/app.log`.",
    "Text logs: the line dialect is detected per file (or forced with `--dialect`); lines that do not "
    "start an event (tracebacks, stack traces) belong to the event above them. JSON lines: field "
    "names differ per producer (`ts`, `time`, `@timestamp`; `level`, `severity`, `log.level`; nested "
    "objects) and epoch times in s, ms, µs or ns are recognised. A file that is one JSON document "
    'of records (a `[{...}, ...]` export, CloudTrail\'s `{"Records": [...]}`, a saved trace) gives '
    "each record as a JSON line would, with format `json`; a document cut part-way keeps the "
    "records before the cut. HAR 1.2: pages become `page` events "
    "and entries `http` events with method, URL, status, duration and timings; request and response "
    "headers carry ids.",
]

STORE = [
    "The store is a directory, `.gascorr/` in the current directory unless `--store` or "
    "GASCORR_STORE names another. It holds plain Parquet files (zstd) and a small JSON manifest, so "
    "any engine that reads Parquet can query it, and stores ingested on several machines can be "
    "combined by putting their files side by side.",
    "Ingest is incremental: a source whose size and modification time (or, failing those, content "
    "fingerprint) match the manifest is not read again. A text or JSON-lines file that only grew is "
    "parsed from where it ended, when the bytes before that are unchanged and the first new line "
    "starts an event; anything else is parsed whole again. An archive read again loses the members it "
    "no longer holds. The store keeps everything it ingested, even files since deleted: `trace`, "
    "`sessions`, `requests`, `sql` and `stats` answer from all of it, not only from the PATHs just "
    "named (`grep` searches only those); give each artifact folder its own `--store` to keep runs "
    "apart. New files are written and synced before "
    "the manifest that names them replaces the old one, so an interrupted ingest leaves the previous "
    "store intact; a second ingest into the same store waits for the first.",
    "Every ingest also writes two indexes: each event that belongs to a session or a request, as "
    "its events file and row, sorted by session and by request. `trace --session` and "
    "`trace --request` read the index and then only the row groups holding those rows, without "
    "starting DuckDB. Linking holds DuckDB to 400 MB of buffers and spills the rest to the store's "
    "`tmp/`, so its memory stays flat as the store grows; a step that cannot spill runs again with "
    "4 GB, then DuckDB's default (80% of RAM).",
    "When an ingest only parsed lines appended to files, and they bring new ids to what is already "
    "linked without changing any earlier id's link (no id becomes ambiguous, no session meets "
    "another), those lines are linked on their own into small delta files read with the others, "
    "so an append does not pay for relinking the whole store; the 9th such append, or any other change, relinks the "
    "whole store.",
]

OUTPUT = [
    "stdout carries results only; progress, warnings and errors go to stderr. On a terminal the "
    "default output is a tree (`trace`) or a table (the other commands); when stdout is a pipe or "
    "a file it is JSON, so `gascorr ... | jq .` works without flags. `--format` picks one of tree, "
    "table, json or ndjson explicitly. A reader that closes the pipe early (`| head`) ends the "
    "command quietly.",
    "Colour is used only on a terminal, and not when the NO_COLOR environment variable is set and "
    "non-empty; `--color always` or `--color never` overrides both. A long ingest shows a progress "
    "bar on stderr when stderr is a terminal; `--quiet` silences it and the ingest summary.",
    "Log text is data. Terminal control sequences found in log text (ANSI colours, window-title "
    "sequences, clear-screen, any control character but newline and tab) are shown as visible "
    "escapes such as `\\x1b`, and rich markup such as `[bold red]` is printed as written.",
    "Times are shown and written in UTC. Times in logs written without an offset are read as UTC "
    "unless `--tz` names another zone. A time written without a year (syslog) or without a date "
    "takes them from when its file was last written: its modification time, or for a `.zip` "
    "member the member's own time (its zip date and time read in `--tz`), not the archive's. "
    "`--since` and `--until` take ISO-8601 times or times relative to now (`10m`, `2h`, `3d`).",
]

BAD_INPUT = [
    "Nothing fed to gascorr crashes it or silently disappears. A malformed JSON line, a truncated "
    "HAR, a binary file, invalid UTF-8, a very long line or an empty file is counted and reported "
    "with its file and line on stderr and in `gascorr stats`, and every good event of the same "
    "file is still ingested. A file that fails while it is read (a damaged archive member, a parser "
    "failure) is listed by `gascorr stats` with format `unreadable` (its earlier events, if it had "
    "any, stay) and is tried again by the next ingest. Text in UTF-16 or UTF-32 with a byte-order mark (as Windows PowerShell writes it) "
    "is read as UTF-8.",
    "A problem with what was asked (a missing file, an unknown time zone, bad SQL) is one line on "
    "stderr, `gascorr: <the problem>`, and exit status 2; `--debug` shows the traceback "
    "instead. A usage error also prints the usage line of the command.",
]

EXIT_STATUS = [
    ("0", "Something was found: events, rows, a match, or (for `ingest`) input files."),
    ("1", "Nothing matched: no events for the id, no rows, no match, no input files."),
    (
        "2",
        "A usage or input error; the reason is on stderr. `ingest` also exits 2 when it found a path it "
        "could not read (permission denied, a damaged archive); its other files are still ingested.",
    ),
    ("130", "Interrupted (Ctrl-C)."),
]

ENVIRONMENT = [
    ("GASCORR_STORE", "The store directory, when `--store` is not given."),
    ("NO_COLOR", "When set and non-empty, no colour (unless `--color always`)."),
    ("COLUMNS", "The width of trees and tables when stdout is a terminal (`--width` overrides)."),
]

FILES = [
    (".gascorr/", "The default store (see THE STORE)."),
    (".gascorr/manifest.json", "Which source maps to which Parquet files, with counts and rejected lines."),
    (
        ".gascorr/events/*.parquet",
        "The events of each ingested source (and of lines appended to it since), and the ids each carries.",
    ),
    (
        ".gascorr/links/*.parquet",
        "Which session and request every id belongs to, and the session and request indexes; "
        "recomputed after each ingest.",
    ),
    (".gascorr/tmp/", "Where DuckDB spills while an ingest links ids; removed when it ends."),
    ("./gascorr.toml", "Extra id names, read when present (or the file `--config` names)."),
]

DERIVED_COLUMNS = [
    ("resolved_session", "string", "the session the event belongs to after linking (its own id wins)"),
    ("resolved_request", "string", "the request the event belongs to after linking (its own id wins)"),
]

VIEWS = [
    ("events", "the event table plus `resolved_session` and `resolved_request`"),
    ("raw_events", "the event table exactly as the parsers wrote it"),
    ("sessions", "one row per session, as `gascorr sessions` prints it"),
    ("requests", "one row per request, as `gascorr requests` prints it"),
    (
        "links",
        "one row per request, trace or page id: `kind`, `id`, `session`, `request`, `ambiguous`, `sessions`, "
        "`conflict` (the ids linked with it reach several sessions, so it keeps only a session it was seen with directly)",
    ),
]

ID_LABELS = {
    "session_keys": "Session id keys (JSON and logfmt)",
    "session_headers": "Session id headers (HAR)",
    "session_patterns": "Session id patterns in messages",
    "request_keys": "Request id keys",
    "request_headers": "Request id headers",
    "request_patterns": "Request id patterns in messages",
    "trace_keys": "Trace id keys",
    "trace_headers": "Trace id headers",
    "trace_patterns": "Trace id patterns in messages",
    "span_keys": "Span id keys",
    "parent_keys": "Parent span id keys",
    "step_keys": "Step index keys",
    "step_headers": "Step index headers",
    "parent_trace_keys": "Parent trace id keys (trace trees only)",
    "parent_trace_headers": "Parent trace id headers (trace trees only)",
}

IDS = [
    "Header names compare case-insensitively. A JSON key names an id when, lower-cased and without "
    "`_ - . /`, it or its last two names together (`req.id`) read as one of the names listed "
    "(`request_id`, `requestId` and `X-Request-ID` all read `requestid`), up to 4 levels deep, "
    "shallower keys first. A message pattern's first group is the id.",
    "Besides these names: the W3C `traceparent` header or key (`00-<trace-id>-<span-id>-<flags>`) "
    "gives a trace and span id; a text line that starts with `[SESSION] -` gives a session id; and a "
    "JSON-lines file named `session_<id>.jsonl` gives every line in it that session.",
    "Linking is transitive: ids that appear together on one event belong together, so a trace id "
    "seen with a request id joins that request's session, and a HAR page joins the session of its "
    "requests. An id seen with two different sessions is ambiguous: `gascorr stats` and the session "
    "trace report it, and it never merges the two sessions.",
    "A parent trace id (TraceForge's `setParentTraceId`, set by a child step to the trace id of the "
    "call it belongs under) links nothing and has no column: a `trace` tree reads it from an event's "
    "attrs (a HAR entry's request headers; a JSON record's top level, or a dotted key's nested path "
    "such as `traceforge.parent_trace_id`) to nest calls. Names compare case-insensitively; the "
    "value is read like a trace id.",
]

CONFIG = (
    "Add names in a TOML file, `gascorr.toml` in the current directory or the file `--config` "
    "names. Its `[ids]` table takes lists of strings under these keys; what a user adds is looked "
    "for before the built-in names:"
)
CONFIG_EXAMPLE = """[ids]
session_keys = ["user_session"]
session_headers = ["X-My-Session"]
request_patterns = ['\\brid:(\\S+)']"""

# Per command: extra paragraphs, extra examples (what, command line), what exit 0 means.
NOTES: dict[str, list[str]] = {
    "ingest": [
        "The per-file summary goes to stdout (a table on a terminal, JSON on a pipe); the one-line total, the "
        "progress bar and every rejected line go to stderr.",
    ],
    "trace": [
        "Give exactly one of `--session`, `--request` or `--trace`. Events are ordered by UTC time, then "
        "source and line. In a tree, a session's requests are branches (the HTTP call, then what each "
        "service logged for it), events without a request stand at the session level, and times are "
        "relative to the start of the session or request (`--absolute` shows clock times). An HTTP "
        "call shows its method, path, status and duration; a failed one adds why "
        "(`(net::ERR_CONNECTION_REFUSED)`, `Service Unavailable`).",
        "A call that names a parent trace (the `X-TraceForge-Parent-Trace-ID` request header, or "
        "`parent_trace_id` / `parentTraceId` in one of its JSON records) nests under the call whose "
        "HTTP event carries that trace id, after that call's own events, in time order; the parent's "
        "line counts only its own services and errors. A parent that is not in the timeline leaves the "
        "call at the top level; of a cycle of parents, the earliest call stays where it is; calls nest at "
        "most 8 deep (deeper ones go on at the 8th level). `--flat` "
        "and `--request` nest nothing, and JSON is unchanged (the header or key stays in `attrs`).",
        "Long sessions stay readable in a tree: 3 or more like events in a row under one parent (same "
        "service, level, kind and HTTP status, and the same message once numbers, hex ids and UUIDs are "
        "masked) show as the first of them and one line such as `INFO … 41 more like this over 2.30s "
        "(+1.20s … +3.50s)`. A run never mixes levels, so an ERROR among INFO lines is always shown, and "
        "a folded run of errors says ERROR. After `--max-events` rows the tree ends with `… N more events "
        "not shown`; its headers still count every event. `--full` shows every event; JSON and NDJSON "
        "always do.",
    ],
    "sessions": [
        "A session's status is `error` when any of its events is ERROR or FATAL or has an HTTP status "
        "of 500 or more, else `ok`.",
    ],
    "requests": [
        "A request's duration runs from its first event to the latest end of any of its events, so it "
        "covers the browser-side call: a HAR entry or page, a span or a record of an LLM interaction "
        "file ends its own duration after its time, while any other event (a log line, written when "
        "what it times is over) ends at its time. Sessions and trace headers count the same way. "
        "`--by endpoint` groups requests by method and URL path.",
    ],
    "grep": [
        "The pattern is searched in the message unless `--field` names another column or attrs key. "
        "Each hit is shown with its source, line, time, level, session and request.",
    ],
    "sql": [
        "The views are `events`, `raw_events`, `sessions`, `requests` and `links` (see gascorr(1), THE "
        "EVENT TABLE). The query runs in DuckDB with your own permissions and may read any file you can.",
        "Its table shows every value whole, under the query's own column names: full URLs, times to "
        "the millisecond (or microsecond), numbers as they are.",
    ],
    "stats": [
        "Shows what is in the store: files per format and dialect, events, events without a time, "
        "rejected lines with their reasons, distinct ids, and ambiguous ids.",
    ],
}

EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "ingest": [("Ingest with JSON output for a script:", "gascorr ingest --format json artifacts/")],
    "trace": [
        ("A user's session, straight from a folder:", "gascorr trace --session session-xyz artifacts/"),
        (
            "Only the errors and warnings of a request, with clock times:",
            "gascorr trace -r req-002 --level WARN --absolute",
        ),
        ("The services a session touched, with jq:", "gascorr trace -s session-xyz | jq -r '.services_touched[]'"),
    ],
    "sessions": [("The ten sessions with the most errors:", "gascorr sessions --sort errors --limit 10")],
    "requests": [
        ("Failed requests of one session:", "gascorr requests --session session-xyz --status error"),
        ("Latency percentiles per endpoint:", "gascorr requests --by endpoint"),
    ],
    "grep": [
        ("Count case-insensitive matches:", "gascorr grep -i -c timeout artifacts/"),
        ("A regular expression over URLs:", "gascorr grep -E --field url '/api/(cart|payments)'"),
    ],
    "sql": [
        (
            "Errors per service:",
            "gascorr sql \"SELECT service, count(*) FROM events WHERE level = 'ERROR' GROUP BY ALL\"",
        )
    ],
    "stats": [("Rejected lines per file, with jq:", "gascorr stats | jq '.per_file[] | {source, rejected}'")],
}

OVERVIEW_EXAMPLES = [
    ("Replay a session from a CI artifact folder:", "gascorr trace --session session-xyz artifacts/"),
    ("Follow one request across services:", "gascorr trace --request req-002"),
    ("The twenty slowest requests:", "gascorr requests --slowest 20"),
    ("Sessions that hit errors in one service:", "gascorr sessions --service payment-service --status error"),
    ("Every hit with its session and request:", 'gascorr grep "Insufficient funds" artifacts/'),
    ("A request's messages, one per line, from NDJSON:", "gascorr trace -r req-002 --format ndjson | jq -r .message"),
]

# JSON documents: meanings of every key, per shape; a key the code emits and nobody
# described here is listed by `undocumented_keys()` (and fails tests/test_docs.py).
SUMMARY_KEYS = {
    "started_at": "time of the first event",
    "last_activity": "time of the last event",
    "duration_ms": "from the first event to the latest end of any (a HAR entry's, span's or LLM interaction record's time plus its duration, else its time), in ms",
    "total_requests": "number of requests",
    "services_touched": "sorted list of service names",
    "errors": "number of ERROR and FATAL events",
    "event_count": "number of events",
    "events": "the events in timeline order, as event objects",
}
SHAPE_KEYS: dict[str, dict[str, str]] = {
    "session": {
        "session_id": "the session id",
        **SUMMARY_KEYS,
        "ambiguous_ids": "ids of this session also seen with other sessions: `kind`, `id`, `sessions`",
    },
    "request": {
        "request_id": "the request id",
        "session_id": "its session, or null when none or several",
        "sessions": "every session it resolved to",
        "method": "HTTP method of its HTTP event",
        "url": "URL of its HTTP event",
        "status": "HTTP status of its HTTP event",
        **SUMMARY_KEYS,
    },
    "trace": {
        "trace_id": "the trace id",
        "session_id": "its session, or null when none or several",
        "request_ids": "the requests it touched",
        **SUMMARY_KEYS,
    },
    "sessions": {
        "session_id": "the session id",
        "started_at": "time of the first event",
        "last_activity": "time of the last event",
        "duration_ms": "from the first event to the latest end of any (a HAR entry's, span's or LLM interaction record's time plus its duration, else its time), in ms",
        "total_requests": "number of requests",
        "services_touched": "sorted list of service names",
        "errors": "number of ERROR and FATAL events",
        "event_count": "number of events",
        "llm_calls": "number of LLM calls",
        "llm_input_tokens": "input (prompt) tokens of its LLM calls, or null",
        "llm_output_tokens": "output (completion) tokens of its LLM calls, or null",
        "status": "`error` or `ok`",
    },
    "requests": {
        "request_id": "the request id",
        "session_id": "its session or null",
        "method": "HTTP method",
        "url": "URL",
        "status": "HTTP status",
        "started_at": "time of the first event",
        "last_activity": "time of the last event",
        "duration_ms": "from the first event to the latest end of any (a HAR entry's, span's or LLM interaction record's time plus its duration, else its time), in ms",
        "services_touched": "sorted list of service names",
        "errors": "number of ERROR and FATAL events",
        "event_count": "number of events",
    },
    "endpoints": {
        "method": "HTTP method",
        "endpoint": "URL path without host and query",
        "requests": "number of requests",
        "errors": "requests with status 400 or more, status 0, or an error event",
        "p50_ms": "median duration, in ms",
        "p90_ms": "90th percentile duration, in ms",
        "p99_ms": "99th percentile duration, in ms",
        "max_duration_ms": "longest duration, in ms",
    },
    "stats": {
        "files": "number of ingested sources",
        "lines": "lines read",
        "events": "events stored",
        "events_without_time": "events without a time",
        "sessions": "distinct session ids found on events",
        "requests": "distinct request ids",
        "traces": "distinct trace ids",
        "first_event": "time of the first event",
        "last_event": "time of the last event",
        "events_in_sessions": "events that resolve to a session",
        "events_in_requests": "events that resolve to a request",
        "rejected_lines": "lines that could not be parsed",
        "formats": "per format: `files`, `events`, `rejected`",
        "ambiguous_ids": "ids seen with several sessions: `kind`, `id`, `sessions`",
        "per_file": "per source: `source`, `format`, `dialect`, `events`, `lines`, `rejected`, "
        "`rejects` (`line`, `why`), `warnings`",
    },
    "ingest": {
        "files_seen": "sources found under PATHs",
        "parsed": "sources parsed now",
        "unchanged": "sources skipped as unchanged",
        "events": "events stored now",
        "rejected_lines": "lines rejected now",
        "warnings": "messages about inputs",
        "files": "per parsed source: `source`, `format`, `dialect`, `lines`, `events`, `rejected` (of what "
        "was read now), `appended` (true when only the lines appended since the last ingest were read)",
    },
}


def _column_meanings() -> dict[str, str]:
    from gascorr.schema import COLUMNS

    out = {n: m for n, _, m in COLUMNS}
    out.update({n: m for n, _, m in DERIVED_COLUMNS})
    out["ts"] = "ISO-8601 UTC time with `Z`, or null"
    out["attrs"] = "an object with every other field or header"
    return out


def json_shapes() -> dict[str, list[str]]:
    """The keys of every JSON document, in output order, as the code builds them now."""
    import tempfile

    from gascorr import query, timeline

    shapes = {
        "session": list(timeline.session_doc("x", []).keys()),
        "request": list(timeline.request_doc("x", []).keys()),
        "trace": list(timeline.trace_doc("x", []).keys()),
        "event": list(timeline.event_doc({}).keys()),
    }
    with tempfile.TemporaryDirectory() as d:
        s = query.Store.open(str(Path(d) / "store"))
        try:
            shapes["sessions"] = query.sessions(s).column_names
            shapes["requests"] = query.requests(s).column_names
            shapes["endpoints"] = query.endpoints(s).column_names
            shapes["stats"] = list(query.stats(s).keys())
        finally:
            s.con.close()
    shapes["ingest"] = list(SHAPE_KEYS["ingest"])  # built in cli.py; described by hand
    return shapes


def undocumented_keys() -> dict[str, list[str]]:
    """JSON keys the code emits that have no meaning written here, by shape."""
    cols = _column_meanings()
    out: dict[str, list[str]] = {}
    for shape, keys in json_shapes().items():
        known = cols if shape == "event" else SHAPE_KEYS.get(shape, {})
        missing = [k for k in keys if k not in known]
        if missing:
            out[shape] = missing
    return out


JSON_INTRO = [
    "JSON output is one document per command (NDJSON: one object per line, streamed). Keys come in "
    "the order listed and are always present (null when unknown); times are ISO-8601 UTC with `Z`; "
    "durations are in milliseconds. `NaN` and `Infinity` in logs, which JSON has no words for, are "
    "written as null.",
]

# Per command: the JSON shapes it writes and how, as (shape, sentence).
JSON_FOR: dict[str, list[tuple[str, str]]] = {
    "trace": [
        ("session", "`--session`: one object (`--format ndjson`: its events, one per line):"),
        ("request", "`--request`: one object:"),
        ("trace", "`--trace`: one object:"),
        ("event", "Each element of `events` is an event object:"),
    ],
    "sessions": [("sessions", "An array with one object per session (NDJSON: one per line):")],
    "requests": [
        ("requests", "An array with one object per request (NDJSON: one per line):"),
        ("endpoints", "With `--by endpoint`, one object per method and path:"),
    ],
    "grep": [
        (
            "event",
            "An array of event objects (NDJSON: one per line); `--count` prints a number and "
            "`--files-with-matches` one source per line instead. An event object:",
        ),
    ],
    "sql": [],
    "stats": [("stats", "One object (`--format ndjson`: the `per_file` objects, one per line):")],
    "ingest": [("ingest", "With `--format json`, one object:")],
}
SQL_JSON = "An array with one object per row, keyed by the query's column names (NDJSON: one per line)."


# ---- checks of hand-written text against the CLI -------------------------------------------------

_OPTION_MENTION = re.compile(r"(?<![\w\-])(--?[A-Za-z][\w-]*)")


def check_example(line: str, cmds: dict[str, Command], root: Command) -> None:
    """Raise ValueError when an example names a command or option the CLI does not have."""
    tokens = shlex.split(line.split(" | ")[0])
    if not tokens or tokens[0] != PROG:
        raise ValueError(f"example does not start with {PROG}: {line!r}")
    rest = tokens[1:]
    cmd = cmds.get(rest[0]) if rest else None
    if rest and not rest[0].startswith("-") and cmd is None:
        raise ValueError(f"example names an unknown command {rest[0]!r}: {line!r}")
    known = cmd.option_names() if cmd else root.option_names()
    for t in rest[1:] if cmd else rest:
        if t == "--":
            break
        if t.startswith("-") and len(t) > 1 and t.split("=")[0] not in known:
            raise ValueError(f"example uses {t!r}, which {PROG} {rest[0]} does not have: {line!r}")


def _check_mentions(text: str, allowed: set[str], where: str) -> None:
    for code in re.findall(r"`([^`]*)`", text):
        for m in _OPTION_MENTION.findall(code):
            if m.startswith("--") and m not in allowed:
                raise ValueError(f"{where} mentions {m}, which is not an option there: {text[:60]!r}...")


# ---- pages ----------------------------------------------------------------------------------


def _header(doc: Roff, name: str, version: str) -> None:
    doc.lines.append(f'.\\" {name}.1: generated by `python -m gascorr.manpage man/` from the CLI; do not edit')
    doc.macro("TH", name.upper(), "1", "", f"{PROG} {version}", MANUAL)
    doc.macro("nh")  # never hyphenate: ids, options and paths must read as typed
    doc.macro("ad", "l")


def _synopsis(cmd: Command) -> str:
    parts = [bold(f"{PROG} {cmd.name}"), f"[{ital('OPTIONS')}]"]
    for a in cmd.arguments:
        s = ital(a.metavar) + ("..." if a.variadic else "")
        parts.append(s if a.required else f"[{s}]")
    return " ".join(parts)


def _option_tag(p: Param) -> str:
    names = ", ".join(bold(o) for o in [*sorted(p.opts, key=len), *p.secondary])
    return names if p.flag else f"{names} {ital(p.metavar)}"


def _facts(p: Param) -> list[str]:
    facts = []
    if p.choices and "|" not in p.metavar:
        facts.append("One of " + ", ".join(bold(c) for c in p.choices) + ".")
    if p.default is not None:
        facts.append(f"Default: {bold(p.default) if p.default_literal else md(p.default)}.")
    if p.minimum is not None and p.maximum is not None:
        facts.append(f"From {p.minimum} to {p.maximum}.")
    elif p.minimum is not None:
        facts.append(f"At least {p.minimum}.")
    elif p.maximum is not None:
        facts.append(f"At most {p.maximum}.")
    if p.multiple:
        facts.append("May be given more than once.")
    if p.envvar:
        facts.append("Environment: " + ", ".join(bold(e) for e in p.envvar) + ".")
    if p.required and p.kind == "option":
        facts.append("Required.")
    return facts


def _options(doc: Roff, params: list[Param]) -> None:
    for p in params:
        help_text = p.help or "(no description)"
        doc.item(_option_tag(p), md(help_text), *_facts(p))


def _arguments(doc: Roff, cmd: Command) -> None:
    if not cmd.arguments:
        return
    doc.macro("SH", "ARGUMENTS")
    for a in cmd.arguments:
        tag = ital(a.metavar) + ("..." if a.variadic else "")
        doc.item(tag, md(a.help or "(no description)"), *_facts(a))


def _json_keys(doc: Roff, shape: str, keys: list[str]) -> None:
    meanings = _column_meanings() if shape == "event" else SHAPE_KEYS.get(shape, {})
    doc.macro("RS", "4")
    doc.macro("PD", "0")
    width = min(max(len(k) for k in keys) + 2, 22) if keys else 10
    for k in keys:
        doc.macro("TP", str(width))
        doc.raw(bold(k))
        doc.raw(md(meanings.get(k, "")))
    doc.macro("PD")
    doc.macro("RE")


def _json_section(doc: Roff, cmd: str, shapes: dict[str, list[str]]) -> None:
    doc.macro("SH", "JSON OUTPUT")
    if cmd == "sql":
        doc.para(SQL_JSON)
        return
    for shape, sentence in JSON_FOR.get(cmd, []):
        doc.para(sentence)
        _json_keys(doc, shape, shapes[shape])


def _examples(doc: Roff, items: list[tuple[str, str]]) -> None:
    doc.macro("SH", "EXAMPLES")
    for what, line in items:
        if what:
            doc.para(what)
        else:
            doc.macro("PP")
        doc.pre(line)


def command_page(
    cmd: Command, all_cmds: list[Command], root: Command, shapes: dict[str, list[str]], version: str
) -> str:
    by_name = {c.name: c for c in all_cmds}
    allowed = cmd.option_names()
    for text in NOTES.get(cmd.name, []):
        _check_mentions(text, allowed, f"{cmd.name} notes")
    for _, text in JSON_FOR.get(cmd.name, []):
        _check_mentions(text, allowed, f"{cmd.name} JSON text")
    examples = [("", e) for e in cmd.examples] + EXAMPLES.get(cmd.name, [])
    for _, line in examples:
        check_example(line, by_name, root)

    name = f"{PROG}-{cmd.name}"
    doc = Roff()
    _header(doc, name, version)
    doc.macro("SH", "NAME")
    summary = cmd.summary
    if len(summary) > 1 and summary[1].islower():
        summary = summary[0].lower() + summary[1:]
    doc.raw(f"{esc(name)} \\- {esc(summary)}")
    doc.macro("SH", "SYNOPSIS")
    doc.raw(_synopsis(cmd))
    doc.macro("SH", "DESCRIPTION")
    for p in cmd.description + NOTES.get(cmd.name, []):
        doc.para(p)
    _arguments(doc, cmd)
    common = {p.key for p in common_options(all_cmds)}
    own = [p for p in cmd.options if p.key not in common]
    if own:
        doc.macro("SH", "OPTIONS")
        _options(doc, own)
    doc.macro("SH", "COMMON OPTIONS")
    doc.para("Every gascorr command takes these options.")
    _options(doc, [p for p in cmd.options if p.key in common])
    _json_section(doc, cmd.name, shapes)
    doc.macro("SH", "EXIT STATUS")
    for code, what in EXIT_STATUS:
        doc.item(bold(code), md(what))
    doc.macro("SH", "ENVIRONMENT")
    for var, what in ENVIRONMENT:
        doc.item(bold(var), md(what))
    _examples(doc, examples)
    doc.macro("SH", "SEE ALSO")
    others = [f"{PROG}-{c.name}" for c in all_cmds if c.name != cmd.name]
    doc.raw(",\n".join(f"\\fB{esc(n)}\\fR(1)" for n in [PROG, *others]))
    return doc.render()


def _id_names(doc: Roff) -> None:
    from gascorr.ids import DEFAULT, PLACEHOLDERS

    for f in dataclasses.fields(DEFAULT):
        value = getattr(DEFAULT, f.name)
        if not isinstance(value, tuple):
            continue
        label = ID_LABELS.get(f.name, f.name)
        if f.name.endswith("_patterns"):
            doc.macro("TP")
            doc.raw(esc(label))
            doc.pre("\n".join(value))
        else:
            doc.item(esc(label), ", ".join(bold(v) for v in value) + ".")
    from gascorr.parsers.fields import EXTRA_ID_NAMES

    roles = {"session": "session", "request": "request", "span": "span", "parent": "parent span"}
    doc.para(
        "JSON keys that real producers use as ids are read too: "
        + "; ".join(f"{roles[r]}: " + ", ".join(f"`{k}`" for k in keys) for r, keys in EXTRA_ID_NAMES.items())
        + "."
    )
    shown = sorted(p for p in PLACEHOLDERS if p)
    doc.para(
        "Placeholders are not ids: an empty value, "
        + ", ".join(f"`{p}`" for p in shown)
        + " (in any case), and an all-zero id such as `00000000000000000000000000000000`."
    )


def _event_table(doc: Roff) -> None:
    from gascorr.schema import COLUMNS, SCHEMA_VERSION

    doc.para(
        "One row per event, stored as Parquet; every parser fills these columns as far as its input "
        f"allows (schema version {SCHEMA_VERSION}). It is the table `gascorr sql` queries, as the "
        "view `raw_events`."
    )
    for name, typ, meaning in COLUMNS:
        doc.item(f"{bold(name)} ({esc(typ)})", md(meaning))
    doc.para("The view `events` adds the result of linking:")
    for name, typ, meaning in DERIVED_COLUMNS:
        doc.item(f"{bold(name)} ({esc(typ)})", md(meaning))
    doc.para("Views available to `gascorr sql`:")
    for name, what in VIEWS:
        doc.item(bold(name), md(what))


def overview_page(root: Command, cmds: list[Command], shapes: dict[str, list[str]], version: str) -> str:
    by_name = {c.name: c for c in cmds}
    every_option = {o for c in [root, *cmds] for o in c.option_names()}
    for block in (DESCRIPTION, INPUTS, STORE, OUTPUT, BAD_INPUT, IDS, [CONFIG], JSON_INTRO):
        for text in block:
            _check_mentions(text, every_option, "gascorr.1")
    for _, line in OVERVIEW_EXAMPLES:
        check_example(line, by_name, root)

    doc = Roff()
    _header(doc, PROG, version)
    doc.macro("SH", "NAME")
    summary = root.summary
    doc.raw(f"{esc(PROG)} \\- {esc(summary[0].lower() + summary[1:])}")
    doc.macro("SH", "SYNOPSIS")
    for i, c in enumerate(cmds):
        if i:
            doc.macro("br")
        doc.raw(_synopsis(c))
    doc.macro("br")
    doc.raw(f"{bold(PROG)} {bold('--version')}")
    doc.macro("br")
    doc.raw(f"{bold(PROG)} [{ital('COMMAND')}] {bold('--help')}")
    doc.macro("SH", "DESCRIPTION")
    for p in DESCRIPTION:
        doc.para(p)
    doc.macro("SH", "COMMANDS")
    for c in cmds:
        first = c.description[0] if c.description else c.summary
        doc.item(bold(f"{PROG} {c.name}"), md(first), f"See \\fB{esc(PROG + '-' + c.name)}\\fR(1).")
    doc.macro("SH", "OPTIONS")
    _options(doc, root.options)
    doc.macro("SH", "COMMON OPTIONS")
    doc.para("Every command takes these options.")
    _options(doc, common_options(cmds))
    doc.macro("SH", "INPUTS")
    for p in INPUTS:
        doc.para(p)
    from gascorr.parsers.text import BY_NAME

    doc.para("Text dialects (names for `--dialect`): " + ", ".join(f"`{n}`" for n in BY_NAME) + ".")
    doc.macro("SH", "THE STORE")
    for p in STORE:
        doc.para(p)
    doc.macro("SH", "OUTPUT")
    for p in OUTPUT:
        doc.para(p)
    doc.macro("SH", "THE EVENT TABLE")
    _event_table(doc)
    doc.macro("SH", "CORRELATION IDS")
    doc.para("Recognised out of the box:")
    _id_names(doc)
    for p in IDS:
        doc.para(p)
    from gascorr.config import KEYS

    doc.para(CONFIG)
    doc.macro("RS", "4")
    doc.raw(", ".join(bold(k) for k in KEYS) + ".")
    doc.macro("RE")
    doc.para("For example:")
    doc.pre(CONFIG_EXAMPLE)
    doc.macro("SH", "JSON OUTPUT")
    for p in JSON_INTRO:
        doc.para(p)
    shown: set[str] = set()
    for c in cmds:
        doc.macro("SS", f"{PROG} {c.name}")
        if c.name == "sql":
            doc.para(SQL_JSON)
        for shape, sentence in JSON_FOR.get(c.name, []):
            if shape in shown:
                doc.para(sentence.rstrip(":") + ", with the keys listed above.")
                continue
            shown.add(shape)
            doc.para(sentence)
            _json_keys(doc, shape, shapes[shape])
    doc.macro("SH", "BAD INPUT")
    for p in BAD_INPUT:
        doc.para(p)
    doc.macro("SH", "EXIT STATUS")
    doc.para("Like grep(1):")
    for code, what in EXIT_STATUS:
        doc.item(bold(code), md(what))
    doc.macro("SH", "ENVIRONMENT")
    for var, what in ENVIRONMENT:
        doc.item(bold(var), md(what))
    doc.macro("SH", "FILES")
    for path, what in FILES:
        doc.item(bold(path), md(what))
    _examples(doc, OVERVIEW_EXAMPLES)
    doc.macro("SH", "SEE ALSO")
    doc.raw(",\n".join(f"\\fB{esc(PROG + '-' + c.name)}\\fR(1)" for c in cmds) + ",")
    doc.raw("\\fBjq\\fR(1), \\fBduckdb\\fR(1)")
    return doc.render()


def pages() -> dict[str, str]:
    """Every man page, `{file name: roff text}`, generated from the CLI as it is now."""
    from gascorr import __version__

    root, cmds = cli_tree()
    shapes = json_shapes()
    out = {f"{PROG}.1": overview_page(root, cmds, shapes, __version__)}
    for c in cmds:
        out[f"{PROG}-{c.name}.1"] = command_page(c, cmds, root, shapes, __version__)
    return out


def write(outdir: str | Path) -> list[Path]:
    """Write every page into `outdir`, remove stale `gascorr*.1` pages; return what was written."""
    d = Path(outdir)
    d.mkdir(parents=True, exist_ok=True)
    generated = pages()
    written = []
    for name, text in generated.items():
        path = d / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for old in d.glob(f"{PROG}*.1"):
        if old.name not in generated:
            old.unlink()
    return written


def stale(outdir: str | Path) -> list[str]:
    """Names of pages in `outdir` that are missing, differ from the generated ones, or are extra."""
    d = Path(outdir)
    generated = pages()
    bad = [n for n, t in generated.items() if not (d / n).exists() or (d / n).read_text(encoding="utf-8") != t]
    bad += sorted(p.name for p in d.glob(f"{PROG}*.1") if p.name not in generated)
    return bad


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if len(rest) != 1 or rest[0].startswith("-"):
        sys.stderr.write("usage: python -m gascorr.manpage [--check] DIR\n")
        return 2
    if check:
        bad = stale(rest[0])
        for name in bad:
            sys.stderr.write(f"{rest[0]}/{name} is out of date; run: python -m gascorr.manpage {rest[0]}\n")
        return 1 if bad else 0
    for path in write(rest[0]):
        sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

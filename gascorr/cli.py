"""The command line: options -> one library call -> one renderer. No SQL, no parsing here.

`main()` is the one place that maps outcomes to exit statuses, grep-like: 0 found, 1
nothing matched, 2 a usage or input error. Known errors become one `gascorr: …` line on
stderr; `--debug` shows the traceback instead. Results go to stdout, everything else to
stderr; a reader that closes the pipe early (`| head`) ends the command quietly.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from gascorr import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from gascorr.ingest import IngestReport
    from gascorr.query import Rows, Store


class ExitStatus(IntEnum):
    FOUND = 0
    NOTHING = 1
    ERROR = 2


class Format(str, Enum):
    tree = "tree"
    table = "table"
    json = "json"
    ndjson = "ndjson"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Kind(str, Enum):
    network = "network"
    logs = "logs"
    pages = "pages"
    llm = "llm"
    spans = "spans"


class Level(str, Enum):
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"
    # the names logs use for them (stored events say WARN and FATAL)
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"

    @property
    def stored(self) -> str:
        return {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(self.value, self.value)


class SessionStatus(str, Enum):
    error = "error"
    ok = "ok"


class SessionSort(str, Enum):
    started = "started"
    last = "last"
    duration = "duration"
    errors = "errors"
    requests = "requests"
    events = "events"
    id = "id"


class By(str, Enum):
    request = "request"
    endpoint = "endpoint"


class UserError(Exception):
    """A mistake in what the user asked for: one line on stderr, exit 2."""


class PipeClosed(Exception):
    """The reader of stdout went away (`| head`). Not an OSError, so that click does not
    turn it into its own exit status: `run()` ends quietly instead."""


class _PipeGuard:
    """A text stream wrapper that turns a broken pipe into PipeClosed."""

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner

    def write(self, s: str) -> int:
        try:
            return self._inner.write(s)
        except BrokenPipeError as e:
            raise PipeClosed from e

    def flush(self) -> None:
        try:
            self._inner.flush()
        except BrokenPipeError as e:
            raise PipeClosed from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class Env:
    """stdin/stdout/stderr and their terminal flags, swappable in tests."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    debug: bool = False

    @property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    def say(self, msg: str) -> None:
        """One line on stderr; control characters from file names or log text are escaped."""
        from gascorr.display import printable

        self.stderr.write(f"gascorr: {printable(msg)}\n")
        self.stderr.flush()


def _isatty(f: IO[str]) -> bool:
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


ENV = Env()

app = typer.Typer(
    name="gascorr",
    help="Correlate plain-text, JSON-lines and HAR logs into session and request timelines.\n\n"
    "Example: gascorr trace --request req-002 artifacts/",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# ---- shared options -------------------------------------------------------------------

PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="PATH",
        help="Files, directories, globs, .gz or .zip archives to ingest first (only new or changed ones are read).",
        show_default=False,
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="DIR",
        envvar="GASCORR_STORE",
        help="Store directory [default: .gascorr in the current directory].",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format [default: tree/table on a terminal, json on a pipe].",
        show_default=False,
        case_sensitive=False,
    ),
]
TzOpt = Annotated[str, typer.Option("--tz", metavar="ZONE", help="Time zone for times written without an offset.")]
ColorOpt = Annotated[
    Color,
    typer.Option("--color", help="Colour: auto (terminal and no NO_COLOR), always, never.", case_sensitive=False),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no ingest summary on stderr.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]
DialectOpt = Annotated[
    str | None,
    typer.Option(
        "--dialect",
        metavar="NAME",
        help="Parse every text file in PATHs with this dialect instead of detecting it.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Config file (TOML) with extra id names [default: ./gascorr.toml if present].",
        show_default=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="TIME",
        help="Only events at or after this time: ISO-8601 or relative to now (10m, 2h, 3d).",
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="TIME",
        help="Only events at or before this time: ISO-8601 or relative to now.",
        show_default=False,
    ),
]
ActiveSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="TIME",
        help="Only sessions with an event at or after this time (whole sessions are listed): ISO-8601 "
        "or relative to now (10m, 2h, 3d).",
        show_default=False,
    ),
]
ActiveUntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="TIME",
        help="Only sessions started at or before this time: ISO-8601 or relative to now.",
        show_default=False,
    ),
]
WidthOpt = Annotated[
    int | None,
    typer.Option(
        "--width",
        metavar="N",
        help="Output width for trees and tables [default: the terminal's].",
        show_default=False,
        min=40,
    ),
]


@dataclass
class Common:
    store: str
    fmt: Format | None
    tz: str
    color: Color
    quiet: bool
    dialect: str | None = None
    config: str | None = None
    width: int | None = None

    def output(self, tree_default: Format = Format.tree) -> Format:
        if self.fmt is not None:
            return self.fmt
        return tree_default if ENV.stdout_tty else Format.json

    def console(self) -> Console:
        from rich.console import Console

        if self.color == Color.always:
            force, no_color = True, False
        elif self.color == Color.never:
            force, no_color = False, True
        else:
            force, no_color = None, bool(os.environ.get("NO_COLOR"))
        return Console(
            file=ENV.stdout,
            force_terminal=force,
            no_color=no_color,
            highlight=False,
            markup=False,
            emoji=False,
            width=self.width or (None if ENV.stdout_tty else 120),
            soft_wrap=False,
        )


def _common(
    store: str | None,
    fmt: Format | None,
    tz: str,
    color: Color,
    quiet: bool,
    debug: bool,
    dialect: str | None = None,
    config: str | None = None,
    width: int | None = None,
) -> Common:
    from gascorr.store import store_path

    ENV.debug = ENV.debug or debug
    _check_tz(tz)
    if config is not None:
        from gascorr.config import load_names

        load_names(config)  # a bad --config is an error even when nothing is ingested
    return Common(store_path(store), fmt, tz, color, quiet, dialect, config, width)


def _check_tz(tz: str) -> None:
    if tz == "UTC":  # the default: no need to import the zone database's module (~3 ms)
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise UserError(f"unknown time zone {tz!r} (use a name like UTC or Europe/Paris)") from e


def _names(c: Common) -> Any:
    from gascorr.config import load_names

    return load_names(c.config)


def _ingest(c: Common, paths: list[str] | None) -> IngestReport | None:
    """Ingest `paths` (if any) with progress on a terminal; report problems on stderr."""
    if not paths:
        return None
    from gascorr.ingest import ingest

    if c.dialect:
        from gascorr.parsers.text import BY_NAME

        if c.dialect not in BY_NAME:
            raise UserError(f"unknown dialect {c.dialect!r}; known: {', '.join(sorted(BY_NAME))}")
    progress = None
    bar = None
    if ENV.stderr_tty and not c.quiet:
        from gascorr.render.progress import IngestProgress

        bar = IngestProgress(ENV.stderr)
        progress = bar.update
    try:
        report = ingest(
            paths,
            c.store,
            names=_names(c),
            tz=c.tz,
            dialect_hint=c.dialect,
            progress=progress,
            say=ENV.say,
            strict=ENV.debug,
        )
    finally:
        if bar:
            bar.close()
    _report(report, c.quiet)
    return report


def _report(r: IngestReport, quiet: bool) -> None:
    for w in r.warnings:
        ENV.say(w)
    for f in r.parsed:
        for w in f.warnings:
            ENV.say(f"{f.source}: {w}")
        for line, why in f.rejects:
            ENV.say(f"{f.source}:{line}: rejected: {why}")
        if f.rejected > len(f.rejects):
            ENV.say(f"{f.source}: … {f.rejected - len(f.rejects)} more rejected lines")
    if not quiet and (r.parsed or r.warnings):
        ENV.say(
            f"ingested {_counted(len(r.parsed), 'file')} "
            f"({_counted(r.events, 'event')}, {_counted(r.rejected, 'rejected line')}), {r.unchanged} unchanged"
            + (f"; only the lines appended to {len(r.appended)} of them were parsed" if r.appended else "")
            + (f"; {len(r.unreadable)} could not be read" if r.unreadable else "")
        )


def _open(c: Common, paths: list[str] | None, *, external: bool = False) -> Store:
    """The store to query; without PATHs it must exist (a mistyped --store is an error, not an
    empty answer)."""
    from gascorr.query import Store
    from gascorr.store import MANIFEST, not_a_directory

    if not paths and not os.path.exists(os.path.join(c.store, MANIFEST)):
        not_a_directory(c.store)
        raise UserError(f"there is no store in {c.store}: ingest logs first (gascorr ingest PATH... --store {c.store})")
    return Store.open(c.store, c.tz, allow_external=external)


def _time_opt(value: str | None, tz: str, name: str) -> Any:
    if value is None:
        return None
    from gascorr.timeparse import parse_user_time

    try:
        return parse_user_time(value, tz)
    except ValueError as e:
        raise UserError(f"{name}: {e}") from e


def _rows(t: Any) -> list[dict[str, Any]]:
    from gascorr.timeline import to_rows

    return to_rows(t)


def _emit_rows(
    c: Common,
    result: Rows,
    *,
    title: str | None = None,
    columns: list[str] | None = None,
    shape: Callable[[dict[str, Any]], Any] | None = None,
    raw: bool = False,
) -> int:
    """A query's rows as a table (terminal), or as a JSON array / NDJSON (pipe) streamed
    batch by batch as DuckDB produces them, each row passed through `shape` when given.
    `raw`: the table shows values as they are (SQL). Returns the number of rows."""
    fmt = c.output(Format.table)
    if fmt in (Format.table, Format.tree):
        from gascorr.render.table import table

        rows = result.to_pylist()
        con = c.console()
        con.print(table(rows, columns, title, width=con.width, raw=raw))
        return len(rows)
    from gascorr.render import jsonout
    from gascorr.timeline import row_batches

    batches = row_batches(result.batches(), shape)
    if fmt == Format.ndjson:
        return jsonout.write_ndjson_batches(ENV.stdout, batches)
    return jsonout.write_array_batches(ENV.stdout, batches)


def _version(value: bool) -> None:
    if value:
        ENV.stdout.write(f"gascorr {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Correlate plain-text, JSON-lines and HAR logs into session and request timelines."""


# ---- commands -------------------------------------------------------------------------


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(metavar="PATH", help="Files, directories, globs, .gz or .zip archives.", show_default=False),
    ],
    store: StoreOpt = None,
    tz: TzOpt = "UTC",
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = None,
    color: ColorOpt = Color.auto,
    width: WidthOpt = None,
) -> int:
    """Parse PATHs into the store. Only new or changed files are read.

    Example: gascorr ingest artifacts/ logs.zip 'nightly/*.log.gz'
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    r = _ingest(c, paths)
    assert r is not None
    appended = set(r.appended)
    files = [
        {
            "source": f.source,
            "format": f.format,
            "dialect": f.dialect,
            "lines": f.lines,
            "events": f.events,
            "rejected": f.rejected,
            "appended": f.source in appended,
        }
        for f in r.parsed
    ]
    out = c.output(Format.table)
    if out == Format.ndjson:
        from gascorr.render import jsonout

        jsonout.write_ndjson(ENV.stdout, files)
    elif out == Format.json:
        from gascorr.render import jsonout

        jsonout.write_doc(
            ENV.stdout,
            {
                "files_seen": r.files_seen,
                "parsed": len(r.parsed),
                "unchanged": r.unchanged,
                "events": r.events,
                "rejected_lines": r.rejected,
                "warnings": r.warnings,
                "unreadable": r.unreadable,
                "files": files,
            },
        )
    elif files:
        from gascorr.render.table import table

        # the `appended` column only when some file was appended to: "yes" there, blank elsewhere
        shown = [
            {k: ("yes" if v else "") if k == "appended" else v for k, v in f.items() if k != "appended" or appended}
            for f in files
        ]
        con = c.console()
        con.print(table(shown, width=con.width))
    if r.unreadable:  # an input error, as grep's for a file it cannot read
        return ExitStatus.ERROR
    return ExitStatus.FOUND if r.files_seen else ExitStatus.NOTHING


@app.command()
def trace(
    paths: PathsArg = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            "-s",
            metavar="ID",
            help="A session id.",
            show_default=False,
        ),
    ] = None,
    request: Annotated[
        str | None,
        typer.Option(
            "--request",
            "-r",
            metavar="ID",
            help="A request id.",
            show_default=False,
        ),
    ] = None,
    trace_id: Annotated[
        str | None,
        typer.Option(
            "--trace",
            "-t",
            metavar="ID",
            help="A trace id (W3C, B3 or any).",
            show_default=False,
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    include: Annotated[
        list[Kind] | None,
        typer.Option(
            "--include",
            help="Only these kinds of event; repeat the option for several.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    level: Annotated[
        Level | None,
        typer.Option(
            "--level",
            metavar="LEVEL",
            help="Only events at or above this level: TRACE, DEBUG, INFO, WARN, ERROR or FATAL (any case; WARNING and CRITICAL also do).",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    absolute: Annotated[bool, typer.Option("--absolute", help="Show UTC clock times instead of +relative.")] = False,
    flat: Annotated[bool, typer.Option("--flat", help="Do not nest events under their request.")] = False,
    max_lines: Annotated[
        int, typer.Option("--max-lines", metavar="N", help="Continuation lines shown per event in a tree.", min=0)
    ] = 12,
    max_events: Annotated[
        int,
        typer.Option(
            "--max-events",
            metavar="N",
            help="Rows shown in a tree at most (events, request lines, folded runs); one last line counts the events left out.",
            min=1,
        ),
    ] = 500,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Show every event in a tree: no folding of repeated events and no --max-events limit."
        ),
    ] = False,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """Show one session's, request's or trace's events as an ordered timeline.

    Give exactly one of --session, --request or --trace. A session tree nests each request's
    events under its HTTP call; events without a request stand at the session level. A tree
    folds 3 or more like events in a row into the first and a count, and stops after
    --max-events rows; --full shows everything. JSON and NDJSON keep every event.

    Example: gascorr trace --request req-002 artifacts/
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    given = [x for x in (session, request, trace_id) if x is not None]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --session, --request or --trace")
    _ingest(c, paths)
    from gascorr import query, timeline

    s = _open(c, paths)
    filters = query.Filters(
        since=_time_opt(since, tz, "--since"),
        until=_time_opt(until, tz, "--until"),
        kinds=tuple(k.value for k in include or ()),
        min_level=level.stored if level else None,
    )
    rows = _rows(query.trace(s, session=session, request=request, trace_id=trace_id, filters=filters))
    if not rows:
        what = "session" if session is not None else "request" if request is not None else "trace"
        used = [o for o, v in (("--since", since), ("--until", until), ("--include", include), ("--level", level)) if v]
        every = query.trace(s, session=session, request=request, trace_id=trace_id).num_rows if used else 0
        if every:  # the id is there: say that the filters left nothing
            ENV.say(f"none of the {_counted(every, 'event')} of {what} {given[0]!r} pass {', '.join(used)}")
        else:
            ENV.say(f"no events for {what} {given[0]!r} in {c.store}")
        return ExitStatus.NOTHING
    if session is not None:
        amb = _rows(query.links_for(s, session))
        doc = timeline.session_doc(session, rows, amb)
        kind, ident = "session", session
    elif request is not None:
        doc = timeline.request_doc(request, rows)
        kind, ident = "request", request
    else:
        assert trace_id is not None
        doc = timeline.trace_doc(trace_id, rows)
        kind, ident = "trace", trace_id
    out = c.output()
    from gascorr.render import jsonout

    if out == Format.json:
        jsonout.write_doc(ENV.stdout, doc)
    elif out == Format.ndjson:
        jsonout.write_ndjson(ENV.stdout, doc["events"])
    elif out == Format.table:
        from gascorr.render.table import table

        cols = ["ts", "service", "level", "kind", "resolved_request", "status", "duration_ms", "message"]
        con = c.console()
        con.print(table(rows, cols, width=con.width))
    else:
        from gascorr.render.tree import TreeRenderer, header

        nodes = timeline.build_tree(rows, group=not flat and request is None, names=_names(c))
        hidden = 0
        if not full:
            nodes, hidden = timeline.limit(timeline.collapse(nodes), max_events)
        origin = rows[0].get("ts")
        r = TreeRenderer(absolute=absolute, max_lines=max_lines)
        c.console().print(r.render(header(kind, ident, doc), nodes, origin, hidden))
    return ExitStatus.FOUND


@app.command()
def sessions(
    paths: PathsArg = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            metavar="NAME",
            help="Only sessions that touched this service.",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        SessionStatus | None,
        typer.Option(
            "--status",
            help="error: any ERROR/FATAL event or HTTP status >= 500; ok: none.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    since: ActiveSinceOpt = None,
    until: ActiveUntilOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            help="At most this many sessions.",
            min=0,
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        SessionSort, typer.Option("--sort", help="Order of the rows.", case_sensitive=False)
    ] = SessionSort.started,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """List sessions with their summaries.

    Example: gascorr sessions --service payment-service --status error
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    _ingest(c, paths)
    from gascorr import query

    s = _open(c, paths)
    result = query.sessions(
        s,
        service=service,
        status=status.value if status else None,
        since=_time_opt(since, tz, "--since"),
        until=_time_opt(until, tz, "--until"),
        limit=limit,
        sort=sort.value,
    )
    n = _emit_rows(
        c,
        result,
        columns=[
            "session_id",
            "started_at",
            "duration_ms",
            "total_requests",
            "event_count",
            "errors",
            "status",
            "llm_calls",
            "services_touched",
        ],
    )
    return ExitStatus.FOUND if n else ExitStatus.NOTHING


@app.command()
def requests(
    paths: PathsArg = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            "-s",
            metavar="ID",
            help="Only this session's requests.",
            show_default=False,
        ),
    ] = None,
    slowest: Annotated[
        int | None,
        typer.Option(
            "--slowest",
            metavar="N",
            help="The N slowest requests, slowest first.",
            min=1,
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="STATUS", help="error, ok, a status code (502) or a class (5xx).", show_default=False
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            metavar="NAME",
            help="Only requests that touched this service.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        By,
        typer.Option(
            "--by",
            help="request: one row per request; endpoint: latency percentiles (p50/p90/p99) per method and path.",
            case_sensitive=False,
        ),
    ] = By.request,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            help="At most this many rows.",
            min=0,
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """List requests with their end-to-end latency and the services they touched.

    Example: gascorr requests --slowest 20
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    _ingest(c, paths)
    from gascorr import query

    s = _open(c, paths)
    if by == By.endpoint:
        n = _emit_rows(c, query.endpoints(s, session=session, service=service))
    else:
        result = query.requests(s, session=session, slowest=slowest, status=status, service=service, limit=limit)
        n = _emit_rows(
            c,
            result,
            columns=[
                "request_id",
                "session_id",
                "method",
                "url",
                "status",
                "started_at",
                "duration_ms",
                "event_count",
                "errors",
                "services_touched",
            ],
        )
    return ExitStatus.FOUND if n else ExitStatus.NOTHING


@app.command()
def grep(
    pattern: Annotated[
        str,
        typer.Argument(
            metavar="PATTERN", help="Text (or with -E a regular expression) to look for.", show_default=False
        ),
    ],
    paths: PathsArg = None,
    ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i", help="Match case-insensitively.")] = False,
    extended: Annotated[
        bool, typer.Option("--extended-regexp", "-E", help="PATTERN is a regular expression (RE2).")
    ] = False,
    fixed: Annotated[bool, typer.Option("--fixed-strings", "-F", help="PATTERN is plain text (the default).")] = False,
    field_: Annotated[
        str | None,
        typer.Option(
            "--field",
            metavar="NAME",
            help="Search this column (e.g. url, service) or attrs key (e.g. response.status) instead of the message.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[bool, typer.Option("--count", "-c", help="Print only the number of matching events.")] = False,
    files_with_matches: Annotated[
        bool, typer.Option("--files-with-matches", "-l", help="Print only the sources that have a match.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            help="At most this many events.",
            min=0,
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """Find events whose message matches PATTERN and show them with their session and request.

    With PATHs, only events from those files are searched. Exit 0 on a match, 1 on none.

    Example: gascorr grep "Insufficient funds" artifacts/
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    if extended and fixed:
        raise typer.BadParameter("-E and -F exclude each other")
    report = _ingest(c, paths)
    from gascorr import query

    s = _open(c, paths)
    sources = None
    if report is not None:
        sources = [s.manifest.files[k].source for k in report.keys if k in s.manifest.files]
    result = query.grep(s, pattern, regex=extended, ignore_case=ignore_case, field=field_, sources=sources, limit=limit)
    if count:
        n = sum(b.num_rows for b in result.batches())
        ENV.stdout.write(f"{n}\n")
    elif files_with_matches:
        from gascorr.display import printable

        found = {src for b in result.batches() for src in b.column("source").to_pylist()}
        tty = ENV.stdout.isatty()  # a name's control characters are escaped on a terminal only
        for src in sorted(found):
            ENV.stdout.write((printable(src) if tty else src) + "\n")
        n = len(found)
    elif c.output(Format.table) in (Format.tree, Format.table):
        rows = result.to_pylist()
        _print_grep(c, rows)
        n = len(rows)
    else:
        from gascorr.timeline import event_doc

        n = _emit_rows(c, result, shape=event_doc)
    return ExitStatus.FOUND if n else ExitStatus.NOTHING


def _print_grep(c: Common, rows: list[dict[str, Any]]) -> None:
    from rich.text import Text

    from gascorr.display import printable
    from gascorr.render import inert
    from gascorr.render.tree import LEVEL_STYLE
    from gascorr.timeline import iso

    con = c.console()
    for r in rows:
        t = Text()
        t.append(f"{printable(r['source'])}:{r['line']}", style="magenta")
        t.append(f"  {(iso(r['ts']) or '-')}", style="dim")
        t.append(f"  {r.get('level') or '·':<5}", style=LEVEL_STYLE.get(r.get("level") or "", "dim"))
        t.append(f"  session={inert(r.get('resolved_session') or '-')}", style="cyan")
        t.append(f" request={inert(r.get('resolved_request') or '-')}", style="cyan")
        t.append("\n    " + inert((r.get("message") or "").split("\n")[0]))
        con.print(t)


@app.command()
def sql(
    query_text: Annotated[
        str,
        typer.Argument(
            metavar="QUERY",
            help="DuckDB SQL over the views events, raw_events, sessions, requests and links.",
            show_default=False,
        ),
    ],
    paths: PathsArg = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """Run DuckDB SQL over the event table. This runs arbitrary SQL with your own permissions.

    Example: gascorr sql "SELECT service, count(*) FROM events GROUP BY ALL"
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    _ingest(c, paths)
    from gascorr import query

    s = _open(c, paths, external=True)
    n = _emit_rows(c, query.run_sql(s, query_text), raw=True)
    return ExitStatus.FOUND if n else ExitStatus.NOTHING


@app.command()
def stats(
    paths: PathsArg = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    tz: TzOpt = "UTC",
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    dialect: DialectOpt = None,
    config: ConfigOpt = None,
    width: WidthOpt = None,
) -> int:
    """Summarize the store: files, formats, dialects, events, rejected lines, ids, ambiguous ids.

    Example: gascorr stats artifacts/
    """
    c = _common(store, fmt, tz, color, quiet, debug, dialect, config, width)
    _ingest(c, paths)
    from gascorr import query

    s = _open(c, paths)
    st = query.stats(s)
    out = c.output(Format.table)
    if out == Format.ndjson:
        from gascorr.render import jsonout

        jsonout.write_ndjson(ENV.stdout, st["per_file"])
    elif out == Format.json:
        from gascorr.render import jsonout

        jsonout.write_doc(ENV.stdout, st)
    else:
        from gascorr.render.table import table

        con = c.console()
        totals = {k: v for k, v in st.items() if k not in ("formats", "per_file", "ambiguous_ids")}
        con.print(table([{"what": k, "value": v} for k, v in totals.items()], ["what", "value"], width=con.width))
        con.print()
        con.print(
            table(st["per_file"], ["source", "format", "dialect", "lines", "events", "rejected"], width=con.width)
        )
        if st["ambiguous_ids"]:
            con.print()
            con.print(table(st["ambiguous_ids"], ["kind", "id", "sessions"], title="ambiguous ids", width=con.width))
        for f in st["per_file"]:
            for r in f["rejects"][:5]:
                ENV.say(f"{f['source']}:{r['line']}: rejected: {r['why']}")
    return ExitStatus.FOUND if st["files"] else ExitStatus.NOTHING


def _counted(n: int, thing: str) -> str:
    """`1 event`, `2,500 events`."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


# ---- entry point ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    # Arrow's own allocator (mimalloc) reserves memory in large pieces, which a short process
    # pays for in page faults: the system allocator halves the peak memory of a `trace` and
    # its run-to-run spread, and takes a quarter off an ingest's system time (bench/README).
    # Set before anything imports pyarrow; ingest workers inherit it. A user's choice stands.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    ENV.stdout = _PipeGuard(sys.stdout)  # type: ignore[assignment]
    _leave(run(argv))


def _leave(status: int) -> NoReturn:
    """Exit with `status` once both output streams are flushed, skipping the interpreter's
    teardown: freeing every module and Arrow's and DuckDB's pools took ~20 ms of a 180 ms
    `trace` (bench/README). Nothing is left to it: every file gascorr writes is closed (and
    renamed into place) before `run` returns, and ingest's worker pool is shut down. A
    `--debug` traceback leaves through Python's own exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away: nothing more can reach it
            pass
    os._exit(status)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (the single place errors become statuses).

    The except clauses name their classes through functions: Python evaluates a clause only
    when an exception reaches it, so `--help` never imports the query or store modules."""
    args = list(sys.argv[1:] if argv is None else argv)
    ENV.debug = "--debug" in args
    try:
        rv = _command(args)(args=args, prog_name="gascorr", standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        ENV.say("interrupted")
        return 130
    except _click_exceptions().UsageError as e:
        if ENV.debug:
            raise
        ctx = e.ctx
        if ctx is not None:
            ENV.stderr.write(ctx.get_usage() + "\n")
        ENV.say(e.format_message())
        return ExitStatus.ERROR
    except _user_errors() as e:
        if ENV.debug:
            raise
        ENV.say(str(e))
        return ExitStatus.ERROR
    except (BrokenPipeError, PipeClosed):
        _quiet_pipe()
        return ExitStatus.FOUND
    except KeyboardInterrupt:
        ENV.say("interrupted")
        return 130
    except OSError as e:
        if ENV.debug:
            raise
        if getattr(e, "errno", None) == 32:  # EPIPE
            _quiet_pipe()
            return ExitStatus.FOUND
        ENV.say(f"{e.filename + ': ' if e.filename else ''}{(e.strerror or str(e)).lower()}")
        return ExitStatus.ERROR
    except Exception as e:  # a bug, not a user mistake: one line, the traceback on --debug
        from gascorr.engine import interrupted

        if interrupted(e):  # Ctrl-C while DuckDB ran a query (here or in a worker process)
            ENV.say("interrupted")
            return 130
        if ENV.debug:
            raise
        ENV.say(f"internal error ({type(e).__name__}: {e}); run again with --debug for the traceback")
        return ExitStatus.ERROR
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    return int(rv) if isinstance(rv, int) else 0


def _command(args: list[str]) -> Any:
    """The click command that runs `args`: when they start with a command's name, a tree
    holding that command alone (Typer builds each command from its function's signature,
    ~10 ms for all of them, which a `trace` would pay for commands it does not run); else
    the whole tree, for `--help`, `--version` and a mistyped command's suggestions."""
    import copy

    from typer.main import get_command, get_command_name

    first = args[0] if args else None
    only = [
        c
        for c in app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == first
    ]
    if not only:
        return get_command(app)
    one = copy.copy(app)
    one.registered_commands = only
    return get_command(one)


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors that are the user's to fix: one line on stderr, exit 2."""
    from gascorr.config import ConfigError
    from gascorr.query import QueryError
    from gascorr.sources import InputError
    from gascorr.store import StoreError

    return (UserError, InputError, StoreError, QueryError, ConfigError)


def _click_exceptions() -> Any:
    """Click's exception classes: vendored inside typer since 0.2x, a separate package before."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _quiet_pipe() -> None:
    """The reader went away: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

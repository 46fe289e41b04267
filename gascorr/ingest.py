"""Ingest: find sources, parse what is new or changed, write Parquet, relink, commit.

A source is unchanged when its size and mtime match the manifest, or when they differ but
its content fingerprint (BLAKE2b of the decompressed bytes) does not; unchanged sources are
not read again. A changed source gets new files and its old ones are swept after the
commit.

Parallelism: DuckDB 2.0's Python API holds the GIL while a query runs, so threads do not
parse two files at once. A large ingest (at least PROCESS_MIN_BYTES in two or more units
of work, see `_units`) parses in worker processes, one per core up to 4, largest first,
each with a one-thread DuckDB connection; a small one parses in this process, one file at
a time, with a DuckDB connection that uses every core inside each query. Small fresh
sources go in units of up to BATCH_FILES files and BATCH_BYTES bytes, and the JSON-lines
ones among them are parsed together (`jsonl.parse_batch`): a folder of many small files
pays a few statements per unit, not a few per file.

Nothing in one file can stop the others: a file that cannot be read, a refused
decompression bomb or a parser bug becomes one warning naming the file. Binary files,
encrypted zip members and refused bombs are recorded in the manifest with no events
(format `binary`, `encrypted` or `refused`), so `stats` lists them and the next run does
not look at them again; a file that failed while read is recorded as `unreadable` (unless
its earlier events are in the store) and tried again by the next run. Every message reads
`<file>: <what>` or `<file>:<line>: <what>`, with control characters in names shown
escaped.

An interrupted ingest leaves the store as its last commit left it: the commit at the end,
or a checkpoint every `store.CHECKPOINT_SECONDS` of a long ingest (whole files only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gascorr import store
from gascorr.display import printable
from gascorr.engine import interrupted
from gascorr.ids import DEFAULT, Names
from gascorr.sources import HEAD_BYTES, BombError, InputError, Source, find_sources, sniff, unicode_bom

if TYPE_CHECKING:
    import duckdb


@dataclass
class IngestReport:
    files_seen: int = 0
    keys: list[str] = field(default_factory=list)  # every source found, by store key
    parsed: list[store.FileEntry] = field(default_factory=list)
    skipped_binary: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)  # sources of which only new lines were parsed
    unreadable: list[str] = field(default_factory=list)  # sources that could not be read at all

    @property
    def events(self) -> int:
        return sum(e.events for e in self.parsed)

    @property
    def rejected(self) -> int:
        return sum(e.rejected for e in self.parsed)


def fingerprint(src: Source) -> str:
    """BLAKE2b of the source's decompressed bytes, up to the end or the first damage (the
    same bytes a parse reads, so a damaged file keeps a stable fingerprint)."""
    h = hashlib.blake2b(digest_size=16)
    with src.open() as f:
        while True:
            try:
                chunk = f.read(1 << 20)
            except BombError:
                raise
            except _damage_types():
                break
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def _edges_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("s", pa.string()), ("r", pa.string()), ("t", pa.string()), ("p", pa.string()), ("rows", pa.list_(pa.int64()))]
    )


# formats of sources listed in the manifest but not read
SKIPPED_FORMATS = ("binary", "encrypted", "refused")
# a source that could not be read at all: listed by `stats`, tried again by every ingest
UNREADABLE = "unreadable"

# a large ingest parses in worker processes when there is at least this much to read
PROCESS_MIN_BYTES = 48 * 1024 * 1024

_local = threading.local()
# DuckDB's buffer memory while relinking, in turn until one is enough: beyond it, it
# spills to disk, but a few operators cannot (see `relink`); None is DuckDB's default
RELINK_MEMORY: tuple[str | None, ...] = ("400MB", "4GB", None)
MAX_DELTAS = 8  # appends linked on their own before the next one relinks the whole store
_threads: int | None = None  # DuckDB threads per connection: 1 in a worker process, else all


def _con(tz: str) -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None or getattr(_local, "tz", None) != tz:
        from gascorr.engine import connect

        con = connect(tz, threads=_threads)
        _local.con, _local.tz = con, tz
    return con


def _in_worker() -> None:
    """Initializer of a worker process: its connection uses one thread (the others are busy)."""
    global _threads
    _threads = 1


def ingest_source(
    root: str,
    src: Source,
    kind: str,
    names: Names,
    tz: str,
    dialect_hint: str | None = None,
    *,
    first_line: int = 1,
    hasher: Any = None,
) -> store.FileEntry:
    """Parse one source into new Parquet files in the store; returns its manifest entry.
    An append passes the line number its bytes start at and the hash of the bytes before."""
    from gascorr.parsers import ParseContext, parse
    from gascorr.schema import arrow_schema

    con = _con(tz)
    ctx = ParseContext(
        con=con,
        names=names,
        dialect_hint=dialect_hint,
        tz=tz,
        hasher=hasher or hashlib.blake2b(digest_size=16),
        first_line=first_line,
    )
    ev_rel = store.new_name("events", ".parquet")
    ed_rel = store.new_name("events", ".edges.parquet")
    with store.ParquetSink(root, ed_rel, _edges_schema()) as edges:
        rows = store.write_parquet(root, ev_rel, _with_edges(parse(src, kind, ctx), con, edges), arrow_schema())
        has_edges = edges.close(keep_empty=False) > 0
    return _entry(root, src, kind, ctx, ev_rel, rows, ed_rel if has_edges else None)


def _with_edges(tables: Iterator[Any], con: duckdb.DuckDBPyConnection, sink: store.ParquetSink) -> Iterator[Any]:
    """`tables` (conformed to the event schema) as they are written, each one's id tuples
    written to `sink` on the way (`correlate.EDGES_CHUNK_SQL`)."""
    import pyarrow as pa

    from gascorr.correlate import EDGES_CHUNK_SQL
    from gascorr.engine import SMALL_ROWS, arrow
    from gascorr.kernels import call, cast, options
    from gascorr.schema import arrow_schema, conform

    schema, edges_schema = arrow_schema(), _edges_schema()
    cur = con.cursor()  # the parser's own statements may still be open on `con`
    n = 0
    try:
        for t in tables:
            if not t.num_rows:
                continue
            t = conform(t) if t.schema != schema else t
            ids = t.select(["session_id", "request_id", "trace_id", "format", "attrs", "source"])
            # the rows' numbers in the events file: n, n+1, … (a running sum of ones)
            rows = call(
                "cumulative_sum",
                pa.repeat(pa.scalar(1, pa.int64()), t.num_rows),
                options=options("CumulativeOptions", n - 1),
            )
            cur.register("gc_chunk", ids.append_column("gc_n", rows))
            sink.write(cast(arrow(cur, EDGES_CHUNK_SQL, small=t.num_rows <= SMALL_ROWS), edges_schema))
            cur.unregister("gc_chunk")
            n += t.num_rows
            yield t
    finally:
        cur.close()


def _entry(root: str, src: Source, kind: str, ctx: Any, ev_rel: str, rows: int, ed_rel: str | None) -> store.FileEntry:
    """The manifest entry of `src`, parsed with `ctx` into `ev_rel` (`rows` events; the file
    is removed when there are none) and its id tuples into `ed_rel` (None: there are none)."""
    if not rows:
        os.remove(os.path.join(root, ev_rel))
    fp = ctx.hasher.hexdigest()
    return store.FileEntry(
        source=src.name,
        key=src.key,
        size=src.size,
        mtime=src.mtime,
        fingerprint=fp,
        format=kind,
        dialect=ctx.dialect or kind,
        events=rows,
        lines=ctx.lines,
        blank=ctx.blank,
        rejected=ctx.rejected,
        rejects=ctx.reject_locations,
        notes=ctx.notes,
        warnings=ctx.warnings,
        parquet=ev_rel if rows else None,
        edges=ed_rel,
    )


# small fresh sources are parsed several to a unit of work (`work_batch`), up to these
BATCH_FILES = 64
BATCH_BYTES = 4 * 1024 * 1024  # as much as one chunk of a large file (`parsers.CHUNK_BYTES`)


def work_batch(jobs: list[Job]) -> list[tuple[Source, store.FileEntry | Appended | str]]:
    """Parse several small sources: the JSON-lines ones together (`jsonl.parse_batch`: a few
    statements for all of them instead of a few each), the others, and any the batch leaves
    out or cannot read, one by one as `work` does."""
    kinds: dict[str, str] = {}
    for j in jobs:
        with contextlib.suppress(Exception):  # unreadable: `work` says why
            kinds[j.src.key] = _kind(j.src)
    together = [j for j in jobs if kinds.get(j.src.key) == "jsonl"]
    done: dict[str, store.FileEntry] = {}
    if len(together) >= 2:
        written: list[str] = []
        try:
            done = _jsonl_batch(together, written)
        except store.StoreError:
            raise
        except Exception as e:  # each file alone, then, and each says what is wrong with it
            if interrupted(e):
                raise KeyboardInterrupt from e
            for rel in written:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(together[0].root, rel))
            if together[0].strict:  # --debug: a bug in the batch must show, not be worked around
                raise
            done = {}
    return [(j.src, done[j.src.key] if j.src.key in done else work(j, kinds.get(j.src.key))) for j in jobs]


def _jsonl_batch(jobs: list[Job], written: list[str]) -> dict[str, store.FileEntry]:
    """Entries of the JSON-lines sources of `jobs` that `jsonl.parse_batch` parses, by key;
    the store files written are added to `written` as they are."""
    from gascorr.correlate import EDGES_MANY_SQL
    from gascorr.engine import SMALL_ROWS, arrow
    from gascorr.kernels import cast
    from gascorr.parsers import ParseContext
    from gascorr.parsers.jsonl import parse_batch
    from gascorr.schema import arrow_schema

    first = jobs[0]
    con = _con(first.tz)
    ctxs = [ParseContext(con=con, names=j.names, tz=j.tz, hasher=hashlib.blake2b(digest_size=16)) for j in jobs]
    tables = parse_batch(con, [(j.src, ctx) for j, ctx in zip(jobs, ctxs, strict=True)])
    files: dict[int, tuple[str, int]] = {}
    for i, t in sorted(tables.items()):
        ev_rel = store.new_name("events", ".parquet")
        written.append(ev_rel)
        files[i] = (ev_rel, store.write_parquet(first.root, ev_rel, iter([t]), arrow_schema()))
    # the edges of all the files in one statement
    paths = {os.path.join(first.root, rel): i for i, (rel, rows) in files.items() if rows}
    edges: dict[int, Any] = {}
    if paths:
        import pyarrow as pa

        from gascorr.kernels import call

        found = arrow(con, EDGES_MANY_SQL, [list(paths)], small=sum(files[i][1] for i in paths.values()) <= SMALL_ROWS)
        names = found["filename"].to_pylist()
        found = found.drop_columns(["filename"])
        by: dict[int, list[int]] = {}
        for k, name in enumerate(names):
            by.setdefault(paths[name], []).append(k)
        for i, ks in by.items():
            edges[i] = call("take", found, pa.array(ks, pa.int64()))
    out: dict[str, store.FileEntry] = {}
    for i, (ev_rel, rows) in files.items():
        ed_rel = None
        if rows and i in edges:
            ed_rel = store.new_name("events", ".edges.parquet")
            written.append(ed_rel)
            store.write_parquet_plain(first.root, ed_rel, cast(edges[i], _edges_schema()))
        out[jobs[i].src.key] = _entry(first.root, jobs[i].src, "jsonl", ctxs[i], ev_rel, rows, ed_rel)
    return out


def _units(jobs: list[Job]) -> list[list[Job]]:
    """`jobs` as units of work: small fresh sources parsed with the same settings several to a
    unit (`work_batch`), every other source alone."""
    from gascorr.parsers.jsonl import BATCH_FILE_BYTES

    units: list[list[Job]] = []
    batch: list[Job] = []
    size = 0
    for j in jobs:
        if j.resume is not None or j.src.skip or j.dialect_hint is not None or j.src.size > BATCH_FILE_BYTES:
            units.append([j])
            continue
        if batch and (len(batch) >= BATCH_FILES or size + j.src.size > BATCH_BYTES):
            units.append(batch)
            batch, size = [], 0
        batch.append(j)
        size += j.src.size
    if batch:
        units.append(batch)
    return units


def _run(unit: list[Job]) -> list[tuple[Source, store.FileEntry | Appended | str]]:
    return work_batch(unit) if len(unit) > 1 else [(unit[0].src, work(unit[0]))]


def _kind(src: Source) -> str:
    with src.open() as f:
        head = f.read(HEAD_BYTES)
    return sniff(head)


def _damage_types() -> tuple[type[BaseException], ...]:
    from gascorr.parsers import _damage_types as damage

    return damage()


def ingest(
    paths: list[str],
    root: str,
    *,
    names: Names = DEFAULT,
    tz: str = "UTC",
    dialect_hint: str | None = None,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    say: Callable[[str], None] | None = None,
    strict: bool = False,
) -> IngestReport:
    """Ingest `paths` into the store at `root`; returns what was done.

    Raises InputError when a PATH does not exist, StoreError when the store cannot be
    written; everything wrong inside a file is recorded in the report and the manifest.
    """
    report = IngestReport()
    sources = find_sources(paths, report.warnings)
    # a path found but not readable (permission denied, a damaged zip archive) is an input error
    report.unreadable.extend(w.split(": cannot read: ")[0] for w in report.warnings if ": cannot read: " in w)
    report.files_seen = len(sources)
    report.keys = [s.key for s in sources]
    with store.locked(root, say):
        m = store.load(root)
        todo: list[Source] = []
        touched = False
        # a file parsed with other id names, time zone or dialect is parsed again
        settings = hashlib.blake2b(repr((names, tz, dialect_hint)).encode(), digest_size=8).hexdigest()
        for src in sources:
            old = m.files.get(src.key)
            if old and (old.settings != settings or old.format == UNREADABLE):
                old = None
            if old and old.size == src.size and old.mtime == src.mtime:
                report.unchanged += 1
                continue
            if old and old.fingerprint:
                try:
                    if fingerprint(src) == old.fingerprint:
                        old.size, old.mtime = src.size, src.mtime
                        report.unchanged += 1
                        touched = True
                        continue
                except Exception:  # unreadable now: parsing it says why
                    pass
            todo.append(src)

        changed = False
        # An archive read again is a changed file that replaces its old events: members it no
        # longer holds go (an archive that cannot be read now finds no members, and keeps them)
        read = {s.key[: -len(s.member) - 2] for s in sources if s.member is not None}
        found = set(report.keys)
        # (a plain file `x.zip!/a.log`, under a directory named `x.zip!`, is no member)
        for key in [k for k in m.files if k not in found and _in_archive(k, read) and not os.path.isfile(k)]:
            gone = m.files.pop(key)
            report.warnings.append(f"{printable(gone.source)}: no longer in its archive: its events are removed")
            changed = changed or bool(gone.pairs())
            touched = True
        done, total = 0, len(todo)
        last_commit = time.monotonic()
        jobs = [
            Job(root, src, names, tz, dialect_hint, strict, _resumable(m.files.get(src.key), src, settings))
            for src in todo
        ]
        said: dict[str, list[str]] = {}  # each source's warnings, reported in the sources' order
        # the edges files (-> events files) of lines appended to sources, while nothing else
        # changed what is linked: they may be linked on their own (`relink`)
        tails: dict[str, str] | None = None if changed else {}
        for src, res in _map(jobs, workers):
            done += 1
            if progress:
                progress(src.name, done, total)
            if isinstance(res, str):
                said[src.key] = [res]
                report.unreadable.append(printable(src.name))  # as the discovery's are
                old = m.files.get(src.key)
                if old is None or old.parquet is None:  # else its earlier events stay
                    why = res.removeprefix(f"{printable(src.name)}: ")
                    m.files[src.key] = _skipped_entry(src, UNREADABLE, why, prefix="")
                    touched = True
                continue
            if isinstance(res, Appended):
                report.parsed.append(res.tail)
                report.appended.append(src.name)
                m.files[src.key] = _merge(m.files[src.key], res.tail)
                said[src.key] = [f"{printable(src.name)}:{line}: {printable(why)}" for line, why in res.tail.notes]
                changed = True
                if tails is not None and res.tail.parquet and res.tail.edges:
                    tails[os.path.join(root, res.tail.edges)] = res.tail.parquet
                continue
            res.settings = settings
            before = m.files.get(src.key)
            m.files[src.key] = res
            if res.format in SKIPPED_FORMATS:
                if res.format == "binary":
                    report.skipped_binary.append(src.name)
                said[src.key] = [f"{printable(src.name)}: {printable(w)}" for w in res.warnings]
                touched = True
                if before is not None and before.pairs():  # its events are gone: so are their links
                    changed, tails = True, None
                continue
            report.parsed.append(res)
            said[src.key] = [f"{printable(src.name)}:{line}: {printable(why)}" for line, why in res.notes]
            changed, tails = True, None
            if done < total and time.monotonic() - last_commit > store.CHECKPOINT_SECONDS:
                relink(root, m)
                store.commit(root, m, final=False)
                last_commit, changed, touched, tails = time.monotonic(), False, False, {}
        order = {src.key: i for i, src in enumerate(todo)}
        report.parsed.sort(key=lambda e: order[e.key])
        for src in todo:
            report.warnings.extend(said.get(src.key, ()))
        # the first ingest into a store makes it even when it found nothing to parse
        if changed or touched or not os.path.exists(os.path.join(root, store.MANIFEST)):
            if changed:
                relink(root, m, tails)
            store.commit(root, m)
    return report


def _in_archive(key: str, archives: set[str]) -> bool:
    """Whether store key `key` names a member of one of `archives` (their keys)."""
    at = key.find("!/")
    while at >= 0:
        if key[:at] in archives:
            return True
        at = key.find("!/", at + 1)
    return False


@dataclass(frozen=True)
class Resume:
    """Where the lines appended to a source begin, and what its earlier bytes hashed to."""

    offset: int
    line: int
    fingerprint: str
    format: str
    dialect: str


@dataclass(frozen=True)
class Job:
    """One source to parse, with everything a worker process needs (it is pickled)."""

    root: str
    src: Source
    names: Names
    tz: str
    dialect_hint: str | None
    strict: bool
    resume: Resume | None = None


@dataclass
class Appended:
    """The entry of only the lines appended to a source (merged into its entry by `_merge`)."""

    tail: store.FileEntry


def work(job: Job, kind: str | None = None) -> store.FileEntry | Appended | str:
    """Parse one source into the store: its manifest entry (or that of the lines appended to
    it), or a warning naming the file. `kind`: the source's format when already sniffed."""
    src, root = job.src, job.root
    unreadable: tuple[type[BaseException], ...] = (*_damage_types(), InputError, NotImplementedError, RuntimeError)
    shown = printable(src.name)
    try:
        if src.skip:
            return _skipped_entry(src, "encrypted", src.skip)
        if job.resume is not None:
            tail = _parse_appended(job, job.resume)
            if tail is not None:
                return Appended(tail)
        kind = kind or _kind(src)
        if kind == "binary":
            return _skipped_entry(src, "binary", "a binary file, not a log")
        return ingest_source(root, src, kind, job.names, job.tz, job.dialect_hint)
    except BombError as e:  # listed by `stats`; the next run is quiet about it
        return _skipped_entry(src, "refused", str(e), prefix="")
    except store.StoreError:
        raise
    except unreadable as e:
        if interrupted(e):  # Ctrl-C stops the ingest; it is not a fault of this file
            raise KeyboardInterrupt from e
        if isinstance(e, OSError) and _is_store_error(e, root):
            raise store.StoreError(f"cannot write to the store {root}: {_why(e)}") from e
        return f"{shown}: cannot read: {printable(_why(e))}"
    except Exception as e:  # a parser bug must not cost the other files
        if interrupted(e):
            raise KeyboardInterrupt from e
        if job.strict:
            raise
        why = printable(f"{type(e).__name__}: {e}".splitlines()[0])
        return f"{shown}: could not parse ({why}); run with --debug for details"


# a source that grew is parsed from where it ended when it was a text or JSON-lines file
APPENDABLE_FORMATS = ("text", "jsonl")
MAX_APPENDS = 16  # then the whole file is parsed again, into one events file


def _resumable(old: store.FileEntry | None, src: Source, settings: str) -> Resume | None:
    """How to parse only what was appended to `src` since `old`, when that can be exact
    (and `old` was parsed with the same names, time zone and dialect)."""
    if old is None or not old.fingerprint or old.format not in APPENDABLE_FORMATS or old.settings != settings:
        return None
    if src.gz or src.member is not None or src.size <= old.size or len(old.appended) >= MAX_APPENDS:
        return None
    try:
        with open(src.path, "rb") as f:
            if unicode_bom(f.read(4)):  # read as UTF-8 from its start: never from the middle
                return None
    except OSError:
        return None
    return Resume(old.size, old.lines + 1, old.fingerprint, old.format, old.dialect)


def _parse_appended(job: Job, r: Resume) -> store.FileEntry | None:
    """Parse the bytes after `r.offset`, when the bytes before it are those parsed before
    (same hash) and end a line, and — for a dialect whose events span lines — the first
    new line starts an event; else None (the whole file is parsed again)."""
    from gascorr.parsers import text

    h = hashlib.blake2b(digest_size=16)
    with open(job.src.path, "rb") as f:
        left = r.offset
        while left:
            block = f.read(min(left, 1 << 20))
            if not block:
                return None
            h.update(block)
            left -= len(block)
        if h.hexdigest() != r.fingerprint:
            return None
        f.seek(r.offset - 1)
        if f.read(1) != b"\n":
            return None
        first = f.readline(1 << 16).decode("utf-8", "replace").rstrip("\r\n")
    hint = None
    if r.format == "text":
        rows = text.ROWS.get(r.dialect)
        if not rows or (any(d.multiline for d in rows) and not any(text.starts_event(d, first) for d in rows)):
            return None
        hint = r.dialect
    src = dataclasses.replace(job.src, offset=r.offset)
    return ingest_source(job.root, src, r.format, job.names, job.tz, hint, first_line=r.line, hasher=h)


def _merge(old: store.FileEntry, tail: store.FileEntry) -> store.FileEntry:
    """`old` with the lines appended to its source, parsed into `tail`."""
    from gascorr.parsers import MAX_NOTES, MAX_REJECT_LOCATIONS

    appended = list(old.appended)
    if tail.parquet:
        appended.append((tail.parquet, tail.edges))
    return dataclasses.replace(
        old,
        size=tail.size,
        mtime=tail.mtime,
        fingerprint=tail.fingerprint,
        events=old.events + tail.events,
        lines=old.lines + tail.lines,
        blank=old.blank + tail.blank,
        rejected=old.rejected + tail.rejected,
        rejects=(old.rejects + tail.rejects)[:MAX_REJECT_LOCATIONS],
        notes=(old.notes + tail.notes)[:MAX_NOTES],
        warnings=old.warnings + [w for w in tail.warnings if w not in old.warnings],
        appended=appended,
        ingested_at=tail.ingested_at,
    )


def _skipped_entry(src: Source, fmt: str, why: str, prefix: str = "skipped: ") -> store.FileEntry:
    """A manifest entry for a source that is not read (binary, encrypted, a refused
    decompression bomb) or could not be (unreadable): no events, one warning, no
    fingerprint. Recorded so `stats` lists it (and the next run is quiet about a skipped
    one; an unreadable one is tried again)."""
    return store.FileEntry(
        source=src.name,
        key=src.key,
        size=src.size,
        mtime=src.mtime,
        fingerprint="",
        format=fmt,
        dialect=fmt,
        events=0,
        lines=0,
        blank=0,
        rejected=0,
        rejects=[],
        warnings=[f"{prefix}{why}"],
        parquet=None,
        edges=None,
    )


def _is_store_error(e: OSError, root: str) -> bool:
    """Whether `e` is about writing the store (disk full, store unwritable), not reading an input."""
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return True
    name = e.filename if isinstance(e.filename, str) else ""
    return bool(name) and os.path.abspath(name).startswith(os.path.abspath(root) + os.sep)


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    return str(e) or type(e).__name__


def _map(jobs: list[Job], workers: int | None) -> Iterator[tuple[Source, store.FileEntry | Appended | str]]:
    """(source, result) for every job, as they finish: in worker processes for a large
    ingest (largest files first, so the last one does not run alone), else here in turn."""
    n = workers or min(os.cpu_count() or 1, 4)
    total = sum(j.src.size for j in jobs)
    units = _units(jobs)
    if n <= 1 or len(units) < 2 or total < PROCESS_MIN_BYTES:
        for u in units:
            yield from _run(u)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold DuckDB and Arrow thread pools
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n, len(units)), mp_context=ctx, initializer=_in_worker) as pool:
        futures = [pool.submit(_run, u) for u in sorted(units, key=lambda u: -sum(j.src.size for j in u))]
        try:
            for f in as_completed(futures):
                yield from f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def relink(root: str, m: store.Manifest, appended: dict[str, str] | None = None) -> None:
    """Recompute the links table and the session and request indexes from every source's
    edges, and name the new files in `m` (committed by the caller).

    When only lines appended to sources changed (`appended`: their edges files -> events
    files), and they link only new ids, to what the store already links, without changing
    any link row (`correlate.added_links`), they are linked on their own instead: three
    small delta files (`Manifest.deltas`, at most MAX_DELTAS, read with the full ones), so an
    append does not pay for relinking the whole store.

    Its memory is bounded whatever the store's size: DuckDB keeps at most `RELINK_MEMORY`
    of buffers and spills the rest to the store's `tmp/` (which `store.sweep` removes), and
    the sorted tables stream into their files batch by batch. (A 7M-event store relinks in
    650 MiB, where holding it all took 3.7 GiB.) Should an operator that cannot spill need
    more, it is tried again with the next limit."""
    import duckdb

    # (appended lines with no ids leave every link and index as it is)
    if (
        appended is not None
        and m.links is not None
        and len(m.deltas) < MAX_DELTAS
        and (not appended or _link_appended(root, m, appended))
    ):
        return
    by_edges = m.edge_files(root)
    if not by_edges:
        m.links = m.by_session = m.by_request = None
        m.deltas = []
        return
    for i, limit in enumerate(RELINK_MEMORY):
        try:
            return _relink(root, m, by_edges, limit)
        except Exception as e:  # from DuckDB, or through the Arrow stream of a result
            out_of_memory = isinstance(e, duckdb.OutOfMemoryException) or "Out of Memory Error" in str(e)
            if not out_of_memory:
                raise
            if i == len(RELINK_MEMORY) - 1:
                why = str(e).strip().splitlines()[0]
                raise store.StoreError(f"not enough memory to link the store's ids ({why})") from e


def _relink(root: str, m: store.Manifest, by_edges: dict[str, str], limit: str | None) -> None:
    import duckdb

    from gascorr.correlate import compute_links

    # a connection of its own, without gascorr's macros (linking needs none): ~15 ms, and
    # its memory limit and spill directory are set before anything could use them
    tmp = os.path.join(root, "tmp")
    config: dict[str, str | bool | int | float | list[str]] = {"threads": os.cpu_count() or 2, "temp_directory": tmp}
    if limit:
        config["memory_limit"] = limit
    con = duckdb.connect(config=config)
    try:
        _read_edges(con, by_edges)
        compute_links(con, "gc_in")
        m.links = store.new_name("links", ".parquet")
        # ambiguous ids first, in row groups of their own: a trace reads just those
        links = con.sql("SELECT * FROM links ORDER BY ambiguous DESC, session, kind, id").to_arrow_reader()
        store.write_parquet_plain(root, m.links, links, row_group_size=store.INDEX_ROW_GROUP)
        m.by_session, m.by_request = _write_indexes(con, root, by_edges)
        m.deltas = []
    finally:
        con.close()  # what DuckDB leaves in `tmp` goes with the commit's sweep


def _read_edges(con: duckdb.DuckDBPyConnection, edges: dict[str, str]) -> None:
    """TEMP TABLE `gc_in`: the id tuples of the edges files `edges` (path -> events file),
    with each one's `filename`."""
    from gascorr.engine import literal

    con.execute(f"CREATE TEMP TABLE gc_in AS SELECT * FROM read_parquet({literal(list(edges))}, filename = true)")


def _write_indexes(con: duckdb.DuckDBPyConnection, root: str, edges: dict[str, str]) -> tuple[str, str]:
    """Write the by-session and by-request index files of the tuples in `gc_in` (read from
    `edges`, path -> events file) with the TEMP TABLE `links`; their store-relative names."""
    from gascorr.correlate import INDEX_SQL

    con.execute("CREATE TEMP TABLE gc_files (filename VARCHAR, file VARCHAR)")
    con.executemany("INSERT INTO gc_files VALUES (?, ?)", list(edges.items()))
    con.execute(
        "CREATE TEMP TABLE gc_index AS "
        + INDEX_SQL.format(edges="(SELECT gc_in.*, f.file FROM gc_in JOIN gc_files f USING (filename))")
    )
    names = []
    for col in ("session", "request"):
        rel = store.new_name("links", f".by-{col}.parquet")
        rows = con.sql(f"SELECT * FROM gc_index WHERE {col} IS NOT NULL ORDER BY {col}").to_arrow_reader()
        # only the key is looked up by its statistics; paths repeat, ids rarely do: a
        # third less to encode than every column with both
        store.write_parquet_plain(
            root, rel, rows, row_group_size=store.INDEX_ROW_GROUP, dictionary=["file"], statistics=[col]
        )
        names.append(rel)
    return names[0], names[1]


def _link_appended(root: str, m: store.Manifest, appended: dict[str, str]) -> bool:
    """Link the id tuples of appended lines on their own, when `correlate.added_links` can:
    write the new ids' links rows and the appended events' index rows as one more delta of
    `m`. False (nothing written) when the whole store must be relinked."""
    import duckdb
    import pyarrow as pa

    from gascorr.correlate import MAX_ADDED_TUPLES, added_links
    from gascorr.engine import literal

    con = duckdb.connect(config={"threads": os.cpu_count() or 2})
    try:
        _read_edges(con, appended)
        [(count,)] = con.execute("SELECT count(*) FROM gc_in").fetchall()
        if count > MAX_ADDED_TUPLES:
            return False
        tuples = con.execute("SELECT s, r, t, p FROM gc_in").fetchall()
        links = [os.path.join(root, f) for f in m.links_files()]
        known_rows = con.sql(
            f"""SELECT l.* FROM read_parquet({literal(links)}) l
                JOIN (SELECT DISTINCT 'request' AS kind, r AS id FROM gc_in WHERE r IS NOT NULL
                      UNION SELECT DISTINCT 'trace', t FROM gc_in WHERE t IS NOT NULL) USING (kind, id)"""
        ).to_arrow_table()
        known = {(r["kind"], r["id"]): r for r in known_rows.to_pylist()}
        rows = added_links(tuples, known)
        if rows is None:
            return False
        new_rows = pa.Table.from_pylist(rows, schema=known_rows.schema)
        rel = store.new_name("links", ".parquet")
        store.write_parquet_plain(root, rel, new_rows, row_group_size=store.INDEX_ROW_GROUP)
        con.register("gc_known", known_rows)
        con.register("gc_new", new_rows)
        con.execute("CREATE TEMP TABLE links AS SELECT * FROM gc_known UNION ALL SELECT * FROM gc_new")
        m.deltas.append((rel, *_write_indexes(con, root, appended)))
        return True
    finally:
        con.close()

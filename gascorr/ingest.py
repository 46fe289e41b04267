"""Ingest: find sources, parse what is new or changed, write Parquet, relink, commit.

A source is unchanged when its size and mtime match the manifest, or when they differ but
its content fingerprint (BLAKE2b) does not; unchanged sources are not read again. A
changed source gets new files and its old ones are swept after the commit. Sources are
parsed in parallel, one DuckDB connection per worker thread (DuckDB releases the GIL).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gascorr import store
from gascorr.ids import DEFAULT, Names
from gascorr.sources import HEAD_BYTES, InputError, Source, find_sources, sniff

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

    @property
    def events(self) -> int:
        return sum(e.events for e in self.parsed)

    @property
    def rejected(self) -> int:
        return sum(e.rejected for e in self.parsed)


def fingerprint(src: Source) -> str:
    h = hashlib.blake2b(digest_size=16)
    with src.open() as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _edges_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("s", pa.string()), ("r", pa.string()), ("t", pa.string()), ("p", pa.string())])


_local = threading.local()


def _con(tz: str) -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None or getattr(_local, "tz", None) != tz:
        from gascorr.engine import connect

        con = connect(tz, threads=1)
        _local.con, _local.tz = con, tz
    return con


def ingest_source(
    root: str, src: Source, kind: str, names: Names, tz: str, dialect_hint: str | None = None
) -> store.FileEntry:
    """Parse one source into new Parquet files in the store; returns its manifest entry."""
    from gascorr.correlate import EDGES_SQL
    from gascorr.engine import arrow
    from gascorr.parsers import ParseContext, parse
    from gascorr.schema import arrow_schema

    con = _con(tz)
    ctx = ParseContext(con=con, names=names, dialect_hint=dialect_hint, tz=tz, hasher=hashlib.blake2b(digest_size=16))
    ev_rel = store.new_name("events", ".parquet")
    rows = store.write_parquet(root, ev_rel, parse(src, kind, ctx), arrow_schema())
    ed_rel: str | None = None
    if rows:
        path = os.path.join(root, ev_rel)
        edges = arrow(con, EDGES_SQL.format(events="read_parquet(?)"), [path])
        if edges.num_rows:
            ed_rel = store.new_name("events", ".edges.parquet")
            store.write_parquet_plain(root, ed_rel, edges.cast(_edges_schema()))
    else:
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
        warnings=ctx.warnings,
        parquet=ev_rel if rows else None,
        edges=ed_rel,
    )


def _kind(src: Source) -> str:
    with src.open() as f:
        head = f.read(HEAD_BYTES)
    return sniff(head)


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

    Raises InputError when a PATH does not exist; everything wrong inside a file is
    recorded in the report and the manifest instead.
    """
    report = IngestReport()
    sources = find_sources(paths, report.warnings)
    report.files_seen = len(sources)
    report.keys = [s.key for s in sources]
    with store.locked(root, say):
        m = store.load(root)
        todo: list[Source] = []
        touched = False
        for src in sources:
            old = m.files.get(src.key)
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
                except (OSError, InputError, EOFError):
                    pass
            todo.append(src)
        changed = False
        total = len(todo)

        def work(src: Source) -> store.FileEntry | str | None:
            try:
                kind = _kind(src)
                if kind == "binary":
                    return f"skipped {src.name}: a binary file, not a log"
                return ingest_source(root, src, kind, names, tz, dialect_hint)
            except (OSError, EOFError, InputError) as e:
                return f"cannot read {src.name}: {_why(e)}"
            except Exception as e:  # a parser bug must not cost the other files
                if strict:
                    raise
                return f"could not parse {src.name} ({type(e).__name__}: {e}); run with --debug for details"

        done = 0
        for src, res in zip(todo, _map(work, todo, workers), strict=True):
            done += 1
            if progress:
                progress(src.name, done, total)
            if isinstance(res, str):
                report.warnings.append(res)
                if res.startswith("skipped") and "binary" in res:
                    report.skipped_binary.append(src.name)
                continue
            if res is None:
                continue
            m.files[src.key] = res
            report.parsed.append(res)
            changed = True
        if changed or touched:
            if changed:
                m.links = relink(root, m)
            store.commit(root, m)
    return report


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    return str(e) or type(e).__name__


def _map(fn: Callable[[Source], Any], items: list[Source], workers: int | None) -> Iterator[Any]:
    n = workers or min(2, os.cpu_count() or 1)
    if n <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        yield from pool.map(fn, items)


def relink(root: str, m: store.Manifest) -> str | None:
    """Recompute the links table from every source's edges; returns its store-relative path."""
    from gascorr.correlate import compute_links
    from gascorr.engine import arrow, connect, literal

    files = m.edge_files(root)
    if not files:
        return None
    con = connect()
    try:
        con.execute(f"CREATE TEMP TABLE gc_in AS SELECT * FROM read_parquet({literal(files)})")
        compute_links(con, "gc_in")
        rel = store.new_name("links", ".parquet")
        store.write_parquet_plain(root, rel, arrow(con, "SELECT * FROM links"))
    finally:
        con.close()
    return rel

"""The store: a directory of plain Parquet files plus a small JSON manifest.

Layout (all of it readable by any Parquet engine):

    .gascorr/
      manifest.json            which source maps to which files, with counts, rejects, notes
      events/<id>.parquet      the events of one ingested source (zstd), in line order, in
                               row groups of about ROW_GROUP_BYTES (a trace reads few of them)
      events/<id>.edges.parquet  the distinct id tuples of a source's events and the rows
                               carrying each, for linking and for the indexes (its own id)
      links/<gen>.parquet      ids -> session/request, recomputed after each ingest
      links/<gen>.by-session.parquet  (events file, row, session, request) of every event that
      links/<gen>.by-request.parquet  resolves to one, sorted by session / by request; appends
                               that link only new ids add three small ones of their own
                               (`Manifest.deltas`, read together with these)
      lock                     held while an ingest writes

Atomicity: new Parquet files get new names and are fully written and fsynced before the
manifest that names them replaces the old one with `os.replace` — the commit point. A
crash (even `kill -9`) before it leaves the old manifest naming only old, intact files; a
crash after it leaves the new one. An ingest may commit more than once (a checkpoint every
`CHECKPOINT_SECONDS`), each commit naming whole files only.

Readers load the manifest once and read only the files it names, so a query during an
ingest sees one consistent generation. For that, files a commit stops naming (an older
version of a re-ingested source, the previous links table) are not deleted at once: the
manifest lists them under `orphans` with the time they were orphaned, and a later commit
deletes them once `GRACE_SECONDS` have passed. Files no manifest ever named (left by a
crashed ingest) are deleted by the next ingest's final commit.

Concurrency: an ingest holds an exclusive `flock` on `lock`; a second ingest says it is
waiting and blocks until the first finishes, then finds the work done.

Files and directories are created with the user's umask (nothing is chmod-ed wider).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

MANIFEST = "manifest.json"
# version of the files' arrangement (not of the event table: that is schema.SCHEMA_VERSION);
# 2: edges files carry the rows of each id tuple, and the session / request indexes exist
LAYOUT = 2
# a store with append deltas (`Manifest.deltas`) says so, so that a gascorr that does not
# read them refuses it instead of answering without the appended events' links
LAYOUT_WITH_DELTAS = 3
DEFAULT_DIR = ".gascorr"
GRACE_SECONDS = 600.0
CHECKPOINT_SECONDS = 60.0
# rows per row group of the session / request indexes: a lookup reads one or two of them
INDEX_ROW_GROUP = 8192
ROW_GROUP_BYTES = 1024 * 1024
# columns with few distinct values per file; dictionary pages for the others (messages, ids,
# attrs) cost twice the decoding time of plain ones and save almost nothing after zstd
DICTIONARY_COLUMNS = ["source", "format", "dialect", "kind", "service", "level", "method"]
# min/max statistics only where a query can skip row groups by them (not messages, attrs)
STATISTICS_COLUMNS = ["ts", "line", "kind", "level", "session_id", "request_id", "trace_id", "status", "duration_ms"]


class StoreError(Exception):
    """The store cannot be used (unreadable manifest, a schema from another version, a failed write)."""


def store_path(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GASCORR_STORE") or DEFAULT_DIR


@dataclass
class FileEntry:
    source: str
    key: str
    size: int
    mtime: float
    fingerprint: str
    format: str
    dialect: str
    events: int
    lines: int
    blank: int
    rejected: int
    rejects: list[tuple[int, str]]
    warnings: list[str]
    parquet: str | None
    edges: str | None
    ingested_at: float = field(default_factory=time.time)
    notes: list[tuple[int, str]] = field(default_factory=list)  # located problems with kept lines
    settings: str = ""  # digest of the id names, time zone and dialect it was parsed with
    # (events, edges) files of lines appended since the whole-file parse, oldest first
    appended: list[tuple[str, str | None]] = field(default_factory=list)

    def pairs(self) -> list[tuple[str, str | None]]:
        """Every (events file, edges file) of this source: the whole-file parse's, then appends'."""
        return ([(self.parquet, self.edges)] if self.parquet else []) + list(self.appended)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileEntry:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["rejects"] = [tuple(x) for x in d.get("rejects", [])]
        d["notes"] = [tuple(x) for x in d.get("notes", [])]
        d["appended"] = [tuple(x) for x in d.get("appended", [])]
        return cls(**d)


@dataclass
class Manifest:
    generation: int = 0
    files: dict[str, FileEntry] = field(default_factory=dict)
    links: str | None = None
    # the events of each session / request as (events file, row): see `correlate.INDEX_SQL`
    by_session: str | None = None
    by_request: str | None = None
    # what appends added since the last full relink, when they changed no earlier id's link:
    # (links, by-session, by-request) files, each read together with the one above
    deltas: list[tuple[str, str, str]] = field(default_factory=list)
    schema_version: int = 1
    orphans: dict[str, float] = field(default_factory=dict)  # store-relative path -> when orphaned

    def event_files(self, root: str) -> list[str]:
        return [os.path.join(root, ev) for f in self.files.values() for ev, _ in f.pairs()]

    def edge_files(self, root: str) -> dict[str, str]:
        """Each edges file (full path) with the events file (store-relative) its rows are in."""
        return {os.path.join(root, ed): ev for f in self.files.values() for ev, ed in f.pairs() if ed}

    def named(self) -> set[str]:
        """Every store-relative file this manifest names."""
        out = {name for f in self.files.values() for pair in f.pairs() for name in pair if name}
        out |= {f for f in (self.links, self.by_session, self.by_request) if f}
        out |= {f for d in self.deltas for f in d}
        return out

    def links_files(self) -> list[str]:
        return [self.links, *(d[0] for d in self.deltas)] if self.links else []

    def index_files(self, col: str) -> list[str]:
        """The store-relative index files by `col` (session or request), the full one first."""
        base = self.by_session if col == "session" else self.by_request
        return [base, *(d[1 if col == "session" else 2] for d in self.deltas)] if base else []


def load(root: str) -> Manifest:
    """The store's manifest; an empty one when the store does not exist yet."""
    path = os.path.join(root, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except FileNotFoundError:
        return Manifest()
    except (OSError, ValueError) as e:
        raise StoreError(f"cannot read the store manifest {path}: {e}") from e
    from gascorr.schema import SCHEMA_VERSION

    if not isinstance(d, dict) or d.get("schema_version") != SCHEMA_VERSION:
        got = d.get("schema_version") if isinstance(d, dict) else None
        raise StoreError(
            f"the store {root} was written with schema version {got}; "
            f"this gascorr writes {SCHEMA_VERSION}: remove the store and ingest again"
        )
    if d.get("layout", 1) not in (LAYOUT, LAYOUT_WITH_DELTAS):
        raise StoreError(
            f"the store {root} was written by another version of gascorr (store layout "
            f"{d.get('layout', 1)}, this one uses {LAYOUT} or {LAYOUT_WITH_DELTAS}): remove the store and ingest again"
        )
    try:
        return Manifest(
            generation=d.get("generation", 0),
            files={k: FileEntry.from_json(v) for k, v in d.get("files", {}).items()},
            links=d.get("links"),
            by_session=d.get("by_session"),
            by_request=d.get("by_request"),
            deltas=[tuple(x) for x in d.get("deltas", [])],  # type: ignore[misc]
            schema_version=d["schema_version"],
            orphans=dict(d.get("orphans") or {}),
        )
    except (TypeError, ValueError, AttributeError) as e:
        raise StoreError(f"cannot read the store manifest {path}: {e}") from e


def commit(root: str, m: Manifest, *, final: bool = True) -> None:
    """Write the manifest atomically (the commit point of an ingest), then clean up.

    Files the previous manifest named and `m` does not become orphans (kept for readers for
    GRACE_SECONDS). `final` also deletes files no manifest names (crash leftovers); a
    checkpoint in the middle of an ingest must not, as workers may be writing new ones.
    """
    now = time.time()
    try:
        before = load(root)
    except StoreError:
        before = Manifest()
    named = m.named()
    orphans = {**before.orphans, **m.orphans}
    for rel in before.named() - named:
        orphans.setdefault(rel, now)
    expired = {rel for rel, t in orphans.items() if now - t >= GRACE_SECONDS or not _exists(root, rel)}
    m.orphans = {rel: t for rel, t in orphans.items() if rel not in named and rel not in expired}
    m.generation += 1
    data = {
        "schema_version": m.schema_version,
        "layout": LAYOUT_WITH_DELTAS if m.deltas else LAYOUT,
        "generation": m.generation,
        "links": m.links,
        "by_session": m.by_session,
        "by_request": m.by_request,
        "deltas": [list(d) for d in m.deltas],
        "orphans": dict(sorted(m.orphans.items())),
        "files": {k: vars(v) for k, v in sorted(m.files.items())},
    }
    tmp = os.path.join(root, f".{MANIFEST}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(root, MANIFEST))
    except OSError as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise StoreError(f"cannot write the store manifest in {root}: {e.strerror or e}") from e
    _fsync_dir(root)
    for rel in expired - named:
        with contextlib.suppress(OSError):
            os.remove(os.path.join(root, rel))
    if final:
        sweep(root, m)


def _exists(root: str, rel: str) -> bool:
    return os.path.exists(os.path.join(root, rel))


def sweep(root: str, m: Manifest) -> None:
    """Delete files in the store that neither the manifest nor its orphan list names
    (leftovers of a crashed ingest, temporary files)."""
    keep = m.named() | set(m.orphans)
    for sub in ("events", "links"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for fn in os.listdir(d):
            rel = f"{sub}/{fn}"
            if rel not in keep:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(d, fn))
    for fn in os.listdir(root):
        if fn.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(root, fn))
    shutil.rmtree(os.path.join(root, "tmp"), ignore_errors=True)  # DuckDB's spill space (`ingest.relink`)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_name(sub: str, suffix: str) -> str:
    return f"{sub}/{uuid.uuid4().hex[:16]}{suffix}"


class ParquetSink:
    """A Parquet file (zstd) written a table at a time, named only by `close()`, which syncs
    and renames it; until then it is `rel.tmp`, removed if the `with` block fails:

        with ParquetSink(root, rel, schema) as sink:
            sink.write(t)
            rows = sink.close()
    """

    def __init__(
        self,
        root: str,
        rel: str,
        schema: Any,
        *,
        dictionary: bool | list[str] = True,
        statistics: bool | list[str] = True,
    ) -> None:
        import pyarrow.parquet as pq

        self.path = os.path.join(root, rel)
        self.rows = 0
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._file = open(self.path + ".tmp", "wb")  # noqa: SIM115 - closed by close or __exit__
        try:
            self._writer = pq.ParquetWriter(
                self._file, schema, compression="zstd", use_dictionary=dictionary, write_statistics=statistics
            )
        except BaseException:
            self._discard()
            raise

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._file.closed:
            self._discard()

    def write(self, t: Any, row_group_size: int | None = None) -> None:
        if t.num_rows:
            self._writer.write_table(t, row_group_size=row_group_size)
            self.rows += t.num_rows

    def close(self, *, keep_empty: bool = True) -> int:
        """Name the file (unless it holds no rows and not `keep_empty`); returns its rows."""
        if not self.rows and not keep_empty:
            self._discard()
            return 0
        self._writer.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.path + ".tmp", self.path)
        return self.rows

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        self._file.close()
        with contextlib.suppress(OSError):
            os.remove(self.path + ".tmp")


def write_parquet(root: str, rel: str, tables: Iterator[Any], schema: Any) -> int:
    """Stream event `tables` into `root/rel`, in row groups of about ROW_GROUP_BYTES;
    returns rows written."""
    from gascorr.schema import conform

    with ParquetSink(root, rel, schema, dictionary=DICTIONARY_COLUMNS, statistics=STATISTICS_COLUMNS) as sink:
        for t in tables:
            if t.num_rows:
                sink.write(conform(t) if t.schema != schema else t, _rows_per_group(t))
        return sink.close()


def _rows_per_group(t: Any) -> int:
    """Rows per row group for events like `t`'s: about ROW_GROUP_BYTES of Arrow data (so a
    trace that needs a few rows of a file decodes little), within [1024, 65536] rows."""
    per_row = max(1, t.nbytes // max(1, t.num_rows))
    return max(1024, min(65536, ROW_GROUP_BYTES // per_row))


def write_parquet_plain(
    root: str,
    rel: str,
    rows: Any,
    row_group_size: int = 1 << 20,
    *,
    dictionary: bool | list[str] = True,
    statistics: bool | list[str] = True,
) -> int:
    """Write an Arrow table or record batch reader to `root/rel` atomically, in row groups
    of exactly `row_group_size` rows but the last, with dictionary encoding and min/max
    statistics on the columns named (default: all); returns the rows written. A reader is
    written as it is read: memory holds a few row groups, not the whole table."""
    import pyarrow as pa

    batches = rows.to_batches() if isinstance(rows, pa.Table) else rows
    with ParquetSink(root, rel, rows.schema, dictionary=dictionary, statistics=statistics) as sink:
        # batches come in any size: write whole row groups, carry the rest over
        pending: list[Any] = []
        n = 0
        for b in batches:
            pending.append(b)
            n += b.num_rows
            if n >= 16 * row_group_size:
                t = pa.Table.from_batches(pending, rows.schema)
                whole = n - n % row_group_size
                sink.write(t.slice(0, whole), row_group_size)
                pending, n = t.slice(whole).to_batches(), n - whole
        sink.write(pa.Table.from_batches(pending, rows.schema), row_group_size)
        return sink.close()


def not_a_directory(root: str) -> None:
    """Raise StoreError when `root` names something that is not a directory."""
    if os.path.exists(root) and not os.path.isdir(root):
        raise StoreError(f"the store {root} is not a directory: name a directory with --store")


@contextlib.contextmanager
def locked(root: str, say: Any = None) -> Iterator[None]:
    """Hold the store's ingest lock; tell `say` when we must wait for another ingest."""
    not_a_directory(root)
    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, "lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say:
                say(f"waiting for another ingest into {root} to finish…")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

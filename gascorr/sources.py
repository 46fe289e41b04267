"""Finding inputs and telling what they are.

`find_sources(paths)` expands what the user named — files, directories (recursive, not
following symlinked directories, so a link loop cannot trap it), globs, `.gz` files and
`.zip` archives — into `Source`s. A zip member is read in memory and never extracted, so
its name cannot write anywhere; its `name` reads `bundle.zip!/logs/app.log`.

`sniff(head)` decides a source's kind from its first bytes, never from its extension alone:
a JSON document with `log.entries` is a HAR, an OTLP/JSON document is `otlp`, lines that are
mostly JSON objects are `jsonl`, bytes that are mostly not text are `binary`, and anything
else is `text`.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

SKIP_DIRS = {".git", ".gascorr", ".hg", ".svn", "__pycache__", "node_modules"}
HEAD_BYTES = 64 * 1024
# Decompressed bytes allowed per compressed byte before an input counts as a bomb.
MAX_RATIO = 200
MAX_INFLATED = 8 * 1024**3


class InputError(Exception):
    """A PATH the user named cannot be read (missing, permission denied, corrupt archive)."""


@dataclass
class Source:
    """One input stream: a plain file, a gzip file, or a member of a zip archive."""

    name: str  # as the user would name it; `bundle.zip!/member` inside archives
    key: str  # stable identity across namings: the real path, plus `!/member`
    path: str  # the file on disk (the archive for members)
    size: int
    mtime: float
    member: str | None = None
    gz: bool = False
    warnings: list[str] = field(default_factory=list)

    def open(self) -> IO[bytes]:
        """The source's bytes, decompressed, as a binary stream with a size guard."""
        limit = min(max(self.size * MAX_RATIO, 64 * 1024**2), MAX_INFLATED)
        if self.member is not None:
            zf = zipfile.ZipFile(self.path)
            raw: Any = _Bounded(zf.open(self.member), limit, self.name, zf)
            if self.member.endswith(".gz"):
                raw = _Bounded(gzip.GzipFile(fileobj=raw), limit, self.name, raw)
            return cast(IO[bytes], raw)
        f = open(self.path, "rb")  # noqa: SIM115 — returned to the caller
        if self.gz:
            return cast(IO[bytes], _Bounded(gzip.GzipFile(fileobj=f), limit, self.name, f))
        return f


class _Bounded(io.RawIOBase):
    """A reader that raises InputError past `limit` bytes (a decompression bomb guard)."""

    def __init__(self, inner: Any, limit: int, name: str, owner: object | None = None) -> None:
        self.inner, self.limit, self.name, self.owner, self.seen = inner, limit, name, owner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.inner.read(len(b))
        self.seen += len(data)
        if self.seen > self.limit:
            raise InputError(
                f"{self.name}: decompresses to more than {self.limit // 1024**2} MiB; "
                "refusing it as a likely decompression bomb"
            )
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        close = getattr(self.owner, "close", None)
        if close:
            close()
        super().close()


def _display(user_arg: str, rel: str) -> str:
    return os.path.normpath(os.path.join(user_arg, rel)) if rel else os.path.normpath(user_arg)


def _file_sources(display: str, path: str, warnings: list[str]) -> Iterator[Source]:
    try:
        st = os.stat(path)
        real = os.path.realpath(path)
    except OSError as e:
        warnings.append(f"cannot read {display}: {e.strerror.lower() if e.strerror else e}")
        return
    if not os.access(path, os.R_OK):
        warnings.append(f"cannot read {display}: permission denied")
        return
    if _is_zip(path):
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    if info.flag_bits & 0x1:
                        warnings.append(f"skipped {display}!/{info.filename}: the member is encrypted")
                        continue
                    yield Source(
                        name=f"{display}!/{info.filename}",
                        key=f"{real}!/{info.filename}",
                        path=path,
                        size=info.compress_size or 1,
                        mtime=st.st_mtime,
                        member=info.filename,
                    )
        except (zipfile.BadZipFile, OSError) as e:
            warnings.append(f"cannot read {display}: not a readable zip archive ({e})")
        return
    yield Source(name=display, key=real, path=path, size=st.st_size, mtime=st.st_mtime, gz=_is_gzip(path))


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _is_gzip(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def find_sources(paths: list[str], warnings: list[str] | None = None) -> list[Source]:
    """Every input under `paths`, in a stable order. Unreadable paths become warnings.

    Raises InputError when a named PATH does not exist at all (a usage mistake).
    """
    warnings = warnings if warnings is not None else []
    out: list[Source] = []
    seen: set[str] = set()
    for arg in paths:
        if os.path.isdir(arg):
            found = _walk(arg, warnings)
        elif os.path.exists(arg):
            found = iter(_file_sources(_display(arg, ""), arg, warnings))
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError(f"no files match {arg}")
            found = (
                s
                for m in matches
                for s in (_walk(m, warnings) if os.path.isdir(m) else _file_sources(_display(m, ""), m, warnings))
            )
        else:
            raise InputError(f"no such file or directory: {arg}")
        for s in found:
            if s.key not in seen:
                seen.add(s.key)
                out.append(s)
    return out


def _walk(top: str, warnings: list[str]) -> Iterator[Source]:
    def onerror(e: OSError) -> None:
        warnings.append(f"cannot read {e.filename}: {(e.strerror or str(e)).lower()}")

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            if os.path.islink(full) and not os.path.exists(full):
                warnings.append(f"skipped {os.path.normpath(full)}: broken symbolic link")
                continue
            yield from _file_sources(os.path.normpath(full), full, warnings)


_JSON_START = re.compile(rb"^\s*[{\[]")


def sniff(head: bytes) -> str:
    """`har`, `otlp`, `jsonl`, `binary` or `text`, from the first bytes of a source."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip(b"\x00 \t\r\n"):
        return "text"
    sample = head.lstrip(b"\x00")  # copytruncate padding is not what the file is
    if _looks_binary(sample):
        return "binary"
    stripped = sample.lstrip()
    lines = [ln for ln in stripped.split(b"\n")[:200] if ln.strip()]
    if stripped[:1] in (b"{", b"["):
        first = lines[0].strip() if lines else b""
        doc_like = first in (b"{", b"[", b"[{") or (first.startswith(b"{") and not first.endswith(b"}"))
        probe = stripped[:HEAD_BYTES]
        har_keys = b'"entries"' in probe or b'"creator"' in probe or b'"pages"' in probe
        if re.search(rb'"log"\s*:\s*\{', probe) and har_keys and (doc_like or len(lines) <= 2):
            return "har"
        if re.search(rb'"resource(Logs|Spans)"\s*:', probe) and (doc_like or len(lines) <= 2 or b'"scope' in probe):
            return "otlp"
        if doc_like and len(lines) > 1:
            return "otlp" if b"resource" in probe else "jsonl"
    if lines:
        jsonish = sum(1 for ln in lines if ln.lstrip()[:1] == b"{")
        if jsonish * 2 >= len(lines):
            return "jsonl"
    return "text"


def _looks_binary(sample: bytes) -> bool:
    chunk = sample[:8192]
    if not chunk:
        return False
    if chunk.count(b"\x00") > len(chunk) // 10:
        return True
    bad = sum(1 for b in chunk if b < 9 or (13 < b < 32 and b != 27))
    if bad > len(chunk) // 20:
        return True
    try:
        chunk.decode("utf-8")
        return False
    except UnicodeDecodeError as e:
        if e.start > len(chunk) - 4:
            return False
    # not UTF-8: text in a legacy 8-bit encoding still has mostly printable ASCII
    ascii_print = sum(1 for b in chunk if 32 <= b < 127 or b in (9, 10, 13))
    return ascii_print < len(chunk) * 0.7


def service_from_name(name: str) -> str:
    """`logs/payment-service.log.1.gz` -> `payment-service`; LLM `session_<id>.jsonl` -> its folder."""
    base = name.rsplit("!/", 1)[-1]
    parts = base.replace("\\", "/").split("/")
    fn = parts[-1]
    stem = fn
    while True:
        new = re.sub(r"\.(gz|log|txt|jsonl|ndjson|json|har|out|err|\d+)$", "", stem, flags=re.I)
        new = re.sub(r"[._-]\d{4}-?\d\d-?\d\d(T?\d{2,6})?$", "", new)
        if new == stem or not new:
            break
        stem = new
    if re.match(r"^session_", fn) and len(parts) > 1:
        return parts[-2]
    return stem or fn

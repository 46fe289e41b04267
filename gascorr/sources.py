"""Finding inputs and telling what they are.

`find_sources(paths)` expands what the user named — files, directories (recursive), globs,
`.gz` files and `.zip` archives — into `Source`s, and says why anything it meets cannot be
used: permission denied, a symbolic link loop or a broken link, a FIFO or device, an
encrypted zip member. Directories reached through symbolic links are not followed (like
`grep -r`), so a link loop cannot trap the walk; a directory named on the command line is
walked even when it is a link. A gascorr store met on the way (any directory holding its
`lock` and `manifest.json` or `events/`) is not an input. Every message reads `<path>: <what>`.

A zip member is read in memory and never extracted, so a member named `../../etc/x` cannot
write anywhere; its `name` reads `bundle.zip!/logs/app.log`. Gzip is recognised by its magic
bytes, on disk and inside archives.

Decompression is bounded, so a bomb costs neither memory nor minutes of parsing: a source
may inflate to at most `MAX_RATIO` times its compressed size (at least `MIN_LIMIT`, never
more than `MAX_INFLATED`). A zip member whose header declares more is refused before any
work (zipfile never inflates past the declared size). A gzip is watched while it streams:
once past `EARLY_BYTES` it must stay under `MAX_RATIO` times the compressed bytes read so
far, so a bomb stops within its first `EARLY_BYTES`, before a parser has seen any of it.
Either way the source fails with `BombError` and nothing of it is kept. (Real logs
compress 5-50 times; only pathological content — one line repeated millions of times —
passes 200.)

A stream that is corrupt or cut part-way is different: every byte that decompressed before
the damage is handed out first, then the error is raised on the next read, so the readers
in `parsers` can keep the good prefix and report where it ended. A zip member's CRC is
checked here at its end instead of inside `zipfile`, which would drop the last block.

A source that begins with a UTF-16 or UTF-32 byte-order mark (Windows PowerShell writes
logs in UTF-16) is read as UTF-8, transcoded as it streams; code units that are not text
become U+FFFD. Such a file is always parsed whole, never from where it ended.

`sniff(head)` decides a source's kind from its first bytes, never from its extension alone:
a JSON document with `log.entries` is a HAR, an OTLP/JSON document is `otlp`, another JSON
document (an array of records, a pretty-printed object, one JSON value after another) is
`json`, lines that are mostly JSON objects are `jsonl`, bytes that are mostly not text are
`binary`, and anything else is `text`.
"""

from __future__ import annotations

import errno
import glob
import gzip
import io
import json
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, cast

from gascorr.display import human_size, printable

SKIP_DIRS = {".git", ".gascorr", ".hg", ".svn", "__pycache__", "node_modules"}
HEAD_BYTES = 64 * 1024
# Decompressed bytes allowed per compressed byte before an input counts as a bomb.
MAX_RATIO = 200
MIN_LIMIT = 64 * 1024**2
EARLY_BYTES = 16 * 1024**2
MAX_INFLATED = 8 * 1024**3
PIECE = 256 * 1024  # decompressed bytes per inner read, so damage costs at most this much


class InputError(Exception):
    """A PATH the user named cannot be read (missing, permission denied, corrupt archive)."""


class BombError(InputError):
    """A compressed source inflates past its limit: refused as a likely decompression bomb."""


@dataclass
class Source:
    """One input stream: a plain file, a gzip file, or a member of a zip archive."""

    name: str  # as the user would name it; `bundle.zip!/member` inside archives
    key: str  # stable identity across namings: the real path, plus `!/member`
    path: str  # the file on disk (the archive for members)
    size: int  # bytes on disk (compressed size for members)
    mtime: float
    member: str | None = None
    gz: bool = False
    warnings: list[str] = field(default_factory=list)
    skip: str | None = None  # why the source is listed but cannot be read (an encrypted member)
    offset: int = 0  # a plain file is read from here (the bytes appended since the last ingest)
    # a zip member: when it was last written, as its entry says (a naive datetime: zip's own
    # date and time, in the zone of whoever zipped it)
    written: float | datetime | None = None

    @property
    def limit(self) -> int:
        """How many decompressed bytes this source may produce."""
        return min(max(self.size * MAX_RATIO, MIN_LIMIT), MAX_INFLATED)

    def _bomb(self, seen: int, consumed: int, declared: bool = False) -> BombError:
        how = "declares" if declared else "inflates to more than"
        return BombError(
            f"refused: it {how} {human_size(seen)} from {human_size(consumed)} compressed "
            f"(more than {MAX_RATIO} times); a likely decompression bomb"
        )

    def open(self) -> IO[bytes]:
        """The source's bytes, decompressed, as a binary stream with a size guard; as UTF-8
        when they are UTF-16 or UTF-32 text with a byte-order mark.

        Raises BombError at once when a zip member's header declares too much (a gzip trailer
        cannot be trusted: a cut file ends in arbitrary bytes), later while streaming.
        """
        stream = self._open()
        if self.offset:  # the bytes appended to a file, which is never UTF-16 (`unicode_bom`)
            return stream
        head = stream.peek(4)[:4] if isinstance(stream, io.BufferedReader) else cast(_Bounded, stream).head(4)
        codec = unicode_bom(head)
        return stream if codec is None else cast(IO[bytes], _Transcoded(stream, codec))

    def _open(self) -> IO[bytes]:
        if self.member is not None:
            zf = zipfile.ZipFile(self.path)
            try:
                info = zf.getinfo(self.member)
                if info.file_size > self.limit:
                    raise self._bomb(info.file_size, info.compress_size, declared=True)
                member = zf.open(info)
            except BaseException:
                zf.close()
                raise
            expected = None
            if getattr(member, "_expected_crc", None) is not None:
                # check the CRC ourselves at the end, so a mismatch costs no data
                expected, member._expected_crc = member._expected_crc, None  # type: ignore[attr-defined]
            raw: Any = _Bounded(member, self.limit, self._bomb, lambda: self.size, (member, zf), crc=expected)
            if self.gz:
                outer = raw
                raw = _Bounded(gzip.GzipFile(fileobj=outer), self.limit, self._bomb, lambda: outer.seen, (outer,))
            return cast(IO[bytes], raw)
        f = open(self.path, "rb")  # noqa: SIM115 — returned to the caller
        if not self.gz:
            if self.offset:
                f.seek(self.offset)
            return f
        return cast(IO[bytes], _Bounded(gzip.GzipFile(fileobj=f), self.limit, self._bomb, f.tell, (f,)))


def unicode_bom(head: bytes) -> str | None:
    """The codec of a UTF-32 or UTF-16 byte-order mark at the start of `head`, if any."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    return None


class _Salvaging(io.RawIOBase):
    """A reader that hands out the bytes read before damage first: a read that meets an
    error after some bytes returns them and keeps the error (`error`) for the next read."""

    error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def _deferred(self) -> None:
        if self.error is not None:
            e, self.error = self.error, None
            raise e

    def _piece(self, read: Callable[[int], bytes], size: int, gathered: int) -> bytes | None:
        """`read(size)`; None when it fails after this read gathered bytes (the error waits for
        the next read, so those bytes are handed out first)."""
        try:
            return read(size)
        except BombError:
            raise
        except Exception as e:
            if not gathered:
                raise
            self.error = e
            return None

    def readall(self) -> bytes:
        """Everything up to the end or the first damage (which the next read raises)."""
        parts: list[bytes] = []
        while True:
            try:
                data = self.read(1 << 20)
            except BombError:
                raise
            except Exception as e:
                if not parts:
                    raise
                self.error = e
                break
            if not data:
                break
            parts.append(data)
        return b"".join(parts)


class _Transcoded(_Salvaging):
    """The UTF-8 bytes of a UTF-16/32 stream that starts with its byte-order mark."""

    def __init__(self, inner: IO[bytes], codec: str) -> None:
        import codecs

        self.inner = inner
        self.decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self.pending, self.at, self.done = b"", 0, False

    def readinto(self, b: Any) -> int:
        self._deferred()
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            if self.at == len(self.pending):
                if self.done:
                    break
                data = self._piece(self.inner.read, PIECE, n)
                if data is None:
                    break
                self.done = not data
                self.pending, self.at = self.decoder.decode(data, final=self.done).encode("utf-8"), 0
                continue
            k = min(len(view) - n, len(self.pending) - self.at)
            view[n : n + k] = self.pending[self.at : self.at + k]
            self.at, n = self.at + k, n + k
        return n

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
        super().close()


class _Bounded(_Salvaging):
    """A decompressing reader with a size limit that never loses decompressed bytes.

    Reads go to the inner stream in pieces of at most `PIECE` bytes (`read1` when it has
    one). When a piece fails (corrupt data, a cut stream), the bytes gathered before it are
    returned first and the error is raised by the next read.
    """

    def __init__(
        self,
        inner: Any,
        limit: int,
        bomb: Callable[[int, int], BombError],
        consumed: Callable[[], int],
        owners: tuple[object, ...] = (),
        crc: int | None = None,
    ) -> None:
        self.inner, self.limit, self.bomb, self.consumed, self.owners = inner, limit, bomb, consumed, owners
        self.seen = 0
        self.crc_expected, self.crc = crc, 0
        self._read = getattr(inner, "read1", None) or inner.read
        self.ahead = b""  # bytes `head` looked at, handed out first

    def head(self, n: int) -> bytes:
        """The first `n` bytes (fewer at the end or at damage), read again by the next reads."""
        buf = bytearray(n)
        try:
            got = self.readinto(buf)
        except BombError:
            raise
        except Exception as e:  # damaged from the start: the next read raises it
            self.error, got = e, 0
        self.ahead = bytes(buf[:got])
        return self.ahead

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = min(len(view), len(self.ahead))  # what `head` looked at comes first
        if n:
            view[:n], self.ahead = self.ahead[:n], self.ahead[n:]
            if n == len(view) or self.error is not None:  # (the error is the next read's)
                return n
        else:
            self._deferred()
        while n < len(view):
            data = self._piece(self._read, min(len(view) - n, PIECE), n)
            if data is None:
                break
            if not data:
                if n == 0 and self.crc_expected is not None and self.crc != self.crc_expected:
                    self.crc_expected = None
                    raise zipfile.BadZipFile("the member's CRC-32 does not match its content")
                break
            self.seen += len(data)
            if self.seen > EARLY_BYTES or self.seen > self.limit:
                consumed = max(self.consumed(), 1)
                if self.seen > self.limit or self.seen > MAX_RATIO * consumed:
                    raise self.bomb(self.seen, consumed)
            if self.crc_expected is not None:
                self.crc = zlib.crc32(data, self.crc)
            view[n : n + len(data)] = data
            n += len(data)
        return n

    def close(self) -> None:
        if not self.closed:
            for o in (self.inner, *self.owners):
                close = getattr(o, "close", None)
                if close:
                    try:
                        close()
                    except Exception:  # closing a damaged stream may fail again
                        pass
        super().close()


def _display(user_arg: str, rel: str) -> str:
    return os.path.normpath(os.path.join(user_arg, rel)) if rel else os.path.normpath(user_arg)


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "skipped: a symbolic link loop"
    if e.errno == errno.ENOENT:
        return "skipped: a broken symbolic link" if e.filename and os.path.islink(e.filename) else "no such file"
    return f"cannot read: {(e.strerror or str(e)).lower()}"


def _as_text(name: str) -> str:
    """A path as a source name: bytes of the name that are not UTF-8 (Python keeps them as
    lone surrogates, which no Arrow or DuckDB string may hold) written as `\\xNN`."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def _file_sources(display: str, path: str, warnings: list[str]) -> Iterator[Source]:
    display = _as_text(display)
    shown = printable(display)
    try:
        st = os.stat(path)
        real = os.path.realpath(path)
    except OSError as e:
        if e.filename is None:
            e.filename = path
        warnings.append(f"{shown}: {_why(e)}")
        return
    if not stat.S_ISREG(st.st_mode):
        warnings.append(f"{shown}: skipped: not a regular file")
        return
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        warnings.append(f"{shown}: {_why(e)}")
        return
    if magic == b"PK\x03\x04":
        yield from _zip_sources(display, path, real, st, warnings)
        return
    yield Source(name=display, key=real, path=path, size=st.st_size, mtime=st.st_mtime, gz=magic[:2] == b"\x1f\x8b")


def _zip_sources(display: str, path: str, real: str, st: os.stat_result, warnings: list[str]) -> Iterator[Source]:
    found: list[Source] = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                encrypted = bool(info.flag_bits & 0x1)
                gz = False
                if not encrypted:
                    try:
                        with zf.open(info) as m:
                            gz = m.read(2) == b"\x1f\x8b"
                    except Exception:  # a damaged member is reported when it is read
                        pass
                found.append(
                    Source(
                        name=f"{display}!/{info.filename}",
                        key=f"{real}!/{info.filename}",
                        path=path,
                        size=info.compress_size or 1,
                        mtime=st.st_mtime,
                        written=member_written(info),
                        member=info.filename,
                        gz=gz,
                        skip="the member is encrypted" if encrypted else None,
                    )
                )
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
        warnings.append(f"{printable(display)}: cannot read: not a readable zip archive ({e})")
    yield from found


def member_written(info: zipfile.ZipInfo) -> float | datetime | None:
    """When a zip member was last written: the Unix time of its extended timestamp field
    (0x5455, which Info-ZIP writes; UTC) when it has one, else its DOS date and time as a
    naive datetime (zip records no zone: `parsers.text.ref_time` reads it in `--tz`, as log
    times without an offset are read); None for the DOS epoch, 1980-01-01 00:00, that tools
    write when they record no time.

    An archive's own mtime is when it was made or downloaded, which may be days after the
    logs inside were written: a time without a year or a date is completed from this one."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        kind, size = int.from_bytes(extra[at : at + 2], "little"), int.from_bytes(extra[at + 2 : at + 4], "little")
        body = extra[at + 4 : at + 4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:  # flags bit 0: a modification time follows
            return float(int.from_bytes(body[1:5], "little"))
        at += 4 + size
    if tuple(info.date_time) <= (1980, 1, 1, 0, 0, 0):
        return None
    try:
        return datetime(*info.date_time)
    except ValueError:  # a damaged entry: day 0, month 13
        return None


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
        elif os.path.lexists(arg):
            found = iter(_file_sources(_display(arg, ""), arg, warnings))
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError(f"no files match {printable(arg)}")
            found = (
                s
                for m in matches
                for s in (_walk(m, warnings) if os.path.isdir(m) else _file_sources(_display(m, ""), m, warnings))
            )
        else:
            raise InputError(f"no such file or directory: {printable(arg)}")
        for s in found:
            if s.key not in seen:
                seen.add(s.key)
                out.append(s)
    return out


def _is_store(path: str) -> bool:
    """Whether `path` is a gascorr store (under any name): its files are not inputs."""
    return os.path.isfile(os.path.join(path, "lock")) and (
        os.path.isfile(os.path.join(path, "manifest.json")) or os.path.isdir(os.path.join(path, "events"))
    )


def _walk(top: str, warnings: list[str]) -> Iterator[Source]:
    def onerror(e: OSError) -> None:
        where = printable(os.path.normpath(e.filename or top))
        warnings.append(f"{where}: {_why(e)}")

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d in SKIP_DIRS or _is_store(full):
                continue
            if os.path.islink(full):
                real, here = os.path.realpath(full), os.path.realpath(dirpath)
                loop = here == real or here.startswith(real.rstrip(os.sep) + os.sep)
                what = "a symbolic link loop" if loop else "a symbolic link to a directory (not followed)"
                warnings.append(f"{printable(os.path.normpath(full))}: skipped: {what}")
                continue
            keep.append(d)
        dirnames[:] = keep
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            yield from _file_sources(os.path.normpath(full), full, warnings)


_JSON_START = re.compile(rb"^\s*[{\[]")
_NUL_RUN = re.compile(rb"\x00{8,}")


def sniff(head: bytes) -> str:
    """`har`, `otlp`, `json` (a JSON document of records), `jsonl`, `binary` or `text`, from
    the first bytes of a source."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip(b"\x00 \t\r\n"):
        return "text"
    sample = _NUL_RUN.sub(b"", head)  # copytruncate padding is not what the file is
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
        if stripped[:1] == b"{" and doc_like and len(lines) > 1 and re.search(rb'"resource"\s*:', probe):
            return "otlp"  # a ResourceLogs object alone
        # `[{`, or `[` then `{` on the next line, or `[]`; a pretty-printed object (its second
        # line a member, not a JSON line's next object); one line wrapping its records
        # (CloudTrail's `{"Records": [...]}`): when the first value is JSON and what follows
        # it is more JSON values (`jq .` output) or nothing, not text
        looks = (
            _RECORDS_ARRAY.match(stripped)
            or (doc_like and len(lines) > 1 and lines[1].lstrip()[:1] in (b'"', b"}"))
            or (len(lines) == 1 and _WRAPPED_RECORDS.match(stripped))
        )
        if looks and _json_values(probe):
            return "json"
    if lines:
        jsonish = sum(1 for ln in lines if ln.lstrip()[:1] == b"{")
        # other JSON values (arrays, numbers, strings, literals) among JSON objects are records
        # of the file too, rejected as such, not a sign of text
        values = sum(1 for ln in lines if ln.lstrip()[:1] != b"{" and _json_value(ln)) if jsonish else 0
        if (jsonish + values) * 2 >= len(lines):
            return "jsonl"
    return "text"


_RECORDS_ARRAY = re.compile(rb"\[\s*(?:\{|\]\s*$)")
_WRAPPED_RECORDS = re.compile(rb'\{\s*"(?:Records|records|logEvents)"\s*:\s*\[')


def _json_values(probe: bytes) -> bool:
    """Whether `probe` (a file's first bytes) opens with a JSON value followed by nothing
    or by another JSON array or object. A first value longer than the probe counts."""
    from gascorr.parsers import bracket_depths

    text = probe.decode("utf-8", "replace")
    end = next((at for depth, at in bracket_depths(text) if depth == 0), None)
    if end is None:
        return True
    try:
        json.loads(text[:end])
    except ValueError:
        return False
    except RecursionError:  # JSON too deep for Python's decoder: the parser rejects that record alone
        pass
    return text[end:].lstrip()[:1] in ("", "{", "[")


def _json_value(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or (13 < b < 32 and b != 27)))
_PRINTABLE = bytes(b for b in range(256) if 32 <= b < 127 or b in (9, 10, 13))


def _looks_binary(sample: bytes) -> bool:
    chunk = sample[:8192]
    if not chunk:
        return False
    if chunk.count(b"\x00") > len(chunk) // 10:
        return True
    bad = len(chunk.translate(None, _NOT_CONTROL))  # control bytes other than \t \n \v \f \r ESC
    if bad > len(chunk) // 20:
        return True
    try:
        chunk.decode("utf-8")
        return False
    except UnicodeDecodeError as e:
        if e.start > len(chunk) - 4:
            return False
    # not UTF-8: text in a legacy 8-bit encoding still has mostly printable ASCII
    ascii_print = len(chunk) - len(chunk.translate(None, _PRINTABLE))
    return ascii_print < len(chunk) * 0.7


def service_from_name(name: str) -> str:
    """`logs/payment-service.log.1.gz` -> `payment-service`; LLM `session_<id>.jsonl` -> its folder."""
    base = name.rsplit("!/", 1)[-1]
    # a Windows separator, not the `\\xNN` of a name's byte that is not UTF-8 (`_as_text`)
    parts = re.sub(r"\\(?!x[0-9a-f]{2})", "/", base).split("/")
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

"""Fuzz the parse entry points for a long while (run by hand, not in CI).

    python bench/fuzz.py                      # 10 minutes over every target
    python bench/fuzz.py --seconds 3600 --target har --seed 7
    python bench/fuzz.py --atheris            # coverage-guided, if atheris is installed

Inputs are mutations of real seeds — every file under `fixtures/` and, when present,
`../shared/corpus/` — plus plain random bytes: bytes flipped, inserted, deleted, spliced
from another seed, runs duplicated, the input cut short, gzip-wrapped (whole or cut). Each
input goes through the target the way `ingest` would take it: sniffed (or forced to the
target's kind), then parsed, every batch checked against the event schema.

A failure is any exception out of a parser, a batch that does not match the schema, or a
broken count (more events + rejected + blank lines than lines for JSON lines and HAR). Each
failing input is saved under `bench/crashes/<target>-<hash>.bin` with its traceback next to
it, and the run goes on; the exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gascorr import parsers, sources  # noqa: E402
from gascorr.engine import connect  # noqa: E402
from gascorr.parsers import ParseContext  # noqa: E402
from gascorr.schema import conform  # noqa: E402

TARGETS = {"text": ".log", "jsonl": ".jsonl", "har": ".har", "otlp": ".json", "sniffed": ".log", "gzip": ".log.gz"}
MAX_SEED = 256 * 1024
UNREADABLE = (*parsers._damage_types(), sources.InputError, NotImplementedError, RuntimeError)


def seeds() -> list[bytes]:
    found = []
    for top in (ROOT / "fixtures", ROOT.parent / "shared" / "corpus"):
        if top.is_dir():
            for p in sorted(top.rglob("*")):
                if p.is_file() and p.suffix != ".md":
                    found.append(p.read_bytes()[:MAX_SEED])
    return found or [b"2024-05-01 12:00:00,000 - app - INFO - hello\n"]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(8)
        at = rng.randrange(len(b) + 1)
        if op == 0 and b:  # flip a byte
            b[min(at, len(b) - 1)] = rng.randrange(256)
        elif op == 1:  # insert interesting bytes
            b[at:at] = rng.choice(
                [
                    b"\x00",
                    b"\n",
                    b"\r\n",
                    b"\xff",
                    b"\xe2\x82",
                    b'"',
                    b"{",
                    b"}",
                    b"[",
                    b"]",
                    b",",
                    b"\\u0000",
                    b"\\ud800",
                    b"NaN",
                    b"1e999",
                    b"\xef\xbb\xbf",
                ]
            )
        elif op == 2 and b:  # delete a run
            del b[at : at + rng.randint(1, 64)]
        elif op == 3 and pool:  # splice from another seed
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            b[at:at] = other[start : start + rng.randint(1, 512)]
        elif op == 4 and b:  # duplicate a run
            run = bytes(b[at : at + rng.randint(1, 256)])
            b[at:at] = run * rng.randint(1, 20)
        elif op == 5:  # cut short
            del b[at:]
        elif op == 6:  # random bytes
            b[at:at] = rng.randbytes(rng.randint(1, 64))
        else:  # a very long line
            b[at:at] = b"x" * rng.randint(1000, 200_000)
    return bytes(b)


class Runner:
    def __init__(self, out: Path, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.con = connect(threads=1)
        self.work = Path(tempfile.mkdtemp(prefix="gascorr-fuzz-"))
        self.out = out
        self.failures = 0
        self.runs = 0

    def one(self, target: str, data: bytes) -> None:
        self.runs += 1
        path = self.work / f"input{TARGETS[target]}"
        if target == "gzip":
            z = gzip.compress(data, mtime=0)
            data = z[: self.rng.randrange(len(z) + 1)] if self.rng.random() < 0.3 else z
        path.write_bytes(data)
        try:
            found = sources.find_sources([str(path)])
            if not found:
                return
            src = found[0]
            try:  # as ingest does: a source whose first bytes cannot be read is reported, not parsed
                with src.open() as f:
                    head = f.read(sources.HEAD_BYTES)
            except UNREADABLE:
                return
            kind = sources.sniff(head) if target in ("sniffed", "gzip") else target
            if kind == "binary":
                return
            ctx = ParseContext(con=self.con)
            events = 0
            for t in parsers.parse(src, kind, ctx):
                events += conform(t).num_rows
            if kind in ("jsonl", "har") and events + ctx.rejected + ctx.blank != ctx.lines:
                raise AssertionError(
                    f"{kind}: {events} events + {ctx.rejected} rejected + {ctx.blank} blank != {ctx.lines} lines"
                )
        except sources.BombError:
            return
        except Exception:
            self.save(target, data, traceback.format_exc())

    def save(self, target: str, data: bytes, tb: str) -> None:
        self.failures += 1
        self.out.mkdir(parents=True, exist_ok=True)
        h = hashlib.blake2b(data, digest_size=8).hexdigest()
        (self.out / f"{target}-{h}.bin").write_bytes(data)
        (self.out / f"{target}-{h}.txt").write_text(tb)
        print(f"FAIL {target} {h}: {tb.strip().splitlines()[-1]}", flush=True)


def run_random(seconds: float, targets: list[str], seed: int, out: Path) -> int:
    rng = random.Random(seed)
    pool = seeds()
    runner = Runner(out, seed)
    end = time.monotonic() + seconds
    last = time.monotonic()
    while time.monotonic() < end:
        target = rng.choice(targets)
        data = rng.randbytes(rng.randint(0, 4096)) if rng.random() < 0.05 else mutate(rng, rng.choice(pool), pool)
        runner.one(target, data)
        if time.monotonic() - last > 30:
            last = time.monotonic()
            print(f"{runner.runs} runs, {runner.failures} failures", flush=True)
    print(f"done: {runner.runs} runs, {runner.failures} failures (saved under {out})")
    return 1 if runner.failures else 0


def run_atheris(targets: list[str], out: Path) -> int:
    import atheris  # type: ignore[import-not-found]

    runner = Runner(out)

    def test_one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        target = targets[fdp.ConsumeIntInRange(0, len(targets) - 1)]
        runner.one(target, fdp.ConsumeBytes(fdp.remaining_bytes()))

    atheris.Setup([sys.argv[0], *os.environ.get("ATHERIS_ARGS", "").split()], test_one)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "crashes")
    ap.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing with atheris (pip install atheris)")
    args = ap.parse_args(argv)
    targets = list(TARGETS) if args.target == "all" else [args.target]
    if args.atheris:
        return run_atheris(targets, args.out)
    print(f"fuzzing {', '.join(targets)} for {args.seconds:.0f}s, seed {args.seed}", flush=True)
    return run_random(args.seconds, targets, args.seed, args.out)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Memory as one log grows: ingest a single Python-logging file of N GB, for each N given.

    python bench/bigfile.py [--gb 1 5] [--keep DIR]

The log is the generated gateway log (`bench/synth.py`, scale 1: 46 MB, ~317K events)
repeated until it reaches N GB, so its lines, ids and tracebacks are realistic and every
size has the same mix. Each size is ingested once into an empty store, as a whole process;
the table gives its time, throughput and peak RSS (the same measurement as `run.py`'s).
Flat memory means the peak does not grow with N. Needs about N GB of disk per size, plus
the store (about a fifth of that), in DIR (default `bench/out/cache`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import dataset, gascorr_cmd, run_once  # noqa: E402


def big_log(gateway: Path, out: Path, size: int) -> Path:
    """`gateway` repeated into `out` until it holds at least `size` bytes (kept between runs)."""
    if out.exists() and out.stat().st_size >= size:
        return out
    chunk = gateway.read_bytes()
    with open(out, "wb") as f:
        written = 0
        while written < size:
            f.write(chunk)
            written += len(chunk)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, nargs="+", default=[1.0, 5.0], help="sizes in GB (default: 1 5)")
    ap.add_argument("--keep", metavar="DIR", help="where the logs and stores go (default: bench/out/cache)")
    a = ap.parse_args(argv)
    base = Path(a.keep) if a.keep else HERE / "out" / "cache"
    base.mkdir(parents=True, exist_ok=True)
    data, _ = dataset(base, 1.0, 7)
    gateway = data / "artifacts" / "services" / "api-gateway.log"
    rows = []
    for gb in a.gb:
        log = big_log(gateway, base / f"gateway-{gb:g}GB.log", int(gb * 1e9))
        st = base / f"store-{gb:g}GB"
        shutil.rmtree(st, ignore_errors=True)
        print(f"ingesting {log} …", file=sys.stderr, flush=True)
        secs, rss, code, out = run_once(
            [*gascorr_cmd(), "ingest", str(log), "--store", str(st), "-f", "json"], capture=True
        )
        if code != 0:
            print(f"gascorr ingest failed with status {code}", file=sys.stderr)
            return 1
        events = json.loads(out)["events"]
        mb = log.stat().st_size / 1e6
        rows.append(
            {"gb": gb, "mb": round(mb), "events": events, "seconds": round(secs, 2), "peak_mib": round(rss or 0)}
        )
        shutil.rmtree(st, ignore_errors=True)
    print("| log | events | ingest | throughput | peak RSS |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mb']:,} MB | {r['events']:,} | {r['seconds']:.1f} s | {r['mb'] / r['seconds']:.1f} MB/s, "
            f"{r['events'] / r['seconds'] / 1000:.0f}K events/s | {r['peak_mib']:,} MiB |"
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

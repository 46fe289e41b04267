#!/usr/bin/env python3
"""gascorr's benchmark: one command, one Markdown table, `bench/out/results.json`.

    python bench/run.py [--scale N] [--keep DIR] [--runs N] [--no-lnav] [--no-1m]

Generates the synthetic folder (`bench/synth.py`, cached by scale and seed), then times
whole processes — median of several runs, with hyperfine when it is installed, otherwise
`time.perf_counter` around `subprocess` — and their peak RSS: the larger of the kernel's
max RSS of the process (`/usr/bin/time -f %M` when present, else `os.wait4`) and the peak
of the summed RSS of the process and all its descendants, sampled from /proc every 20 ms
(a large ingest parses in worker processes). See README.md beside this file for what each
row means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402

PY = sys.executable
SLOW = 60.0  # a command slower than this (first run) is not repeated
TIME_BIN = "/usr/bin/time"


def gascorr_cmd() -> list[str]:
    exe = Path(PY).with_name("gascorr")
    return [str(exe)] if exe.exists() else [PY, "-m", "gascorr"]


# ---- running and timing ---------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    cmd: list[str]
    median_s: float | None = None
    runs_s: list[float] = field(default_factory=list)
    rss_mib: float | None = None
    code: int | None = None
    tool: str = ""
    output: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.median_s is not None


class TreeRss(threading.Thread):
    """Samples the summed RSS of a process and all its descendants from /proc (Linux only;
    elsewhere `peak_mib` stays None). The timing wrapper itself (a few MiB) is included."""

    PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __init__(self, pid: int, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_mib: float | None = None
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self._done.is_set():
            total = self._tree_pages()
            if total:
                mib = total * self.PAGE / 2**20
                self.peak_mib = max(self.peak_mib or 0.0, mib)
            self._done.wait(self.every)

    def _tree_pages(self) -> int:
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
        pages, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/statm", "rb") as f:
                    pages += int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                pass
            todo.extend(children.get(pid, ()))
        return pages


def run_once(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None, capture: bool = False
) -> tuple[float, float | None, int, str]:
    """One whole-process run: (seconds, peak RSS MiB, exit code, stdout if captured)."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "out")
        rss_path = os.path.join(tmp, "rss")
        use_time = os.access(TIME_BIN, os.X_OK)
        argv = [TIME_BIN, "-f", "%M", "-o", rss_path, *cmd] if use_time else cmd
        with open(out_path, "wb") if capture else open(os.devnull, "wb") as out:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=full_env)
            timer = threading.Timer(timeout, p.kill) if timeout else None
            if timer:
                timer.start()
            tree = TreeRss(p.pid)
            tree.start()
            try:
                _, status, ru = os.wait4(p.pid, 0)
            finally:
                tree.stop()
                if timer:
                    timer.cancel()
            secs = time.perf_counter() - t0
            code = os.waitstatus_to_exitcode(status)
            p.returncode = code
        rss = None
        if use_time:
            with contextlib.suppress(OSError, ValueError):
                rss = int(Path(rss_path).read_text().split()[-1]) / 1024
        else:
            rss = ru.ru_maxrss / 1024
        if tree.peak_mib is not None and (rss is None or tree.peak_mib > rss):
            rss = tree.peak_mib
        text = Path(out_path).read_text(errors="replace") if capture else ""
    return secs, rss, code, text


def sh(command: str | None) -> None:
    if command:
        subprocess.run(command, shell=True, check=True)


def measure(
    name: str,
    cmd: list[str],
    runs: int,
    *,
    prepare: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    capture: bool = False,
    ok_codes: tuple[int, ...] = (0,),
) -> Timing:
    """Median of `runs` whole-process runs (the first one, also measuring peak RSS, is extra)."""
    t = Timing(name, cmd)
    sh(prepare)
    secs, rss, code, out = run_once(cmd, env, timeout, capture)
    t.rss_mib, t.code, t.output = rss, code, out
    print(f"  {name}: {secs:.3f}s rss={rss or 0:.0f}MiB code={code}", file=sys.stderr, flush=True)
    if code not in ok_codes:
        t.note = f"exit status {code}" + (" (timed out)" if timeout and secs >= timeout else "")
        return t
    if secs > SLOW or runs <= 1:
        t.runs_s, t.tool = [secs], "single run"
    elif shutil.which("hyperfine"):
        t.tool = "hyperfine"
        with tempfile.TemporaryDirectory() as tmp:
            export = os.path.join(tmp, "h.json")
            hargs = ["hyperfine", "--runs", str(runs), "--export-json", export, "--style", "none", "-i"]
            if prepare:
                hargs += ["--prepare", prepare]
            envcmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
            hargs.append((f"env {envcmd} " if envcmd else "") + shlex.join(cmd))
            subprocess.run(hargs, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t.runs_s = json.loads(Path(export).read_text())["results"][0]["times"]
    else:
        t.tool = "perf_counter"
        for _ in range(runs):
            sh(prepare)
            s, r, _, _ = run_once(cmd, env, timeout)
            t.runs_s.append(s)
            t.rss_mib = max(t.rss_mib or 0, r or 0) or None
    t.median_s = statistics.median(t.runs_s)
    return t


def source_state() -> str:
    """Which gascorr was measured: the commit, and a digest of the package's files when the
    work tree differs from it (the figures then belong to that uncommitted state)."""
    import hashlib

    repo = HERE.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "gascorr"], cwd=repo, capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not dirty:
        return f"commit {head}"
    h = hashlib.blake2b(digest_size=6)
    for f in sorted((repo / "gascorr").rglob("*.py")):
        h.update(f.read_bytes())
    return f"commit {head} + {len(dirty.splitlines())} uncommitted changes in gascorr/ (digest {h.hexdigest()})"


# ---- the machine ----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def version(cmd: list[str]) -> str | None:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return None

    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg

    def pv(name: str) -> str | None:
        try:
            return pkg(name)
        except PackageNotFoundError:
            return None

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "source": source_state(),
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "gascorr": version([*gascorr_cmd(), "--version"]),
        "duckdb": pv("duckdb"),
        "pyarrow": pv("pyarrow"),
        "lnav": version(["lnav", "-V"]) if shutil.which("lnav") else None,
        "hyperfine": version(["hyperfine", "--version"]) if shutil.which("hyperfine") else None,
        "time": TIME_BIN if os.access(TIME_BIN, os.X_OK) else "os.wait4",
    }


# ---- data -----------------------------------------------------------------------------------


def dataset(cache: Path, scale: float, seed: int) -> tuple[Path, dict[str, Any]]:
    out = cache / f"synth-s{scale:g}-seed{seed}"
    truth_path = out / "truth.json"
    if truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth.get("version") == synth.VERSION and truth.get("scale") == scale and truth.get("seed") == seed:
            print(f"using cached {out}", file=sys.stderr)
            return out, truth
    shutil.rmtree(out, ignore_errors=True)
    print(f"generating {out} (scale {scale:g}) …", file=sys.stderr, flush=True)
    truth = synth.generate(str(out), scale, seed)
    return out, truth


def working_copy(src: Path, dst: Path, writable: str) -> None:
    """`src` hard-linked into `dst` (cheap), except `writable`, which is a real copy."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, copy_function=os.link)
    w = dst / writable
    w.unlink()
    shutil.copy2(src / writable, w)


def tail_chunk(path: Path, out: Path, lines: int) -> None:
    with open(path, "rb") as f:
        data = f.read().splitlines(keepends=True)
    out.write_bytes(b"".join(data[-lines:]))


# ---- lnav -----------------------------------------------------------------------------------


def lnav_sql(question: str, ids: dict[str, str]) -> list[str]:
    """The same question as lnav commands (SQLite over its format tables, with the formats in
    bench/lnav), as a seasoned lnav user would write them: the big format tables copied once
    into temp tables (lnav answers `col IN (…)` on its own tables with one scan per value),
    the ids of one hop — session -> its request ids in the gateway log -> trace ids on
    payment lines — collected, then one count over every table."""
    q = {k: v.replace("'", "''") for k, v in ids.items()}
    bad = "('error', 'critical', 'fatal')"
    gw = ";CREATE TEMP TABLE gc_gw AS SELECT request_id, session_id, log_level FROM gc_pylog"
    pay = (
        ";CREATE TEMP TABLE gc_p AS SELECT json_extract(fields, '$.request_id') AS rid, "
        "CAST(json_extract(fields, '$.trace_id') AS TEXT) AS tid, log_level FROM logfmt_log"
    )
    if question == "session":
        s = q["session"]
        return [
            gw,
            pay,
            ";CREATE TEMP TABLE gc_inv AS SELECT request_id FROM gc_json_flat",
            ';CREATE TEMP TABLE gc_ecs AS SELECT "trace/id" AS tid FROM gc_json_ecs',
            f";CREATE TEMP TABLE gc_r AS SELECT DISTINCT request_id FROM gc_gw WHERE session_id = '{s}' "
            "AND request_id IS NOT NULL",
            ";CREATE TEMP TABLE gc_t AS SELECT DISTINCT tid FROM gc_p WHERE rid IN gc_r",
            f";SELECT (SELECT count(*) FROM gc_gw WHERE session_id = '{s}' OR request_id IN gc_r)"
            " + (SELECT count(*) FROM gc_p WHERE rid IN gc_r OR tid IN gc_t)"
            " + (SELECT count(*) FROM gc_inv WHERE request_id IN gc_r)"
            " + (SELECT count(*) FROM gc_ecs WHERE tid IN gc_t)"
            f" + (SELECT count(*) FROM gc_applog WHERE session_id = '{s}')"
            f" + (SELECT count(*) FROM gc_json_llm WHERE log_path LIKE '%session_{s}.jsonl') AS events",
        ]
    if question == "request":
        r = q["request"]
        return [
            pay,
            f";CREATE TEMP TABLE gc_t AS SELECT DISTINCT tid FROM gc_p WHERE rid = '{r}'",
            f";SELECT (SELECT count(*) FROM gc_pylog WHERE request_id = '{r}')"
            f" + (SELECT count(*) FROM gc_p WHERE rid = '{r}' OR tid IN gc_t)"
            f" + (SELECT count(*) FROM gc_json_flat WHERE request_id = '{r}')"
            ' + (SELECT count(*) FROM gc_json_ecs WHERE "trace/id" IN gc_t) AS events',
        ]
    if question == "errors":
        return [
            gw,
            pay,
            f";CREATE TEMP TABLE gc_e AS SELECT request_id AS rid FROM gc_gw WHERE log_level IN {bad} "
            f"UNION SELECT rid FROM gc_p WHERE log_level IN {bad} "
            f"UNION SELECT request_id FROM gc_json_flat WHERE log_level IN {bad}",
            ";SELECT count(*) AS sessions FROM (SELECT session_id FROM gc_gw WHERE request_id IN gc_e "
            "AND session_id LIKE 'session-%' "
            f"UNION SELECT session_id FROM gc_applog WHERE log_level IN {bad} AND session_id <> 'in-progress')",
        ]
    if question == "grep":
        return [f";SELECT count(*) AS hits FROM all_logs WHERE log_body LIKE '%{q['grep']}%'"]
    if question == "open":
        return [";SELECT count(*) AS messages FROM all_logs"]
    raise ValueError(question)


def lnav_cmd(question: str, ids: dict[str, str], files: list[str]) -> list[str]:
    cmd = ["lnav", "-n", "-I", str(HERE / "lnav")]
    for c in lnav_sql(question, ids):
        cmd += ["-c", c]
    return cmd + files


def lnav_answer(text: str) -> int | None:
    for line in reversed(text.strip().splitlines()):
        with contextlib.suppress(ValueError):
            return int(line.strip())
    return None


# ---- the benchmark --------------------------------------------------------------------------


@dataclass
class Row:
    section: str
    what: str
    gascorr: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def fmt_s(t: Timing | None) -> str:
    if t is None:
        return "—"
    if not t.ok:
        return f"failed ({t.note})"
    s = t.median_s or 0.0
    txt = f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"
    return txt + (f", {t.rss_mib:.0f} MiB" if t.rss_mib else "")


def ratio(a: Timing | None, b: Timing | None) -> float | None:
    if a is None or b is None or not a.ok or not b.ok or not b.median_s:
        return None
    return (a.median_s or 0.0) / b.median_s


def yes(cond: bool | None) -> str:
    return "—" if cond is None else ("yes" if cond else "**no**")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark gascorr (see bench/README.md).")
    ap.add_argument("--scale", type=float, default=1.0, help="dataset scale (1 = ~600K events, ~250 MB)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--keep",
        metavar="DIR",
        help="keep data and stores in DIR (default: cache data in bench/out/cache, delete stores)",
    )
    ap.add_argument("--runs", type=int, default=5, help="runs per query measurement (ingests: fewer)")
    ap.add_argument("--no-lnav", action="store_true", help="skip lnav even when it is installed")
    ap.add_argument("--no-1m", action="store_true", help="skip the 1M-event store case")
    ap.add_argument("--out", default=str(HERE / "out"), help="where results.json and results.md go")
    a = ap.parse_args(argv)

    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    base = Path(a.keep) if a.keep else outdir / "cache"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(a.keep) / "work" if a.keep else Path(tempfile.mkdtemp(prefix="gascorr-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    gc = gascorr_cmd()
    env = {"NO_COLOR": "1", "GASCORR_STORE": str(work / "unused-store")}
    runs, ingest_runs = max(1, a.runs), max(1, min(3, a.runs))
    info = machine()
    lnav = shutil.which("lnav") if not a.no_lnav else None
    notes: list[str] = []
    if not shutil.which("hyperfine"):
        notes.append("hyperfine is not installed: timings use time.perf_counter around subprocess.")
    if not shutil.which("lnav"):
        notes.append("lnav is not installed: the lnav comparison is skipped (apt-get install lnav).")
    for n in notes:
        print("note: " + n, file=sys.stderr)

    src, truth = dataset(base, a.scale, a.seed)
    data = work / "data"
    append_rel = truth["picks"]["append_to"]
    working_copy(src / "artifacts", data, append_rel)
    files_total = len(truth["files"])
    mb_total = truth["bytes"] / 1e6
    ev_total = truth["events"]
    store = work / "store"
    T: dict[str, Timing] = {}

    # whole-folder ingest, re-ingest, queries
    print("gascorr, whole folder:", file=sys.stderr)
    ing = [*gc, "ingest", str(data), "--store", str(store), "--quiet"]
    T["ingest"] = measure("full ingest", ing, ingest_runs, prepare=f"rm -rf {shlex.quote(str(store))}", env=env)
    if not store.exists():
        sh(f"{shlex.join(ing)} > /dev/null")
    T["reingest"] = measure("re-ingest unchanged", ing, runs, env=env)
    sid, rid, pattern = truth["picks"]["session"], truth["picks"]["request"], truth["picks"]["grep"]
    q = {
        "session": [*gc, "trace", "--session", sid, "--store", str(store), "--format", "json"],
        "request": [*gc, "trace", "--request", rid, "--store", str(store), "--format", "json"],
        "errors": [*gc, "sessions", "--status", "error", "--store", str(store), "--format", "json"],
        "grep": [*gc, "grep", pattern, "--store", str(store), "--format", "json"],
    }
    for k, cmd in q.items():
        T[k] = measure(f"gascorr {k}", cmd, runs, env=env, capture=True, ok_codes=(0, 1))
    T["help"] = measure("gascorr --help", [*gc, "--help"], runs, env=env)
    T["floor"] = measure("import duckdb; connect()", [PY, "-c", "import duckdb; duckdb.connect()"], runs)
    chunk = work / "append.chunk"
    tail_chunk(src / "artifacts" / append_rel, chunk, 2000)
    T["append"] = measure(
        "re-ingest after append",
        ing,
        ingest_runs,
        env=env,
        prepare=f"cat {shlex.quote(str(chunk))} >> {shlex.quote(str(data / append_rel))}",
    )

    # answers checked against the truth
    answers: dict[str, Any] = {}

    def events_of(t: Timing) -> set[tuple[str, int]] | None:
        try:
            doc = json.loads(t.output)
        except ValueError:
            return None
        root = data
        return {(os.path.relpath(e["source"], root), e["line"]) for e in doc.get("events", [])}

    def expect(entry: dict[str, Any]) -> set[tuple[str, int]]:
        return {(p, n) for p, lines in entry["events"].items() for n in lines}

    got_s, want_s = events_of(T["session"]), expect(truth["sessions"][sid])
    got_r, want_r = events_of(T["request"]), expect(truth["requests"][rid])
    want_err = {k for k, v in truth["sessions"].items() if v["error"]}
    try:
        got_err = {r["session_id"] for r in json.loads(T["errors"].output)}
    except (ValueError, TypeError):
        got_err = None
    try:
        grep_hits = len(json.loads(T["grep"].output))
    except (ValueError, TypeError):
        grep_hits = None
    answers["gascorr"] = {
        "session": {
            "id": sid,
            "truth": len(want_s),
            "returned": None if got_s is None else len(got_s),
            "exact": got_s == want_s,
        },
        "request": {
            "id": rid,
            "truth": len(want_r),
            "returned": None if got_r is None else len(got_r),
            "exact": got_r == want_r,
        },
        "errors": {
            "truth": len(want_err),
            "returned": None if got_err is None else len(got_err),
            "exact": got_err == want_err,
        },
        "grep": {"pattern": pattern, "returned": grep_hits},
    }

    # per format
    print("gascorr vs DuckDB, per format:", file=sys.stderr)
    groups: dict[str, list[str]] = {}
    for rel, f in truth["files"].items():
        groups.setdefault(f["group"], []).append(rel)
    per_format: dict[str, dict[str, Any]] = {}
    floor_kind = {"har": "har", "jsonl": "jsonl", "text": "text"}
    for g, rels in sorted(groups.items()):
        paths = [str(src / "artifacts" / r) for r in rels]
        mb = sum(truth["files"][r]["bytes"] for r in rels) / 1e6
        ev = sum(truth["files"][r]["events"] for r in rels)
        gstore = work / f"store-{g.replace('/', '-')}"
        tg = measure(
            f"ingest {g}",
            [*gc, "ingest", *paths, "--store", str(gstore), "--quiet"],
            ingest_runs,
            prepare=f"rm -rf {shlex.quote(str(gstore))}",
            env=env,
        )
        pq = work / f"floor-{g.replace('/', '-')}.parquet"
        tf = measure(
            f"duckdb {g}",
            [PY, str(HERE / "floor.py"), floor_kind[g.split("/")[0]], str(pq), *paths],
            ingest_runs,
            prepare=f"rm -f {shlex.quote(str(pq))}",
            capture=True,
        )
        shutil.rmtree(gstore, ignore_errors=True)
        with contextlib.suppress(OSError):
            pq.unlink()
        per_format[g] = {
            "files": len(rels),
            "mb": mb,
            "events": ev,
            "gascorr": tg,
            "duckdb": tf,
            "duckdb_rows": lnav_answer(tf.output),
        }

    # lnav
    L: dict[str, Timing] = {}
    lnav_answers: dict[str, int | None] = {}
    if lnav:
        print("lnav:", file=sys.stderr)
        home = work / "lnav-home"
        home.mkdir(exist_ok=True)
        lenv = {"HOME": str(home), "TERM": "dumb"}
        all_files = [str(src / "artifacts" / r) for r in truth["files"]]
        logs = [str(src / "artifacts" / r) for r, f in truth["files"].items() if f["group"] != "har"]
        ids = {"session": sid, "request": rid, "grep": pattern}
        lruns = max(1, min(3, runs))
        L["open"] = measure("lnav open", lnav_cmd("open", ids, all_files), lruns, env=lenv, capture=True, timeout=1800)
        for k in ("session", "request", "errors", "grep"):
            L[k] = measure(f"lnav {k}", lnav_cmd(k, ids, logs), lruns, env=lenv, capture=True, timeout=1800)
        for k, t in L.items():
            lnav_answers[k] = lnav_answer(t.output)

    # the 1M-event store
    one_m: dict[str, Any] = {}
    if not a.no_1m:
        print("1M-event store:", file=sys.stderr)
        scale_1m = math.ceil(max(1.0, 1_040_000 / max(1, ev_total / a.scale)) * 100) / 100  # >= 1M events
        src_1m, truth_1m = dataset(base, scale_1m, a.seed)
        store_1m = work / "store-1m"
        t_ing = measure(
            "ingest 1M",
            [*gc, "ingest", str(src_1m / "artifacts"), "--store", str(store_1m), "--quiet"],
            1,
            prepare=f"rm -rf {shlex.quote(str(store_1m))}",
            env=env,
        )
        sid_1m = truth_1m["picks"]["session"]
        t_q = measure(
            "1M trace --session",
            [*gc, "trace", "--session", sid_1m, "--store", str(store_1m), "--format", "json"],
            max(runs, 10),
            env=env,
        )
        t_floor = measure("1M floor", [PY, "-c", "import duckdb; duckdb.connect()"], max(runs, 10))
        inproc = subprocess.run(
            [PY, str(HERE / "inproc.py"), str(store_1m), sid_1m, "30"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        try:
            ip = json.loads(inproc.stdout)
        except ValueError:
            ip = {"error": inproc.stderr.strip().splitlines()[-1:] or ["?"]}
        one_m = {
            "scale": scale_1m,
            "events": truth_1m["events"],
            "mb": truth_1m["bytes"] / 1e6,
            "ingest": t_ing,
            "trace": t_q,
            "floor": t_floor,
            "inproc": ip,
            "session_events": sum(len(v) for v in truth_1m["sessions"][sid_1m]["events"].values()),
        }
        if not a.keep:
            shutil.rmtree(store_1m, ignore_errors=True)

    # ---- the table ---------------------------------------------------------------------------
    rows: list[Row] = []
    ti = T["ingest"]
    mbps = mb_total / ti.median_s if ti.ok and ti.median_s else None
    evps = ev_total / ti.median_s if ti.ok and ti.median_s else None
    lo = L.get("open")
    r_open = ratio(ti, lo)
    rows.append(
        Row(
            "ingest",
            f"full ingest ({files_total} files, {mb_total:.0f} MB, {ev_total / 1e3:.0f}K events)",
            fmt_s(ti),
            f"lnav open: {fmt_s(lo)}" if lo else "lnav: not run",
            f"{r_open:.2f}× lnav" if r_open is not None else "",
            "≤ 0.12× lnav",
            yes(r_open <= 0.12) if r_open is not None else "—",
        )
    )
    rows.append(
        Row(
            "ingest",
            "full ingest throughput",
            f"{mbps:.1f} MB/s, {evps / 1e3:.0f}K events/s" if mbps and evps else "—",
            "",
            "",
            "≥ 80 MB/s, ≥ 200K events/s",
            yes(mbps >= 80 and evps >= 200_000) if mbps and evps else "—",
        )
    )
    rows.append(
        Row(
            "ingest",
            "full ingest peak memory",
            f"{ti.rss_mib:.0f} MiB" if ti.rss_mib else "—",
            f"lnav: {lo.rss_mib:.0f} MiB" if lo and lo.rss_mib else "",
            "",
            "≤ 700 MiB",
            yes(ti.rss_mib <= 700) if ti.rss_mib else "—",
        )
    )
    r_re = ratio(T["reingest"], ti)
    rows.append(
        Row(
            "ingest",
            "re-ingest, folder unchanged",
            fmt_s(T["reingest"]),
            f"full ingest {fmt_s(ti)}",
            f"{r_re:.3f}×" if r_re is not None else "",
            "≤ 0.10× full ingest",
            yes(r_re <= 0.10) if r_re is not None else "—",
        )
    )
    share = truth["files"][append_rel]["bytes"] / truth["bytes"]
    ta = T["append"]
    share_s = share * (ti.median_s or 0) if ti.ok else None
    r_ap = (ta.median_s / share_s) if ta.ok and share_s else None
    rows.append(
        Row(
            "ingest",
            f"re-ingest after appending 2,000 lines to {append_rel} ({share:.1%} of the bytes)",
            fmt_s(ta),
            f"its share of a full ingest: {share_s:.2f} s" if share_s else "",
            f"{r_ap:.1f}× its share" if r_ap is not None else "",
            "≈ the file's share",
            yes(r_ap <= 2.0) if r_ap is not None else "—",
        )
    )
    for g, pf in per_format.items():
        tg, tf = pf["gascorr"], pf["duckdb"]
        gm = pf["mb"] / tg.median_s if tg.ok and tg.median_s else None
        fm = pf["mb"] / tf.median_s if tf.ok and tf.median_s else None
        ge = pf["events"] / tg.median_s if tg.ok and tg.median_s else None
        rows.append(
            Row(
                "per format",
                f"ingest {g} alone ({pf['files']} files, {pf['mb']:.1f} MB, {pf['events'] / 1e3:.1f}K events)",
                f"{fmt_s(tg)}; {gm:.1f} MB/s, {ge / 1e3:.0f}K ev/s" if gm and ge else fmt_s(tg),
                f"DuckDB read→Parquet {fmt_s(tf)}; {fm:.1f} MB/s" if fm else f"DuckDB: {fmt_s(tf)}",
                f"{gm / fm:.2f}× DuckDB speed" if gm and fm else "",
                "≥ 0.5× DuckDB speed",
                yes(gm / fm >= 0.5) if gm and fm else "—",
            )
        )
    ans = answers["gascorr"]
    labels = {
        "session": f"trace --session ({ans['session']['truth']} events; gascorr returned "
        f"{ans['session']['returned']}, exact: {ans['session']['exact']})",
        "request": f"trace --request ({ans['request']['truth']} events; gascorr returned "
        f"{ans['request']['returned']}, exact: {ans['request']['exact']})",
        "errors": f"sessions --status error ({ans['errors']['truth']} sessions; gascorr returned "
        f"{ans['errors']['returned']}, exact: {ans['errors']['exact']})",
        "grep": f'grep "{pattern}" (gascorr: {ans["grep"]["returned"]} hits)',
    }
    truth_n = {"session": ans["session"]["truth"], "request": ans["request"]["truth"], "errors": ans["errors"]["truth"]}
    for k in ("session", "request", "errors", "grep"):
        lt = L.get(k)
        r = ratio(T[k], lt)
        ref = ""
        if lt:
            found = lnav_answers.get(k)
            ref = f"lnav {fmt_s(lt)}, answers {found}"
            if k in truth_n and found is not None and truth_n[k]:
                ref += f" ({found / truth_n[k]:.0%} of the truth)"
        rows.append(
            Row(
                "query (whole process)",
                labels[k],
                fmt_s(T[k]),
                ref or "lnav: not run",
                f"{r:.2f}× lnav" if r is not None else "",
                "≤ 0.1× lnav" if k == "session" else "",
                yes(r <= 0.1) if (r is not None and k == "session") else "—",
            )
        )
    th = T["help"]
    rows.append(
        Row(
            "startup",
            "gascorr --help",
            fmt_s(th),
            "",
            "",
            "≤ 150 ms",
            yes((th.median_s or 9) <= 0.150) if th.ok else "—",
        )
    )
    rows.append(Row("startup", 'python -c "import duckdb; duckdb.connect()" (the floor)', fmt_s(T["floor"])))
    if one_m:
        tq, tfl, ip = one_m["trace"], one_m["floor"], one_m["inproc"]
        rf = ratio(tq, tfl)
        rows.append(
            Row(
                "1M-event store",
                f"ingest ({one_m['events'] / 1e6:.2f}M events, {one_m['mb']:.0f} MB)",
                fmt_s(one_m["ingest"]),
                "",
                "",
                "",
                "",
            )
        )
        rows.append(
            Row(
                "1M-event store",
                f"trace --session, whole process ({one_m['session_events']} events)",
                fmt_s(tq),
                f"import duckdb + connect {fmt_s(tfl)}",
                f"{rf:.2f}× the floor" if rf is not None else "",
                "≤ 300 ms and ≤ 1.2× the floor",
                yes((tq.median_s or 9) <= 0.3 and rf is not None and rf <= 1.2) if tq.ok else "—",
            )
        )
        med = ip.get("median_ms")
        rows.append(
            Row(
                "1M-event store",
                "trace --session in process (Store.open once, then query.trace)",
                f"{med} ms (first {ip.get('first_ms')} ms)" if med is not None else str(ip),
                f"Store.open {ip.get('open_ms')} ms",
                "",
                "≤ 15 ms",
                yes(med <= 15) if med is not None else "—",
            )
        )

    head = [
        f"gascorr benchmark — {info['date']} — {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, "
        f"load average at start {info['load_avg'][0]}",
        f"versions: gascorr {info['gascorr']}, Python {info['python']}, DuckDB {info['duckdb']}, "
        f"pyarrow {info['pyarrow']}, lnav {info['lnav'] or 'absent'}, hyperfine {info['hyperfine'] or 'absent'}; "
        f"peak RSS via {info['time']}",
        f"gascorr source: {info['source']}",
        f"dataset: bench/synth.py scale {a.scale:g} seed {a.seed}: {files_total} files, {mb_total:.0f} MB, "
        f"{ev_total:,} events, {len(truth['sessions'])} sessions; medians of {runs} runs "
        f"({ingest_runs} for ingests; commands slower than {SLOW:.0f} s run once)",
        *notes,
        "",
        "| section | measurement | gascorr | reference | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    lines = head + [
        f"| {r.section} | {r.what} | {r.gascorr} | {r.reference} | {r.ratio} | {r.target} | {r.verdict} |" for r in rows
    ]
    table = "\n".join(lines)
    print(table)
    (outdir / "results.md").write_text(table + "\n")

    def tj(t: Any) -> Any:
        if isinstance(t, Timing):
            d = asdict(t)
            d["output"] = d["output"][:2000]
            return d
        if isinstance(t, dict):
            return {k: tj(v) for k, v in t.items()}
        return t

    results = {
        "machine": info,
        "scale": a.scale,
        "seed": a.seed,
        "files": files_total,
        "mb": mb_total,
        "events": ev_total,
        "notes": notes,
        "gascorr": tj(T),
        "answers": answers,
        "per_format": tj(per_format),
        "lnav": tj(L),
        "lnav_answers": lnav_answers,
        "one_million": tj(one_m),
        "rows": [asdict(r) for r in rows],
    }
    (outdir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a person sees in a real terminal: the tree's structure and colours, and log text kept inert.

Each test runs `python -m gascorr` with stdout on a pseudo-terminal (`pty.openpty()`), so
the CLI takes its terminal path for real: tree output, colour decided by `--color` and
NO_COLOR, width from the terminal. The raw bytes are checked, escape sequences included.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

COLUMNS = 100
SGR = re.compile(r"\x1b\[([0-9;]*)m")
# Environment that would change colour or width decisions behind the test's back.
_SCRUB = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
_SCRUB += ("COLUMNS", "LINES", "GASCORR_STORE", "PYTHONWARNINGS")


@dataclass
class Run:
    code: int
    raw: str  # stdout as the terminal received it, with "\r\n" turned back into "\n"
    err: str

    @property
    def plain(self) -> str:
        return SGR.sub("", self.raw)


def run_pty(args: list[str], store: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """Run `gascorr ARGS --store STORE` with stdout on a fresh pseudo-terminal COLUMNS wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    full_env.update(
        COLUMNS=str(COLUMNS),
        TERM="xterm-256color",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=os.pathsep.join([str(ROOT), full_env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    full_env.update(env or {})
    err_path = store.parent / f"stderr-{time.monotonic_ns()}"
    with open(err_path, "w+b") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gascorr", *args, "--store", str(store)],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=err,
            cwd=store.parent,
            env=full_env,
        )
        os.close(slave)
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    proc.kill()
                    pytest.fail(f"gascorr {' '.join(args)} did not finish in {timeout}s")
                ready, _, _ = select.select([master], [], [], min(left, 1.0))
                if not ready:
                    if proc.poll() is not None and not select.select([master], [], [], 0)[0]:
                        break
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        finally:
            os.close(master)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    raw = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return Run(code, raw, stderr)


# ---- reading a rich tree back -----------------------------------------------------------------

_BRANCH = re.compile(r"^((?:[│|] {3}| {4})*)(├── |└── |\+-- |`-- )(.*)$")


@dataclass
class Node:
    depth: int
    text: str
    children: list[Node] = field(default_factory=list)

    def all_text(self) -> str:
        return " ".join([self.text, *(c.all_text() for c in self.children)])


def parse_tree(plain: str) -> tuple[list[str], list[Node]]:
    """(header lines, top-level nodes) of a rich tree; wrapped lines join the node above."""
    header: list[str] = []
    roots: list[Node] = []
    stack: list[Node] = []
    for line in plain.splitlines():
        m = _BRANCH.match(line)
        if m is None:
            if stack:
                stack[-1].text += " " + line.strip(" │|")
            else:
                header.append(line)
            continue
        depth = len(m.group(1)) // 4
        node = Node(depth, m.group(3))
        while stack and stack[-1].depth >= depth:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return header, roots


def colour_params(params: str) -> set[int]:
    """The colour parameters (foreground/background) of one SGR sequence's parameter list."""
    nums = [int(p) for p in params.split(";") if p.isdigit()]
    out: set[int] = set()
    i = 0
    while i < len(nums):
        n = nums[i]
        if n in (38, 48):  # extended colour: 38;5;N or 38;2;R;G;B
            out.add(n)
            i += 3 if i + 1 < len(nums) and nums[i + 1] == 5 else 5
            continue
        if 30 <= n <= 37 or 40 <= n <= 47 or 90 <= n <= 97 or 100 <= n <= 107:
            out.add(n)
        i += 1
    return out


def styles_before(raw: str, word: str) -> list[str]:
    """The SGR parameter lists written immediately before each occurrence of `word`."""
    return [m.group(1) for m in re.finditer(r"((?:\x1b\[[0-9;]*m)+)" + re.escape(word), raw)]


def is_red(sgr_run: str) -> bool:
    params = ";".join(SGR.findall(sgr_run))
    return bool(re.search(r"(?:^|;)(?:31|91)(?:;|$)", params) or re.search(r"38;5;(?:1|9|160|196)(?:;|$)", params))


# ---- the checkout session, as a support engineer sees it ---------------------------------------

CHECKOUT = FIXTURES / "checkout"
TRACE = ["trace", "--session", "session-xyz", str(CHECKOUT), "--quiet"]


@pytest.fixture(scope="module")
def checkout_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pty") / "store"


def _request_branch(roots: list[Node], request_id: str, path: str) -> Node:
    found = [n for n in roots if n.children and (request_id in n.text or path in n.text)]
    assert found, f"no branch for {request_id} ({path}) among: {[n.text for n in roots]}"
    return found[0]


def test_session_tree_structure_and_colour(checkout_store: Path) -> None:
    r = run_pty([*TRACE, "--color", "always"], checkout_store)
    assert r.code == 0, r.err
    header, roots = parse_tree(r.plain)

    assert header, r.plain
    assert "session-xyz" in header[0] and "session" in header[0].split("session-xyz")[0], header

    cart = _request_branch(roots, "req-001", "/api/cart")
    pay = _request_branch(roots, "req-002", "/api/payments")
    assert roots.index(cart) < roots.index(pay), "requests are not in timeline order"
    assert all(c.depth == 1 for c in cart.children + pay.children)
    cart_text = " ".join(c.text for c in cart.children)
    pay_text = " ".join(c.text for c in pay.children)
    assert "Checking stock" in cart_text and "Cart loaded" in cart_text
    assert "Authorizing with Stripe" in pay_text and "Releasing reservation" in pay_text
    assert "Insufficient funds" not in cart.all_text()

    funds = [c for c in pay.children if "Insufficient funds" in c.text]
    assert len(funds) == 1, pay_text
    assert "payment-service" in funds[0].text and "ERROR" in funds[0].text
    # an event that belongs to no request stands at the session level
    assert any("Page load" in n.text and not n.children for n in roots)

    colours = {c for params in SGR.findall(r.raw) for c in colour_params(params)}
    assert colours, "no ANSI colours with --color always"
    errors = styles_before(r.raw, "ERROR")
    assert errors and all(is_red(s) for s in errors), f"ERROR is not red: {errors!r}"


@pytest.mark.parametrize(
    ("extra", "env"),
    [([], {"NO_COLOR": "1"}), (["--color", "never"], {})],
    ids=["NO_COLOR=1", "--color never"],
)
def test_no_colour(checkout_store: Path, extra: list[str], env: dict[str, str]) -> None:
    r = run_pty([*TRACE, *extra], checkout_store, env)
    assert r.code == 0, r.err
    used = {c for params in SGR.findall(r.raw) for c in colour_params(params)}
    assert not used, f"colour codes {sorted(used)} in output with {extra or env}"
    _, roots = parse_tree(r.plain)
    _request_branch(roots, "req-002", "/api/payments")  # still a tree, only without colour
    assert "Insufficient funds" in r.plain


def test_pipe_gets_json_not_a_tree(checkout_store: Path) -> None:
    """The same command on a pipe writes JSON and no escape sequences, even with --color always."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["PYTHONPATH"] = str(ROOT)
    p = subprocess.run(
        [sys.executable, "-m", "gascorr", *TRACE, "--store", str(checkout_store), "--color", "always"],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout_store.parent,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout
    assert json.loads(p.stdout)["session_id"] == "session-xyz"


# ---- log text is data ------------------------------------------------------------------------

MARKUP = "[bold red]pwned[/]"
EVIL_TEXT = (
    "2026-01-31 10:00:00,000 - api - INFO - start (session_id: sess-evil, request_id: req-evil)\n"
    f"2026-01-31 10:00:00,100 - api - ERROR - {MARKUP} (session_id: sess-evil, request_id: req-evil)\n"
    "2026-01-31 10:00:00,200 - api - WARN - \x1b]0;evil title\x07 title set (session_id: sess-evil)\n"
    "2026-01-31 10:00:00,300 - api - INFO - \x1b[2J screen cleared (session_id: sess-evil)\n"
    "2026-01-31 10:00:00,400 - api - INFO - \x1b[31mred\x1b[0m text (session_id: sess-evil)\n"
)
# the same attacks arriving JSON-escaped, which a JSON parser turns into real control characters
EVIL_JSON = json.dumps(
    {
        "ts": "2026-01-31T10:00:01Z",
        "level": "error",
        "service": "json-api",
        "session_id": "sess-evil",
        "msg": "[bold red]pwned-json[/] \x1b]0;json title\x07 \x1b[2J \x1b[31mred-json\x1b[0m",
    }
)


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("evil")
    logs = base / "logs"
    logs.mkdir()
    (logs / "api.log").write_bytes(EVIL_TEXT.encode())
    (logs / "json-api.jsonl").write_text(EVIL_JSON + "\n", encoding="utf-8")
    return logs, base / "store"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")


ALL_TEXT = [MARKUP, "[bold red]pwned-json[/]", "evil title", "screen cleared", "red", "json title", "red-json"]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["trace", "--session", "sess-evil"], ALL_TEXT),
        (["trace", "--session", "sess-evil", "--format", "table"], ALL_TEXT),
        (["grep", "pwned"], [MARKUP, "[bold red]pwned-json[/]"]),
        (["grep", "-E", "title|cleared|red-json"], ["evil title", "screen cleared", "json title", "red-json"]),
    ],
    ids=["trace-tree", "trace-table", "grep-markup", "grep-escapes"],
)
def test_log_text_is_inert(evil: tuple[Path, Path], args: list[str], shown: list[str]) -> None:
    logs, store = evil
    r = run_pty([*args, str(logs), "--color", "always", "--quiet", "--width", "200"], store)
    assert r.code == 0, r.err
    raw = r.raw

    assert "\x1b]" not in raw, "an OSC sequence (window title) reached the terminal"
    assert "\x07" not in raw, "a BEL reached the terminal"
    assert "\x1b[2J" not in raw, "clear-screen reached the terminal"
    assert "\x1b[31mred" not in raw, "the log's own colour codes reached the terminal"
    stray = [raw[m.start() : m.start() + 8] for m in re.finditer(r"\x1b(?!\[[0-9;]*m)", raw)]
    assert not stray, f"escape sequences other than colour: {stray!r}"
    assert not _CONTROL.search(raw), "a raw control character reached the terminal"
    # neutralised, not dropped: markup is printed as written and the text around sequences stays
    for text in shown:
        assert text in r.plain, f"{text!r} is not in the output as written"


def test_failed_requests_show_why_in_the_tree(tmp_path: Path) -> None:
    """A failed HTTP call's row says why (the browser's error, the status text); a good one
    does not repeat its `OK`."""

    def entry(at: str, method: str, url: str, status: int, text: str, **more: str) -> dict[str, object]:
        return {
            "startedDateTime": f"2026-02-01T10:00:0{at}.000Z",
            "time": 5,
            "request": {"method": method, "url": url, "headers": [{"name": "X-Session-Id", "value": "S9"}]},
            "response": {"status": status, "statusText": text, "headers": []},
            **more,
        }

    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "entries": [
                entry("0", "GET", "http://shop/a", 200, "OK"),
                entry("1", "POST", "http://shop/b", 0, "", _error="net::ERR_CONNECTION_REFUSED"),
                entry("2", "GET", "http://shop/c", 503, "Service Unavailable"),
            ],
        }
    }
    (tmp_path / "c.har").write_text(json.dumps(har))
    store = tmp_path / "store"
    subprocess.run(
        [sys.executable, "-m", "gascorr", "ingest", str(tmp_path / "c.har"), "--store", str(store), "-q"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    r = run_pty(["trace", "--session", "S9", "--color", "never"], store)
    assert r.code == 0, r.err
    rows = {line.split("/")[-1].split()[0]: line for line in r.plain.splitlines() if "shop" in line or " /" in line}
    assert "(net::ERR_CONNECTION_REFUSED)" in rows["b"], r.plain
    assert "Service Unavailable" in rows["c"], r.plain
    assert "OK" not in rows["a"], r.plain

"""Shared test helpers: run the CLI in-process with separate stdout/stderr and exit code."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite the expected output of golden tests")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run_cli(*args: str, tty: bool = False, env: dict[str, str] | None = None) -> Result:
    """Run `gascorr ARGS` in-process; stdout/stderr captured apart, `tty` fakes a terminal."""
    from gascorr import cli

    out, err = _Stream(tty), _Stream(tty)
    old = cli.ENV
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    cli.ENV = cli.Env(stdout=out, stderr=err)
    try:
        code = cli.run(list(args))
    finally:
        cli.ENV = old
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store")


@pytest.fixture
def cli(store: str):  # type: ignore[no-untyped-def]
    """`cli(*args)` runs gascorr against a fresh per-test store."""

    def _run(*args: str, tty: bool = False, env: dict[str, str] | None = None) -> Result:
        return run_cli(*args, "--store", store, tty=tty, env=env)

    return _run

"""Golden tests: every command in `tests/golden/<case>/commands.json`, run through the CLI on
`fixtures/<case>/`, must print exactly the checked-in tree (`<name>.tree`) and JSON
(`<name>.json`) beside it. (The expectations live outside fixtures/ so that ingesting
fixtures/ never reads them as logs.)

After a deliberate change of output, regenerate with `pytest --update-golden` and review
the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.parent for p in GOLDEN.glob("*/commands.json"))


def _params() -> list[tuple[Path, str, list[str]]]:
    out = []
    for case in CASES:
        spec = json.loads((case / "commands.json").read_text())
        for name, args in spec["commands"].items():
            out.append((case, name, args))
    return out


@pytest.mark.parametrize(("case", "name", "args"), _params(), ids=lambda v: v if isinstance(v, str) else None)
def test_golden(
    case: Path,
    name: str,
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.chdir(ROOT)
    rel = str((FIXTURES / case.name).relative_to(ROOT))
    store = str(tmp_path / "store")
    tree = run_cli(
        *args,
        rel,
        "--store",
        store,
        "--format",
        "tree" if args[0] == "trace" else "table",
        "--color",
        "never",
        "--width",
        "100",
    )
    assert tree.code == 0, tree.err
    assert "Traceback" not in tree.err
    # the second run reads the store it made: nothing is parsed again, same answer
    js = run_cli(*args, rel, "--store", store, "--format", "json")
    assert js.code == 0, js.err
    assert "ingested" not in js.err
    doc = js.json()
    expected = case
    if request.config.getoption("--update-golden"):
        (expected / f"{name}.tree").write_text(tree.out)
        (expected / f"{name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    assert tree.out == (expected / f"{name}.tree").read_text()
    assert doc == json.loads((expected / f"{name}.json").read_text())


def test_every_case_has_commands() -> None:
    assert {c.name for c in CASES} >= {"checkout", "cycling-ai", "traceforge", "cagent"}

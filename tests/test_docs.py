"""The docs stay true to the CLI: man pages, the README's reference, `--help` examples.

- every command has a page in `man/` and every option (long and short) and argument is on it;
- the checked-in pages are exactly what `gascorr.manpage` generates now, so they cannot drift
  (regenerate with `python -m gascorr.manpage man/`);
- every key of every JSON document has a written meaning;
- every command's `--help` has an `Example:` that uses only options the command has;
- groff renders every page without a warning, and roff escaping keeps text literal;
- the README names every command and long option.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from gascorr import manpage

MAN = ROOT / "man"
README = ROOT / "README.md"
ROOT_CMD, COMMANDS = manpage.cli_tree()
BY_NAME = {c.name: c for c in COMMANDS}
GROFF = shutil.which("groff")


def roff(s: str) -> str:
    """How a name is written in the generated roff."""
    return manpage.esc(s)


def page(name: str) -> str:
    path = MAN / name
    assert path.exists(), f"{path} is missing; run: python -m gascorr.manpage man/"
    return path.read_text(encoding="utf-8")


# ---- man/ covers the CLI ------------------------------------------------------------------------


def test_commands_are_the_documented_ones() -> None:
    assert [c.name for c in COMMANDS] == ["ingest", "trace", "sessions", "requests", "grep", "sql", "stats"]


@pytest.mark.parametrize("cmd", [c.name for c in COMMANDS])
def test_command_page_has_every_option(cmd: str) -> None:
    text = page(f"gascorr-{cmd}.1")
    c = BY_NAME[cmd]
    missing = [o for o in sorted(c.option_names()) if f"\\fB{roff(o)}\\fR" not in text]
    missing += [a.metavar for a in c.arguments if f"\\fI{roff(a.metavar)}\\fR" not in text]
    assert not missing, f"man/gascorr-{cmd}.1 lacks {missing}"
    for p in c.options:
        if p.help:
            assert manpage.md(p.help) in text, f"the help of {p.opts} is not on the page"


def test_overview_page_names_every_command_and_root_option() -> None:
    text = page("gascorr.1")
    for c in COMMANDS:
        assert f"\\fBgascorr {roff(c.name)}\\fR" in text, f"gascorr.1 has no synopsis/entry for {c.name}"
        assert f"\\fBgascorr\\-{roff(c.name)}\\fR(1)" in text, f"gascorr.1 does not point to gascorr-{c.name}(1)"
    missing = [o for o in sorted(ROOT_CMD.option_names()) if f"\\fB{roff(o)}\\fR" not in text]
    assert not missing, f"gascorr.1 lacks {missing}"
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "THE EVENT TABLE", "CORRELATION IDS", "JSON OUTPUT"):
        assert f'.SH "{section}"' in text or f".SH {section}" in text


def test_overview_page_lists_columns_and_id_names() -> None:
    from gascorr.ids import DEFAULT
    from gascorr.schema import NAMES

    text = page("gascorr.1")
    assert [n for n in NAMES if f"\\fB{roff(n)}\\fR (" not in text] == []
    names = [*DEFAULT.session_keys, *DEFAULT.request_keys, *DEFAULT.trace_keys, *DEFAULT.session_headers]
    assert [n for n in names if f"\\fB{roff(n)}\\fR" not in text] == []
    for name in ("GASCORR_STORE", "NO_COLOR"):
        assert f"\\fB{name}\\fR" in text


def test_the_extra_id_names_are_documented() -> None:
    from gascorr.parsers.fields import EXTRA_ID_NAMES

    keys = [k for keys in EXTRA_ID_NAMES.values() for k in keys]
    text, readme = page("gascorr.1"), README.read_text()
    assert [k for k in keys if f"\\fB{roff(k)}\\fR" not in text] == []
    assert [k for k in keys if f"`{k}`" not in readme] == []


def test_man_pages_are_what_the_generator_writes_now() -> None:
    stale = manpage.stale(MAN)
    assert not stale, f"man pages out of date: {stale}; run: python -m gascorr.manpage man/"


def test_every_json_key_has_a_meaning() -> None:
    assert manpage.undocumented_keys() == {}, "describe these keys in gascorr/manpage.py SHAPE_KEYS"


def test_generator_rejects_a_stale_example() -> None:
    with pytest.raises(ValueError, match="--no-such-option"):
        manpage.check_example("gascorr trace --no-such-option x", BY_NAME, ROOT_CMD)
    with pytest.raises(ValueError, match="unknown command"):
        manpage.check_example("gascorr tail x", BY_NAME, ROOT_CMD)
    manpage.check_example("gascorr trace -s x --format=json | jq .", BY_NAME, ROOT_CMD)


def test_cli_does_not_import_the_generator() -> None:
    code = "import sys, gascorr.cli; sys.exit('gascorr.manpage' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


# ---- --help --------------------------------------------------------------------------------


def _help(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    p = subprocess.run(
        [sys.executable, "-m", "gascorr", *args, "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("cmd", ["", *[c.name for c in COMMANDS]])
def test_help_has_a_working_example(cmd: str) -> None:
    out = _help(*([cmd] if cmd else []))
    examples = re.findall(r"Example:\s*(.+)", out)
    assert examples, f"gascorr {cmd} --help has no 'Example:'"
    for line in examples:
        manpage.check_example(line.strip(), BY_NAME, ROOT_CMD)
        if cmd:
            assert line.strip().startswith(f"gascorr {cmd}"), f"the example of {cmd} runs another command: {line}"


# ---- groff ---------------------------------------------------------------------------------

needs_groff = pytest.mark.skipif(GROFF is None, reason="groff is not installed")


def _groff(path: Path) -> subprocess.CompletedProcess[str]:
    assert GROFF is not None
    return subprocess.run([GROFF, "-man", "-Tutf8", "-ww", "-z", str(path)], capture_output=True, text=True, timeout=60)


@needs_groff
@pytest.mark.parametrize("name", ["gascorr.1", *[f"gascorr-{c.name}.1" for c in COMMANDS]])
def test_groff_renders_without_warnings(name: str) -> None:
    p = _groff(MAN / name)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def _render(text: str, tmp_path: Path) -> str:
    assert GROFF is not None
    src = tmp_path / "t.1"
    src.write_text(text, encoding="ascii")
    warn = _groff(src)
    assert warn.stderr == "", warn.stderr
    out = subprocess.run(
        [GROFF, "-man", "-Tutf8", "-rLL=200n", str(src)], capture_output=True, text=True, timeout=60
    ).stdout
    return re.sub(r".\x08", "", re.sub(r"\x1b\[[0-9;]*m", "", out))  # drop bold/underline


@needs_groff
def test_escaping_keeps_text_literal(tmp_path: Path) -> None:
    tricky = [
        ".TH looks like a request",
        "'also a request",
        "back\\slash \\fB not bold",
        "--session session-xyz",
        "quote \" and apostrophe ' and `tick`",
        "µs → ns … “curly”",
    ]
    doc = manpage.Roff()
    doc.macro("TH", "T", "1")
    doc.macro("SH", "NAME")
    doc.raw("t \\- test")
    for t in tricky:
        doc.macro("PP")
        doc.raw(manpage.esc(t))
    text = doc.render()
    assert text.isascii()
    shown = _render(text, tmp_path)
    for t in tricky:
        assert t in shown, f"{t!r} did not survive roff: {shown!r}"


@needs_groff
def test_rendered_page_reads_as_typed(tmp_path: Path) -> None:
    shown = _render(page("gascorr-trace.1"), tmp_path)
    for s in ("gascorr-trace", "--session", "--max-lines", "gascorr trace --request req-002 artifacts/"):
        assert s in shown


# ---- the README's reference ------------------------------------------------------------------


def _readme_missing() -> list[str]:
    text = README.read_text(encoding="utf-8")
    missing = [f"gascorr {c.name}" for c in COMMANDS if not re.search(rf"gascorr {c.name}\b", text)]
    longs = sorted({o for c in [ROOT_CMD, *COMMANDS] for p in c.options for o in p.longs} - {"--help"})
    missing += [o for o in longs if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
    return missing


def test_readme_names_every_command_and_option() -> None:
    missing = _readme_missing()
    assert not missing, f"README.md does not mention: {', '.join(missing)}"

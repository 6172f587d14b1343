"""Every command with random arguments, ids and option values — control characters,
bidi and invisible characters, numbers far beyond SQLite's integers — run in-process:
never a traceback, never a raw control byte on stdout or stderr (issue 14).

Left out: `doctor`, `listen` and `transcribe`, which load the speech model or open the
microphone whatever their arguments; their option parsing is click's, as here."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coda_tui.cli import cli
from coda_tui.core.runtime import Runtime
from coda_tui.textsafe import inert
from tests.conftest import write_config
from tests.servers import free_port

SKIPPED = {("doctor",), ("listen",), ("transcribe",)}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        if path in SKIPPED:
            continue
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += command_paths(cmd, path)
    return out


COMMANDS = command_paths(cli)


def acts(c: str) -> bool:
    """A character inert() would have shown instead: a control, a bidi or hidden one."""
    return c not in "\n\t" and inert(c) != c


any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(st.integers(-(10**30), 10**30), st.integers(-3, 3)).map(str)
odd = st.sampled_from(["²", "³", "١", "-", "", "0", "1", "99999999999999999999999", "-1", "1e9", "nan",
                       "\x1b[2J", "\x1b]0;t\x07", "\u202e", "\u200b", "\U000e0041", "\u2028", "..", "./nosuch"])


@st.composite
def invocations(draw):
    path, cmd = draw(st.sampled_from(COMMANDS))
    options = [o for p in cmd.params for o in p.opts if o.startswith("-")]
    word = st.one_of(any_text, numbers, odd, *([st.sampled_from(options)] if options else []))
    # "--" would make what follows (our --config) an argument: ask would then use the real
    # model. A NUL cannot be in a real command line (argv strings end at one).
    args = draw(st.lists(word.filter(lambda w: w != "--" and "\x00" not in w), max_size=5))
    return [*path, *args]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A config whose provider refuses at once, a database with a hostile session, and an
    empty working folder (so '.' or a relative -o lands there)."""
    cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                 f'base_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\nmax_retries = 0\n')
    rt = Runtime(cfg)
    try:
        s = rt.store.sessions.create("\x1b]0;t\x07name\u202e\u200b")
        rt.store.sessions.add_message(s.id, "user", "q \x1b[2J\x9b31m \U000e0041")
        rt.store.sessions.add_message(s.id, "assistant", "a \x07\u2028\ufeff", status="complete")
    finally:
        rt.close()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return ["--config", str(cfg), "--project", str(work)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=invocations())
def test_no_command_prints_a_traceback_or_a_raw_control_character(world, argv):
    result = CliRunner().invoke(cli, [*world, *argv], prog_name="coda")
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.exception)
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, result.output)
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        raw = sorted({f"U+{ord(c):04X}" for c in text if acts(c)})
        assert not raw, (argv, raw, text[:400])

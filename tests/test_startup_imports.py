"""What the terminal app imports before its first frame: none of the heavy packages it
only needs later (timings belong in benchmarks/tui_startup.py; this checks the cause)."""

from __future__ import annotations

import json
import subprocess
import sys

# sqlite-utils pulls in numpy and pandas when installed: a quarter second on this machine;
# the Markdown parsers are needed by the first answer, not by the first frame.
NOT_BEFORE_FIRST_FRAME = ("sqlite_utils", "numpy", "pandas", "markdown_it", "rich.markdown", "textual.widgets._markdown")
# The code index and the context stage (the chunker's patterns), the turn runner, the tool loop
# and the tools' registry: the first turn or the index worker (after the first frame) loads them.
NOT_BEFORE_FIRST_FRAME += ("coda_tui.context.index", "coda_tui.context.chunker", "coda_tui.context.select",
                           "coda_tui.context.semantic", "coda_tui.core.turn", "coda_tui.core.tool_loop",
                           "coda_tui.core.model_round", "coda_tui.core.cache", "coda_tui.tools.registry")


def loaded_after(code: str, tmp_path) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_app_and_an_open_store_leave_the_heavy_packages_unloaded(tmp_path):
    loaded = loaded_after(
        "import coda_tui.cli, coda_tui.ui.app\n"
        "from coda_tui.store import Store\n"
        f"s = Store({str(tmp_path / 'coda.db')!r})\n"
        "s.sessions.create('x'); s.traces.recent(30); s.close()",
        tmp_path,
    )
    assert "coda_tui.ui.app" in loaded
    assert not {m for m in loaded if m.startswith(NOT_BEFORE_FIRST_FRAME)}


def test_the_rest_of_sqlite_utils_is_there_when_asked_for(tmp_path):
    from coda_tui.store import Store

    store = Store(tmp_path / "coda.db")
    assert store.db["sessions"].count == 0  # a sqlite-utils Table over the same connection
    assert {"sessions", "messages", "messages_fts"} <= set(store.db.table_names())
    store.close()


def test_the_command_starts_with_the_collector_held_and_resumes_it(tmp_path):
    loaded = loaded_after(
        "import gc, coda_tui.__main__\n"
        "held = not gc.isenabled()\n"
        "from coda_tui import startup_gc\n"
        "startup_gc.resume(); startup_gc.resume()\n"
        "assert held and gc.isenabled() and gc.get_freeze_count() > 10000",
        tmp_path,
    )
    assert "coda_tui.cli" in loaded


def test_resume_leaves_a_collector_it_did_not_stop_alone():
    import gc

    from coda_tui import startup_gc

    gc.disable()
    try:
        startup_gc.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_apps_first_frame_leaves_the_turn_runner_and_the_tools_unloaded(tmp_path):
    # Mounted and drawn once, before the index worker (which loads the index) is started.
    (tmp_path / "h").mkdir()
    loaded = loaded_after(
        "import asyncio, os\n"
        f"os.environ['CODA_DATA_DIR'] = {str(tmp_path / 'data')!r}; os.environ['HOME'] = {str(tmp_path / 'h')!r}\n"
        "from coda_tui.core.runtime import Runtime\n"
        "from coda_tui.ui.app import CodaApp\n"
        "async def first_frame():\n"
        "    app = CodaApp(Runtime(project=os.getcwd()))\n"
        "    app.call_after_refresh(app.exit)\n"
        "    await app.run_async(headless=True, size=(120, 40))\n"
        "asyncio.run(first_frame())",
        tmp_path,
    )
    assert "coda_tui.ui.app" in loaded
    assert not {m for m in loaded if m.startswith(("coda_tui.core.turn", "coda_tui.core.tool_loop", "coda_tui.tools.registry", "coda_tui.core.roles"))}


def test_coda_ask_imports_its_own_command_module_only(tmp_path):
    # A question asked to a server that refuses at once: ask's whole path runs, the model is
    # never loaded. The other commands' modules (and what only they need) stay unimported.
    from coda_tui.cli import COMMANDS
    from tests.conftest import write_config
    from tests.servers import free_port

    cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                 f'base_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\nmax_retries = 0\n')
    loaded = loaded_after(
        "import os\n"
        f"os.environ['CODA_DATA_DIR'] = {str(tmp_path / 'data')!r}\n"
        f"sys.argv = ['coda', '--config', {str(cfg)!r}, 'ask', 'Say hi']\n"
        "from coda_tui.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass",
        tmp_path,
    )
    others = {f"coda_tui.cli.{module}" for module in COMMANDS.values()} - {"coda_tui.cli.ask"}
    assert {"coda_tui.cli.ask", "coda_tui.core.turn"} <= loaded
    assert not loaded & others
    assert not loaded & {"coda_tui.store.comparisons", "statistics"}


def test_the_help_still_lists_every_command():
    from click.testing import CliRunner

    from coda_tui.cli import COMMANDS, cli

    listed = CliRunner().invoke(cli, ["--help"]).output.split("Commands:")[1]
    assert {line.split()[0] for line in listed.strip().splitlines()} == set(COMMANDS)

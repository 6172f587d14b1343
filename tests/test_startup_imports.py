"""What the terminal app imports before its first frame: none of the heavy packages it
only needs later (timings belong in benchmarks/tui_startup.py; this checks the cause)."""

from __future__ import annotations

import json
import subprocess
import sys

# sqlite-utils pulls in numpy and pandas when installed: a quarter second on this machine.
NOT_BEFORE_FIRST_FRAME = ("sqlite_utils", "numpy", "pandas")


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
    assert not {m.split(".")[0] for m in loaded} & set(NOT_BEFORE_FIRST_FRAME)


def test_the_rest_of_sqlite_utils_is_there_when_asked_for(tmp_path):
    from coda_tui.store import Store

    store = Store(tmp_path / "coda.db")
    assert store.db["sessions"].count == 0  # a sqlite-utils Table over the same connection
    assert {"sessions", "messages", "messages_fts"} <= set(store.db.table_names())
    store.close()

"""kill -9 in the middle of an apply: the project keeps no temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from coda_tui.context.project import Project
from coda_tui import patch
from coda_tui.core.apply import apply_diff
from tests.conftest import ROOT

OLD = "x = 1\n"

# Applies a diff and stops for good just before the rename that finishes it, as a process
# killed at that moment would.
CHILD = textwrap.dedent("""
    import pathlib, sys, time
    from coda_tui.context.project import Project
    from coda_tui import patch
    from coda_tui.core import apply

    def stuck(src, dst):
        print("written", flush=True)
        time.sleep(600)

    apply.os.replace = stuck
    root = pathlib.Path(sys.argv[1])
    apply.apply_diff(Project(root), root / "app.py", patch.make("x = 1\\n", "x = 2\\n", "app.py"))
""")


def test_a_killed_apply_leaves_nothing_once_the_next_apply_runs(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(OLD)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline() == b"written\n"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    left = [p.name for p in root.iterdir() if p.name.endswith(".coda")]
    assert len(left) == 1 and left[0].startswith(".app.py.")  # what kill -9 leaves
    (root / ".other.py.abcd1234.coda").write_text("from a version that put no pid in the name")
    (root / "other.py").write_text("")
    (root / "notes.txt.coda").write_text("the user's own file")
    apply_diff(Project(root), root / "app.py", patch.make(OLD, "x = 3\n", "app.py"))
    assert (root / "app.py").read_text() == "x = 3\n"
    assert sorted(p.name for p in root.iterdir()) == ["app.py", "notes.txt.coda", "other.py"]

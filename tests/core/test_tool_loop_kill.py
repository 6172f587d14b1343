"""kill -9 in the middle of a tool loop: a real coda process (its turn driven by a scripted
model, its tools real) is killed while a tool sleeps; the database keeps every call and
result that had completed, and the running call's row says it never finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from coda_tui.store import Store
from tests.conftest import ROOT

CHILD = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from tests.core.tool_doubles import EchoTool, SleepTool, call, scripted_runtime

    tmp, marker = Path(sys.argv[1]), Path(sys.argv[2])
    script = [[call("echo", {"text": "first"}, "e1")],
              ["Now two at once. ", call("echo", {"text": "second"}, "e2"), call("sleep", {"seconds": 600}, "s")],
              ["never"]]
    rt, _ = scripted_runtime(tmp, script, [EchoTool(), SleepTool(marker=marker)])
    asyncio.run(rt.turns.run("read, then sleep"))
""")


def test_kill_9_while_a_tool_runs_loses_no_completed_call(tmp_path):
    marker = tmp_path / "sleeping"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(marker)], cwd=ROOT, env=env,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the tool never started"
            time.sleep(0.05)
        db_path = tmp_path / "data" / "coda.db"
        # The echo beside the sleep finishes at once; wait until its row says so.
        while True:
            store = Store(db_path)
            done = [m for m in store.sessions.messages(1) if m.tool_call_id == "e2" and m.status == "complete"]
            store.close()
            if done:
                break
            assert time.monotonic() < deadline, "the second echo was never stored"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    store = Store(db_path)
    msgs = store.sessions.messages(1)
    assert [(m.role, m.status, m.tool_call_id, m.content) for m in msgs] == [
        ("user", "complete", None, "read, then sleep"),
        ("assistant", "complete", None, ""),
        ("tool", "complete", "e1", "echo: first"),
        ("assistant", "complete", None, "Now two at once. "),
        ("tool", "complete", "e2", "echo: second"),
        ("tool", "partial", "s", ""),
    ]
    assert [c["id"] for c in msgs[1].calls] == ["e1"] and [c["id"] for c in msgs[3].calls] == ["e2", "s"]
    store.close()

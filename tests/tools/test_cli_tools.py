"""`coda tools list`, `coda tools stats` and `coda undo` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from coda_tui import paths
from coda_tui.cli import cli
from coda_tui.config import Config
from coda_tui.context.project import Project
from coda_tui.store import Store
from coda_tui.store.traces import StageRecord, TraceRecord
from coda_tui.tools.edits import EditFile, WriteFile
from coda_tui.tools.setup import tool_context
from tests.conftest import run_coda, write_config
from tests.tools.conftest import APP, run


def coda(*args):
    return CliRunner().invoke(cli, list(args), prog_name="coda")


def test_tools_list_shows_every_builtin_with_its_source_kind_and_rule(tmp_path):
    config = write_config(tmp_path, '[tools]\ndeny = ["run_command"]\nallow = ["write_file"]\n')
    result = coda("tools", "list", "--json", "--config", str(config))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    rows = {t["name"]: t for t in out["tools"]}
    assert set(rows) == {"read_file", "list_files", "search_code", "grep", "git_status", "git_diff", "edit_file",
                         "write_file", "run_command"}
    assert rows["read_file"] == {"name": "read_file", "source": "builtin", "read_only": True, "rule": "allow",
                                 "description": rows["read_file"]["description"]}
    assert (rows["edit_file"]["rule"], rows["run_command"]["rule"], rows["write_file"]["rule"]) == ("ask", "deny", "allow")
    assert out["problems"] == [] and out["enabled"] is True
    text = coda("tools", "list", "--config", str(config)).output.splitlines()
    assert text[0].split() == ["tool", "source", "kind", "rule", "description"]
    assert any(line.split()[:4] == ["edit_file", "builtin", "changes", "ask"] for line in text)


def _trace(store, started_at, calls):
    stages = [StageRecord("llm", 0, 5, detail={"step": 1})]
    stages += [StageRecord("tool", 10 + i, ms, f"{tool} → {status}", {"tool": tool, "status": status, "call_id": f"c{i}"})
               for i, (tool, status, ms) in enumerate(calls)]
    store.traces.save(TraceRecord("complete", started_at, stages=stages))


def test_tools_stats_counts_calls_failures_and_times_per_tool(tmp_path):
    store = Store(paths.database_path())
    now = dt.datetime.now(dt.UTC)
    recent = now.isoformat(timespec="milliseconds")
    _trace(store, recent, [("read_file", "ok", 10.0), ("read_file", "ok", 20.0), ("read_file", "error", 30.0),
                           ("read_file", "ok", 40.0), ("edit_file", "denied", 0.1), ("edit_file", "ok", 4.0)])
    _trace(store, (now - dt.timedelta(days=30)).isoformat(timespec="milliseconds"), [("grep", "ok", 7.0)])
    _trace(store, recent, [("list_files", "ok", 1.0)])
    with store.db.conn:  # a damaged row is left out, not a failure
        store.db.conn.execute("UPDATE trace_stages SET detail = '{not json' WHERE detail LIKE '%list_files%'")
    store.close()
    result = coda("tools", "stats", "--since", "7d", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"tool": "read_file", "calls": 4, "failures": 1, "denied": 0, "median_ms": 25.0, "p95_ms": 40.0},
        {"tool": "edit_file", "calls": 2, "failures": 0, "denied": 1, "median_ms": 4.0, "p95_ms": 4.0},
    ]
    everything = json.loads(coda("tools", "stats", "--json").output)
    assert [s["tool"] for s in everything] == ["read_file", "edit_file", "grep"]
    table = coda("tools", "stats").output.splitlines()
    assert table[0].split() == ["tool", "calls", "failed", "denied", "median", "ms", "p95", "ms"]
    assert table[1].split() == ["read_file", "4", "1", "0", "25.0", "40.0"]


def test_tools_stats_with_nothing_recorded_or_a_bad_span():
    assert coda("tools", "stats").output == "no tool calls recorded\n"
    bad = coda("tools", "stats", "--since", "soon")
    assert bad.exit_code == 2 and "'soon' is not a span like 30m, 12h, 7d or 2w" in bad.output


def test_coda_undo_restores_the_last_turn_and_refuses_after_a_change(root):
    ctx = tool_context(Config(), Project(root), turn="t1")
    run(EditFile().call({"path": "src/app.py", "old": "return argv[1:]", "new": "return argv"}, ctx))
    run(WriteFile().call({"path": "notes.md", "content": "n\n"}, ctx))
    proc = run_coda("undo", "--project", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"undone": True, "turn": "t1", "restored": ["src/app.py"], "deleted": ["notes.md"]}
    assert (root / "src/app.py").read_text() == APP and not (root / "notes.md").exists()

    run(EditFile().call({"path": "src/app.py", "old": "return argv[1:]", "new": "return argv"}, ctx))
    (root / "src/app.py").write_text("changed by hand\n")
    proc = run_coda("undo", "--project", str(root))
    assert proc.returncode == 1
    assert proc.stderr == ("coda: src/app.py changed since the turn wrote it: nothing undone "
                           "(it would lose that change)\n")
    assert (root / "src/app.py").read_text() == "changed by hand\n"
    (root / "src/app.py").write_text(APP.replace("return argv[1:]", "return argv"))
    proc = run_coda("undo", "--project", str(root))
    assert proc.returncode == 0 and proc.stdout == "undone: restored src/app.py\n"
    proc = run_coda("undo", "--project", str(root), "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"undone": False,
                                       "error": "nothing to undo: no tool has written a file in this project"}

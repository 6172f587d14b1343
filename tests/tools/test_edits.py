"""edit_file and write_file against a real project: what they write, what they refuse,
the diff consent is shown, and the backup made first."""

from __future__ import annotations

import pytest

from coda_tui import patch
from coda_tui.context.writes import backup_root
from coda_tui.tools.base import ToolError
from coda_tui.tools.edits import EditFile, WriteFile
from tests.tools.conftest import APP, run


def test_edit_replaces_text_that_occurs_once_and_backs_up_the_original(ctx, root):
    args = {"path": "src/app.py", "old": "return argv[1:]", "new": "return list(argv[1:])"}
    preview = run(EditFile().preview(args, ctx))
    assert preview.kind == "edit" and preview.title == "edit src/app.py"
    assert "-    return argv[1:]\n+    return list(argv[1:])\n" in preview.body
    out = run(EditFile().call(args, ctx))
    assert out.text == "edited src/app.py (+1 -1 lines)"
    assert (root / "src/app.py").read_text() == APP.replace("return argv[1:]", "return list(argv[1:])")
    [(path, backup)] = out.changed
    assert path == root / "src/app.py" and backup.read_text() == APP
    assert backup.is_relative_to(backup_root(ctx.project))


def test_edit_refuses_text_not_found_or_found_twice(ctx, root):
    with pytest.raises(ToolError, match="not found in src/app.py"):
        run(EditFile().call({"path": "src/app.py", "old": "no such line", "new": "x"}, ctx))
    with pytest.raises(ToolError, match="occurs 2 times in src/app.py"):
        run(EditFile().preview({"path": "src/app.py", "old": "def ", "new": "async def "}, ctx))
    with pytest.raises(ToolError, match="give 'old' and 'new'"):
        run(EditFile().call({"path": "src/app.py"}, ctx))
    assert (root / "src/app.py").read_text() == APP


def test_edit_applies_a_unified_diff(ctx, root):
    diff = patch.make(APP, APP.replace("print(parse_args(sys.argv))", "print(parse_args(sys.argv), file=sys.stderr)"),
                      "src/app.py")
    out = run(EditFile().call({"path": "src/app.py", "diff": diff}, ctx))
    assert out.text == "edited src/app.py (+1 -1 lines)"
    assert "file=sys.stderr" in (root / "src/app.py").read_text()


def test_a_diff_made_for_an_older_file_is_refused_and_nothing_written(ctx, root):
    diff = patch.make(APP, APP.replace("return argv[1:]", "return argv[2:]"), "src/app.py")
    changed = APP.replace("return argv[1:]", "return tuple(argv)")
    (root / "src/app.py").write_text(changed)
    with pytest.raises(ToolError, match="the diff does not apply to src/app.py"):
        run(EditFile().call({"path": "src/app.py", "diff": diff}, ctx))
    assert (root / "src/app.py").read_text() == changed


def test_the_edit_is_worked_out_again_against_the_file_at_call_time(ctx, root):
    args = {"path": "src/app.py", "old": "return argv[1:]", "new": "return argv[2:]"}
    run(EditFile().preview(args, ctx))
    (root / "src/app.py").write_text(APP.replace("return argv[1:]", "return []"))  # changed after consent was asked
    with pytest.raises(ToolError, match="not found"):
        run(EditFile().call(args, ctx))
    assert "return []" in (root / "src/app.py").read_text()


def test_edit_keeps_windows_line_endings(ctx, root):
    (root / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    run(EditFile().call({"path": "win.txt", "old": "one\ntwo", "new": "one\n2"}, ctx))
    assert (root / "win.txt").read_bytes() == b"one\r\n2\r\nthree\r\n"


def test_write_file_creates_a_new_file_in_new_folders(ctx, root):
    args = {"path": "src/pkg/new.py", "content": "x = 1\ny = 2\n"}
    preview = run(WriteFile().preview(args, ctx))
    assert preview.kind == "write" and preview.title == "create src/pkg/new.py"
    assert preview.body.splitlines()[:3] == ["--- /dev/null", "+++ b/src/pkg/new.py", "@@ -0,0 +1,2 @@"]
    out = run(WriteFile().call(args, ctx))
    assert out.text == "created src/pkg/new.py (2 lines)" and out.changed == [(root / "src/pkg/new.py", None)]
    assert (root / "src/pkg/new.py").read_text() == "x = 1\ny = 2\n"


def test_write_file_refuses_an_existing_file(ctx, root):
    for tool_call in (WriteFile().preview, WriteFile().call):
        with pytest.raises(ToolError, match="already exists"):
            run(tool_call({"path": "src/app.py", "content": "gone"}, ctx))
    assert (root / "src/app.py").read_text() == APP

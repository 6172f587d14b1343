"""Undo: a turn's edits taken back together, and refused (touching nothing) when a file
changed since the turn wrote it."""

from __future__ import annotations

import dataclasses

import pytest

from coda_tui.tools.edits import EditFile, WriteFile
from coda_tui.tools.undo import Journal, UndoError, undo_last
from tests.tools.conftest import APP, run


def edit(ctx, old, new, path="src/app.py"):
    return run(EditFile().call({"path": path, "old": old, "new": new}, ctx))


def test_undo_restores_the_last_turns_edits_and_deletes_what_it_created(ctx, root):
    edit(ctx, "return argv[1:]", "return argv[2:]")
    edit(ctx, "return argv[2:]", "return argv[3:]")  # the same file twice in one turn
    edit(ctx, "return 42", "return 43", "src/util.py")
    run(WriteFile().call({"path": "docs/new.md", "content": "hello\n"}, ctx))
    done = undo_last(ctx.project)
    assert done.turn == "turn-1"
    assert sorted(done.restored) == ["src/app.py", "src/util.py"] and done.deleted == ["docs/new.md"]
    assert (root / "src/app.py").read_text() == APP
    assert (root / "src/util.py").read_text() == "def helper():\n    return 42\n"
    assert not (root / "docs/new.md").exists()
    with pytest.raises(UndoError, match="nothing to undo"):
        undo_last(ctx.project)


def test_undo_takes_back_one_turn_at_a_time(ctx, root):
    edit(ctx, "return 42", "return 1", "src/util.py")
    edit(dataclasses.replace(ctx, turn="turn-2"), "return 1", "return 2", "src/util.py")
    assert undo_last(ctx.project).turn == "turn-2"
    assert "return 1" in (root / "src/util.py").read_text()
    assert undo_last(ctx.project).turn == "turn-1"
    assert "return 42" in (root / "src/util.py").read_text()


def test_undo_refuses_when_a_file_changed_since_and_changes_nothing(ctx, root):
    edit(ctx, "return argv[1:]", "return argv[2:]")
    edit(ctx, "return 42", "return 43", "src/util.py")
    by_hand = "def helper():\n    return 44  # the user's own change\n"
    (root / "src/util.py").write_text(by_hand)
    with pytest.raises(UndoError, match=r"^src/util.py changed since the turn wrote it"):
        undo_last(ctx.project)
    assert "return argv[2:]" in (root / "src/app.py").read_text()  # not restored either
    assert (root / "src/util.py").read_text() == by_hand
    assert len(Journal(ctx.project).last_turn()) == 2  # still there to undo once settled


def test_undo_refuses_a_file_deleted_since(ctx, root):
    edit(ctx, "return 42", "return 43", "src/util.py")
    (root / "src/util.py").unlink()
    with pytest.raises(UndoError, match="src/util.py was deleted since"):
        undo_last(ctx.project)


def test_without_a_turn_each_write_is_undone_on_its_own(ctx, root):
    single = dataclasses.replace(ctx, turn=None)
    edit(single, "return 42", "return 1", "src/util.py")
    edit(single, "return 1", "return 2", "src/util.py")
    undo_last(ctx.project)
    assert "return 1" in (root / "src/util.py").read_text()


def test_a_torn_journal_line_does_not_stop_undo(ctx, root):
    edit(ctx, "return 42", "return 43", "src/util.py")
    with open(Journal(ctx.project).path, "a") as f:
        f.write('{"turn": "turn-9", "pa')  # a crash mid-append
    assert undo_last(ctx.project).restored == ["src/util.py"]

"""Pruning the backups and the undo journal: by age, by size, never the last turn's, the
journal left consistent, undo refusing in one line past what was pruned, and a write made
while pruning runs never losing its backup or its journal line. Real files in the test's
own data dir; a backup's age is its folder's name, so old ones are made with old names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time

import pytest

from coda_tui import config, paths
from coda_tui.config import BackupsConfig, ConfigError
from coda_tui.context.project import Project
from coda_tui.context.writes import STAMP_FORMAT, backup, backup_root, backups_dir
from coda_tui.tools import backups
from coda_tui.tools.backups import prune, prune_soon, survey
from coda_tui.tools.edits import EditFile
from coda_tui.tools.undo import (
    Entry,
    Journal,
    UndoError,
    digest,
    read_journal,
    undo_last,
)
from tests.conftest import run_coda, write_config
from tests.tools.conftest import run

KB = 1000


def edit(ctx, old, new, path="src/util.py"):
    return run(EditFile().call({"path": path, "old": old, "new": new}, ctx))


def old_turn(project: Project, turn: str, days: float, size: int = KB, rel: str = "src/app.py") -> Entry:
    """A turn `days` ago that backed up `size` bytes of `rel`: its folder and its journal line."""
    when = dt.datetime.now() - dt.timedelta(days=days)
    target = backup_root(project) / when.strftime(STAMP_FORMAT) / rel
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * size)
    entry = Entry(turn, rel, str(target), digest(b"written"), when.astimezone(dt.UTC).isoformat(timespec="seconds"))
    journal = Journal(project)
    with open(journal.path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry.__dict__) + "\n")
    return entry


def turns(project: Project) -> list[str]:
    return list(dict.fromkeys(e.turn for e in Journal(project).entries()))


def assert_consistent(project: Project) -> None:
    """Every backup the journal names is there, whole."""
    for e in Journal(project).entries():
        assert e.backup is None or os.path.isfile(e.backup), e


@pytest.fixture
def project(root) -> Project:
    return Project(root)


@pytest.fixture(autouse=True)
def pruned_today():
    """The tools' writes start the daily prune unless it ran today: here it did, so only
    the prunes a test runs itself change anything."""
    paths.private_dir(paths.data_dir())  # as coda makes its data dir: no warning about it
    backups_dir().mkdir()
    (backups_dir() / ".pruned").touch()


def test_backups_past_keep_days_go_with_their_turns(project):
    for name, days in (("t1", 40), ("t2", 35), ("t3", 10), ("t4", 2)):
        old_turn(project, name, days)
    stranger = backup_root(project) / "not-a-backup"  # not coda's: never touched
    stranger.mkdir()
    done = prune(BackupsConfig(keep_days=30, max_mb=0))
    assert len(done.removed) == 2 and len(done.kept) == 2 and done.turns_dropped == 2
    assert turns(project) == ["t3", "t4"]
    assert_consistent(project)
    assert stranger.is_dir()
    assert sorted(p.name for p in backup_root(project).iterdir()) == sorted(
        [f.path.name for f in done.kept] + ["journal.jsonl", "journal.lock", "not-a-backup"])
    assert read_journal(Journal(project).path)[1] is not None  # when: for undo to say


def test_the_oldest_go_until_the_rest_fits_max_mb(project):
    for i, days in enumerate((5, 4, 3, 2, 1.5), 1):
        old_turn(project, f"t{i}", days, size=400 * KB)
    done = prune(BackupsConfig(keep_days=0, max_mb=1))  # 1 MiB: 2,000 KB must come down to 800
    assert [f.bytes for f in done.removed] == [400 * KB] * 3
    assert done.kept_bytes == 800 * KB and done.freed_bytes == 1200 * KB
    assert turns(project) == ["t4", "t5"]
    assert_consistent(project)
    assert sum(p.bytes for p in survey()) == 800 * KB


def test_the_last_turns_backups_stay_however_old_and_big(project):
    first = old_turn(project, "t1", 300, size=300 * KB)
    old_turn(project, "t2", 200, size=2_000 * KB, rel="src/util.py")
    old_turn(project, "t2", 199, size=10, rel="README.md")
    done = prune(BackupsConfig(keep_days=1, max_mb=0.5))
    assert [str(f.path) for f in done.removed] == [first.backup.removesuffix("/src/app.py")]
    assert turns(project) == ["t2"]
    assert_consistent(project)
    assert len(survey()[0].folders) == 2 and sum(p.bytes for p in survey()) == 2_000 * KB + 10


def test_a_turn_that_only_created_files_goes_with_the_older_turns_around_it(project, ctx, root):
    old_turn(project, "t1", 40)
    Journal(project).record("t2", root / "docs/new.md", None, b"hello")  # created, no backup
    path = Journal(project).path
    entries, _ = read_journal(path)
    entries[-1] = dataclasses.replace(entries[-1], at=(dt.datetime.now(dt.UTC) - dt.timedelta(days=39)).isoformat())
    path.write_text("".join(json.dumps(e.__dict__) + "\n" for e in entries))
    edit(dataclasses.replace(ctx, turn="t3"), "return 42", "return 43")
    prune(BackupsConfig(keep_days=30, max_mb=0))
    assert turns(project) == ["t3"]


def test_undo_after_pruning_takes_back_the_last_turn_then_refuses_in_one_line(ctx, project, root):
    edit(ctx, "return 42", "return 43")  # turn-1
    edit(dataclasses.replace(ctx, turn="turn-2"), "return argv[1:]", "return argv[2:]", "src/app.py")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=100)
    done = prune(BackupsConfig(keep_days=30, max_mb=0), now=later)
    assert len(done.removed) == 1 and turns(project) == ["turn-2"]
    assert undo_last(project).restored == ["src/app.py"]
    assert "return argv[1:]" in (root / "src/app.py").read_text()
    with pytest.raises(UndoError) as info:
        undo_last(project)
    text = str(info.value)
    assert text.startswith("cannot undo further back: the backups of older turns were pruned on ")
    assert "\n" not in text and "[backups] keep_days" in text
    assert "return 43" in (root / "src/util.py").read_text()  # turn-1 stays as it was

    proc = run_coda("undo", "--project", str(root))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("coda: cannot undo further back") and proc.stderr.count("\n") == 1


def test_a_backup_whose_write_is_under_way_is_never_pruned(project, root):
    old_turn(project, "t1", 1, size=900 * KB)
    # Backed up, not yet written nor journaled: the newest folder, and made just now.
    fresh = backup(project, root / "src/util.py")
    prune(BackupsConfig(keep_days=0, max_mb=0.000001))
    assert fresh.is_file()
    assert_consistent(project)
    # Even a day later (no longer within the hour's grace) it is the project's newest.
    prune(BackupsConfig(keep_days=0, max_mb=0.000001), now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert fresh.is_file()


def test_a_write_made_between_the_survey_and_the_deleting_keeps_its_backup(ctx, project, root, monkeypatch):
    old_turn(project, "t1", 60)
    real_plan = backups.plan

    def plan_then_write(*args):
        doomed = real_plan(*args)
        edit(dataclasses.replace(ctx, turn="turn-new"), "return 42", "return 43")
        return doomed

    monkeypatch.setattr(backups, "plan", plan_then_write)
    prune(BackupsConfig(keep_days=30, max_mb=0.000001))
    assert turns(project) == ["turn-new"]
    assert_consistent(project)
    assert undo_last(project).restored == ["src/util.py"]
    assert (root / "src/util.py").read_text() == "def helper():\n    return 42\n"


def test_a_record_appended_while_the_journal_is_rewritten_waits_and_is_kept(ctx, project, monkeypatch):
    old_turn(project, "t1", 60)
    old_turn(project, "t2", 59)
    real_trim = backups._trim_journal
    writer = threading.Thread(target=edit, args=(dataclasses.replace(ctx, turn="turn-new"), "return 42", "return 43"))

    def trim_while_writing(project_dir, *args):
        # The journal's lock is held here: the writer backs up, writes, then waits to record.
        writer.start()
        deadline = time.monotonic() + 30
        while len([p for p in project_dir.iterdir() if p.is_dir()]) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        return real_trim(project_dir, *args)

    monkeypatch.setattr(backups, "_trim_journal", trim_while_writing)
    prune(BackupsConfig(keep_days=30, max_mb=0))
    writer.join()
    # t2 was the last turn when the prune began: kept, and the new one recorded after it.
    assert turns(project) == ["t2", "turn-new"]
    assert_consistent(project)
    assert undo_last(project).turn == "turn-new"


def test_pruning_runs_after_a_write_at_most_once_a_day(ctx, project):
    (backups_dir() / ".pruned").unlink()
    old = old_turn(project, "t1", 45)
    edit(ctx, "return 42", "return 43")  # the tool's write starts it, on a thread of its own
    for thread in threading.enumerate():
        if thread.name == "coda-prune-backups":
            thread.join()
    assert not os.path.exists(old.backup) and turns(project) == ["turn-1"]
    assert (backups_dir() / ".pruned").is_file()
    old_turn(project, "t0", 50)
    assert prune_soon(BackupsConfig()) is None  # pruned less than a day ago: a stat, nothing more
    assert prune_soon(BackupsConfig(keep_days=0, max_mb=0)) is None  # no limits: never


def test_the_daily_prune_stands_aside_while_another_prune_runs(monkeypatch):
    (backups_dir() / ".pruned").unlink()
    inside, release, calls = threading.Event(), threading.Event(), []
    real = backups._prune

    def held(*args):
        calls.append(args)
        inside.set()
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(backups, "_prune", held)
    manual = threading.Thread(target=prune, args=(BackupsConfig(),))
    manual.start()
    assert inside.wait(30)
    prune_soon(BackupsConfig()).join()  # finds the lock taken: gone without pruning
    release.set()
    manual.join()
    assert len(calls) == 1
    assert not (backups_dir() / ".pruned").exists()  # so the next write tries again


def test_a_dry_run_removes_nothing(project):
    old_turn(project, "t1", 40)
    old_turn(project, "t2", 1)
    before = Journal(project).path.read_text()
    done = prune(BackupsConfig(keep_days=30), dry_run=True)
    assert len(done.removed) == 1 and done.turns_dropped == 1
    assert Journal(project).path.read_text() == before and done.removed[0].path.is_dir()


def test_the_cli_lists_and_prunes(project, tmp_path):
    old_turn(project, "t1", 40, size=3 * KB)
    old_turn(project, "t2", 1, size=2 * KB)
    listed = json.loads(run_coda("backups", "list", "--json").stdout)
    assert listed["bytes"] == 5 * KB and listed["keep_days"] == 30
    row = listed["projects"][0]
    assert (row["backups"], row["files"], row["undo_turns"], row["pruned"]) == (2, 2, 2, None)
    dry = run_coda("backups", "prune", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("would remove 1 backup(s)")
    assert len(survey()[0].folders) == 2
    done = json.loads(run_coda("backups", "prune", "--json").stdout)
    assert (len(done["removed"]), done["freed_bytes"], done["undo_turns_dropped"]) == (1, 3 * KB, 1)
    text = run_coda("backups", "list").stdout.splitlines()
    assert text[0].split() == ["project", "backups", "size", "oldest", "newest", "undo"]
    assert text[1].split()[1] == "1" and text[-2].startswith("1 backup(s)")


@pytest.mark.parametrize(
    "line, problem",
    [
        ("keep_days = -1", "-1 is out of range"),
        ("max_mb = \"lots\"", "got a string"),
        ("keep_days = 1.5", "got a"),
        ("max_mb = nan", "not a number a setting can take"),
    ],
)
def test_a_bad_backups_setting_names_file_line_and_key(tmp_path, line, problem):
    path = write_config(tmp_path, f"[backups]\n{line}\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    key = line.split(" ")[0]
    assert (info.value.path, info.value.line, info.value.key) == (path, 2, f"backups.{key}")
    assert problem in str(info.value) and "\n" not in str(info.value)


def test_a_bad_backups_setting_is_one_line_from_the_cli(tmp_path):
    path = write_config(tmp_path, "[backups]\nkeep_dayz = 7\n")
    proc = run_coda("backups", "prune", "--config", str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "backups.keep_dayz" in proc.stderr and "keep_days" in proc.stderr
    proc = run_coda("backups", "list", env={"CODA_BACKUPS_MAX_MB": "-5"})
    assert proc.returncode == 2 and "CODA_BACKUPS_MAX_MB" in proc.stderr and proc.stderr.count("\n") == 1

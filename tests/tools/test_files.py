"""read_file, list_files, grep and search_code against a real project."""

from __future__ import annotations

import dataclasses

import pytest

from coda_tui.context.index import CodeIndex
from coda_tui.tools.base import ToolError
from coda_tui.tools.files import (
    GREP_MAX,
    LIST_MAX,
    Grep,
    ListFiles,
    ReadFile,
    SearchCode,
)
from tests.tools.conftest import APP, run


def test_read_file_gives_the_whole_file_with_where_it_is(ctx):
    out = run(ReadFile().call({"path": "src/app.py"}, ctx))
    assert out == "src/app.py lines 1-9 of 9:\n" + APP


def test_read_file_gives_a_line_range(ctx):
    out = run(ReadFile().call({"path": "src/app.py", "start": 4, "end": 5}, ctx))
    assert out == "src/app.py lines 4-5 of 9:\ndef parse_args(argv):\n    return argv[1:]\n"


def test_read_file_range_past_the_end_is_clipped_or_refused(ctx):
    assert run(ReadFile().call({"path": "src/app.py", "start": 8, "end": 50}, ctx)).startswith("src/app.py lines 8-9 of 9")
    with pytest.raises(ToolError, match="has 9 lines"):
        run(ReadFile().call({"path": "src/app.py", "start": 20}, ctx))
    with pytest.raises(ToolError, match="before 'start'"):
        run(ReadFile().call({"path": "src/app.py", "start": 5, "end": 2}, ctx))
    with pytest.raises(ToolError, match="1 or more"):
        run(ReadFile().call({"path": "src/app.py", "start": 0}, ctx))


def test_read_file_stops_at_the_output_cap_and_says_where_to_go_on(ctx, root):
    (root / "big.txt").write_text("".join(f"line {n:04d} {'x' * 50}\n" for n in range(1, 1001)))
    small = dataclasses.replace(ctx, output_chars=1000)
    out = run(ReadFile().call({"path": "big.txt"}, small))
    head, *body = out.split("\n")
    last = int(head.split()[2].split("-")[1])
    assert head == f"big.txt lines 1-{last} of 1000:" and 1 < last < 1000
    assert body[-1] == f"… more from line {last + 1} (read_file with start={last + 1})"
    assert len(out) <= 1000
    out = run(ReadFile().call({"path": "big.txt", "start": last + 1, "end": last + 2}, small))
    assert out.startswith(f"big.txt lines {last + 1}-{last + 2} of 1000:\nline {last + 1:04d}")


def test_read_file_refuses_binary_and_missing_files(ctx, root):
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ToolError, match="binary"):
        run(ReadFile().call({"path": "blob.bin"}, ctx))
    with pytest.raises(ToolError, match="no such file"):
        run(ReadFile().call({"path": "src/nope.py"}, ctx))


def test_read_file_masks_secrets_in_the_text(ctx, root):
    (root / "settings.py").write_text('KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"\nDEBUG = True\n')
    out = run(ReadFile().call({"path": "settings.py"}, ctx))
    assert "sk-proj-abc" not in out and "DEBUG = True" in out


def test_relative_paths_are_taken_from_the_project_root_not_the_working_directory(ctx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "outside")
    assert "def helper" in run(ReadFile().call({"path": "src/util.py"}, ctx))


def test_list_files_matches_globs_and_leaves_out_ignored_and_protected_files(ctx):
    everything = run(ListFiles().call({}, ctx)).splitlines()
    assert "src/app.py" in everything and "README.md" in everything
    assert not {"build/out.py", ".env", "id_rsa", "link_out.txt"} & set(everything)
    assert run(ListFiles().call({"pattern": "*.py"}, ctx)).splitlines() == ["src/app.py", "src/util.py"]
    assert run(ListFiles().call({"pattern": "src/**/util*"}, ctx)) == "src/util.py"
    assert run(ListFiles().call({"pattern": "*.rs"}, ctx)) == "no files match '*.rs'"


def test_list_files_caps_a_long_listing(ctx, root):
    many = root / "many"
    many.mkdir()
    for n in range(LIST_MAX + 5):
        (many / f"f{n:03d}.txt").write_text("")
    lines = run(ListFiles().call({"pattern": "many/*.txt"}, ctx)).splitlines()
    assert len(lines) == LIST_MAX + 1 and lines[-1] == "… and 5 more (narrow the pattern)"


def test_grep_finds_lines_by_regex(ctx):
    out = run(Grep().call({"pattern": r"def \w+\(", "glob": "*.py"}, ctx))
    assert out.splitlines() == ["src/app.py:4: def parse_args(argv):", "src/app.py:8: def main():",
                                "src/util.py:1: def helper():"]
    assert run(Grep().call({"pattern": "no such text anywhere"}, ctx)) == "no match for 'no such text anywhere'"


def test_grep_reports_a_bad_regex_as_a_tool_error(ctx):
    with pytest.raises(ToolError, match="bad regular expression"):
        run(Grep().call({"pattern": "def ("}, ctx))


def test_grep_stops_after_its_cap(ctx, root):
    (root / "many.txt").write_text("hit\n" * (GREP_MAX + 50))
    lines = run(Grep().call({"pattern": "^hit$"}, ctx)).splitlines()
    assert len(lines) == GREP_MAX + 1 and lines[-1].startswith(f"… stopped after {GREP_MAX} matches")


def test_search_code_uses_the_project_index(ctx):
    index = CodeIndex(ctx.project.root.parent / "index.db", ctx.project)
    index.update()

    async def search(text, limit):
        return index.search(text, limit)

    ctx.search = search
    out = run(SearchCode().call({"query": "parse_args"}, ctx))
    assert out.startswith("src/app.py:") and "def parse_args(argv):" in out


def test_search_code_without_an_index_scans_for_the_words(ctx):
    ctx.search = None
    out = run(SearchCode().call({"query": "where are the args parsed? parse_args"}, ctx))
    blocks = out.split("\n\n")
    assert blocks[0].startswith("(not indexed:") and blocks[1].startswith("src/app.py:")
    assert "def parse_args(argv):" in out
    assert "nothing found" in run(SearchCode().call({"query": "zzqqxxv"}, ctx))
    # The scan goes through the sandbox's walk: a protected file is never shown.
    (ctx.project.root / ".env").write_text("parse_args_secret=1\n")
    assert ".env" not in run(SearchCode().call({"query": "parse_args"}, ctx))


def test_a_question_scanned_without_an_index_finds_the_name_it_asks_about(ctx, root):
    """The question's common words are in every file; the name written as code decides."""
    ctx.search = None
    (root / "docs.md").write_text("Where is it defined? This is where the docs say what is defined and where.\n" * 20)
    (root / "ctx.py").write_text("import os\n\n\ndef make_context(name):\n    return name\n")
    out = run(SearchCode().call({"query": "where is make_context defined?"}, ctx))
    assert out.split("\n\n")[1].startswith("ctx.py:") and "def make_context(name):" in out

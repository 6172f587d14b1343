"""The project's sandbox through every tool that takes a path or shows file contents:
protected files (.env, keys), paths that climb out, links that lead out, absolute paths
elsewhere and the repository's own folder are all refused, and nothing is written."""

from __future__ import annotations

import pytest

from coda_tui.context.index import Hit
from coda_tui.tools.base import ToolError
from coda_tui.tools.commands import GitDiff
from coda_tui.tools.edits import EditFile, WriteFile
from coda_tui.tools.files import Grep, ListFiles, ReadFile, SearchCode
from tests.tools.conftest import run

# Existing files a tool must neither read nor change (relative to the project; None: the
# absolute path of the file outside).
REFUSED = [".env", "id_rsa", "../outside/secret.txt", "link_out.txt", "linkdir/secret.txt", None, ".git/config",
           "src/../../outside/secret.txt"]
# New files write_file must not create.
NOT_CREATED = [".env.local", "keys/id_rsa", "deploy/prod.pem", "../outside/new.txt", "linkdir/new.txt", None,
               ".git/hooks/pre-commit", "src/../../escape.txt"]


def _path(tmp_path, path, name="secret.txt"):
    return str(tmp_path / "outside" / name) if path is None else path


def _snapshot(tmp_path):
    return {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and not p.is_symlink()
            and "data" not in p.relative_to(tmp_path).parts}


@pytest.mark.parametrize("path", REFUSED)
def test_read_file_refuses(ctx, tmp_path, path):
    with pytest.raises(ToolError):
        run(ReadFile().call({"path": _path(tmp_path, path)}, ctx))


@pytest.mark.parametrize("path", REFUSED)
def test_edit_file_refuses_and_writes_nothing(ctx, tmp_path, path):
    before = _snapshot(tmp_path)
    args = {"path": _path(tmp_path, path), "old": "e", "new": "E"}
    with pytest.raises(ToolError):
        run(EditFile().preview(args, ctx))
    with pytest.raises(ToolError):
        run(EditFile().call(args, ctx))
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("path", NOT_CREATED)
def test_write_file_refuses_and_creates_nothing(ctx, tmp_path, path):
    before = _snapshot(tmp_path)
    args = {"path": _path(tmp_path, path, "new2.txt"), "content": "x\n"}
    with pytest.raises(ToolError):
        run(WriteFile().preview(args, ctx))
    with pytest.raises(ToolError):
        run(WriteFile().call(args, ctx))
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "outside" / "new.txt").exists()


def test_write_file_refusals_name_the_reason(ctx, tmp_path):
    with pytest.raises(ToolError, match="protected pattern"):
        run(WriteFile().call({"path": ".env.local", "content": ""}, ctx))
    with pytest.raises(ToolError, match="outside the project"):
        run(WriteFile().call({"path": "linkdir/new.txt", "content": ""}, ctx))
    with pytest.raises(ToolError, match="version control"):
        run(WriteFile().call({"path": ".git/hooks/pre-commit", "content": ""}, ctx))


@pytest.mark.parametrize("pattern", ["**", "*.txt", "../outside/*", "linkdir/*", ".git/*", "*.env", "id_rsa"])
def test_list_files_never_shows_what_is_refused(ctx, pattern):
    listed = set(run(ListFiles().call({"pattern": pattern}, ctx)).splitlines())
    assert not listed & {".env", "id_rsa", "link_out.txt", "linkdir/secret.txt", "../outside/secret.txt", ".git/config"}


@pytest.mark.parametrize("glob", [None, ".env", "id_rsa", "link_out.txt", "linkdir/*", ".git/*"])
def test_grep_never_searches_what_is_refused(ctx, glob):
    args = {"pattern": "sk-proj|PRIVATE KEY|outside the project|repositoryformatversion"}
    if glob:
        args["glob"] = glob
    assert run(Grep().call(args, ctx)).startswith("no match")


def test_search_code_drops_hits_the_sandbox_now_refuses(ctx):
    async def stale_index(query, limit):
        # An index made before .env was protected, or before the link pointed out.
        return [Hit(".env", 1, 1, ".env", 1.0, "", "OPENAI_API_KEY=sk-..."),
                Hit("link_out.txt", 1, 1, "link_out.txt", 0.9, "", "outside the project")]

    ctx.search = stale_index
    assert run(SearchCode().call({"query": "key"}, ctx)) == "nothing found for 'key'"


@pytest.mark.parametrize("path", [".env", "id_rsa", "../outside", None, "linkdir/../../outside"])
def test_git_diff_refuses_paths_out_of_bounds(ctx, tmp_path, path):
    with pytest.raises(ToolError):
        run(GitDiff().call({"path": _path(tmp_path, path)}, ctx))


def test_write_file_refuses_a_folder_link_that_leads_nowhere(ctx, root):
    (root / "gone").symlink_to(root.parent / "no-such-folder")
    with pytest.raises(ToolError, match="cannot be resolved"):
        run(WriteFile().call({"path": "gone/new.txt", "content": "x"}, ctx))
    assert not (root.parent / "no-such-folder").exists()

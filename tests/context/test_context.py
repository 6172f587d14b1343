"""Project walking, the sandbox, the code index and the context stage, on a generated project."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from coda_tui.config import ContextConfig
from coda_tui.context.chunker import _keyword_starts, chunk, language_for
from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project, SandboxError, find_root
from coda_tui.core.runtime import Runtime
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer

SECRET_VALUE = "AKIA-super-secret-value-123"


@pytest.fixture
def proj(tmp_path) -> Path:
    root = tmp_path / "proj"
    files = {
        ".gitignore": "build/\n*.log\n!keep.log\nnode_modules/\n",
        "src/app/__init__.py": "",
        "src/app/config.py": "import os\n\n\ndef load_settings(path):\n    '''Read settings.'''\n    return parse_config(open(path).read())\n",
        "src/app/parser.py": "class Tokenizer:\n    pass\n\n\ndef parse_config(text):\n    '''The one place config text becomes a dict.'''\n    return dict(line.split('=', 1) for line in text.splitlines())\n",
        "src/app/cli.py": "from app.parser import parse_config\n\n\ndef main():\n    print(parse_config('a=1'))\n",
        "src/web/server.js": "export function startServer(port) {\n  return listen(port);\n}\n\nclass Router {}\n",
        "docs/guide.md": "# Guide\n\n## Configuration\n\nCall parse_config with the text.\n",
        "build/out.py": "def parse_config():\n    pass\n",
        "debug.log": "parse_config failed\n",
        "keep.log": "kept on purpose\n",
        ".env": f"API_KEY={SECRET_VALUE}\n",
        "config/secrets.yaml": f"token: {SECRET_VALUE}\n",
        "deploy/server.pem": f"-----BEGIN {SECRET_VALUE}-----\n",
        "sub/.codaignore": "generated.py\n",
        "sub/generated.py": "def generated(): pass\n",
        "sub/kept.py": "def kept(): pass\n",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(200))
    (root / ".git").mkdir()
    return root


def test_walk_honours_gitignore_codaignore_and_deny(proj):
    rels = {e.rel for e in Project(proj).walk()}
    assert {"src/app/config.py", "src/app/parser.py", "keep.log", "sub/kept.py", ".gitignore"} <= rels
    for hidden in ("build/out.py", "debug.log", ".env", "config/secrets.yaml", "deploy/server.pem", "sub/generated.py"):
        assert hidden not in rels
    assert not any(r.startswith(".git/") for r in rels)


def test_admits_agrees_with_the_walk(proj):
    project = Project(proj)
    walked = {e.rel for e in project.walk()}
    for rel in ("src/app/parser.py", "keep.log", "sub/kept.py"):
        assert rel in walked and project.admits(proj / rel)
    for rel in ("build", "build/out.py", "debug.log", ".env", "config/secrets.yaml", "deploy/server.pem", "sub/generated.py"):
        assert not project.admits(proj / rel), rel
    assert project.admits(proj / "src") and not project.admits(proj.parent)


def test_git_root_is_found_from_a_subfolder(proj):
    assert find_root(proj / "src" / "app") == proj.resolve()


def test_oversized_files_are_left_out(proj):
    (proj / "big.txt").write_text("x" * 5000)
    rels = {e.rel for e in Project(proj, ContextConfig(max_file_bytes=1000)).walk()}
    assert "big.txt" not in rels and "src/app/parser.py" in rels


def test_sandbox_refuses_denied_files_with_how_to_allow(proj):
    project = Project(proj)
    with pytest.raises(SandboxError) as info:
        project.check(proj / ".env")
    assert '[context] allow = [".env"]' in str(info.value)
    allowed = Project(proj, ContextConfig(allow=[".env"]))
    assert allowed.check(proj / ".env") == (proj / ".env").resolve()


def test_sandbox_refuses_paths_outside_and_symlink_escapes(proj, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("private notes")
    (proj / "notes.txt").symlink_to(outside)
    (proj / "linkdir").symlink_to(tmp_path)
    project = Project(proj)
    with pytest.raises(SandboxError, match="outside the project"):
        project.check(outside)
    with pytest.raises(SandboxError, match="symlink that leads out"):
        project.check(proj / "notes.txt")
    rels = {e.rel for e in project.walk()}
    assert "notes.txt" not in rels and not any(r.startswith("linkdir/") for r in rels)
    # A link to a denied file is denied too.
    (proj / "innocent.txt").symlink_to(proj / ".env")
    with pytest.raises(SandboxError, match="protected"):
        project.check(proj / "innocent.txt")


def test_chunks_follow_definitions():
    text = (Path(__file__).parent.parent.parent / "coda_tui" / "context" / "chunker.py").read_text()
    names = " ".join(c.name for c in chunk(text, "python")).split()
    assert "language_for" in names and "chunk" in names and "Chunk" in names
    long_js = "".join(f"export function f{i}() {{\n" + "  work();\n" * 20 + "}\n" for i in range(3))
    assert [c.name for c in chunk(long_js, "javascript")] == ["f0", "f1", "f2"]
    assert [(c.start, c.end) for c in chunk(long_js, "javascript")] == [(1, 22), (23, 44), (45, 66)]
    # Short definitions are joined, and the chunk carries every name.
    js = chunk("export function a() {}\n\nclass B {}\nconst c = (x) => x\n", "javascript")
    assert [c.name for c in js] == ["a B c"]
    assert language_for("x.rs") == "rust" and language_for("Dockerfile") == "docker"


def test_python_definitions_by_keyword_match_the_line_pattern():
    """Python's keyword scan finds exactly what the language's line pattern finds."""
    from coda_tui.context.chunker import _KEYWORD_SCANS, _SCAN

    text = ("x = undef y\nclass A:\n    def b(self): pass\n\tasync\tdef c(): pass\n  async  def d():\n"
            "def class Q\nprint('def e')\n# def f\n    classy = 1\ndef \u00e9t\u00e9(): pass\nclass\tT(X):\n"
            "\r\ndef g():\r\nasync def\n  h\ndefined = 2\nclass B: pass\n" * 2)
    expected, line_no, pos = [], 1, 0
    for m in _SCAN["python"].finditer("\n" + text):
        line_no += text.count("\n", pos, m.start())
        pos = m.start()
        expected.append((line_no, m.group(1)))
    assert _keyword_starts(text, *_KEYWORD_SCANS["python"]) == expected
    assert [n for _, n in expected][:6] == ["A", "b", "c", "d", "class", "T"]


def test_index_search_ranks_the_defining_file_first(proj, tmp_path):
    index = CodeIndex(tmp_path / "index.db", Project(proj))
    stats = index.update()
    assert stats.indexed == stats.files_seen - 1 and stats.skipped == 1  # img.png is binary
    assert index.update().skipped == 0  # and is not read again while unchanged
    hits = index.search("parse_config")
    assert hits[0].path == "src/app/parser.py" and "parse_config" in hits[0].name.split()
    assert {h.path for h in hits} >= {"src/app/config.py", "src/app/cli.py"}
    assert "build/out.py" not in {h.path for h in hits}
    assert index.search("startServer")[0].path == "src/web/server.js"
    assert index.search(SECRET_VALUE) == []  # denied files are never indexed


def test_incremental_reindex_after_an_edit(proj, tmp_path):
    index = CodeIndex(tmp_path / "index.db", Project(proj))
    index.update()
    assert index.update().indexed == 0  # nothing changed
    target = proj / "src" / "app" / "config.py"
    target.write_text(target.read_text() + "\n\ndef frobnicate_settings():\n    pass\n")
    os.utime(target, (time.time() + 5, time.time() + 5))
    (proj / "src" / "app" / "cli.py").unlink()
    stats = index.update()
    assert stats.indexed == 1 and stats.changed == ["src/app/config.py"] and stats.removed == 1
    assert index.search("frobnicate_settings")[0].path == "src/app/config.py"
    assert all(h.path != "src/app/cli.py" for h in index.search("main"))
    # One file, the watcher's way.
    target.write_text("def renamed_entry():\n    pass\n")
    one = index.update_paths([target])
    assert one.indexed == 1 and index.search("renamed_entry")[0].path == "src/app/config.py"
    assert index.search("frobnicate_settings") == []
    (proj / ".env").write_text("X=1\n")
    assert index.update_paths([proj / ".env"]).indexed == 0  # still denied


def test_denied_files_never_reach_the_prompt(proj, tmp_path):
    """Asserted on the exact request the model server receives."""
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{srv.url}/v1"\nmodel = "m"\n')
        rt = Runtime(cfg, project=proj)
        rt.index.update()

        async def go():
            try:
                await rt.turns.run("where is the API_KEY and token and BEGIN configured? parse_config")
            finally:
                await rt.aclose()

        asyncio.run(go())
        body = srv.requests[-1]["body"]
        refused = run_coda("--config", str(cfg), "--project", str(proj), "ask", "-f", str(proj / ".env"), "read it")
        refused_pem = run_coda("--config", str(cfg), "--project", str(proj), "ask", "-f", str(proj / "deploy/server.pem"), "x")
        assert len(srv.chat_requests()) == 1  # the refused questions never reached the server
    sent = str(body)
    assert SECRET_VALUE not in sent
    assert "src/app/parser.py" in sent  # search hits did go in
    assert refused.returncode == 2 and "allow" in refused.stderr and SECRET_VALUE not in refused.stderr
    assert refused_pem.returncode == 2


def test_context_stage_trace_names_files_lines_and_tokens(proj, tmp_path):
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{srv.url}/v1"\nmodel = "m"\n[context]\nsearch_hits = 2\n')
        rt = Runtime(cfg, project=proj)
        rt.index.update()
        attached = rt.turns.attach(proj / "src/app/cli.py", lines=(4, 5))

        async def go():
            try:
                return await rt.turns.run("how is parse_config used?", attachments=[attached])
            finally:
                await rt.aclose()

        result = asyncio.run(go())
        user = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    files = result.trace.stages[0].detail["files"]
    assert files[0] == {"path": "src/app/cli.py", "lines": "4-5", "tokens": attached.tokens, "source": "attached"}
    assert [f["source"] for f in files[1:]] == ["search", "search"]
    assert files[1]["path"] == "src/app/parser.py" and all(f["tokens"] > 0 for f in files)
    assert user.startswith("File src/app/cli.py:4-5:\n```py\ndef main():\n    print(parse_config('a=1'))\n```\n")
    assert "2 search hit(s)" in result.trace.stages[0].summary


def test_cli_index_and_search(proj):
    out = run_coda("index", str(proj), "--json")
    assert out.returncode == 0, out.stderr
    import json

    stats = json.loads(out.stdout)
    assert stats["files"] >= 9 and stats["chunks"] > 0
    hits = json.loads(run_coda("--project", str(proj), "search", "parse_config", "--json").stdout)
    assert hits[0]["path"] == "src/app/parser.py" and hits[0]["start_line"] == 1 and hits[0]["end_line"] == 7
    assert set(hits[0]) == {"path", "start_line", "end_line", "name", "score", "snippet"}
    plain = run_coda("--project", str(proj), "search", "Tokenizer")
    assert "src/app/parser.py:1-7" in plain.stdout


def test_semantic_ranking_fuses_embeddings_with_bm25(proj, tmp_path, llama_embedding_server):
    """Embeddings from llama.cpp's server (SmolLM2 vectors, mean-pooled): the machinery
    is tested for real; the model is too small for the ranking itself to mean much."""
    cfg = write_config(
        tmp_path,
        f'[providers.emb]\ntype = "openai"\nbase_url = "{llama_embedding_server}"\nmodel = "smollm2"\n'
        '[context]\nembeddings = "emb"\n',
    )
    rt = Runtime(cfg, project=proj)
    rt.index.update()

    async def go():
        try:
            first = await rt.semantic.refresh()
            again = await rt.semantic.refresh()
            nearest = await rt.semantic.nearest("turn configuration text into a dictionary", 3)
            fused = await rt.search("parse_config", 5)
            return first, again, nearest, fused
        finally:
            await rt.aclose()

    first, again, nearest, fused = asyncio.run(go())
    chunks = rt.index.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert first.embedded == chunks and again.embedded == 0  # only new chunks are embedded
    assert len(nearest) == 3
    assert "src/app/parser.py" in [h.path for h in fused[:3]]  # BM25's clear winner stays near the top
    assert all(h.score > 0 for h in fused) and len({h.id for h in fused}) == len(fused)
    out = run_coda("--config", str(cfg), "--project", str(proj), "index", "--json")
    assert out.returncode == 0 and '"embedded": 0' in out.stdout


def test_semantic_source_down_falls_back_to_bm25(proj, tmp_path):
    from tests.servers import free_port

    cfg = write_config(
        tmp_path,
        f'[providers.emb]\ntype = "openai"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\nmax_retries = 0\n'
        '[context]\nembeddings = "emb"\n',
    )
    rt = Runtime(cfg, project=proj)
    rt.index.update()
    with rt.index.conn:
        rt.index.conn.execute("INSERT INTO vectors (chunk_id, vec) SELECT id, x'0000803f' FROM chunks")

    async def go():
        try:
            return await rt.search("parse_config", 3)
        finally:
            await rt.aclose()

    assert asyncio.run(go())[0].path == "src/app/parser.py"
    (proj / "src" / "app" / "new.py").write_text("def brand_new():\n    pass\n")  # a chunk to embed
    refused = run_coda("--config", str(cfg), "--project", str(proj), "index")
    assert refused.returncode == 1 and "connection refused" in refused.stderr and "Traceback" not in refused.stderr

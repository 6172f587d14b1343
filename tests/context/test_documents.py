"""Documents as context (issue 17 item 4): PDF, Word and HTML files made in the test are
attached as Markdown and reach the model; the conversion is a stage of the trace and is
cached by content hash; an encrypted or damaged PDF gets one clear line; `[context]
documents` puts documents into the search index."""

from __future__ import annotations

import json

from tests.conftest import run_coda
from tests.documents_made import write_damaged_pdf, write_docx, write_pdf
from tests.servers import Action, OpenAIServer
from tests.test_cli import srv_config


def make_documents(root):
    write_pdf(root / "report.pdf", ["Quarterly flux capacitor report", "Widget count is 4711"])
    write_docx(root / "notes.docx", "Release notes", ["The frobnicator ships on Tuesday."])
    (root / "guide.html").write_text("<html><head><title>t</title></head><body><h1>Deploy guide</h1>"
                                     "<p>Run <b>make ship</b> twice.</p></body></html>")


def ask_with(cfg: str, project, *files: str) -> tuple:
    args = ["--config", cfg, "--project", str(project), "ask", "What do these say?", "--json"]
    for f in files:
        args += ["--file", f]
    return run_coda(*args)


def test_pdf_docx_and_html_reach_the_model_as_markdown_in_a_convert_stage_then_from_the_cache(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    make_documents(project)
    files = [str(project / n) for n in ("report.pdf", "notes.docx", "guide.html")]
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        first = ask_with(cfg, project, *files)
        assert first.returncode == 0, first.stderr
        second = ask_with(cfg, project, *files)
        assert second.returncode == 0, second.stderr
        sent = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    for question in sent:
        assert "Widget count is 4711" in question
        assert "# Release notes" in question and "The frobnicator ships on Tuesday." in question
        assert "# Deploy guide" in question and "**make ship**" in question and "<h1>" not in question
        assert "Document report.pdf (as Markdown" in question and "```markdown" in question
    stages = []
    for proc in (first, second):
        trace = json.loads(proc.stdout)["trace"]
        names = [s["name"] for s in trace["stages"]]
        assert names.index("convert") < names.index("context")  # a stage of its own, before the context
        stages.append(next(s for s in trace["stages"] if s["name"] == "convert"))
    docs = [d["path"] for d in stages[0]["detail"]["documents"]]
    assert docs == ["report.pdf", "notes.docx", "guide.html"]
    assert [d["when"] for d in stages[0]["detail"]["documents"]] == ["now"] * 3
    # The same bytes again: each from the cache, with the time its conversion took then.
    assert [d["when"] for d in stages[1]["detail"]["documents"]] == ["cache"] * 3
    assert [d["convert_ms"] for d in stages[1]["detail"]["documents"]] == [d["convert_ms"] for d in stages[0]["detail"]["documents"]]
    assert "report.pdf from the cache" in stages[1]["summary"]
    cached = list((tmp_path / "data" / "cache" / "documents").glob("*.json"))
    assert len(cached) == 3
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in cached)


def test_a_changed_document_is_converted_again(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    pdf = write_pdf(project / "report.pdf", ["Widget count is 4711"])
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        assert ask_with(cfg, project, str(pdf)).returncode == 0
        write_pdf(pdf, ["Widget count is 9000"])
        proc = ask_with(cfg, project, str(pdf))
        assert proc.returncode == 0, proc.stderr
        assert "Widget count is 9000" in srv.chat_requests()[-1]["body"]["messages"][-1]["content"]
    stage = next(s for s in json.loads(proc.stdout)["trace"]["stages"] if s["name"] == "convert")
    assert stage["detail"]["documents"][0]["when"] == "now"


def test_encrypted_and_damaged_documents_get_one_clear_line_and_nothing_is_sent(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    write_pdf(project / "locked.pdf", ["secret plans"], encrypted=True)
    write_damaged_pdf(project / "broken.pdf")
    (project / "fake.docx").write_bytes(b"PK\x03\x04 this is not a zip archive")
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        results = {name: ask_with(cfg, project, str(project / name)) for name in ("locked.pdf", "broken.pdf", "fake.docx")}
        assert srv.chat_requests() == []
    for name, proc in results.items():
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert name in lines[0]
    assert "is encrypted (password-protected)" in results["locked.pdf"].stderr
    assert "cannot be read as PDF" in results["broken.pdf"].stderr and "damaged" in results["broken.pdf"].stderr
    assert "cannot be read as DOCX" in results["fake.docx"].stderr


def test_context_documents_are_indexed_and_found_by_search(tmp_path):
    project = tmp_path / "proj"
    write_pdf(project / "docs" / "manual.pdf", ["The zanzibar valve opens at dawn"])
    write_pdf(project / "other" / "stray.pdf", ["The zanzibar valve closes at dusk"])
    write_pdf(project / "docs" / "locked.pdf", ["zanzibar secrets"], encrypted=True)
    (project / "main.py").write_text("print('hi')\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text('[context]\ndocuments = ["docs/**/*.pdf"]\n')
    indexed = run_coda("--config", str(cfg), "--project", str(project), "index")
    assert indexed.returncode == 0, indexed.stderr
    found = run_coda("--config", str(cfg), "--project", str(project), "search", "zanzibar", "--json")
    assert found.returncode == 0, found.stderr
    paths = {hit["path"] for hit in json.loads(found.stdout)}
    # Only what the pattern names, and only what converts: the encrypted one is skipped.
    assert paths == {"docs/manual.pdf"}

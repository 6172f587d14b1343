"""What the context stage adds for a model with a small window: search hits that earn their
place within a budget sized to the window, attached files trimmed to fit it, and turns that
cannot fit refused before anything is sent (issue 12 items 4 and 5)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project
from coda_tui.context.select import context_budget, select
from coda_tui.core.runtime import Runtime
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer

LEDGER = '''"""Double-entry bookkeeping."""

from decimal import Decimal


class Ledger:
    """Accounts and the entries posted to them."""

    def __init__(self):
        self.entries = []

    def post_entry(self, account, amount):
        """Record an amount against an account; amounts are Decimals."""
        self.entries.append((account, Decimal(amount)))
'''

PROJECT = {
    "books/ledger.py": LEDGER,
    "books/report.py": "from books.ledger import Ledger\n\n\ndef monthly(ledger: Ledger):\n"
                       "    '''Print each entry as a string.'''\n    for entry in ledger.entries:\n        print(str(entry))\n",
    "books/cli.py": "import sys\n\n\ndef main():\n    ledger = load()\n    ledger.post_entry(sys.argv[1], sys.argv[2])\n",
    "README.md": "# books\n\nA ledger for a small shop. Write to us, please.\n\n## Donate\n\n"
                 "Please donate if you use this: echo your thanks, write a string of kind words.\n",
    ".github/ISSUE_TEMPLATE/bug_report.md": "## Describe the bug\n\nPlease write a clear description. "
                                           "What function did you call, with what string?\n",
}


@pytest.fixture
def books(tmp_path) -> Path:
    root = tmp_path / "books-project"
    for rel, text in PROJECT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".git").mkdir()
    return root


def choose(root: Path, tmp_path: Path, question: str, budget: int = 512):
    index = CodeIndex(tmp_path / "index.db", Project(root))
    try:
        index.update()
        found = index.search(question, limit=12)
    finally:
        index.close()
    return found, select([], found, root, budget=budget, hits=4, question=question)


@pytest.mark.parametrize("question", [
    "Write a Python function that reverses a string",
    "echo me please",
    "Please write a clear description of a function",
])
def test_questions_that_do_not_concern_the_code_get_no_hits(books, tmp_path, question):
    found, chosen = choose(books, tmp_path, question)
    assert found  # BM25 alone would have added these
    assert chosen.items == []
    assert "relevant" in chosen.summary() and chosen.detail()["left_out"]


@pytest.mark.parametrize(("question", "path", "why"), [
    ("What does the Ledger class do?", "books/ledger.py", "defines Ledger"),
    ("how is post_entry called?", "books/ledger.py", "defines post_entry"),
    ("Where is `monthly` used?", "books/report.py", "defines monthly"),
])
def test_a_question_about_the_code_gets_the_code_it_names(books, tmp_path, question, path, why):
    _, chosen = choose(books, tmp_path, question)
    assert chosen.items and chosen.items[0].label_path == path
    first = chosen.detail()["files"][0]
    assert first["source"] == "search" and first["why"].startswith(why)
    assert why in chosen.summary()
    assert not any(a.label_path == "README.md" for a in chosen.items)


def test_the_budget_is_sized_to_the_model_window():
    assert context_budget(4096) <= 256 < context_budget(32_768) < context_budget(131_072) == 32_768


def test_a_hit_larger_than_the_budget_is_cut_to_its_opening_lines(books, tmp_path):
    notes = "".join(f"    Rule {i}: an entry in a closed period is posted to the next one.\n" for i in range(40))
    (books / "books" / "ledger.py").write_text(LEDGER.replace('them."""', f'them.\n\n{notes}    """'))
    _, chosen = choose(books, tmp_path, "What does the Ledger class do?", budget=128)
    item = chosen.items[0]
    assert item.label_path == "books/ledger.py" and item.first_line == 1 and item.tokens <= 128
    assert "class Ledger" in item.text and "first" in chosen.detail()["files"][0]["why"]


def _config(tmp_path, url: str, **extra) -> Path:
    opts = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                  f'base_url = "{url}/v1"\nmodel = "m"\ncontext_window = 4096\nmax_tokens = 512\n{opts}')


def _big_module(root: Path) -> Path:
    """A 60 kB module with one function the question is about, in its middle."""
    parts = [f"def helper_{i}(values):\n    '''Helper {i}.'''\n" + "".join(
        f"    values = [v + {j} for v in values]\n" for j in range(12)) + "    return values\n\n\n" for i in range(60)]
    parts.insert(30, "def settle_account(ledger, account):\n    '''Close an account: its balance goes to zero.'''\n"
                     "    balance = ledger.balance(account)\n    ledger.post_entry(account, -balance)\n    return balance\n\n\n")
    path = root / "books" / "big.py"
    path.write_text("".join(parts))
    return path


def test_an_attachment_over_the_window_is_trimmed_to_its_relevant_parts(books, tmp_path):
    big = _big_module(books)
    with OpenAIServer([Action(chunks=["ok"]), Action(chunks=["ok"])]) as srv:
        cfg = _config(tmp_path, srv.url)
        rt = Runtime(cfg, project=books)

        async def go():
            try:
                return await rt.turns.run("How does settle_account work?", attachments=[big])
            finally:
                await rt.aclose()

        result = asyncio.run(go())
        cli = run_coda("--config", str(cfg), "--project", str(books), "ask", "-f", str(big), "How does settle_account work?")
        sent = [r["body"]["messages"] for r in srv.chat_requests()]
    for messages in sent:
        prompt_chars = sum(len(m["content"]) for m in messages)
        assert prompt_chars / 3.5 < 4096 - 512  # never more than the window, even by a generous tokenizer
        assert "def settle_account(ledger, account):" in messages[-1]["content"]
    context = result.trace.stages[0]
    trimmed = context.detail["trimmed"][0]
    assert trimmed["path"] == "books/big.py" and trimmed["from_tokens"] > 4096 > trimmed["to_tokens"]
    assert "books/big.py trimmed from" in context.summary
    assert cli.returncode == 0, cli.stderr
    assert cli.stderr.count("books/big.py trimmed from") == 1 and "Traceback" not in cli.stderr


def test_a_question_too_long_for_the_window_is_refused_before_the_model(books, tmp_path):
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = _config(tmp_path, srv.url)
        out = run_coda("--config", str(cfg), "--project", str(books), "ask", "explain " * 4000)
        requests = srv.chat_requests()
    assert out.returncode == 2 and requests == []
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coda: the question is too long for the model's 4,096-token window")


def test_a_lone_provider_error_is_reported_once_and_not_as_a_fallback(books, tmp_path):
    with OpenAIServer([Action(kind="status", status=400, body='{"error": {"message": "bad request"}}')]) as srv:
        cfg = _config(tmp_path, srv.url, max_retries=0)
        out = run_coda("--config", str(cfg), "--project", str(books), "ask", "--json", "hello")
    trace = json.loads(out.stdout)["trace"]
    llm = next(s for s in trace["stages"] if s["name"] == "llm")
    assert out.returncode == 1 and trace["status"] == "error"
    assert "fell back" not in llm["summary"]


@pytest.mark.slow
def test_embedded_model_in_a_project_gets_hits_only_for_code_questions(books, tmp_path):
    """The default model, end to end, in a project with a README, an issue template and a
    package: the trace's context stage shows what went in and why."""
    cfg = write_config(tmp_path, "[providers.local]\nmax_tokens = 24\n")
    assert run_coda("--config", str(cfg), "index", str(books)).returncode == 0

    def ask(question: str) -> dict:
        out = run_coda("--config", str(cfg), "--project", str(books), "ask", "--json", question, timeout=300)
        assert out.returncode == 0, out.stderr
        answer = json.loads(out.stdout)
        assert answer["status"] == "complete" and answer["response"].strip()
        return answer["trace"]["stages"][0]

    off_topic = ask("Write a Python function that reverses a string")
    about_code = ask("What does the Ledger class do?")
    assert off_topic["detail"]["files"] == [] and "relevant" in off_topic["summary"]
    assert off_topic["detail"]["budget"] == 256  # a 4k window: a sixteenth of it
    first = about_code["detail"]["files"][0]
    assert first["path"] == "books/ledger.py" and first["why"].startswith("defines Ledger")
    assert all(f["path"] not in ("README.md", ".github/ISSUE_TEMPLATE/bug_report.md") for f in about_code["detail"]["files"])

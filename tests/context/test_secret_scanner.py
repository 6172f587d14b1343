"""Secrets never reach a model: masked in file contents (whatever the file is called),
denied by a wide, case-insensitive list of names, through symlinks, in the index, in search
hits, attachments and review diffs; the API keys in force are never sent from a project
file; and a file denied after it was indexed is not sent from the stale index."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from coda_tui.config import ContextConfig
from coda_tui.context import secrets as scanner
from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project
from coda_tui.context.secrets import MASK, redact
from coda_tui.core.operations.review import working_tree_diff
from tests.conftest import run_coda, write_config
from tests.context.secret_corpus import ALNUM, lookalike_cases, r, secret_cases
from tests.servers import Action, OpenAIServer

# Shaped like nothing: only the exact-value net (the key in force) can catch it.
KEY = "k3y-Q8w7e6r5t4y3u2i1o0p-inforce"


def test_corpus_every_secret_masked_and_false_positives_counted(capsys):
    secrets, lookalikes = secret_cases(), lookalike_cases()
    assert len(secrets) >= 30 and len(lookalikes) >= 30
    missed = []
    for name, content, values in secrets:
        out, kinds = redact(content, name)
        assert out.count("\n") == content.count("\n"), name  # line numbers still hold
        missed += [(name, v) for v in values if v in out]
        assert kinds, name
    assert missed == []
    false_positives = [(name, redact(content, name)[1]) for name, content in lookalikes if redact(content, name)[1]]
    with capsys.disabled():
        print(f"\nsecret scanner: {len(secrets)} secret files all masked; "
              f"{len(false_positives)} false positive(s) in {len(lookalikes)} look-alikes {false_positives}")
    assert false_positives == []


# Where RE2 and Python's `re` read a text differently: Unicode digits (Python's \d takes
# them, RE2's does not), Unicode spaces (Python's \s), a lone surrogate (no UTF-8 for it).
UNICODE_EDGES = [("bot.txt", "1234567\u06638:AA" + ALNUM[:33] + "\n"), (".pgpass", "db:\u0663\u0663:app:u:hunter2pw\n"),
                 ("notes.txt", "postgres://user\u00a0:hunter2pw@db\n"), ("s.py", "token = '\ud800" + ALNUM[:30] + "'\n"),
                 ("k.txt", "PuTTY-User-Key-File-\u0663: ssh-rsa\nPrivate-MAC: ab12\n")]


def test_prefilter_changes_no_finding():
    # The RE2 passes only skip patterns and lines that cannot match: with every pattern run
    # and every hint line found by str.find instead (as without google-re2), every text
    # gives the same findings.
    texts = [(n, c) for n, c, _ in secret_cases()] + lookalike_cases() + UNICODE_EDGES
    gated = [scanner.find(text, name) for name, text in texts]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scanner._PREFILTER, "candidates", lambda text: None)
        patch.setattr(scanner._HINT_LINES, "starts", lambda text: None)
        assert [scanner.find(text, name) for name, text in texts] == gated
    assert sum(map(bool, gated)) >= 35 and gated[-5] and gated[-4] and gated[-1]


def test_prefilter_is_one_pass_when_re2_is_installed():
    pytest.importorskip("re2")
    assert scanner._PREFILTER.candidates("def f(x):\n    return x + 1\n") == frozenset()
    aws = scanner._PREFILTER.candidates("key: AKIA" + "ABCDEFGHIJKLMNOP" + "\n")
    assert any(p.startswith("(?:A3T") for p in aws) and len(aws) == 1
    assert scanner._PREFILTER.candidates("token = '\ud800'") is None  # not UTF-8: every pattern runs


def test_masking_keeps_the_rest_of_the_file():
    text = 'HOST = "db"\nDB_PASSWORD = "s3cr3t-Value"\nPORT = 5432\n'
    out, kinds = redact(text, "settings.py")
    assert out == f'HOST = "db"\nDB_PASSWORD = "{MASK}"\nPORT = 5432\n' and kinds == ["password assignment"]


DENIED_NAMES = [".envrc", ".aws/credentials", ".npmrc", ".pypirc", ".git-credentials", ".docker/config.json",
                ".htpasswd", "service-account.json", ".ENV", "tls.crt", "tls.key", "Secrets.Yaml", "infra/prod.tfvars",
                ".kube/config", "deploy/ID_RSA", "keys/app.P12", ".netrc", ".pgpass", ".my.cnf", "client_secret_123.json"]


def make_project(root: Path, marker: str = "zebracorn") -> dict[str, list[str]]:
    """The corpus as a project, plus denied names and links to secrets. Every file also
    holds `marker`, so a search for it finds them all. Returns file -> secret values."""
    files: dict[str, list[str]] = {}
    for name, content, values in secret_cases():
        path = root / "notes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{marker}\n{content}")
        files[f"notes/{name}"] = values
    for n, name in enumerate(DENIED_NAMES):
        value = f"denied{n}-" + r(ALNUM, 20)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{marker} {value}\n")
        files[name] = [value]
    env_value = "envsecret-" + r(ALNUM, 20)
    (root / ".env").write_text(f"{marker} {env_value}\n")
    ssh = root / "home_ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text(f"{marker} sshkey-{env_value}\n")
    (root / "notes.txt").symlink_to(".env")
    (root / "key_copy.txt").symlink_to("home_ssh/id_ed25519")
    files["notes.txt"] = [env_value]
    files["key_copy.txt"] = [f"sshkey-{env_value}"]
    (root / "app.py").write_text(f"# {marker}\nprint('hello')\n")
    return files


def all_values(files: dict[str, list[str]]) -> list[str]:
    return [v for values in files.values() for v in values]


def assert_none_in(where: str, blob: bytes | str, values: list[str]) -> None:
    data = blob if isinstance(blob, bytes) else blob.encode()
    leaked = [v for v in values if v.encode() in data]
    assert leaked == [], f"{len(leaked)} secret(s) reached {where}: {leaked[:3]}"


def test_walk_denies_wide_list_any_case_and_links_to_denied_files(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    make_project(root)
    project = Project(root)
    rels = {e.rel for e in project.walk()}
    assert "app.py" in rels and "notes/settings.py" in rels
    for name in DENIED_NAMES + [".env", "notes.txt"]:
        assert name not in rels, name
    # key_copy.txt leads to an id_ed25519 (denied by name) inside the project.
    assert "key_copy.txt" not in rels


def test_index_and_search_hold_no_secret(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    files = make_project(root)
    index_db = tmp_path / "index.db"
    index = CodeIndex(index_db, Project(root))
    stats = index.update()
    assert stats.indexed >= 44
    hits = index.search("zebracorn", limit=200)
    assert len(hits) >= 44
    assert MASK in "".join(h.text for h in hits)
    index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    index.close()
    assert_none_in("the index file", index_db.read_bytes(), all_values(files))
    assert_none_in("search hits", "".join(h.text + h.snippet for h in hits), all_values(files))


def test_cli_index_search_and_ask_send_no_secret_nor_the_key_in_force(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    files = make_project(root)
    # The key in force, in a project file under an innocent name, shaped like no token.
    (root / "settings.py").write_text(f'# zebracorn settings\nLLM = "{KEY}"\n')
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                         f'base_url = "{srv.url}/v1"\nmodel = "m"\nmax_retries = 0\napi_key = "{KEY}"\n'
                                         '[context]\nsearch_hits = 40\nbudget_tokens = 100000\n'))
        indexed = run_coda("--config", cfg, "--project", str(root), "index")
        assert indexed.returncode == 0, indexed.stderr
        found = run_coda("--config", cfg, "--project", str(root), "search", "zebracorn", "--limit", "100", "--json")
        assert found.returncode == 0, found.stderr
        asked = run_coda("--config", cfg, "--project", str(root), "ask", "what is zebracorn?",
                         "--file", str(root / "notes" / "notes.txt"), "--file", str(root / "settings.py"))
        assert asked.returncode == 0, asked.stderr
        bodies = json.dumps([r["body"] for r in srv.chat_requests()])
    values = all_values(files) + [KEY]
    assert_none_in("coda search", found.stdout, values)
    assert len(json.loads(found.stdout)) >= 40
    assert "settings.py" in bodies and "zebracorn" in bodies and MASK in bodies
    assert_none_in("the request to the model", bodies, values)
    for db in (tmp_path / "data" / "index").iterdir():
        assert_none_in(str(db), db.read_bytes(), values)


def test_a_file_denied_after_indexing_is_not_sent_from_the_stale_index(tmp_path):
    root = tmp_path / "proj"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "runbook.md").write_text("zebracorn restart steps\n")
    (root / "app.py").write_text("# zebracorn\n")
    index = CodeIndex(tmp_path / "index.db", Project(root))
    index.update()
    assert {h.path for h in index.search("zebracorn")} == {"docs/runbook.md", "app.py"}
    # The user denies it; nothing is re-indexed.
    index.project = Project(root, ContextConfig(deny=["docs/"]))
    assert {h.path for h in index.search("zebracorn")} == {"app.py"}
    assert "docs/runbook.md" not in index.paths()
    # A link re-pointed at a secret after indexing is not followed either.
    (root / "link.md").symlink_to("app.py")
    index.update()
    (root / "link.md").unlink()
    (root / ".env").write_text("zebracorn\n")
    (root / "link.md").symlink_to(".env")
    assert "link.md" not in {h.path for h in index.search("zebracorn")}


def test_user_deny_patterns_add_to_the_defaults(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("dump.sql", ".env", "tls.crt", "app.py"):
        (root / name).write_text("x\n")
    rels = {e.rel for e in Project(root, ContextConfig(deny=["*.SQL"])).walk()}
    assert rels == {"app.py"}
    assert {e.rel for e in Project(root, ContextConfig(allow=["tls.crt"])).walk()} == {"app.py", "dump.sql", "tls.crt"}


def test_review_diff_masks_secrets_in_changed_files(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git = ["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (root / "settings.py").write_text("DEBUG = True\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    password = "Zq" + r(ALNUM, 14)
    (root / "settings.py").write_text(f'DEBUG = True\nDB_PASSWORD = "{password}"\nAPI = "{KEY}"\n')
    project = Project(root, known_secrets=[KEY])
    diff = working_tree_diff(root, project.is_denied, project.scrub).text
    assert "DB_PASSWORD" in diff and MASK in diff
    assert password not in diff and KEY not in diff


@pytest.mark.parametrize("name", ["notes.txt", "deep/readme_key.txt"])
def test_attachment_is_masked_even_for_a_line_range_inside_a_key(tmp_path, name):
    from coda_tui.context.attachments import load_attachment
    from tests.context.secret_corpus import pem

    block, body = pem("OPENSSH", 8)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("intro\n" + block)
    project = Project(tmp_path)
    whole = load_attachment(path, label_path=name, scrub=project.scrub)
    middle = load_attachment(path, (4, 6), label_path=name, scrub=project.scrub)
    for text in (whole.text, middle.text):
        assert not any(line in text for line in body)
    assert whole.text.startswith("intro\n" + MASK)

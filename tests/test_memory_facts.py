"""Project instructions and remembered facts (issue 17 item 3): they reach every later
request (as a loopback server received it), within their budget, and show in the snapshot."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from coda_tui.core.memory import snapshot_of
from coda_tui.core.runtime import Runtime
from coda_tui.core.slash import SlashError, parse_command, run_fact_command
from tests.conftest import run_coda
from tests.servers import OpenAIServer
from tests.test_cli import srv_config


def turns(cfg: str, project, prompts: list[str], between=lambda i, rt: None) -> list:
    """One session of turns in one runtime; `between(i, rt)` runs before turn i."""
    rt = Runtime(cfg, project=project)

    async def go():
        results, session = [], None
        try:
            for i, prompt in enumerate(prompts):
                between(i, rt)
                results.append(await rt.turns.run(prompt, session=session, session_ref=None if session else "s"))
                session = results[-1].session
            return results
        finally:
            await rt.aclose()

    try:
        results = asyncio.run(go())
        return [snapshot_of(rt.store.traces.get(r.trace.id)) for r in results]
    finally:
        rt.close()


def systems(srv) -> list[str]:
    return [r["body"]["messages"][0]["content"] for r in srv.chat_requests()]


def test_agents_md_edits_reach_the_next_turn_without_a_restart(tmp_path):
    project = tmp_path / "proj"
    (project / ".github").mkdir(parents=True)
    agents = project / "AGENTS.md"
    agents.write_text("Indent with tabs.\n")
    (project / "CODA.md").write_text("Answer in French.\n")

    def edit(i, rt):
        if i == 1:
            agents.write_text("Indent with four spaces.\n")
            st = agents.stat()  # a later mtime even on a coarse clock
            os.utime(agents, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        if i == 2:
            (project / ".github" / "copilot-instructions.md").write_text("Prefer pathlib.\n")

    with OpenAIServer([]) as srv:
        snaps = turns(srv_config(tmp_path, srv.url), project, ["one", "two", "three"], edit)
        sent = systems(srv)
    assert "Indent with tabs." in sent[0] and "Answer in French." in sent[0]
    assert "Indent with four spaces." in sent[1] and "tabs" not in sent[1]
    assert "Prefer pathlib." in sent[2] and "Prefer pathlib." not in sent[1]
    assert [i["path"] for i in snaps[2]["instructions"]] == ["AGENTS.md", "CODA.md", ".github/copilot-instructions.md"]
    assert all(i["tokens"] > 0 and not i["truncated"] for i in snaps[2]["instructions"])
    assert snaps[0]["instructions"][0]["mtime_ns"] != snaps[1]["instructions"][0]["mtime_ns"]


def test_a_long_agents_md_is_cut_to_its_budget_and_says_so(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "AGENTS.md").write_text("".join(f"Rule {i}: keep functions short and named for what they do.\n"
                                               for i in range(400)))
    with OpenAIServer([]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        with open(cfg, "a") as f:
            f.write("context_window = 4096\n")  # the embedded model's: 512 tokens for instructions
        (snap,) = turns(cfg, project, ["hi"])
        sent = systems(srv)[0]
    (ins,) = snap["instructions"]
    assert ins["truncated"] and ins["tokens"] <= 4096 // 8 < ins["full_tokens"]
    assert "Rule 0:" in sent and "Rule 399:" not in sent and "cut to fit the budget" in sent


def test_a_remembered_fact_is_in_every_later_request_until_forgotten(tmp_path):
    project, other = tmp_path / "proj", tmp_path / "other"
    project.mkdir()
    other.mkdir()
    with OpenAIServer([]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        first = run_coda("--config", cfg, "--project", str(project), "ask", "before any fact")
        remembered = run_coda("--config", cfg, "--project", str(project), "memory", "remember",
                              "The", "build", "uses", "hatch")
        glob = run_coda("--config", cfg, "memory", "remember", "--global", "The user is called Ada")

        def slash(i, rt):
            if i == 1:  # /remember typed in the app, between turns
                run_fact_command(parse_command("/remember Tests run with pytest -q"), rt.store.facts,
                                 str(rt.project.root), rt.redact)

        snaps = turns(cfg, project, ["q1", "q2", "q3"], slash)
        elsewhere = run_coda("--config", cfg, "--project", str(other), "ask", "in another project")
        listed = run_coda("--config", cfg, "--project", str(project), "memory", "facts", "--json")
        facts = {f["text"]: f for f in json.loads(listed.stdout)}
        exported = run_coda("--config", cfg, "sessions", "export", "s", "--format", "json")
        forgot = run_coda("--config", cfg, "--project", str(project), "memory", "forget",
                          str(facts["The build uses hatch"]["id"]))
        after = run_coda("--config", cfg, "--project", str(project), "ask", "after forgetting")
        sent = systems(srv)
    assert all(p.returncode == 0 for p in (first, remembered, glob, elsewhere, listed, exported, forgot, after))
    assert "remembered fact #" in remembered.stdout and "(project)" in remembered.stdout
    assert "hatch" not in sent[0]
    for system in sent[1:4]:
        assert "The build uses hatch" in system and "The user is called Ada" in system
    assert "pytest -q" not in sent[1] and "pytest -q" in sent[2] and "pytest -q" in sent[3]
    # Another project gets the global fact only.
    assert "Ada" in sent[4] and "hatch" not in sent[4]
    assert "hatch" not in sent[5] and "Ada" in sent[5]
    assert [f["scope"] for f in facts.values()] == ["project", "global", "project"]
    assert {f["id"] for f in snaps[2]["facts"]} == {f["id"] for f in facts.values()}
    assert all(f["tokens"] > 0 for f in snaps[2]["facts"])
    assert {f["text"] for f in json.loads(exported.stdout)["facts"]} == set(facts)
    listing = run_coda("--config", cfg, "--project", str(project), "memory", "facts")
    assert "hatch" not in listing.stdout and "(global) The user is called Ada" in listing.stdout


def test_fact_commands_refuse_bad_input_in_one_line(tmp_path):
    for text in ("/remember", "/remember --global", "/forget abc", "/forget ²"):
        with pytest.raises(SlashError):
            parse_command(text)
    assert parse_command("/remember --globalize x").text == "--globalize x"
    for args in (["memory", "forget", "99"], ["memory", "forget", "x"], ["memory", "forget", "99999999999999999999999"]):
        proc = run_coda(*args)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_configured_key_typed_into_a_fact_is_masked_before_it_is_stored(tmp_path):
    secret = "sk-test-fact-secret-0123456789abcdef"
    cfg = srv_config(tmp_path, "http://127.0.0.1:9")
    with open(cfg, "a") as f:
        f.write(f'api_key = "{secret}"\n')
    assert run_coda("--config", cfg, "--project", str(tmp_path), "memory", "remember",
                    f"the key is {secret}").returncode == 0
    rt = Runtime(cfg, project=tmp_path)
    try:
        run_fact_command(parse_command(f"/remember also {secret}"), rt.store.facts, str(rt.project.root), rt.redact)
    finally:
        rt.close()
    listed = run_coda("--config", cfg, "--project", str(tmp_path), "memory", "facts", "--json")
    texts = [f["text"] for f in json.loads(listed.stdout)]
    assert len(texts) == 2 and all("the key is" in t or "also" in t for t in texts)
    assert secret not in (tmp_path / "data" / "coda.db").read_bytes().decode("latin-1")

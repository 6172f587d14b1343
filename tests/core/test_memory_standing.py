"""The standing block (facts, then instruction files, within a budget) and snapshot diffs."""

from __future__ import annotations

from types import SimpleNamespace

from coda_tui.cli.memory import render_snapshot
from coda_tui.core.instructions import Instruction
from coda_tui.core.memory import compare, standing
from coda_tui.store.facts import Fact


def fact(i: int, text: str, project: str | None = "/p") -> Fact:
    return Fact(i, project, text, "t")


def test_facts_come_first_and_what_does_not_fit_is_left_out_with_its_reason():
    facts = [fact(1, "short"), fact(2, "x" * 400, None), fact(3, "also short")]
    files = [Instruction("AGENTS.md", "Use tabs.", 1), Instruction("CODA.md", "y" * 4000, 2)]
    got = standing(files, facts, budget=60)
    assert [f["id"] for f in got.facts] == [1, 3] and [f["scope"] for f in got.facts] == ["project", "project"]
    assert got.left == [{"part": "facts", "id": 2, "tokens": 115, "reason": "budget"}]
    # The second file gets what is left, cut and marked; with no room at all it is left out.
    assert [(i["path"], i["truncated"]) for i in got.instructions] == [("AGENTS.md", False), ("CODA.md", True)]
    assert got.tokens <= 60 and got.text.startswith("Facts to remember:\n- short\n- also short")
    assert "Project instructions (AGENTS.md):\nUse tabs." in got.text and got.text.endswith("[… cut to fit the budget]")
    tight = standing(files, facts, budget=20)
    assert ("instructions", "CODA.md") in {(x["part"], x.get("path")) for x in tight.left} and tight.tokens <= 20


def test_nothing_to_stand_costs_nothing():
    got = standing([], [], budget=512)
    assert (got.text, got.tokens, got.instructions, got.facts, got.left) == ("", 0, [], [], [])


def test_diff_reports_an_edited_instruction_file_as_changed_and_a_forgotten_fact_as_left():
    base = {"window": [], "left": [], "recalled": [], "left_standing": [], "budget": 100, "tokens": 0}
    a = {**base, "instructions": [{"path": "AGENTS.md", "tokens": 10, "mtime_ns": 1}],
         "facts": [{"id": 1, "scope": "project", "tokens": 3}]}
    b = {**base, "instructions": [{"path": "AGENTS.md", "tokens": 12, "mtime_ns": 2}], "facts": []}
    delta = compare(a, b)
    assert delta["entered"] == []
    assert delta["left"] == [{"part": "facts", "id": 1, "scope": "project", "tokens": 3}]
    assert delta["changed"] == [{"part": "instructions", "path": "AGENTS.md", "tokens": 12, "mtime_ns": 2,
                                 "tokens_before": 10}]
    shown = render_snapshot(SimpleNamespace(id=7, session_id=1, user_message_id=3),
                            {**b, "left_standing": [{"part": "facts", "id": 4, "tokens": 99, "reason": "budget"}]})
    assert "project instructions: 1, 12 tokens" in shown and "fact #4" in shown and "(budget)" in shown


def test_a_long_sessions_snapshot_lists_the_newest_left_out_messages_and_counts_the_rest():
    from coda_tui.core.memory import LEFT_LISTED, select_window
    from coda_tui.store.sessions import Message

    msgs = [Message(i, 1, "user" if i % 2 else "assistant", f"message {i}", "complete", "t", "t") for i in range(1, 401)]
    msgs[-3].content = ""  # an empty one is left out for that, not for the budget
    w = select_window(msgs, budget=100)
    kept = [k["id"] for k in w.kept]
    assert kept == sorted(kept) and kept[-1] == 400 and w.tokens <= 100 and w.kept[0]["role"] == "user"
    assert len(w.left) == LEFT_LISTED and w.left_count == 400 - len(kept)
    assert [x["id"] for x in w.left] == sorted(set(range(1, 401)) - set(kept))[-LEFT_LISTED:]
    assert {"budget", "empty"} <= {x["reason"] for x in w.left} <= {"budget", "empty", "unpaired"} and w.left_tokens > sum(x["tokens"] for x in w.left)

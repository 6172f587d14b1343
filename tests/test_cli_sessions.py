"""`coda sessions rename|delete` make the checks of core/sessions.py, the same the sessions
view makes: one line and a usage exit status, nothing changed."""

from __future__ import annotations

import json

from coda_tui.core.runtime import Runtime
from tests.test_cli_hardening import assert_clean, invoke, make_session


def name_of(session_id: int) -> str:
    rt = Runtime()
    try:
        return rt.store.sessions.get(session_id).name
    finally:
        rt.close()


def test_rename_refuses_a_blank_name_and_trims_a_padded_one():
    sid = make_session("notes")
    blank = invoke("sessions", "rename", str(sid), "  \t")
    assert_clean(blank)
    assert blank.exit_code == 2 and "a session's name cannot be blank" in blank.stderr
    assert name_of(sid) == "notes"
    padded = invoke("sessions", "rename", str(sid), "  parser notes\n")
    assert padded.exit_code == 0 and f"renamed session {sid} to 'parser notes'" in padded.stdout
    assert name_of(sid) == "parser notes"


def test_delete_then_list_through_the_same_core():
    keep, drop = make_session("keep"), make_session("drop")
    deleted = invoke("sessions", "delete", str(drop), "--yes")
    assert deleted.exit_code == 0 and f"deleted session {drop}" in deleted.stdout
    listed = invoke("sessions", "list", "--json")
    assert [s["id"] for s in json.loads(listed.stdout)] == [keep]
    again = invoke("sessions", "delete", str(drop), "--yes")
    assert_clean(again)
    assert again.exit_code == 2 and f"no session '{drop}'" in again.stderr

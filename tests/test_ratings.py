"""Ratings: an answer rated up or down with an optional one-line reason, stored with the
message (migration m006); `coda sessions rate`. The chat's keys: tests/ui/test_ratings_ui.py."""

from __future__ import annotations

import json
import sqlite3

import pytest

from coda_tui.core.sessions import CannotRate, Sessions
from coda_tui.store import Store
from tests.conftest import run_coda

KEY = "sk-live-secret-for-tests-0123456789abcdef"


@pytest.fixture
def conversation(tmp_path):
    store = Store(tmp_path / "coda.db")
    session = store.sessions.create("rating test")
    question = store.sessions.add_message(session.id, "user", "Reverse a string?")
    answer = store.sessions.add_message(session.id, "assistant", "Use s[::-1].", model="m")
    return store, question, answer


def test_rate_stores_the_verdict_and_a_one_line_reason(conversation):
    store, question, answer = conversation
    sessions = Sessions(store.sessions, redact=lambda t: t.replace(KEY, "***"))
    m = sessions.rate(answer, "up", f"  short and\n right; my key {KEY}  ")
    assert (m.rating, m.rating_reason) == (1, "short and right; my key ***") and m.rated_at
    assert sessions.rate(answer, "down", "x" * 500).rating_reason == "x" * 199 + "…"
    m = sessions.rate(answer, "clear")
    assert (m.rating, m.rating_reason, m.rated_at) == (None, None, None)
    with pytest.raises(CannotRate, match="not an answer"):
        sessions.rate(question, "up")
    with pytest.raises(CannotRate, match="no message 999"):
        sessions.rate(999, "up")
    # The column itself refuses anything but up and down.
    with pytest.raises(sqlite3.IntegrityError):
        store.db.conn.execute("UPDATE messages SET rating = 5 WHERE id = ?", [answer])


def test_coda_sessions_rate(tmp_path):
    store = Store(tmp_path / "data" / "coda.db")
    session = store.sessions.create("cli")
    store.sessions.add_message(session.id, "user", "q")
    answer = store.sessions.add_message(session.id, "assistant", "a")
    store.close()
    out = run_coda("sessions", "rate", str(answer), "down", "--reason", "missed the edge case")
    assert out.returncode == 0 and out.stdout.strip() == f"rated answer {answer} down: missed the edge case"
    shown = json.loads(run_coda("sessions", "show", str(session.id), "--json").stdout)
    rated = shown["messages"][1]
    assert (rated["rating"], rated["rating_reason"]) == (-1, "missed the edge case")
    assert "_Rated down: missed the edge case_" in run_coda("sessions", "show", str(session.id)).stdout
    for args, needle in ((["1", "up"], "not an answer"), (["77", "up"], "no message 77"),
                         ([str(answer), "sideways"], "'sideways' is not one of")):
        bad = run_coda("sessions", "rate", *args)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr and needle in bad.stderr
    cleared = run_coda("sessions", "rate", str(answer), "clear", "--json")
    assert json.loads(cleared.stdout)["rating"] is None

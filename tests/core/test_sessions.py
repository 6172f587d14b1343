"""The session actions the sessions screen, the app and `coda sessions` share (core/sessions.py),
over a real SQLite store."""

from __future__ import annotations

import pytest

from coda_tui.core.sessions import (
    BlankName,
    CannotBranch,
    NoSuchSession,
    SessionError,
    Sessions,
)
from coda_tui.errors import CodaError
from coda_tui.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "coda.db")
    yield s
    s.close()


@pytest.fixture
def sessions(store):
    return Sessions(store.sessions)


def conversation(store, name: str, *said: str) -> int:
    sid = store.sessions.create(name, provider="local", model="m").id
    for i, text in enumerate(said):
        store.sessions.add_message(sid, "user" if i % 2 == 0 else "assistant", text)
    return sid


def test_list_is_most_recent_first_and_a_query_matches_names_and_messages(store, sessions):
    parsers = conversation(store, "parsers", "how do I write a parser", "with a grammar")
    caches = conversation(store, "caches", "when is an LRU cache enough", "mostly")
    assert [s.id for s in sessions.list()] == [caches, parsers]
    assert [s.id for s in sessions.list("grammar")] == [parsers]
    assert [s.id for s in sessions.list("cach")] == [caches]  # part of a name
    assert [s.id for s in sessions.list("   ")] == [caches, parsers]
    assert [s.id for s in sessions.list(limit=1)] == [caches]


def test_rename_trims_the_name_and_refuses_a_blank_one(store, sessions):
    sid = conversation(store, "old", "q")
    assert sessions.rename(sid, "  parsing notes\n").name == "parsing notes"
    assert store.sessions.get(sid).name == "parsing notes"
    for blank in ("", "   ", "\n\t"):
        with pytest.raises(BlankName):
            sessions.rename(sid, blank)
    assert store.sessions.get(sid).name == "parsing notes"


def test_a_session_gone_meanwhile_is_said_once_for_every_action(store, sessions):
    sid = conversation(store, "gone", "q", "a")
    sessions.delete(sid)
    assert store.sessions.get(sid) is None and store.sessions.messages(sid) == []
    for act in (lambda: sessions.delete(sid), lambda: sessions.rename(sid, "x"), lambda: sessions.branch(sid),
                lambda: sessions.get(sid)):
        with pytest.raises(NoSuchSession) as caught:
            act()
        # A CodaError with a usage exit status: the CLI and the app print it as one line.
        assert isinstance(caught.value, CodaError) and caught.value.exit_code == 2
        assert str(caught.value).startswith(f"no session {sid} — ")


def test_delete_leaves_the_other_sessions_alone(store, sessions):
    keep = conversation(store, "keep", "q1", "a1")
    drop = conversation(store, "drop", "q2", "a2")
    sessions.delete(drop)
    assert [s.id for s in sessions.list()] == [keep]
    assert [m.content for m in store.sessions.messages(keep)] == ["q1", "a1"]


def test_branch_copies_up_to_a_message_and_leaves_the_original(store, sessions):
    sid = conversation(store, "talk", "q1", "a1", "q2", "a2")
    first_answer = store.sessions.messages(sid)[1].id
    branch = sessions.branch(sid, first_answer)
    assert branch.parent_id == sid and branch.parent_message_id == first_answer
    assert (branch.provider, branch.model) == ("local", "m")
    assert [m.content for m in store.sessions.messages(branch.id)] == ["q1", "a1"]
    assert len(store.sessions.messages(sid)) == 4


def test_branch_without_a_message_takes_the_whole_session(store, sessions):
    sid = conversation(store, "talk", "q1", "a1", "q2")
    branch = sessions.branch(sid)
    assert branch.name == "talk (branch)"
    assert [m.content for m in store.sessions.messages(branch.id)] == ["q1", "a1", "q2"]


def test_branch_refuses_an_empty_session_and_a_message_of_another(store, sessions):
    empty = store.sessions.create("empty").id
    with pytest.raises(CannotBranch, match="'empty' has no messages"):
        sessions.branch(empty)
    other = conversation(store, "other", "elsewhere")
    foreign = store.sessions.messages(other)[0].id
    sid = conversation(store, "talk", "q1")
    with pytest.raises(CannotBranch, match=f"message {foreign} is not stored in 'talk'"):
        sessions.branch(sid, foreign)
    with pytest.raises(SessionError):
        sessions.branch(sid, 10_000)
    assert [s.name for s in sessions.list()] == ["talk", "other", "empty"]

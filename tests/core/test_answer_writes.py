"""A long streaming answer is rewritten to the database a bounded number of times: each
rewrite re-indexes the whole text for full-text search, on the app's event loop."""

from __future__ import annotations

from coda_tui.core import model_round
from coda_tui.store import Store


def test_a_megabyte_answer_is_rewritten_a_few_times_and_stored_whole(tmp_path, monkeypatch):
    store = Store(tmp_path / "coda.db")
    session = store.sessions.create("s")
    clock = [1000.0]
    monkeypatch.setattr(model_round.time, "monotonic", lambda: clock[0])
    writes = []
    update = store.sessions.update_message
    monkeypatch.setattr(store.sessions, "update_message", lambda *a, **k: (writes.append(k), update(*a, **k)))

    writer = model_round.AnswerWriter(store.sessions, session.id, "srv", "m")
    chunk = "word " * 2_000  # 10 KB, one every 0.2 s: 1 MB in 20 s
    for _ in range(100):
        writer.add(chunk)
        clock[0] += 0.2
    writer.flush("complete")

    # At a fixed half second it was 40 rewrites of a growing megabyte.
    assert 3 <= len(writes) <= 12
    stored = store.sessions.messages(session.id)[-1]
    assert stored.status == "complete" and stored.content == chunk * 100

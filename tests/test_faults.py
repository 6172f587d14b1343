"""Faults as a user meets them: the real `coda` in child processes, a loopback server on a
real socket, real files and file systems. Nothing lost, nothing garbled, one clear message."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_coda, write_config
from tests.servers import Action, OpenAIServer


def srv_config(tmp_path: Path, url: str, **extra) -> str:
    lines = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                      f'base_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n{lines}'))


def db_rows(tmp_path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "data" / "coda.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr


# --- a provider misbehaving mid-stream ---------------------------------------------------


def test_stall_mid_stream_times_out_with_a_message_and_keeps_the_partial_answer(tmp_path):
    with OpenAIServer([Action(chunks=["first part ", "never sent"], delay=5.0)]) as srv:
        t0 = time.monotonic()
        proc = run_coda("--config", srv_config(tmp_path, srv.url, timeout=0.5), "ask", "slow one")
        elapsed = time.monotonic() - t0
    assert proc.returncode == 1 and elapsed < 5.0
    no_traceback(proc)
    assert proc.stdout.startswith("first part")
    assert "stalled" in proc.stderr and "0.5 s" in proc.stderr and "partial answer is kept" in proc.stderr
    assert db_rows(tmp_path, "SELECT role, status, content FROM messages ORDER BY id") == [
        ("user", "complete", "slow one"), ("assistant", "partial", "first part ")]


def test_connection_closed_mid_stream_keeps_the_partial_answer(tmp_path):
    with OpenAIServer([Action(chunks=["one ", "two ", "three"], cut_after=2)]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "count")
    assert proc.returncode == 1 and proc.stdout == "one two \n"
    no_traceback(proc)
    assert "partial answer is kept" in proc.stderr
    assert db_rows(tmp_path, "SELECT status, content FROM messages WHERE role = 'assistant'") == [("partial", "one two ")]


def test_malformed_json_in_the_stream(tmp_path):
    with OpenAIServer([Action("malformed")]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "hi")
    assert proc.returncode == 1 and proc.stdout.startswith("Hi")
    no_traceback(proc)
    assert "malformed" in proc.stderr
    assert db_rows(tmp_path, "SELECT status, content FROM messages WHERE role = 'assistant'") == [("partial", "Hi")]


def test_html_instead_of_json(tmp_path):
    with OpenAIServer([Action("html", status=200)]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "hi")
    assert proc.returncode == 1
    no_traceback(proc)
    assert "HTML" in proc.stderr and srv.url in proc.stderr
    # The question is kept, and the failed answer is marked so.
    assert db_rows(tmp_path, "SELECT role, status FROM messages ORDER BY id") == [("user", "complete"), ("assistant", "error")]


# --- kill -9 and two processes at once ---------------------------------------------------


def test_kill_9_mid_stream_keeps_the_question_and_what_arrived(tmp_path):
    words = [f"w{i} " for i in range(300)]
    with OpenAIServer([Action(chunks=words, delay=0.05)]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        child = subprocess.Popen([sys.executable, "-m", "coda_tui", "--config", cfg, "ask", "count slowly"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=dict(os.environ))
        printed: list[bytes] = []
        reader = threading.Thread(target=lambda: printed.extend(iter(lambda: child.stdout.read(1), b"")), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while b"".join(printed).count(b" ") < 40:
            assert child.poll() is None and time.monotonic() < deadline, child.stderr.read().decode()
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        reader.join(5)
    assert child.returncode == -signal.SIGKILL
    shown = b"".join(printed).decode()

    after = run_coda("sessions", "show", "1", "--json")
    assert after.returncode == 0, after.stderr
    messages = json.loads(after.stdout)["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "partial")]
    assert messages[0]["content"] == "count slowly"
    kept = messages[1]["content"]
    # Written at most every half second: what was lost is what arrived in the last one.
    assert kept and shown.startswith(kept)
    assert len(shown.split()) - len(kept.split()) <= 15, (len(shown.split()), len(kept.split()))
    text = run_coda("sessions", "show", "1")
    assert "count slowly" in text.stdout and kept.strip() in text.stdout and "partial" in text.stdout


def test_two_processes_write_the_same_database_at_once(tmp_path):
    script = [Action(chunks=[f"a{i} " for i in range(60)], delay=0.02)]
    with OpenAIServer(script) as srv:
        cfg = srv_config(tmp_path, srv.url)
        cmd = [sys.executable, "-m", "coda_tui", "--config", cfg, "ask"]
        # Both start on an empty data dir: creating the schema races too.
        children = [subprocess.Popen([*cmd, f"question {n}", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=ROOT, env=dict(os.environ)) for n in range(3)]
        outs = [c.communicate(timeout=120) for c in children]
    for child, (out, err) in zip(children, outs):
        assert child.returncode == 0, err
        assert json.loads(out)["status"] == "complete"
    assert db_rows(tmp_path, "SELECT count(*) FROM sessions") == [(3,)]
    assert db_rows(tmp_path, "SELECT role, status, count(*) FROM messages GROUP BY role, status") == [
        ("assistant", "complete", 3), ("user", "complete", 3)]
    assert db_rows(tmp_path, "SELECT count(*) FROM traces") == [(3,)]
    full = "".join(f"a{i} " for i in range(60))
    assert db_rows(tmp_path, "SELECT DISTINCT content FROM messages WHERE role = 'assistant'") == [(full,)]


# --- the data directory: read-only, full, damaged ---------------------------------------

@contextmanager
def tmpfs(path: Path, size: str):
    """A real, small file system at `path` (needs root: mount(8) and tmpfs)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a file system needs root")


def _ask_and_doctor(tmp_path: Path, srv, *needles: str) -> None:
    cfg = srv_config(tmp_path, srv.url)
    data = tmp_path / "data"
    for args in (("ask", "hello"), ("sessions", "list")):
        proc = run_coda("--config", cfg, *args)
        assert proc.returncode == 1, (args, proc.stdout)
        no_traceback(proc)
        for needle in (str(data / "coda.db"), *needles):
            assert needle in proc.stderr, (args, needle, proc.stderr)
    doctor = run_coda("--config", cfg, "doctor", "--json")
    no_traceback(doctor)
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "database")
    assert check["ok"] is False and str(data / "coda.db") in check["detail"]
    for needle in needles:
        assert needle in check["detail"]


@needs_root
def test_read_only_data_dir_with_no_database_yet(tmp_path):
    with OpenAIServer([Action()]) as srv, tmpfs(tmp_path / "data", "1m") as data:
        remount_read_only(data)
        _ask_and_doctor(tmp_path, srv, "not writable", "CODA_DATA_DIR")


@needs_root
def test_read_only_data_dir_with_a_database(tmp_path):
    with OpenAIServer([Action()]) as srv, tmpfs(tmp_path / "data", "4m") as data:
        first = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "before")
        assert first.returncode == 0, first.stderr
        remount_read_only(data)
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "after")
        assert proc.returncode == 1
        no_traceback(proc)
        assert str(data / "coda.db") in proc.stderr and ("not writable" in proc.stderr or "read-only" in proc.stderr)


@needs_root
def test_full_disk_mid_answer_says_so_and_keeps_what_was_written(tmp_path):
    big = "x" * 1999 + "\n"
    # 2 MB of answer into a 1 MB file system: the disk fills while the answer streams
    # (max_tokens high enough for 2 MB to be a fair answer, not one past the ceiling).
    with OpenAIServer([Action(chunks=["small answer"]), Action(chunks=[big] * 1000, delay=0.001)]) as srv, \
            tmpfs(tmp_path / "data", "1m") as data:
        cfg = srv_config(tmp_path, srv.url, max_tokens=200000)
        first = run_coda("--config", cfg, "ask", "first", "--session", "s")
        assert first.returncode == 0, first.stderr
        proc = run_coda("--config", cfg, "ask", "a long one", "--session", "s")
        assert proc.returncode == 1
        no_traceback(proc)
        assert str(data / "coda.db") in proc.stderr and "full" in proc.stderr and "Free some space" in proc.stderr
        assert proc.stdout.startswith("x" * 1999)  # what arrived was shown
        # Everything stored before the disk filled is still there and readable.
        shown = run_coda("sessions", "show", "s", "--json")
        assert shown.returncode == 0, shown.stderr
        messages = json.loads(shown.stdout)["messages"]
        assert [m["content"] for m in messages[:3]] == ["first", "small answer", "a long one"]
        if len(messages) > 3:  # the answer as last written before the disk filled
            assert messages[3]["status"] == "partial" and proc.stdout.startswith(messages[3]["content"])
        doctor = run_coda("--config", cfg, "doctor", "--json")
        no_traceback(doctor)
        check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "data directory")
        assert check["ok"] is False and str(data) in check["detail"] and "free some space" in check["detail"]


def test_damaged_database_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "coda.db").write_bytes(b"not a database at all " * 500)
    with OpenAIServer([Action()]) as srv:
        _ask_and_doctor(tmp_path, srv, "Move it aside", f"mv {data / 'coda.db'}")


def database_with_turns(tmp_path: Path, srv, turns: int, words: str) -> Path:
    """A database written by real turns, checkpointed so the file holds everything."""
    cfg = srv_config(tmp_path, srv.url)
    for i in range(turns):
        assert run_coda("--config", cfg, "ask", f"question {i} {words}").returncode == 0
    path = tmp_path / "data" / "coda.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def test_database_damaged_inside_its_pages(tmp_path):
    with OpenAIServer([Action(chunks=["answer " * 200])]) as srv:
        path = database_with_turns(tmp_path, srv, 5, "words " * 200)
        raw = bytearray(path.read_bytes())
        page = 4096
        for n in range(2, len(raw) // page):  # every page but the header page
            raw[n * page: n * page + 64] = b"\xff" * 64
        path.write_bytes(bytes(raw))
        _ask_and_doctor(tmp_path, srv, "Move it aside")


def test_damage_only_a_full_read_finds_is_reported_by_doctor(tmp_path):
    with OpenAIServer([Action(chunks=["answer " * 2000])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        path = database_with_turns(tmp_path, srv, 4, "words " * 2000)
        db = sqlite3.connect(path)
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        # A page of message text (an overflow page of a long answer): not the schema, so
        # opening the database does not notice; reading everything does.
        page = db.execute("SELECT max(pageno) FROM dbstat WHERE name = 'messages' AND pagetype = 'overflow'").fetchone()[0]
        db.close()
        raw = bytearray(path.read_bytes())
        start = (page - 1) * page_size
        raw[start: start + 4] = b"\x00\x00\xff\xff"  # the next-page pointer now points past the end
        path.write_bytes(bytes(raw))
        assert run_coda("--config", cfg, "sessions", "list").returncode == 0  # opening does not notice
        doctor = run_coda("--config", cfg, "doctor", "--json")
    no_traceback(doctor)
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "database")
    assert check["ok"] is False and str(path) in check["detail"] and "Move it aside" in check["detail"]

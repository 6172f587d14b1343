"""Issue 12 item 12 outside the app: errors, logs, exports and labels a new user met."""

from __future__ import annotations

import json
import os
import stat

from coda_tui import paths
from coda_tui.cli import tables
from coda_tui.core import export
from coda_tui.store.sessions import Session
from coda_tui.store.traces import TraceRecord
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer, free_port

SECRET = "sk-live-secret-for-logs-0123456789abcdef"


def config_for(tmp_path, url: str) -> str:
    return str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                      f'base_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\napi_key = "{SECRET}"\n'))


def test_attaching_outside_the_project_says_cannot_attach_with_a_colon(tmp_path):
    proc = run_coda("--config", config_for(tmp_path, f"http://127.0.0.1:{free_port()}"), "--project", str(tmp_path),
                    "ask", "-f", "/etc/hostname", "hi")
    assert proc.returncode != 0
    assert "cannot attach: /etc/hostname is outside the project" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_http_500_and_refused_connections_are_logged_without_the_key(tmp_path):
    body = '{"error": {"message": "boom, your key ' + SECRET + ' broke it"}}'
    with OpenAIServer([Action("status", status=500, body=body)]) as srv:
        failed = run_coda("--config", config_for(tmp_path, srv.url), "ask", "hello")
    refused = run_coda("--config", config_for(tmp_path, f"http://127.0.0.1:{free_port()}"), "ask", "hello")
    assert failed.returncode != 0 and refused.returncode != 0
    log = paths.log_path().read_text()
    assert "500" in log and "connection refused" in log.lower()
    assert SECRET not in log


def test_a_session_is_exported_into_the_data_dir_not_the_project(tmp_path):
    session = Session(id=42, name="demo", created_at="2026-11-27T08:00:00", updated_at="2026-11-27T08:00:00")
    target = export.default_path(session)
    assert target.parent == paths.data_dir() / "exports" and target.name == "coda-session-42.md"
    export.write(target, "# demo\n")
    assert target.read_text() == "# demo\n" and (target.parent.stat().st_mode & 0o777) == 0o700


def test_an_export_and_the_ui_state_are_owner_only_so_the_next_run_does_not_warn():
    from coda_tui.ui.state import UIState

    old = os.umask(0o022)  # the usual umask, which made both 0644
    try:
        assert paths.secure_data_dir() is None  # what every run does first: a fresh data dir, 0700
        target = export.default_path(Session(id=7, name="d", created_at="x", updated_at="x"))
        export.write(target, "# one\n")
        export.write(target, "# two\n")  # replacing keeps the mode
        UIState().save()
    finally:
        os.umask(old)
    state = paths.data_dir() / "ui-state.json"
    assert [stat.S_IMODE(p.stat().st_mode) for p in (target, state)] == [0o600, 0o600]
    assert target.read_text() == "# two\n" and not list(paths.data_dir().rglob("*.tmp"))
    assert paths.secure_data_dir() is None
    proc = run_coda("sessions", "list")
    assert proc.returncode == 0 and "warning" not in proc.stderr


def test_a_provider_with_no_model_is_not_shown_with_a_dangling_slash():
    trace = TraceRecord(id=3, status="complete", started_at="2026-11-27T08:00:00", provider="llamasrv", model="",
                        total_ms=10.0, stages=[])
    listing, table = tables.traces_table([trace]), tables.stage_table(trace)
    assert "llamasrv" in listing and "llamasrv/" not in listing
    assert "llamasrv" in table and "llamasrv/" not in table


def test_search_in_a_small_project_not_yet_indexed_indexes_it_first(tmp_path):
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "ctx.py").write_text("def make_context(name):\n    return {'name': name}\n")
    (root / "README.md").write_text("A small project.\n")
    first = run_coda("--project", str(root), "search", "make_context")
    assert first.returncode == 0, first.stderr
    assert "pkg/ctx.py:1-2" in first.stdout and "make_context" in first.stdout
    assert f"indexed {root.resolve()} first: 2 files" in first.stderr and "not indexed" not in first.stderr
    again = run_coda("--project", str(root), "search", "make_context", "--json")
    assert again.returncode == 0 and "first" not in again.stderr
    assert [h["path"] for h in json.loads(again.stdout)] == ["pkg/ctx.py"]


def test_search_in_a_folder_the_app_would_not_index_unasked_keeps_the_one_line_hint(tmp_path):
    (tmp_path / "notes.txt").write_text("make_context\n")
    proc = run_coda("--project", str(tmp_path), "search", "make_context", env={"HOME": str(tmp_path)})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"coda: {tmp_path.resolve()} is not indexed yet ({tmp_path.resolve()} is your home folder): run 'coda index'"]
    assert not list((paths.data_dir() / "index").glob("*.db"))


def test_a_setting_without_an_upper_bound_says_0_or_more(tmp_path):
    import pytest

    from coda_tui import config

    path = write_config(tmp_path, "[tools]\noutput_chars = -1\n")
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    assert "expected an integer, 0 or more" in str(info.value) and "e+12" not in str(info.value)


def test_doctor_counts_one_session_in_the_singular():
    from coda_tui.core.doctor import check_database
    from coda_tui.store import Store

    store = Store(paths.database_path())
    try:
        store.sessions.create("one")
        assert ", 1 session, WAL)" in check_database(lambda: store).detail
    finally:
        store.close()

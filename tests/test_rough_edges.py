"""Issue 12 item 12 outside the app: errors, logs, exports and labels a new user met."""

from __future__ import annotations

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

"""API keys go to the provider and nowhere else: not the database, traces, logs, exports,
error messages or the screen, even when a server echoes the key back or the user pastes it.
A config file holding a key that other users can read is warned about everywhere."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from coda_tui.redact import MASK, Redactor, StreamScrubber
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer
from tests.ui.test_hostile_output import screen_text

# Shaped like no known key format, so only the exact-value net can catch it.
KEY = "k3y-Z9q8w7e6r5t4y3u2i1o0p-live"


def key_config(tmp_path: Path, url: str, mode: int = 0o600) -> Path:
    path = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\n'
                                  f'model = "fake-model"\nmax_retries = 0\napi_key = "{KEY}"\n')
    path.chmod(mode)
    return path


def echoing_server() -> OpenAIServer:
    """Echoes the key split across chunks, then fails with the key in a plain-text error."""
    return OpenAIServer([Action(chunks=["your key: ", KEY[:9], KEY[9:20], KEY[20:] + " ok"]),
                         Action("raw", status=500, body=f"cannot use key {KEY} here")])


def authorization(request: dict) -> str | None:
    return {k.lower(): v for k, v in request["headers"].items()}.get("authorization")


def assert_no_key(where: str, text: str | bytes) -> None:
    raw = text if isinstance(text, bytes) else text.encode()
    assert KEY.encode() not in raw, f"the key reached {where}"


def scan_data_dir(tmp_path: Path) -> int:
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    for p in files:
        assert_no_key(str(p), p.read_bytes())
    return len(files)


def test_key_reaches_only_the_provider_from_the_cli(tmp_path):
    with echoing_server() as srv:
        cfg = str(key_config(tmp_path, srv.url))
        first = run_coda("--config", cfg, "ask", f"is {KEY} my key?", "--json", "--session", "k")
        second = run_coda("--config", cfg, "ask", "again", "--session", "k")
        auth = [authorization(r) for r in srv.chat_requests()]
        later = [run_coda(*args) for args in (
            ("trace", "--json"), ("trace", "1"), ("trace", "2", "--json"), ("sessions", "show", "k"),
            ("sessions", "show", "k", "--json"), ("sessions", "export", "k"), ("sessions", "export", "k", "--format", "json"),
            ("sessions", "list", "--json"), ("sessions", "search", "key", "--json"), ("--config", cfg, "doctor", "--json"))]
        exported = tmp_path / "export.md"
        assert run_coda("sessions", "export", "k", "-o", str(exported)).returncode == 0
    assert auth == [f"Bearer {KEY}"] * 2  # sent to the provider, and only there
    assert first.returncode == 0 and second.returncode == 1
    answer = json.loads(first.stdout)["response"]
    assert answer == f"your key: {MASK} ok"
    assert "cannot use key" in second.stderr and MASK in second.stderr
    for proc in (first, second, *later):
        assert_no_key(f"the output of {proc.args[3:]}", proc.stdout + proc.stderr)
    assert_no_key("the exported file", exported.read_text())
    assert (tmp_path / "data" / "logs" / "coda.log").exists()
    assert scan_data_dir(tmp_path) >= 3  # the database, its WAL and the log at least


def test_key_reaches_neither_screen_nor_screenshot_nor_database_from_the_app(tmp_path, monkeypatch):
    from coda_tui.core.runtime import Runtime
    from coda_tui.ui.app import CodaApp
    from coda_tui.ui.widgets.chat import ChatInput
    from tests.ui.conftest import wait_for

    project = tmp_path / "proj"
    project.mkdir()

    async def go():
        with echoing_server() as srv:
            app = CodaApp(Runtime(key_config(tmp_path, srv.url), project=project), project=project)
            async with app.run_test(size=(120, 40), notifications=True) as pilot:
                for question in (f"is {KEY} my key?", "again"):
                    app.query_one(ChatInput).load_text(question)
                    await pilot.press("enter")
                    await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
                    await pilot.pause(0.2)
                assert_no_key("the screen", screen_text(app))
                assert_no_key("the screenshot", app.export_screenshot())
                views = [v.text + (v.error or "") for v in app.query("MessageView")]
                assert any(MASK in v for v in views)
                assert any("cannot use key" in (v.error or "") for v in app.query("MessageView"))  # shown, masked
                assert_no_key("the messages shown", "".join(views))
        scan_data_dir(tmp_path)

    asyncio.run(go())


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_config_with_a_key_readable_by_others_is_warned_about(tmp_path, mode):
    with OpenAIServer([Action()]) as srv:
        path = key_config(tmp_path, srv.url, mode)
        ask = run_coda("--config", str(path), "ask", "hi")
        doctor = run_coda("--config", str(path), "doctor", "--json")
    assert ask.returncode == 0
    assert f"warning: {path} holds an API key and can be read by other users; run: chmod 600 {path}" in ask.stderr
    flagged = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "config" and c["ok"] is False]
    assert flagged and f"chmod 600 {path}" in flagged[0]["detail"]
    assert_no_key("the warning", ask.stderr + doctor.stdout)


def test_private_config_with_a_key_and_an_env_key_give_no_warning(tmp_path):
    with OpenAIServer([Action()]) as srv:
        path = key_config(tmp_path, srv.url, 0o600)
        ask = run_coda("--config", str(path), "ask", "hi")
        env_cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                         f'base_url = "{srv.url}/v1"\nmodel = "fake-model"\napi_key_env = "MY_KEY"\n')
        env_cfg.chmod(0o644)  # holds no key: readable is fine
        from_env = run_coda("--config", str(env_cfg), "ask", "hi", env={"MY_KEY": KEY})
        auth = authorization(srv.chat_requests()[-1])
    assert ask.returncode == from_env.returncode == 0
    assert "warning" not in ask.stderr + from_env.stderr
    assert auth == f"Bearer {KEY}"


def test_the_app_shows_the_warning(tmp_path):
    from coda_tui.core.runtime import Runtime
    from coda_tui.ui.app import CodaApp
    from tests.ui.conftest import wait_for

    project = tmp_path / "proj"
    project.mkdir()

    async def go():
        with OpenAIServer([Action()]) as srv:
            path = key_config(tmp_path, srv.url, 0o644)
            app = CodaApp(Runtime(path), project=project)
            async with app.run_test(size=(160, 40), notifications=True) as pilot:
                await wait_for(lambda: "chmod 600" in screen_text(app), pilot=pilot)

    asyncio.run(go())


@pytest.mark.parametrize("cut", range(1, len(KEY) + 6))
def test_stream_scrubber_masks_a_key_split_anywhere(cut):
    text = f"a {KEY} b {KEY[:5]} c {KEY}"
    scrub = StreamScrubber(Redactor([KEY]))
    pieces = [text[i:i + cut] for i in range(0, len(text), cut)]
    out = "".join(scrub.feed(p) for p in pieces) + scrub.flush()
    assert out == f"a {MASK} b {KEY[:5]} c {MASK}"

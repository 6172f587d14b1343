from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coda_tui import config
from coda_tui.config import ConfigError
from tests.conftest import run_coda, write_config


def test_no_file_gives_three_builtin_providers_and_local_default():
    cfg = config.load()
    assert not cfg.loaded_from_file
    assert cfg.general.provider == "local"
    assert {n: p.type for n, p in cfg.providers.items()} == {"local": "llama_cpp", "ollama": "ollama", "openai": "openai"}
    assert cfg.provider().type == "llama_cpp"


def test_file_entries_are_typed(tmp_path):
    path = write_config(
        tmp_path,
        """
[general]
provider = "lmstudio"

[memory]
recall = true
recall_limit = 5

[providers.lmstudio]
type = "openai"
base_url = "http://127.0.0.1:1234/v1"
model = "qwen2.5-coder"
timeout = 30

[providers.vllm]
type = "openai"
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "VLLM_KEY"
""",
    )
    cfg = config.load(path)
    assert cfg.loaded_from_file
    assert cfg.memory.recall is True and cfg.memory.recall_limit == 5
    lm = cfg.provider()
    assert (lm.name, lm.type, lm.endpoint, lm.model, lm.timeout) == ("lmstudio", "openai", "http://127.0.0.1:1234/v1", "qwen2.5-coder", 30.0)
    assert cfg.providers["vllm"].api_key_env == "VLLM_KEY"
    assert "local" in cfg.providers  # built-ins remain alongside


def test_invalid_toml_names_file_and_line(tmp_path):
    path = write_config(tmp_path, '[general]\nprovider = "local"\nmodel = = "x"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    err = info.value
    assert err.path == path and err.line == 3
    assert str(path) in str(err) and "line 3" in str(err) and "invalid TOML" in str(err)


def test_unknown_provider_type_names_line_and_key(tmp_path):
    path = write_config(tmp_path, '[general]\nprovider = "x"\n\n[providers.x]\ntype = "anthropic"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.line == 5
    assert info.value.key == "providers.x.type"
    assert "llama_cpp, ollama, openai" in str(info.value)


def test_wrong_value_type(tmp_path):
    path = write_config(tmp_path, '[providers.o]\ntype = "ollama"\ntimeout = "soon"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.key == "providers.o.timeout" and info.value.line == 3
    assert "a number" in str(info.value)


def test_bool_is_not_a_number(tmp_path):
    path = write_config(tmp_path, "[memory]\nrecall_limit = true\n")
    with pytest.raises(ConfigError, match="an integer"):
        config.load(path)


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = write_config(tmp_path, '[providers.o]\ntype = "ollama"\nhots = "http://x"\n')
    with pytest.raises(ConfigError, match="did you mean 'host'") as info:
        config.load(path)
    assert info.value.line == 3


def test_missing_api_key_for_openai_cloud_is_reported_when_chosen():
    cfg = config.load()
    with pytest.raises(ConfigError) as info:
        cfg.provider("openai")
    assert "OPENAI_API_KEY" in str(info.value) and info.value.key == "providers.openai.api_key"


def test_local_openai_compatible_server_needs_no_key(tmp_path):
    path = write_config(tmp_path, '[providers.lm]\ntype = "openai"\nbase_url = "http://127.0.0.1:1234/v1"\n')
    assert config.load(path).provider("lm").resolved_api_key() is None


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("CODA_GENERAL_PROVIDER", "ollama")
    monkeypatch.setenv("CODA_MEMORY_RECALL", "yes")
    monkeypatch.setenv("OLLAMA_HOST", "10.1.2.3:11434")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-abcdefghijkl")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    cfg = config.load()
    assert cfg.general.provider == "ollama" and cfg.memory.recall is True
    assert cfg.providers["ollama"].host == "http://10.1.2.3:11434"
    assert cfg.providers["openai"].resolved_api_key() == "sk-from-env-abcdefghijkl"
    assert cfg.providers["openai"].endpoint == "http://127.0.0.1:9/v1"


def test_openai_key_is_not_lent_to_other_compatible_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-for-openai-only-abcdefgh")
    path = write_config(tmp_path, '[providers.lm]\ntype = "openai"\nbase_url = "http://127.0.0.1:1234/v1"\n')
    assert config.load(path).providers["lm"].resolved_api_key() is None


def test_bad_environment_value(monkeypatch):
    monkeypatch.setenv("CODA_MEMORY_RECALL_LIMIT", "many")
    with pytest.raises(ConfigError, match="CODA_MEMORY_RECALL_LIMIT"):
        config.load()


def test_config_path_from_environment(tmp_path, monkeypatch):
    path = write_config(tmp_path, '[general]\nprovider = "ollama"\n')
    monkeypatch.setenv("CODA_CONFIG_PATH", str(path))
    assert config.load().general.provider == "ollama"


def test_world_readable_file_with_key_warns(tmp_path):
    path = write_config(tmp_path, '[providers.o]\ntype = "openai"\napi_key = "sk-secret-in-file-abcdef"\n')
    path.chmod(0o644)
    cfg = config.load(path)
    assert any("chmod 600" in w for w in cfg.warnings)
    path.chmod(0o600)
    assert config.load(path).warnings == []


@pytest.mark.parametrize(
    "text, needle",
    [
        ('[general]\nprovider = "local"\nmodel = = "x"\n', "line 3"),
        ('[providers.x]\ntype = "anthropic"\n', "providers.x.type"),
        ('[providers.x]\ntype = "ollama"\nmax_retries = "3"\n', "providers.x.max_retries"),
    ],
)
def test_cli_reports_config_errors_with_status_2_and_no_traceback(tmp_path, text, needle):
    path = write_config(tmp_path, text)
    proc = run_coda("--config", str(path), "ask", "hello")
    assert proc.returncode == 2
    assert needle in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_cli_missing_api_key_exits_2():
    proc = run_coda("ask", "--provider", "openai", "hello")
    assert proc.returncode == 2
    assert "OPENAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_unknown_provider_exits_2():
    proc = run_coda("ask", "--provider", "nosuch", "hello")
    assert proc.returncode == 2 and "no provider named 'nosuch'" in proc.stderr


# --- anything at all in the file or the environment is a Config or a ConfigError ----------

_SECTION = st.sampled_from(["[general]", "[memory]", "[ui]", "[context]", "[providers.a]", "[providers.b]", "[providers]",
                            "[other]", "[[general]]", "[providers.a.x]", '[providers."a b"]'])
_KEY = st.sampled_from(["provider", "model", "system_prompt", "recall", "recall_limit", "keymap", "theme", "deny",
                        "allow", "max_file_bytes", "type", "base_url", "api_key", "api_key_env", "timeout",
                        "max_retries", "temperature", "context_window", "embeddings", "nope", '"quoted"', "a.b"])
_VALUE = st.one_of(
    st.sampled_from(['"openai"', '"ollama"', '"llama_cpp"', '"anthropic"', '"local"', '"a"', "true", "0", "-1", "3",
                     "1.5", "-0.5", "nan", "inf", "[]", '["*.py"]', "[1, 2]", "{}", "{ type = \"openai\" }", '""',
                     "1979-05-27", "0x10", "1e400"]),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    st.integers().map(str),
    st.floats().map(repr),
)
_ASSIGN = st.builds("{} = {}".format, _KEY, _VALUE)
_TABLE = st.builds(lambda head, body: "\n".join([head, *body]), _SECTION, st.lists(_ASSIGN, max_size=4))
_LINES = st.one_of(st.lists(st.one_of(_SECTION, _ASSIGN), max_size=10), st.lists(_TABLE, max_size=4)).map("\n".join)
_ENV = st.dictionaries(
    st.sampled_from(["CODA_GENERAL_PROVIDER", "CODA_GENERAL_MODEL", "CODA_MEMORY_RECALL", "CODA_MEMORY_RECALL_LIMIT",
                     "CODA_CONTEXT_DENY", "CODA_CONTEXT_MAX_FILE_BYTES", "CODA_UI_THEME", "OPENAI_API_KEY",
                     "OPENAI_BASE_URL", "OLLAMA_HOST"]),
    st.text(max_size=10),
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), _LINES, _LINES), env=_ENV)
def test_any_text_is_a_config_or_a_config_error(tmp_path, text, env):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    try:
        cfg = config.load(path, env=env)
        for name in list(cfg.providers):
            try:
                cfg.provider(name)
            except ConfigError as exc:
                assert str(exc).startswith("config error")
        cfg.secrets()
    except ConfigError as exc:
        assert str(exc).startswith("config error")
        assert exc.path is None or exc.path == path
    else:
        assert isinstance(cfg, config.Config)
        assert {"local", "ollama", "openai"} <= set(cfg.providers)
        assert all(p.type in config.PROVIDER_TYPES for p in cfg.providers.values())

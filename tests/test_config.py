from __future__ import annotations

import pytest

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

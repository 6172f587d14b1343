from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coda_tui import config
from coda_tui.config import ConfigError
from coda_tui.providers.types import TYPES
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
    path = write_config(tmp_path, '[general]\nprovider = "x"\n\n[providers.x]\ntype = "gemini"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.line == 5
    assert info.value.key == "providers.x.type"
    assert "llama_cpp, ollama, openai, anthropic" in str(info.value)


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


def test_missing_api_key_for_openai_cloud_is_reported_when_chosen(tmp_path):
    # The built-in entry is in no file: the error names the variable, and blames no file.
    path = write_config(tmp_path, '[general]\nprovider = "local"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path).provider("openai")
    assert "OPENAI_API_KEY" in str(info.value)
    assert info.value.path is None and info.value.key is None and str(path) not in str(info.value)
    # An entry the file does have is blamed there, at its table.
    path = write_config(tmp_path, '[general]\nprovider = "local"\n\n[providers.cloud]\ntype = "openai"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path).provider("cloud")
    assert (info.value.path, info.value.line, info.value.key) == (path, 4, "providers.cloud")


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
        ('[providers.x]\ntype = "gemini"\n', "providers.x.type"),
        ('[providers.x]\ntype = "ollama"\nmax_retries = "3"\n', "providers.x.max_retries"),
        ('[providers.x]\ntype = "ollama"\ntemperature = nan\n', "providers.x.temperature"),
        ('[providers.x]\ntype = "openai"\ntimeout = nan\n', "providers.x.timeout"),
        ('[general]\nmodel = ' + "[" * 5000 + "]" * 5000 + "\n", "line 2"),
        ('[general]\nmodel = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "line 2"),
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


# --- an error blames where the value came from: the file and line, a variable, or neither --


def test_doctor_blames_no_file_for_the_builtin_openai_key(tmp_path, monkeypatch):
    from coda_tui.core.doctor import check_providers
    from coda_tui.providers.registry import Providers

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    path = write_config(tmp_path, '[general]\nprovider = "local"\n')
    cfg = config.load(path)
    checks = asyncio.run(check_providers(cfg, Providers(cfg)))
    detail = next(c.detail for c in checks if c.name.startswith("provider openai"))
    assert "OPENAI_API_KEY" in detail
    assert str(path) not in detail and "providers.openai.api_key" not in detail


def test_an_environment_override_is_blamed_not_the_file(tmp_path):
    path = write_config(tmp_path, '[general]\nprovider = "local"\n')
    cfg = config.load(path, env={"CODA_GENERAL_PROVIDER": "nosuch"})
    with pytest.raises(ConfigError) as info:
        cfg.provider()
    assert info.value.env == "CODA_GENERAL_PROVIDER" and info.value.path is None
    assert str(info.value).startswith("config error in environment variable CODA_GENERAL_PROVIDER: no provider named")
    proc = run_coda("--config", str(path), "ask", "hi", env={"CODA_GENERAL_PROVIDER": "nosuch"})
    assert proc.returncode == 2 and "environment variable CODA_GENERAL_PROVIDER" in proc.stderr
    assert str(path) not in proc.stderr


@pytest.mark.parametrize(
    "var, value, problem",
    [
        ("CODA_RESILIENCE_BREAKER_COOLDOWN_S", "nan", "nan is not a number a setting can take"),
        ("CODA_RESILIENCE_BREAKER_COOLDOWN_S", "-1", "-1.0 is out of range"),
        ("CODA_RESILIENCE_BREAKER_COOLDOWN_S", "lots", "cannot read 'lots'"),
        ("CODA_MEMORY_RECALL_LIMIT", "9" * 5000, "cannot read '9999999999"),
    ],
)
def test_a_bad_environment_number_is_blamed_on_the_variable(var, value, problem):
    with pytest.raises(ConfigError) as info:
        config.load(env={var: value})
    assert info.value.env == var and info.value.path is None
    assert problem in str(info.value) and len(str(info.value)) < 300


def test_a_misspelled_variable_is_named_with_the_right_one(tmp_path):
    cfg = config.load(env={"CODA_GENERAL_PROVDER": "ollama", "CODA_DATA_DIR": str(tmp_path)})
    assert cfg.warnings == [
        "environment variable CODA_GENERAL_PROVDER: unknown variable, did you mean 'CODA_GENERAL_PROVIDER'?"
    ]
    proc = run_coda("sessions", "list", env={"CODA_GENERAL_PROVDER": "ollama"})
    assert "did you mean 'CODA_GENERAL_PROVIDER'?" in proc.stderr


def test_a_suggestion_reads_as_one(tmp_path):
    path = write_config(tmp_path, '[general]\nprovder = "local"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value).endswith("key 'general.provder': unknown key (did you mean 'provider'?)")


def test_an_unknown_provider_in_the_file_has_its_line(tmp_path):
    path = write_config(tmp_path, '# mine\n[general]\nmodel = "x"\nprovider = "lcoal"\n')
    with pytest.raises(ConfigError) as info:
        config.load(path).provider()
    assert (info.value.path, info.value.line, info.value.key) == (path, 4, "general.provider")
    assert "did you mean 'local'?" in str(info.value)


# --- numbers in range, and nesting a parser survives ---------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("temperature = nan", "a number from 0 to 2"),
        ("temperature = inf", "a number from 0 to 2"),
        ("temperature = -inf", "a number from 0 to 2"),
        ("temperature = 7.5", "a number from 0 to 2"),
        ("timeout = nan", "above 0"),
        ("timeout = 0", "above 0"),
        ("connect_timeout = 1e300", "at most 3600"),
        ("max_tokens = 0", "an integer from 1 to"),
        ("max_tokens = 99999999999999999999999", "an integer from 1 to"),
        ("max_retries = 1000", "an integer from 0 to 20"),
    ],
)
def test_numbers_out_of_range_name_file_line_and_key(tmp_path, line, expected):
    path = write_config(tmp_path, f'[providers.a]\ntype = "ollama"\n{line}\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    key = line.split(" ")[0]
    assert (info.value.path, info.value.line, info.value.key) == (path, 3, f"providers.a.{key}")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "value",
    ["[" * 5000 + "]" * 5000, "{a = " * 3000 + "1" + "}" * 3000, "[" * 17 + "]" * 17],
)
def test_deep_nesting_is_one_line_not_a_recursion_error(tmp_path, value):
    path = write_config(tmp_path, f"[general]\nmodel = {value}\n")
    with pytest.raises(ConfigError, match="nested more than 16 levels deep") as info:
        config.load(path)
    assert info.value.line == 2


def test_deep_dotted_keys_are_refused(tmp_path):
    path = write_config(tmp_path, "a" + ".a" * 3000 + " = 1\n")
    with pytest.raises(ConfigError, match="nested more than 16 levels deep"):
        config.load(path)


# --- anything at all in the file or the environment is a Config or a ConfigError ----------

_SECTION = st.sampled_from(["[general]", "[memory]", "[ui]", "[context]", "[providers.a]", "[providers.b]", "[providers]",
                            "[other]", "[[general]]", "[providers.a.x]", '[providers."a b"]'])
_KEY = st.sampled_from(["provider", "model", "system_prompt", "recall", "recall_limit", "keymap", "theme", "deny",
                        "allow", "max_file_bytes", "type", "base_url", "api_key", "api_key_env", "timeout",
                        "max_retries", "temperature", "context_window", "embeddings", "nope", '"quoted"', "a.b"])
_VALUE = st.one_of(
    st.sampled_from(['"openai"', '"ollama"', '"llama_cpp"', '"anthropic"', '"local"', '"a"', "true", "0", "-1", "3",
                     "1.5", "-0.5", "nan", "inf", "[]", '["*.py"]', "[1, 2]", "{}", "{ type = \"openai\" }", '""',
                     "1979-05-27", "0x10", "1e400", "-inf", "+nan", "9" * 400, "1e-400"]),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: "{a = " * n + "1" + "}" * n),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    st.integers().map(str),
    st.floats().map(repr),
)
_ASSIGN = st.builds("{} = {}".format, _KEY, _VALUE)
_TABLE = st.builds(lambda head, body: "\n".join([head, *body]), _SECTION, st.lists(_ASSIGN, max_size=4))
_LINES = st.one_of(st.lists(st.one_of(_SECTION, _ASSIGN), max_size=10), st.lists(_TABLE, max_size=4)).map("\n".join)
_ENV = st.dictionaries(
    st.sampled_from(["CODA_GENERAL_PROVIDER", "CODA_GENERAL_PROVDER", "CODA_PROVIDERS_X", "CODA_VOICE_MAX_SECONDS", "CODA_GENERAL_MODEL", "CODA_MEMORY_RECALL", "CODA_MEMORY_RECALL_LIMIT",
                     "CODA_CONTEXT_DENY", "CODA_CONTEXT_MAX_FILE_BYTES", "CODA_UI_THEME", "OPENAI_API_KEY",
                     "OPENAI_BASE_URL", "OLLAMA_HOST"]),
    st.one_of(st.text(max_size=10), st.sampled_from(["nan", "inf", "-1", "9" * 400, "1e400"])),
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
        assert all(p.type in TYPES for p in cfg.providers.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=20).map(lambda b: b * 5000)))
def test_any_bytes_are_a_config_or_a_config_error(tmp_path, data):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        config.load(path, env={})
    except ConfigError as exc:
        assert str(exc).startswith("config error") and "\n" not in str(exc)

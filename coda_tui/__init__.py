"""coda-tui: a keyboard-first terminal app for AI-assisted coding."""

__version__ = "0.1.0"

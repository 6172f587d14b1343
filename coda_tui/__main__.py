"""`python -m coda_tui` and the `coda` command (pyproject's console script is this main)."""

from coda_tui import startup_gc

startup_gc.hold()  # before the imports: see coda_tui/startup_gc.py

from coda_tui.cli import main

if __name__ == "__main__":
    main()

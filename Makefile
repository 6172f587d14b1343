# The two commands of the README: `make run` and `make test`.
VENV ?= .venv

.PHONY: run install test bench

run: install
	$(VENV)/bin/coda

install:
	VENV=$(VENV) scripts/install.sh

test: install
	$(VENV)/bin/python -m pytest

bench: install
	$(VENV)/bin/python benchmarks/run_all.py

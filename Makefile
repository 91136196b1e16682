# Two commands: `make demo` and `make test`. Both create .venv (python3 -m venv) on first use
# and reinstall into it whenever pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

$(VENV): $(STAMP)
	@:

demo: $(VENV)
	$(VENV)/bin/python scripts/demo.py

# ruff and mypy first (configured in pyproject.toml): a lint or type error fails `make test`.
lint: $(VENV)
	$(VENV)/bin/python -m ruff check omics_dynamic tests scripts bench __main__.py
	@if $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then \
	  $(VENV)/bin/python -m mypy; \
	else echo "mypy skipped: it needs Python 3.10+ (this .venv has $$($(VENV)/bin/python -V))"; fi

# `make test` lints first (ruff; mypy on Python 3.10+), so a lint error fails CI.
test: lint
	$(VENV)/bin/python -m pytest -q

# The benchmark also draws its timeline (matplotlib: the optional group "bench").
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf .demo bench/out .pytest_cache .ruff_cache .mypy_cache

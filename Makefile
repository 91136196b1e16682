# Two commands: `make demo` and `make test`. Both create .venv (python3 -m venv) on first use
# and reinstall into it whenever pyproject.toml changes, and find or build the pulumi CLI
# (`make pulumi`, scripts/pulumi-cli.sh: the one on PATH, else a build from the Go module
# proxy cached outside the checkout; its last output line is the binary's path).

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean pulumi

# Three distributions from this repository: the provider (omics-dynamic, the root), the
# emulator (omics-emulator) and the test toolkit (omics-dynamic-testing) under packages/;
# the provider's `test` extra names the other two, so they are installed in the same step
# (the provider first: pip 23 then finds the toolkit's requirement on it among the three).
PACKAGES := -e '.[test]' -e packages/omics-emulator -e packages/omics-dynamic-testing

$(STAMP): pyproject.toml packages/omics-emulator/pyproject.toml packages/omics-dynamic-testing/pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check $(PACKAGES)
	touch $(STAMP)

$(VENV): $(STAMP)
	@:

pulumi:
	@bash scripts/pulumi-cli.sh

# The demo runs the example stack through the real CLI; where none can be found or built it
# says so and falls back to the engine-role harness.
demo: $(VENV)
	@bin=$$(bash scripts/pulumi-cli.sh) || bin=""; \
	OMICS_DYNAMIC_PULUMI="$$bin" $(VENV)/bin/python scripts/demo.py

# ruff and mypy first (configured in pyproject.toml): a lint or type error fails `make test`.
lint: $(VENV)
	$(VENV)/bin/python -m ruff check omics_dynamic packages tests scripts bench __main__.py
	@if $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then \
	  $(VENV)/bin/python -m mypy; \
	else echo "mypy skipped: it needs Python 3.10+ (this .venv has $$($(VENV)/bin/python -V))"; fi

# `make test` lints first (ruff; mypy on Python 3.10+), so a lint error fails CI.
# The real-CLI tests (marker pulumi_cli) run with the CLI `make pulumi` finds or builds, and
# fail rather than skip when it gives one; without Go and a CLI they skip, except in CI.
test: lint
	@if bin=$$(bash scripts/pulumi-cli.sh); then \
	  export OMICS_DYNAMIC_PULUMI="$$bin" OMICS_DYNAMIC_REQUIRE_PULUMI_CLI=1; \
	elif [ "$${CI:-}" = true ]; then echo "make test: CI needs the pulumi CLI (see above)"; exit 1; \
	else echo "make test: no pulumi CLI: the real-CLI tests (marker pulumi_cli) will skip"; fi; \
	$(VENV)/bin/python -m pytest -q

# The benchmark also draws its timeline (matplotlib: the optional group "bench").
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --disable-pip-version-check $(PACKAGES) -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@bin=$$(bash scripts/pulumi-cli.sh) || bin=""; \
	OMICS_DYNAMIC_PULUMI="$$bin" $(VENV)/bin/python bench/run.py

clean:
	rm -rf .demo bench/out .pytest_cache .ruff_cache .mypy_cache

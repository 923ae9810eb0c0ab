# Two commands on a fresh machine with only python3 (>= 3.11):
#   make demo   build a virtual environment, install okra, run the demo
#   make shell  a shell in which `okra` is found by name (the venv activated)
#   make test   the same with the dev tools, then ruff, mypy --strict and pytest
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo shell test lint typecheck pytest bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "okra needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[orjson]'
	touch $@

# The example plugin is a separate distribution, installed so that the tests find
# it through its entry point as they would any third-party plugin.
EXAMPLE_PLUGIN := examples/okra-example-plugin

$(VENV)/.installed-dev: pyproject.toml $(EXAMPLE_PLUGIN)/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -e $(EXAMPLE_PLUGIN)
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/okra demo

# A shell with the virtual environment active, so that `okra` is found by name
# (the same as `source .venv/bin/activate`); `exit` leaves it.
shell: $(VENV)/.installed
	@echo "okra is on your PATH in this shell ($(abspath $(BIN))); exit to leave"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" $${SHELL:-/bin/sh}

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

test: lint typecheck pytest

# The benchmark suite (docs/performance.md): a table on stdout, bench-results.json
# at the root. The full mode takes many minutes; bench-quick only proves it runs.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

bench-quick: $(VENV)/.installed-dev
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis

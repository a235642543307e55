# Two commands for a newcomer: `make demo` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install system-deps lint test test-fast docs demo emulator bench stack clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,emulator,postgres,docs]'
	touch $(STAMP)

install: $(STAMP)

# The tests start a throwaway PostgreSQL cluster: install Debian's server where it is missing.
system-deps:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing PostgreSQL (Debian package) for the store tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries are missing: install the 'postgresql' package"; exit 1; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install system-deps lint docs
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The documentation site (Sphinx, with autodoc), warnings as errors: `make test` builds it too.
docs: install
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

# The unit layer only: pure logic, no PostgreSQL, no emulator process (seconds, not minutes).
test-fast: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

demo: install
	$(BIN)/python scripts/demo.py

emulator: install
	$(BIN)/airflow-copyleaks emulator --port 8765

bench: install system-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache docs/_build docs/_generated

stack: install system-deps
	$(BIN)/python scripts/stack.py

# Two commands for a newcomer: `make demo` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The newest Airflow the suite is proven on. Installed by name because a resolve without Airflow's
# constraints can pick an older Airflow beside a FastAPI / Cadwyn it does not support (seen: 3.2.2
# with Cadwyn 9, whose Execution API then fails to build its models).
NEWEST_AIRFLOW := 3.3.2

# The oldest Airflow pyproject.toml admits, in its own virtualenv: `make test` proves both ends.
FLOOR_VENV    := .venv-floor
FLOOR_AIRFLOW := $(shell sed -n 's/.*"apache-airflow>=\([0-9.]*\),.*/\1/p' pyproject.toml)
FLOOR_STAMP   := $(FLOOR_VENV)/.installed-$(FLOOR_AIRFLOW)

.PHONY: install install-floor system-deps lint test test-distributed test-floor test-fast docs demo emulator bench stack clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,emulator,postgres,docs,distributed]' \
		'apache-airflow==$(NEWEST_AIRFLOW)'
	touch $(STAMP)

install: $(STAMP)

$(FLOOR_STAMP): pyproject.toml $(STAMP)
	rm -rf $(FLOOR_VENV)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(FLOOR_VENV)
	$(BIN)/uv pip install --quiet --python $(FLOOR_VENV)/bin/python -e '.[test,emulator,postgres]' \
		'apache-airflow==$(FLOOR_AIRFLOW)'
	touch $@

install-floor: $(FLOOR_STAMP)

# The tests start a throwaway PostgreSQL cluster (and Redis): install Debian's servers where missing.
system-deps:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing PostgreSQL (Debian package) for the store tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries are missing: install the 'postgresql' package"; exit 1; fi
	@# The browser test drives Debian's Chromium (Playwright's own browser download is not used).
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium (Debian package) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "/usr/bin/chromium is missing: install the 'chromium' package"; exit 1; fi
	@# The distributed test's Celery broker: Debian's Redis server, started by the test itself.
	@if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Redis (Debian package) for the distributed test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else echo "redis-server is missing: install the 'redis-server' package"; exit 1; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install system-deps lint docs
	$(BIN)/python -m pytest -q -p no:cacheprovider
	$(MAKE) test-floor

# The CeleryExecutor deployment alone (part of `make test` too), printing its wall time and kills.
test-distributed: install system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider -s tests/distributed

# Everything but the stack tests (they start the docker-compose / Airflow stack of the newest Airflow).
# tests/ui runs here too: tests/ui/floor.py gives its fixtures the 3.1 equivalents of 3.3's teams.
# tests/events/test_shared_stream.py drives Airflow 3.3's shared streams, which 3.1 does not have
# (there the event trigger takes its own per-process feed, tested by the rest of tests/events).
test-floor: install-floor system-deps
	$(FLOOR_VENV)/bin/python -c 'import airflow; print("apache-airflow", airflow.__version__)'
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not e2e and not distributed" \
		--ignore=tests/stack --ignore=tests/e2e --ignore=tests/distributed \
		--ignore=tests/events/test_shared_stream.py

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
	rm -rf $(VENV) $(FLOOR_VENV) .mypy_cache .ruff_cache .pytest_cache docs/_build docs/_generated

stack: install system-deps
	$(BIN)/python scripts/stack.py

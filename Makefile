# Two commands: `make run` (demo warehouse end to end) and `make test` (the whole suite).
# Everything is installed from uv.lock into .venv; uv itself is pinned below.

PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
DEMO := demo

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# PYTHONDONTWRITEBYTECODE (set on these machines) stops Python caching bytecode: compiled at
# install instead, dbt and every command start a second sooner
export UV_COMPILE_BYTECODE := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install system-deps run test lint sqllint pytest bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

$(DEMO)/turnaround.toml: | install
	$(BIN)/turnaround demo --out $(DEMO)

run: install $(DEMO)/turnaround.toml
	$(BIN)/turnaround refresh --config $(DEMO)/turnaround.toml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sqllint: install
	$(BIN)/sqlfluff lint models tests/dbt analyses

# Debian packages the tests drive: Chromium (the report) and a PostgreSQL server (the
# Distiller database pull; the tests start their own in a temporary folder)
SYSTEM_PACKAGES := chromium postgresql
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl; } >/dev/null 2>&1 \
	    || missing="$$missing postgresql"; \
	command -v jq >/dev/null 2>&1 || missing="$$missing jq"; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else \
	        echo "The tests and the benchmark need:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	    fi; \
	fi

pytest: install system-deps
	$(BIN)/pytest

bench: install system-deps
	$(BIN)/python bench/run.py

test: lint sqllint pytest

clean:
	rm -rf $(DEMO) target logs .pytest_cache

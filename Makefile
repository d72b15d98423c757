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

.PHONY: install install-spark system-deps run test test-quick lint sqllint pytest bench bench-compare \
	clean readme

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

# the Spark engine's packages (pyspark, dbt-spark: ~600 MB), from the same lock; `make test`
# installs them, a DuckDB-only user need not
$(VENV)/.synced-spark: $(VENV)/.synced
	$(UV) sync --locked --extra spark --python $(PYTHON)
	touch $@

install-spark: $(VENV)/.synced-spark

$(DEMO)/turnaround.toml: | install
	$(BIN)/turnaround demo --out $(DEMO)

run: install $(DEMO)/turnaround.toml
	$(BIN)/turnaround refresh --config $(DEMO)/turnaround.toml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

sqllint: install
	$(BIN)/sqlfluff lint models tests/dbt analyses

# Debian packages the tests drive: Chromium (the report), a PostgreSQL server (the Distiller
# database pull), a Slurm 22.05 cluster with accounting (slurmctld, slurmd, slurmdbd on a
# MariaDB server, munge, and the client commands sacct, sbatch...: the real sacct pull-slurm
# runs), jq (the benchmark's reference) and a Java 17 runtime (Spark, the second engine). The
# tests start their own servers and daemons in temporary folders (tests/slurm_cluster.py,
# tests/spark_cluster.py, on 127.0.0.1); apt starts none of them here (no systemd; these
# machines' policy-rc.d forbids it). Only the missing ones are installed.
SYSTEM_PACKAGES := chromium postgresql slurmctld slurmd slurmdbd slurm-client munge \
	mariadb-server jq default-jre-headless
system-deps:
	@missing=""; \
	have() { command -v "$$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$$1" ]; }; \
	have chromium || missing="$$missing chromium"; \
	{ have pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl; } >/dev/null 2>&1 \
	    || missing="$$missing postgresql"; \
	have slurmctld || missing="$$missing slurmctld"; \
	have slurmd || missing="$$missing slurmd"; \
	have slurmdbd || missing="$$missing slurmdbd"; \
	have sacct || missing="$$missing slurm-client"; \
	have munged || missing="$$missing munge"; \
	{ have mariadbd && have mariadb-install-db; } || missing="$$missing mariadb-server"; \
	have jq || missing="$$missing jq"; \
	have java || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else \
	        echo "The tests and the benchmark need:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	    fi; \
	fi

pytest: install install-spark system-deps
	$(BIN)/pytest

bench: install install-spark system-deps
	$(BIN)/python bench/run.py

# is HEAD slower than commit BEFORE anywhere? both installed apart, timed in turn on the same data
# (EXCLUDE_NEW: dbt selectors of what BEFORE did not build, for a like-for-like build)
BEFORE ?= HEAD~1
EXCLUDE_NEW ?=
bench-compare: install
	$(BIN)/python bench/compare.py --before $(BEFORE) --exclude-new "$(EXCLUDE_NEW)"

test: lint sqllint pytest

# the tests without a mark (tests/conftest.py derives them): no dbt builds, Chromium, PostgreSQL,
# Slurm or Spark cluster or published data, in about a minute
test-quick: install
	$(BIN)/pytest -q -m "not slow and not chromium and not postgres and not slurm and not published \
	    and not spark"

clean:
	rm -rf $(DEMO) target logs .pytest_cache

# the README's command table, from `turnaround --help` (tests/test_commands.py fails if it drifts)
readme: install
	$(BIN)/python -m turnaround.readme

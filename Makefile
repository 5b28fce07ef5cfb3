# Every command a developer runs daily. Each target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

LOCK   := requirements.lock

.PHONY: demo report test test-unit lint up bench schemas-check clean kafka lock

# Every install is the same set of packages: exactly the versions and hashes of the lock,
# then the project itself (its build backend, hatchling, is fetched by pip for the build).
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LEAD Hub needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# New pins: the newest version of every package that pyproject.toml allows, for CPython
# 3.11 on Linux x86-64 (the project's machines). Run make test before committing the lock.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --upgrade \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --no-header --annotation-style line -o $(LOCK)

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT  := $(SUDO) apt-get install -y -qq

# The embedded broker is Apache Kafka: Java 17+ runs it, Maven resolves its jars from
# Maven Central once (deploy/kafka/pom.xml, into ~/.cache/leadhub/kafka).
kafka: $(STAMP)
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "the embedded broker needs Java 17+ and Maven (mvn): install them"; exit 1; }; \
	  $(APT) openjdk-17-jre-headless maven >/dev/null || \
	  { $(SUDO) apt-get update -qq && $(APT) openjdk-17-jre-headless maven >/dev/null; }; }
	@$(BIN)/python -m hub.log.kafka_dist

demo: kafka
	$(BIN)/leadhub demo

up: kafka
	$(BIN)/leadhub up

report: $(STAMP)
	$(BIN)/leadhub report -c deploy/demo.yaml --format html --output .leadhub/demo/report.html

bench: kafka
	$(BIN)/python -m bench $(if $(PROFILE),--profile)

# The browser tests drive Debian's Chromium (playwright downloads no browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	$(APT) chromium >/dev/null || { $(SUDO) apt-get update -qq && $(APT) chromium >/dev/null; }

# On both cores: the fault tests (mostly waiting for killed brokers and workers) and the
# runbook beside the rest (tests/conftest.py says who runs where).
test: kafka $(CHROMIUM)
	$(BIN)/pytest -n 2

# The pure layers alone (tests/unit: no broker, no browser), on both cores: the quick
# check while editing. Its stress tests (full-size payloads, 100k generated events) run
# in make test.
test-unit: $(STAMP)
	$(BIN)/pytest tests/unit -n 2 -m "not stress"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/leadhub schemas check

clean:
	rm -rf $(VENV) .leadhub .pytest_cache .ruff_cache .mypy_cache .hypothesis

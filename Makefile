# Every command a developer runs daily. Each target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo report test lint up bench schemas-check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LEAD Hub needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadhub demo

up: $(STAMP)
	$(BIN)/leadhub up

report: $(STAMP)
	$(BIN)/leadhub report -c deploy/demo.yaml --format html --output .leadhub/demo/report.html

bench: $(STAMP)
	$(BIN)/python -m bench

# The browser tests drive Debian's Chromium (playwright downloads no browser here).
CHROMIUM := /usr/bin/chromium
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y -qq chromium >/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/leadhub schemas check

clean:
	rm -rf $(VENV) .leadhub .pytest_cache .ruff_cache .mypy_cache .hypothesis

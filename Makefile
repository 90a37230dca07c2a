# Everything runs from .venv, which the targets create themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck unit conformance bench registry-bin orb clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Debian's docker-registry (CNCF distribution 2.8): the real OCI registry the tests start on 127.0.0.1.
registry-bin:
	@command -v docker-registry >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends docker-registry >/dev/null; }
	@command -v git >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq git >/dev/null; }

demo: $(STAMP)
	@$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check updater tests testing benchmarks examples
	$(BIN)/ruff format --check updater tests testing benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) registry-bin
	$(BIN)/pytest

test: lint typecheck unit

conformance: $(STAMP)
	$(BIN)/python tests/conformance.py ../shared/corpus

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Pack the CircleCI orb source (orb/src) into orb/orb.yml; tests fail when the packed file is stale.
orb: $(STAMP)
	$(BIN)/python scripts/pack_orb.py orb/src orb/orb.yml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-out

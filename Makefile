# Everything runs from .venv, which the targets create themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck unit conformance bench registry-bin orb readme clean

# Debian's python3 ships without venv/ensurepip: install python3-venv when they are missing.
$(STAMP): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "installing Debian package python3-venv"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Debian packages the tests use as real parts: docker-registry (CNCF distribution 2.8, the OCI registry the
# tests start on 127.0.0.1), htpasswd (apache2-utils: bcrypt users for its Basic auth) and git.
registry-bin:
	@missing=""; \
	command -v docker-registry >/dev/null 2>&1 || missing="$$missing docker-registry"; \
	command -v htpasswd >/dev/null 2>&1 || missing="$$missing apache2-utils"; \
	command -v git >/dev/null 2>&1 || missing="$$missing git"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: $(STAMP)
	@$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check updater tests testing benchmarks examples scripts
	$(BIN)/ruff format --check updater tests testing benchmarks examples scripts

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

# Refresh the README's snippets from the files they show (tests fail when they drift).
readme: $(STAMP)
	$(BIN)/python scripts/readme_snippets.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-out

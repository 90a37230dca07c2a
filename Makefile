# Everything runs from .venv, which the targets create themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-long lint typecheck unit unit-long conformance bench bytecode registry-bin orb readme clean

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

# Byte-compile our modules: an editable install has no .pyc, and where PYTHONDONTWRITEBYTECODE is set
# (CI images often set it) every `updater` process compiled all of them again, ~0.1 s each run. A wheel
# install is compiled by pip. Cheap when nothing changed (compileall skips fresh files).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q updater testing

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

demo: $(STAMP) bytecode
	@$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check updater tests testing benchmarks examples scripts
	$(BIN)/ruff format --check updater tests testing benchmarks examples scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# make test: the whole suite in parallel (pytest-xdist, one worker per core; tests/conftest.py gives each
# worker its own TMPDIR and DOCKER_CONFIG, registries and servers take free ports), with the editor's
# property test at $(PROPERTY_EXAMPLES) random documents. make test-long: the `slow` tests (soak runs)
# and the property tests at $(PROPERTY_EXAMPLES_LONG); .ci/run runs both.
PROPERTY_EXAMPLES ?= 2500
PROPERTY_EXAMPLES_LONG ?= 10000
WORKERS ?= auto
unit: $(STAMP) registry-bin bytecode
	PROPERTY_EXAMPLES=$(PROPERTY_EXAMPLES) $(BIN)/pytest -n $(WORKERS) -m "not slow"

unit-long: $(STAMP) registry-bin bytecode
	PROPERTY_EXAMPLES=$(PROPERTY_EXAMPLES_LONG) $(BIN)/pytest -n $(WORKERS) -m "slow or property"

test: lint typecheck unit

test-long: unit-long

# The editor over the shared corpus of real-world values files (not part of the repository):
# CORPUS=DIR points at another copy.
CORPUS ?= ../shared/corpus
conformance: $(STAMP) bytecode
	@if [ ! -d "$(CORPUS)" ]; then \
	  echo "make conformance: no corpus at $(CORPUS); it needs the shared corpus of values files: pass CORPUS=DIR" >&2; \
	  exit 2; \
	fi
	$(BIN)/python tests/conformance.py "$(CORPUS)"

bench: $(STAMP) bytecode
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Pack the CircleCI orb source (orb/src) into orb/orb.yml; tests fail when the packed file is stale.
orb: $(STAMP)
	$(BIN)/python scripts/pack_orb.py orb/src orb/orb.yml

# Write the release coordinates (scripts/release_refs.py: owner, package name, version) into every file
# that names them, repack the orb, then refresh the README's snippets from the files they show (tests
# fail when any of them drifts).
readme: $(STAMP)
	$(BIN)/python scripts/release_refs.py
	$(BIN)/python scripts/pack_orb.py orb/src orb/orb.yml
	$(BIN)/python scripts/readme_snippets.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-out

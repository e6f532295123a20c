# polywindow: every target installs what it needs from requirements.lock first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
PW := $(VENV)/bin/polywindow
STAMP := $(VENV)/.installed

.PHONY: install lock run test lint bench stack-up stack-down clean

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv

$(STAMP): requirements.lock pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(VENV)/bin/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve requirements.lock after a change to pyproject.toml: the pins already in the lock are kept
# (uv prefers them), so only what was added or changed moves; names, versions and hashes only.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --no-header --no-annotate \
		--python-version 3.11 --quiet -o requirements.lock

run: install
	$(PW) up

# The tests start a stack of their own (tests/conftest.py) and stop it; `.stack` is never touched.
test: install
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

bench: install
	$(PW) stack up
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

stack-down: install
	$(PW) stack down

clean:
	-$(PW) stack down
	rm -rf $(VENV) $(TOOLS)

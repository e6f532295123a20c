# polywindow: every target installs what it needs from requirements.lock first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
PW := $(VENV)/bin/polywindow
STAMP := $(VENV)/.installed

.PHONY: install lock run test lint bench stack-up stack-down clean browser kafka kafka-lock

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

# Debian's chromium for the dashboard's browser test (playwright drives it; it never downloads a browser
# of its own): installed with apt-get when missing, as root or through sudo.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; \
		elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "make browser: $(CHROMIUM) is missing and installing it needs root: apt-get install chromium" >&2; exit 1; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium \
			|| { echo "make browser: apt-get could not install chromium" >&2; exit 1; }; \
	fi

# The Apache Kafka broker (POLYWINDOW_KAFKA=apache; tests/kafka_real): infra/kafka/pom.xml's jars copied
# by Maven into infra/kafka/lib (git-ignored), each checked against infra/kafka/jars.sha256.
KAFKA_STAMP := infra/kafka/lib/.verified
$(KAFKA_STAMP): infra/kafka/pom.xml infra/kafka/jars.sha256 | $(STAMP)
	rm -rf infra/kafka/lib
	mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime
	$(VENV)/bin/python -m infra.kafka_jars check
	touch $(KAFKA_STAMP)

kafka: install $(KAFKA_STAMP)

# bench/scale.py runs the broker too
bench: kafka

# After a change to infra/kafka/pom.xml: fetch, then pin what was fetched.
kafka-lock: install
	rm -rf infra/kafka/lib
	mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime
	$(VENV)/bin/python -m infra.kafka_jars lock

# The tests start a stack of their own (tests/conftest.py) and stop it; `.stack` is never touched.
test: install browser kafka
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

# The benches run on a stack of their own (.bench-stack), stopped at the end: they produce test
# market data to the declared topics, which a flow on the operator's stack would otherwise read.
bench: install
	@export POLYWINDOW_STACK_DIR=$${POLYWINDOW_STACK_DIR:-.bench-stack}; $(PW) stack up || exit 1; \
	rc=0; for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || { rc=1; break; }; done; \
	$(PW) stack down; exit $$rc

stack-down: install
	$(PW) stack down

clean:
	-$(PW) stack down
	rm -rf $(VENV) $(TOOLS)

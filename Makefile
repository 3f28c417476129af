# Lianxin (连心). The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COMPOSE ?= docker compose -f deploy/compose.yaml

.PHONY: run test unit integration lint reliability bench image-test mutants guarantees-off up down clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock deploy/requirements-lint.txt
	$(BIN)/pip install --quiet -r requirements-dev.lock -r deploy/requirements-lint.txt
	touch $@

## run: the whole platform on this machine (SQLite under var/; RabbitMQ at AMQP_URI, installed/started when local and missing)
run: $(VENV)/.runtime
	$(BIN)/lianxin run

# The browser tests drive Debian's Chromium; installed here when missing (needs root and apt-get).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "the browser tests need $(CHROMIUM): sudo apt-get install chromium chromium-driver" >&2; exit 1; fi

# ... and a Chinese font: without one every page renders 汉字 as empty boxes (the browser tests see it).
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
$(CJK_FONT):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; \
	else echo "the browser tests need a Chinese font: sudo apt-get install fonts-wqy-zenhei" >&2; exit 1; fi

## test: every test tier that runs here (unit, integration, e2e, browser, against the local RabbitMQ/DB)
test: $(VENV)/.dev $(CHROMIUM) $(CJK_FONT)
	$(BIN)/python -m tests.support.prepare
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(VENV)/.dev
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

integration: $(VENV)/.dev
	$(BIN)/python -m tests.support.prepare
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

## reliability: fault injection against the ledger (ARGS=--quick for the bounded form)
reliability: $(VENV)/.dev
	$(BIN)/python -m tests.support.prepare
	$(BIN)/python -m bench.reliability $(ARGS)

## bench: performance, with the broker's own limit beside it (ARGS=--quick, --postgres, --only loop,api)
bench: $(VENV)/.dev
	$(BIN)/python -m tests.support.prepare
	$(BIN)/python -m bench.bench $(ARGS)

# podman-compose from PyPI (Debian's is too old for the override's !reset/!override); its two
# dependencies are already pinned in the venv, hence --no-deps.
$(VENV)/.image-test: $(VENV)/.dev deploy/requirements-image-test.txt
	$(BIN)/pip install --quiet --no-deps -r deploy/requirements-image-test.txt
	touch $@

## image-test: build the image with Podman (local Debian base) and run compose.yaml through the closed loop
image-test: $(VENV)/.image-test
	$(BIN)/python -m tools.image_test $(ARGS)

# mutmut for `make mutants`, pinned (requirements-mutants.txt); its other dependencies come from the locks.
$(VENV)/.mutants: $(VENV)/.dev requirements-mutants.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-mutants.txt
	touch $@

## mutants: mutation proofs of the reliability core (ARGS=--only outbox,inbox); report in docs/mutants.md. Not CI.
mutants: $(VENV)/.mutants
	$(BIN)/python -m tools.mutants $(ARGS)
	$(BIN)/python -m tools.guarantees_off

## guarantees-off: switch off inbox, outbox-in-transaction, late ack, tenant filter; their tests must fail
guarantees-off: $(VENV)/.dev
	$(BIN)/python -m tools.guarantees_off

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m tools.import_cycles
	bash deploy/lint.sh

up:
	@test -f deploy/.env || { echo "cp deploy/.env.example deploy/.env and set the passwords" >&2; exit 1; }
	$(COMPOSE) up -d --build

down:
	$(COMPOSE) down

clean:
	rm -rf var .pytest_cache

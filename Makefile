# Lianxin (连心). The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COMPOSE ?= docker compose -f deploy/compose.yaml

.PHONY: run test unit integration lint reliability up down clean

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

## run: the whole platform on this machine (SQLite under var/, RabbitMQ at AMQP_URI)
run: $(VENV)/.runtime
	$(BIN)/lianxin run

## test: every test tier that runs here (unit, integration against the local RabbitMQ/DB)
test: $(VENV)/.dev
	$(BIN)/python -m services.common.prepare
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(VENV)/.dev
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

integration: $(VENV)/.dev
	$(BIN)/python -m services.common.prepare
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

## reliability: fault injection against the ledger (ARGS=--quick for the bounded form)
reliability: $(VENV)/.dev
	$(BIN)/python -m services.common.prepare
	$(BIN)/python -m bench.reliability $(ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	bash deploy/lint.sh

up:
	@test -f deploy/.env || { echo "cp deploy/.env.example deploy/.env and set the passwords" >&2; exit 1; }
	$(COMPOSE) up -d --build

down:
	$(COMPOSE) down

clean:
	rm -rf var .pytest_cache

# make run: every service on the local RabbitMQ, SQLite files under var/.
# make test: the whole suite against the local RabbitMQ and PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install fonts run test lint bench faults local-services system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Noto CJK made TrueType for reportlab, once per machine (about two minutes the first time)
fonts: install system-packages
	$(BIN)/conference fonts

local-services:
	@bash scripts/local-services.sh

system-packages:
	@bash scripts/system-packages.sh

run: install local-services fonts
	$(BIN)/conference dev

test: install local-services system-packages fonts
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install local-services fonts
	@for benchmark in bench/*.py; do $(BIN)/python $$benchmark || exit 1; done

# The fault suite: its own RabbitMQ node and PostgreSQL cluster (it restarts them), about
# 3 minutes; docs/RELIABILITY.md
faults: install fonts
	$(BIN)/python -m bench.faults

clean:
	rm -rf $(VENV) var

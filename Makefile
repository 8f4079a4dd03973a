# The README's commands. Only Python 3.11+ is needed: everything else goes into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run manage reset-demo test lint format bench install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (PYTHON=python3.11 make ...)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

# Development settings, written once and kept (git-ignored): the same SECRET_KEY at every start,
# so sessions and tokens survive restarts and autoreloads.
.env: | $(BIN)/python
	@$(BIN)/python -c 'import secrets; print("# Development settings written by make run. Never commit this file.\n# Every variable: .env.example.\nDEBUG=true\nSECRET_KEY=" + secrets.token_urlsafe(50))' > $@.tmp
	@mv $@.tmp $@
	@echo "Wrote .env (DEBUG=true and a development SECRET_KEY, kept across restarts)."

run: export DEBUG ?= true
run: install .env
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo "Start page: http://$(HOST):$(PORT)/  Admin: http://$(HOST):$(PORT)/admin/  API docs: http://$(HOST):$(PORT)/api/v1/docs/"
	$(MANAGE) runserver $(HOST):$(PORT)

# Any management command with the project's settings: make manage ARGS="import_products f.csv"
manage: install .env
	$(MANAGE) $(ARGS)

# A fresh demo: the SQLite database deleted, migrated and seeded again (stop the server first).
reset-demo: install .env
	@if [ -n "$$DATABASE_URL" ]; then echo "DATABASE_URL is set: drop and create that database, then make run." >&2; exit 1; fi
	rm -f db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm var/test-gateway.sqlite3*
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# Two commands: `make run` serves the back office with demo data, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Playwright drives Debian's Chromium; it must never try to download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run serve test lint system-deps install install-dev messages bench bench-db bench-letters bench-queue bench-ingest bench-outreach bench-reports bench-load

system-deps:
	@scripts/system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $(VENV)/.installed $@

install: system-deps $(VENV)/.installed

install-dev: $(VENV)/.installed-dev
	@scripts/system-deps.sh test

run: install
	@mkdir -p var && chmod 700 var
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input -v 0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py run_dunning
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py render_letters
	@echo ""
	@echo "Collections back office: http://127.0.0.1:$(PORT)/admin/"
	@echo "Demo logins (demo only), password collect-demo: agent1, agent2 (agents), legal1, legal2 (legal reviewers), supervisor1, supervisor2 (supervisors), manager1 (collections manager), agency1 (agency agent), admin (superuser)"
	@echo ""
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production serving (DEBUG off, gunicorn, whitenoise): see the README's deployment section.
serve: install
	PORT=$(PORT) scripts/serve.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# Tests and benchmarks run with DEBUG off, as production does, under this key (theirs only, never a deployment's).
LOCAL_KEY := local-runs-only-tests-benchmarks-catalogue-never-deployed-0123456789
test: lint
	SECRET_KEY=$${SECRET_KEY:-$(LOCAL_KEY)} $(BIN)/python manage.py makemigrations --check --dry-run -v 0
	SECRET_KEY=$${SECRET_KEY:-$(LOCAL_KEY)} $(BIN)/pytest

# Regenerate the Simplified Chinese catalogue after changing user-facing text.
messages: install-dev
	SECRET_KEY=$${SECRET_KEY:-$(LOCAL_KEY)} $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=test-artifacts --ignore=var
	SECRET_KEY=$${SECRET_KEY:-$(LOCAL_KEY)} $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# Benchmarks run against a scratch PostgreSQL database (created when missing), never the demo one.
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/backoffice_bench
LINES ?= 1000000
bench-db:
	@psql "$(dir $(BENCH_DATABASE_URL))postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 \
		|| psql "$(dir $(BENCH_DATABASE_URL))postgres" -c "CREATE DATABASE \"$(notdir $(BENCH_DATABASE_URL))\""

bench: install bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_dunning --lines $(LINES)

CASES ?= 1000000
bench-queue: install bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_queue --cases $(CASES)

PAYMENTS ?= 20000
bench-ingest: install bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_ingest --payments $(PAYMENTS)

bench-outreach: install bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_outreach --lines $(LINES)

MONTHS ?= 12
bench-reports: install bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_reports --lines $(LINES) --months $(MONTHS)

# The load test: agents and the lending system against make serve's gunicorn on 127.0.0.1 (locust, a dev dependency).
LOAD_CASES ?= 100000
AGENTS ?= 50
LOAD_SECONDS ?= 120
bench-load: install-dev bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_load --cases $(LOAD_CASES) --agents $(AGENTS) --seconds $(LOAD_SECONDS)

LETTERS ?= 200
bench-letters: install
	SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py migrate --no-input -v 0
	SECRET_KEY=$(LOCAL_KEY) $(BIN)/python manage.py bench_letters --count $(LETTERS)

# EVzone: `make run` serves the platform with a demo operator; `make test` runs the tests.
# Both set up everything on a fresh clone (virtualenv, embedded PostgreSQL and Redis under var/).
# With DATABASE_URL / REDIS_URL set, those servers are used instead.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | cksum | cut -d' ' -f1)
# pip's output goes to $(VENV)/pip.log and is shown only when it fails.
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install run test stop services release lint imports fmt clean

$(STAMP): requirements/base.txt requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) (first run takes a minute)…"
	@$(PIP) install -r requirements/dev.txt > $(VENV)/pip.log 2>&1 || (grep -v "is ignored" $(VENV)/pip.log; exit 1)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services: install
	@$(PY) -m config.embedded start

release: services
	$(PY) manage.py migrate_schemas --executor=standard -v 0
	$(PY) manage.py bootstrap_platform

run: release
	$(PY) manage.py seed_demo
	@echo "Starting web (http://localhost:$(PORT)/admin/, http://demo.localhost:$(PORT)/), worker, beat and 3 simulated chargers. Ctrl-C stops."
	WEB_PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start -p $(PORT)

test: install
	$(VENV)/bin/pytest

stop:
	@$(PY) -m config.embedded stop

lint: install imports
	$(VENV)/bin/ruff check .

# The dependency rules between apps (.importlinter; docs/events.md says why they exist).
imports: install
	@PYTHONPATH=. $(VENV)/bin/lint-imports .importlinter --no-cache

fmt: install
	$(VENV)/bin/ruff format .

clean: stop
	rm -rf var/pgdata var/redis var/staticfiles

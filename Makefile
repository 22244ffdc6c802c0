# venousapp: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Zero-setup demo: SQLite and a filesystem Celery broker under var/ unless DATABASE_URL /
# REDIS_URL are set. Web on $(PORT), a Celery worker and beat; Ctrl-C stops all three.
run: export DEBUG ?= true
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --once
	$(PY) manage.py seed_patency_demo
	@echo "venousapp: http://127.0.0.1:$(PORT)/accounts/login/  (health: /healthz)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A venousapp worker -l WARNING --concurrency=1 --without-gossip --without-mingle & \
	  $(VENV)/bin/celery -A venousapp beat -l WARNING --pidfile= & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT) & \
	  wait

# The whole suite runs against PostgreSQL and Redis (started by .ci/run in CI).
test: export DATABASE_URL ?= postgres://venousapp:venousapp@127.0.0.1:5432/venousapp?conn_max_age=60
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: export DJANGO_SETTINGS_MODULE ?= venousapp.settings_test
test: $(STAMP)
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy venousapp cases guidelines planning followup

bench: $(STAMP)
	$(PY) bench/engine.py

clean:
	rm -rf var staticfiles

# venousapp: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
VAR := $(CURDIR)/var
STEP = @printf '\n\033[1mvenousapp: %s\033[0m\n'

.PHONY: run dev test install lint typecheck bench bench-pages clean

$(STAMP): pyproject.toml
	$(STEP) "[1/5] Python environment (the first run installs the dependencies: a minute or two)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip --progress-bar on -q
	$(PY) -m pip install -e '.[dev]' --progress-bar on -q
	@touch $(STAMP)

install: $(STAMP)

# Zero-setup demo as it would run in a clinic: DEBUG off, gunicorn and WhiteNoise, a Celery
# worker and beat. SQLite and a filesystem Celery broker under var/ unless DATABASE_URL /
# REDIS_URL are set. Plain HTTP on 127.0.0.1 only. Ctrl-C stops all three.
run: export DEBUG ?= false
run: export SECRET_KEY_FILE ?= $(VAR)/secret_key
run: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
run: export SECURE_SSL_REDIRECT ?= false
run: export SESSION_COOKIE_SECURE ?= false
run: export CSRF_COOKIE_SECURE ?= false
run: export SECURE_HSTS_SECONDS ?= 0
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: export PORT := $(PORT)
run: $(STAMP)
	@mkdir -p $(VAR)
	@test -s $(VAR)/secret_key || $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $(VAR)/secret_key
	$(STEP) "[2/5] Database (migrations)"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(STEP) "[3/5] Demo data (users, cases, plans, follow-up visits, a patency cohort)"
	$(PY) manage.py seed_demo --once --no-logins
	$(PY) manage.py seed_patency_demo
	$(STEP) "[4/5] Starting the web server, the Celery worker and beat on port $(PORT)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A venousapp worker -l WARNING --concurrency=1 --without-gossip --without-mingle & \
	  $(VENV)/bin/celery -A venousapp beat -l WARNING --pidfile= & \
	  $(VENV)/bin/gunicorn venousapp.wsgi -b 127.0.0.1:$(PORT) --workers 2 --threads 4 --no-control-socket --log-level warning & \
	  for _ in $$(seq 60); do \
	    $(PY) -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$(PORT)/healthz?worker=skip', timeout=2)" 2>/dev/null && break; \
	    sleep 1; \
	  done; \
	  printf '\n\033[1mvenousapp: [5/5] Ready\033[0m\n'; \
	  $(PY) manage.py seed_demo --logins-only; \
	  echo "Health: http://127.0.0.1:$(PORT)/healthz · stop with Ctrl-C"; \
	  wait

# Development: Django's server with the debugger and autoreload (DEBUG on).
dev: export DEBUG ?= true
dev: export SITE_URL ?= http://127.0.0.1:$(PORT)
dev: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --once
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A venousapp worker -l INFO --concurrency=1 --without-gossip --without-mingle & \
	  $(VENV)/bin/celery -A venousapp beat -l INFO --pidfile= & \
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
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy venousapp cases guidelines planning followup interop demo

bench: $(STAMP)
	$(PY) bench/engine.py

# Pages and API routes under gunicorn, each next to a floor (wrk; apt-get install wrk). Seeds
# PostgreSQL venousapp_bench_pages on first use (a few minutes), then reuses it.
# Options: make bench-pages BENCH_ARGS="--rounds 5 --duration 10s --only case-detail --reseed"
bench-pages: $(STAMP)
	$(PY) bench/pages.py $(BENCH_ARGS)

# The CDS Hooks service with prefetch next to POST /api/v1/evaluate with the same facts, under
# gunicorn (wrk). Uses PostgreSQL venousapp_bench_interop (made on first use).
.PHONY: bench-cds
bench-cds: $(STAMP)
	$(PY) bench/cds_hooks.py $(BENCH_ARGS)

clean:
	rm -rf var staticfiles

# Billing portal: the two commands are `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
APPS_WITH_OWN_CATALOGUE := payments invoices purchase_orders support

.PHONY: run test venv lock migrate seed lint bench load messages compilemessages worker beat clean

# Every install is from a lock (requirements*.txt: every package pinned, with hashes),
# made from requirements*.in by `make lock`; docs/operations.md, "Dependencies".
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## make lock: the locks again from requirements*.in, keeping every pin that still fits;
## make lock UPGRADE=1: every package to its newest release within the bounds of the .in files;
## make lock UPGRADE_PACKAGE="NAME ...": only those
LOCK = $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) $(foreach p,$(UPGRADE_PACKAGE),--upgrade-package $(p))
lock: venv
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt
	$(LOCK) requirements-load.in -o requirements-load.txt

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: install, migrate, seed the demo and serve on http://127.0.0.1:8000 (embedded default)
run: seed
	$(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole suite (SQLite unless DATABASE_URL is set; Redis tests when REDIS_URL is set)
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

## make bench: performance benchmarks (not part of `make test`); see docs/benchmarks.md
bench: venv
	$(PY) -m benchmarks $(BENCH_ARGS)

# locust and its dependencies: only for `make load` (CI and `make test` never install them).
$(VENV)/.installed-load: $(VENV)/.installed requirements-load.txt
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-load.txt
	touch $@

## make load: load test with locust against gunicorn in production mode (needs DATABASE_URL
## with PostgreSQL and REDIS_URL; not part of `make test`); see docs/benchmarks.md
load: $(VENV)/.installed-load
	$(PY) -m benchmarks.load $(LOAD_ARGS)

## make messages: refresh the Dutch catalogues (needs GNU gettext) and compile them
messages: venv
	DJANGO_SETTINGS_MODULE=billing_portal.settings $(PY) manage.py makemessages -l nl --no-obsolete --no-location \
		$(foreach app,$(APPS_WITH_OWN_CATALOGUE),--ignore=$(app)/*) --ignore=.venv/* --ignore=tests/* --ignore=benchmarks/*
	for app in $(APPS_WITH_OWN_CATALOGUE); do \
		(cd $$app && mkdir -p locale && env -u DJANGO_SETTINGS_MODULE ../$(VENV)/bin/django-admin makemessages -l nl --no-obsolete --no-location) || exit 1; \
	done
	$(MAKE) compilemessages

compilemessages: venv
	$(PY) manage.py compilemessages --ignore=.venv

worker: venv
	$(VENV)/bin/celery -A billing_portal worker -l info -Q default,billing,pdf,email

beat: venv
	$(VENV)/bin/celery -A billing_portal beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache

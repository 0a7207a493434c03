# Kitstreet — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run serve test install migrate seed clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Kitstreet needs Python >= 3.12 (see .python-version)"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet '.[test]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Kitstreet is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "  Demo logins (password: kitstreet): buyer, supplier, operator"
	@echo "  Admin: http://127.0.0.1:$(PORT)/admin/   API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	$(VENV)/bin/honcho start -f Procfile -p $(PORT)

# The production profile in the foreground: gunicorn, Celery worker(s), one beat and the outbox
# relay, with config.settings.production against DATABASE_URL, CELERY_BROKER_URL and REDIS_URL
# (it refuses to start without them). docs/deploy.md says how to run it on many machines.
WEB_CONCURRENCY ?= $(shell $(PYTHON) -c 'import os; print(2 * os.cpu_count() + 1)')
CELERY_CONCURRENCY ?= $(shell $(PYTHON) -c 'import os; print(os.cpu_count())')
KITSTREET_DATA_DIR ?= $(CURDIR)/var
export WEB_CONCURRENCY CELERY_CONCURRENCY KITSTREET_DATA_DIR

serve: install
	@for v in DATABASE_URL CELERY_BROKER_URL REDIS_URL SECRET_KEY ALLOWED_HOSTS; do \
	  printenv $$v >/dev/null || { echo "make serve: set $$v (see docs/deploy.md)"; exit 1; }; done
	mkdir -p $(KITSTREET_DATA_DIR)
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "  Kitstreet (production profile) on port $(PORT): $(WEB_CONCURRENCY) web, $(CELERY_CONCURRENCY) worker processes"
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/honcho start -f Procfile.production -p $(PORT)

# In parallel on every core (pytest-xdist; TEST_WORKERS=0 runs in this one process): each worker
# has its own test database, Celery queue and folders; tests/conftest.py keeps each file on one
# worker and the `make serve` tests one after the other; files start in collection order, slow kinds first
# (--no-loadscope-reorder: not the biggest files first).
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles

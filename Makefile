# The one way in: `make run` serves the API with demo data, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.DEFAULT_GOAL := help
.PHONY: help install run serve test test-fast lint bench soak migration clean browser wrk haproxy ha ha-down ha-packages

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "vmo needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install vmo with its test tools

run: install ## prepare the embedded database with demo data and serve on http://127.0.0.1:5000 (docs at /docs)
	$(VENV)/bin/vmo init-db
	$(VENV)/bin/vmo demo
	@echo "API: http://$(HOST):$(PORT)/api/v1  docs: http://$(HOST):$(PORT)/docs  tablet app: http://$(HOST):$(PORT)/tablet/ (officer / demo-pass-2026)"
	@echo "candidates: http://$(HOST):$(PORT)/kaoshi/ (wangfang / demo-pass-2026)  companies: http://$(HOST):$(PORT)/qiye/ (fengchang / demo-pass-2026)"
	$(VENV)/bin/vmo run --host $(HOST) --port $(PORT)

serve: install ## serve with gunicorn (set VMO_SECRET_KEY and VMO_SMS_HMAC_SECRET; DATABASE_URL for PostgreSQL)
	$(VENV)/bin/vmo init-db
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --workers 4 --bind $(HOST):$(PORT) vmo.wsgi:app

test: install browser haproxy ha-packages ## the import contracts, then the whole suite (SQLite; PostgreSQL too when VMO_TEST_DATABASE_URL is set)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

browser: ## install Debian's Chromium for the tablet's browser tests if missing (as root with apt-get; never fails)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the tablet's browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null 2>&1; } \
	    || echo "could not install chromium: the browser tests will be skipped (set VMO_REQUIRE_BROWSER=1 to fail)"; \
	fi

# A Debian package a target needs, installed as root with apt-get when its program is missing (apt-get update
# first if the install fails); never fails itself, says so instead. $(1) program path, $(2) package, $(3) why.
define debian_package
	@if [ ! -x $(1) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's $(2) for $(3)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) >/dev/null 2>&1; } \
	    || true; \
	fi
	@[ -x $(1) ] || echo "could not install $(2) (run as root with apt-get, or install it yourself): $(3) will not run"
endef

wrk: ## install Debian's wrk, the load generator of `make bench`, if missing (as root with apt-get; never fails)
	$(call debian_package,/usr/bin/wrk,wrk,the HTTP benchmarks)

haproxy: ## install Debian's HAProxy for the two-node test if missing (as root with apt-get; never fails)
	$(call debian_package,/usr/sbin/haproxy,haproxy,the two-node test (it fails when CI=true))

# `make ha`: the database as a replicated PostgreSQL (Patroni, etcd, HAProxy) on this machine (docs/scale.md).
HA_DIR ?= /tmp/vmo-ha
HA_PORT ?= 5440

ha-packages: ## install Debian's Patroni, etcd and HAProxy for `make ha` and the failover test if missing (as root)
	$(call debian_package,/usr/bin/patroni,patroni,the database cluster (make ha))
	$(call debian_package,/usr/bin/etcd,etcd-server,the database cluster's store (make ha))
	$(call debian_package,/usr/bin/etcdctl,etcd-client,the database cluster's store (make ha))
	$(call debian_package,/usr/sbin/haproxy,haproxy,the database cluster's address (make ha))

ha: ha-packages ## a replicated PostgreSQL run by Patroni behind HAProxy in $(HA_DIR); prints DATABASE_URL (as root)
	python3 ha/cluster.py up --dir $(HA_DIR) --base-port $(HA_PORT)

ha-down: ## stop the `make ha` cluster and remove $(HA_DIR)
	python3 ha/cluster.py down --dir $(HA_DIR)

test-fast: install ## the suite without the slow server-starting tests
	$(PY) -m pytest -m "not slow"

lint: install ## the import contracts (setup.cfg [importlinter]), what they cannot check (tests/test_layering.py), byte-compile
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q tests/test_layering.py
	$(PY) -m compileall -q vmo schedules mobile_api

bench: install wrk ## benchmarks (wrk against gunicorn, fresh PostgreSQL); figures, ratios and targets printed
	$(PY) bench/run.py

SOAK_SECONDS ?= 600
soak: install ## the mixed-workload soak alone, longer (SOAK_SECONDS, default 600) on a fresh PostgreSQL database
	$(PY) bench/run.py soak -- --seconds $(SOAK_SECONDS)

migration: install ## autogenerate a migration after changing models: make migration m="what changed"
	$(VENV)/bin/vmo db migrate -m "$(m)"

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) instance .pytest_cache .import_linter_cache

# Two commands on a fresh machine:
#   make lab   - set everything up and open the course in JupyterLab
#   make test  - set everything up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_PORT ?= 8888
# JupyterLab refuses to run as root unless told; containers and CI often are root.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: setup hub-setup lab test unit notebooks clean-venv wheelhouse offline-setup bench site site-setup site-wheelhouse

setup: $(STAMP) $(LAB_OVERRIDES)

# JupyterLab's defaults for this venv, as on Binder and hubs: a notebook's kernel shuts down when its tab closes.
$(LAB_OVERRIDES): binder/overrides.json | $(STAMP)
	@mkdir -p $(dir $@) && cp binder/overrides.json $@

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade-strategy only-if-needed -r requirements.txt
	@touch $(STAMP)

# JupyterLab serves the whole course folder (README, notebooks, solutions, docs) and opens 00 first; the printed
# link (the one to use when no browser opens) opens 00 too. LAB_FLAGS: extra options, e.g. --no-browser.
LAB_START := /lab/tree/notebooks/00_start_here.ipynb
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=$(LAB_START) \
		--ServerApp.ip=127.0.0.1 --port=$(LAB_PORT) $(ALLOW_ROOT) $(LAB_FLAGS)

test: setup site-setup hub-setup
	MPLBACKEND=Agg $(BIN)/python -m pytest

# tests/test_hub.py's real JupyterHub: jupyterhub and nbgitpuller (requirements-hub.txt, test-only) in the venv, and
# its proxy, configurable-http-proxy, from npm into tests/hub/node_modules (local, never global). Without npm the
# hub test skips (fails in CI).
HUB_STAMP := $(VENV)/.hub-installed
HUB_PROXY := tests/hub/node_modules/.bin/configurable-http-proxy
hub-setup: $(HUB_STAMP) $(HUB_PROXY)

$(HUB_STAMP): $(STAMP) requirements-hub.txt
	$(BIN)/python -m pip install --upgrade-strategy only-if-needed -r requirements-hub.txt
	@touch $(HUB_STAMP)

$(HUB_PROXY): tests/hub/package.json tests/hub/package-lock.json
	@if command -v npm >/dev/null; then cd tests/hub && npm ci --no-audit --no-fund && touch node_modules/.bin/configurable-http-proxy; \
	else echo "npm not found: tests/test_hub.py will skip (apt-get install -y npm)"; fi

# The fast loop while changing the course: unit tests only, no notebook, browser, server or 20-seed runs (< 1 min).
unit: setup
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -m "not slow" -q

# nbval's per-cell report of every notebook (make test runs each notebook in tests/test_health.py instead:
# a fresh offline kernel, then Restart and Run All, which fails on any cell error just as nbval does).
notebooks: setup
	$(BIN)/python -m pytest notebooks

# The reader's edition: a static HTML site of the executed course in build/site/html (README "Reader's edition").
# Builds offline; the site tools (requirements-site.txt) go into the course venv, next to what the notebooks use.
SITE_STAMP := $(VENV)/.site-installed
site-setup: $(SITE_STAMP)

# With wheelhouse/requirements-site.txt (make site-wheelhouse, online once) the site tools install with no network.
SITE_OFFLINE := $(if $(wildcard wheelhouse/requirements-site.txt),--no-index --find-links wheelhouse)
$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(BIN)/python -m pip install --upgrade-strategy only-if-needed $(SITE_OFFLINE) -r requirements-site.txt
	@touch $(SITE_STAMP)

site-wheelhouse: setup
	$(BIN)/python -m pip download --dest wheelhouse --only-binary=:all: -r requirements-site.txt
	cp requirements-site.txt wheelhouse/requirements-site.txt

site: site-setup
	$(BIN)/python scripts/build_site.py --fresh

# Each notebook on one core: wall time, slowest cell, peak memory, against the course's budgets.
bench: setup
	MPLBACKEND=Agg $(BIN)/python scripts/bench_notebooks.py

# Weak Wi-Fi: download every wheel once (make wheelhouse), then install with no network (make offline-setup).
wheelhouse:
	scripts/wheelhouse.sh download

offline-setup:
	scripts/wheelhouse.sh install $(VENV)
	@touch $(STAMP)
	@mkdir -p $(dir $(LAB_OVERRIDES)) && cp binder/overrides.json $(LAB_OVERRIDES)

clean-venv:
	rm -rf $(VENV)

# sohoa — two commands do everything on a fresh Debian/Ubuntu machine:
#   make demo   set up, digitise the sample dossiers, show a search, a first web admin account
#   make web    serve the staff's web application on http://127.0.0.1:8080/web/
#   make test   set up, then run lint and the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie poppler-utils libjpeg-turbo-progs fonts-liberation2 python3-venv postgresql chromium
export SOHOA_HOME ?= $(CURDIR)/.sohoa

.PHONY: setup system-deps venv demo web test test-fast lint bench model clean

setup: system-deps venv

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "sohoa needs these Debian/Ubuntu packages:$$missing"; \
	    echo "run as root: apt-get install -y$$missing   (then run make again)"; exit 1; \
	  fi; \
	fi

$(BIN)/sohoa: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

venv: $(BIN)/sohoa

demo: setup
	$(BIN)/sohoa process $$(ls -d samples/dossiers/* | grep -v '\.json$$')
	$(BIN)/sohoa search "quyết định"
	$(BIN)/sohoa search "quyet dinh"
	@$(BIN)/python -m flows.first_admin

web: setup  ## the staff's web application (and the API) on http://127.0.0.1:8080/web/
	$(BIN)/sohoa web

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest -q

test-fast: setup lint  ## the suite without the slow tests (real OCR of many pages, servers): under two minutes
	$(BIN)/python -m pytest -q -m "not slow"

model: setup  ## the default page-classifier model shipped for config/taxonomy.yaml, deterministic, ~2 min (no OCR)
	$(BIN)/sohoa train --corpus 0 --synthetic 140 --shipped

bench: setup
	@command -v ocrmypdf >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ocrmypdf >/dev/null; } || echo "ocrmypdf not installed: its column is left out"
	$(BIN)/python bench/throughput.py

clean:
	rm -rf .sohoa .pytest_cache .ruff_cache

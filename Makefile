# Two commands do everything on a fresh machine:
#   make demo   create .venv, install funnelsim alone (no extras), compare the siloed and aligned
#               presets
#   make test   add the test extras (pytest, ruff, notebooks, dask, pyarrow) and run the whole suite
# Each install has its own stamp, so `make demo` then `make test` adds only the extras, and
# `make test` alone on a clean clone does both.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
EXTRAS := $(VENV)/.installed-test

.PHONY: demo test lint format bench clean browser

# The demo needs the package and its own dependencies only: no pip upgrade, no extras. With
# --no-compile pip skips byte-compiling every module of numpy, scipy, pandas and matplotlib (a
# third of the install's time); Python compiles the few it imports on first use.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check --no-compile

$(BASE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(BASE)

$(EXTRAS): $(BASE)
	$(PIP) -e '.[test,notebooks,dask,parquet]'
	touch $(EXTRAS)

demo: $(BASE)
	$(BIN)/funnelsim compare scenarios/siloed.toml scenarios/aligned.toml

# Best effort: the HTML report's browser test needs Chromium; without it that test is skipped
# with a reason, never failed.
browser:
	-@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "no Chromium: the report's browser test will be skipped"

test: $(EXTRAS) browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(EXTRAS)
	$(BIN)/ruff check src tests benchmarks

format: $(EXTRAS)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(EXTRAS)
	$(BIN)/python benchmarks/bench_run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache

# The two commands a newcomer needs:   make run    and    make test
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup clean system-deps

$(BIN)/parallelprompt: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/parallelprompt

## run: set up and run the main job on the bundled sample dataset (emulator, no credentials)
run: setup
	$(BIN)/parallelprompt run

## system-deps: what the tests need outside the virtualenv. The HTML report test renders in
## Debian's headless Chromium: installed with apt-get when missing and we are root, else one
## line saying what to install, before anything slow runs.
system-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "make test: installing Debian's chromium (the report test renders in it)"; \
	        export DEBIAN_FRONTEND=noninteractive; \
	        apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; \
	    else \
	        echo "make test: chromium is missing; install it first (sudo apt-get install -y chromium)" >&2; \
	        exit 1; \
	    fi; \
	}

## test: set up, lint, type-check and run the whole test suite
test: system-deps setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# The two commands a newcomer needs:   make run    and    make test
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup clean

$(BIN)/parallelprompt: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/parallelprompt

## run: set up and run the main job on the bundled sample dataset (emulator, no credentials)
run: setup
	$(BIN)/parallelprompt run

## test: set up, lint, type-check and run the whole test suite
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

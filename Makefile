# The two commands a newcomer needs: `make run` and `make test`. Both build .venv from nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test check lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	@$(BIN)/bonebot start

test: $(STAMP_TEST)
	$(BIN)/python -m pytest -q

check: $(STAMP_TEST)
	$(BIN)/ruff check bot tests bench scripts
	$(BIN)/ruff format --check bot tests bench scripts
	$(BIN)/mypy
	$(BIN)/bonebot check

lint: check

format: $(STAMP_TEST)
	$(BIN)/ruff format bot tests bench scripts
	$(BIN)/ruff check --fix bot tests bench scripts

bench: $(STAMP_TEST)
	$(BIN)/python bench/matcher_throughput.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

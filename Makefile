# The README's two commands. Each sets up its own virtualenv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test test-slow venv clean

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev]'
	touch $@

venv: $(VENV)/.dev-installed

# The main workflow on the embedded SQLite store (in ./.runelog): a tracked training run,
# then the feature store: two feature versions, a model trained on each, and their lineage.
RUNELOG := $(VENV)/bin/runelog
demo: $(VENV)/.dev-installed
	$(RUNELOG) examples quickstart
	$(RUNELOG) examples features
	$(RUNELOG) examples train-fs
	$(RUNELOG) examples features --add-sepal-area
	$(RUNELOG) examples train-fs
	@echo; echo "Lineage of the newest iris-classifier:"
	$(RUNELOG) lineage --model iris-classifier
	@echo; echo "Which model versions were trained on which feature file:"
	@cat examples/feature_store/models_by_feature_file.sql
	$(RUNELOG) sql --file examples/feature_store/models_by_feature_file.sql

# ruff and mypy first (configured in pyproject.toml; either failing stops the target), then the
# suite; PostgreSQL tests run where RUNELOG_TEST_DATABASE_URL is set. Long attacks and
# soak tests are marked `slow`: `make test-slow` runs them (CI runs both).
test: $(VENV)/.dev-installed
	$(PY) -m ruff check runelog tests benchmarks examples
	$(PY) -m mypy
	$(PY) -m pytest -q -m "not slow" --durations=10

test-slow: $(VENV)/.dev-installed
	$(PY) -m pytest -q -m slow --durations=10 || [ $$? -eq 5 ]  # 5: none collected

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .runelog

# The README's two commands. Each sets up its own virtualenv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test venv clean

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev]'
	touch $@

venv: $(VENV)/.dev-installed

# The main workflow on the embedded SQLite store (in ./.runelog).
demo: $(VENV)/.dev-installed
	$(PY) examples/quickstart.py

# The whole suite; PostgreSQL tests run where RUNELOG_TEST_DATABASE_URL is set.
test: $(VENV)/.dev-installed
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .runelog

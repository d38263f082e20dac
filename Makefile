# The two commands of the README:
#   make bench   set up a virtual environment with every framework, then run the default suite on this machine
#   make test    the same set-up, then the tests (CI runs this; checks marked slow are left out)
#   make test-slow  the thorough checks too slow for CI on two cores (real-data learning of mnist_hrnn, ...)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: bench test test-slow setup
setup: $(VENV)/.installed

# Reinstall when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[all,test]'
	touch $@

bench: setup
	$(BIN)/dlbench run

test: setup
	$(BIN)/python -m pytest -m "not slow"

test-slow: setup
	$(BIN)/python -m pytest -m slow

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

# Two test processes (pytest-xdist), each test file whole in one: the trials under test mostly run one thread, so
# one process leaves a core of CI's two idle. A module's shared suite fixture still runs once. The files go out
# longest first (tests/conftest.py LONGEST_FIRST), not by their number of tests (xdist's default order).
test: setup
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile --no-loadscope-reorder

test-slow: setup
	$(BIN)/python -m pytest -m slow

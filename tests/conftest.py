import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlbench import frameworks

ROOT = Path(__file__).resolve().parent.parent
# The six training frameworks of dlbench's own environment. The workload tests name them rather than `all`, which
# also takes the legacy frameworks in their own environments (tests/test_legacy.py covers those).
MODERN = ("keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_framework(framework_id):
    """Skip when a framework is missing on a developer's machine; under CI=true a missing core framework is a
    failure, never a skip (DESIGN.md)."""
    missing = frameworks.get(framework_id).missing()
    if missing:
        message = f"{framework_id} is not installed (missing {', '.join(missing)})"
        if IN_CI:
            pytest.fail(message + " and CI=true: the CI environment must install every core framework")
        pytest.skip(message)


def dlbench(*args, cwd=None, timeout=900):
    """Run the real command line in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "dlbench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)

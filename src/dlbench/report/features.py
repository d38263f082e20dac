"""The framework feature matrix: what each framework can do, probed where a probe can decide it, documented where not.

Probed (a tiny real computation in a subprocess per framework, dlbench.report.probe; the parent never imports a
framework): automatic differentiation, JIT/graph compilation, bf16, ONNX export, GPU count, and for the keras-* ids
whether Keras really runs on that backend. Documented (each declaration's `documented`, checked against the
versions named in DOCUMENTED_AS_OF): language, platforms, interfaces, pretrained models, single-machine multi-GPU,
multi-machine, mixed precision, and for the native frameworks whether Keras 3 can run on them. The installed version
comes from package metadata.

Probe answers are cached in a JSON file (features.json in $DLBENCH_CACHE, else $XDG_CACHE_HOME/dlbench, else
~/.cache/dlbench), keyed by the framework id and a fingerprint of what could change the answer: the installed
versions, the Python, the host and this probe code. `--refresh` probes again.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dlbench
from dlbench import frameworks, machine
from dlbench.report import probe as probe_protocol  # numpy only at import: safe in the parent

PROBE_TIMEOUT = 180.0  # seconds per framework: torch.compile alone takes ~30 s on two busy cores

# (key, label, how it is known). "probed" rows come from dlbench.report.probe; "documented" from DOCUMENTED (each
# framework's declaration).
ROWS = (
    ("version", "installed version", "installed"),
    ("language", "language", "documented"),
    ("platforms", "platforms", "documented"),
    ("interfaces", "interfaces", "documented"),
    ("autodiff", "automatic differentiation", "probed"),
    ("jit", "JIT / graph compilation", "probed"),
    ("bf16", "bf16 runs", "probed"),
    ("mixed_precision", "mixed precision", "documented"),
    ("onnx", "ONNX export", "probed"),
    ("gpus", "GPUs here", "probed"),
    ("multi_gpu", "single-machine multi-GPU", "documented"),
    ("multi_machine", "multi-machine", "documented"),
    ("pretrained", "pretrained models", "documented"),
    ("keras_backend", "Keras 3 backend", "probed for keras-*, documented for the others"),
)
PROBED = ("autodiff", "jit", "bf16", "onnx", "gpus", "keras_backend")

DOCUMENTED_AS_OF = "torch 2.13, jax 0.10, tensorflow 2.21, keras 3.15"
# The documented rows come from each framework's declaration (Framework.documented, in its folder); the legacy
# frameworks (their own environments, fixed old releases) are never probed: every row of theirs is documented.
DOCUMENTED = dict((f.id, f.documented) for f in frameworks.FRAMEWORKS.values() if f.documented)
LEGACY_DOCUMENTED = dict((f.id, f.documented) for f in frameworks.LEGACY)


def cache_path():
    from dlbench.data import cache_folder  # one cache variable for dlbench: DLBENCH_CACHE
    return Path(cache_folder()) / "features.json"


def fingerprint(framework):
    """What could change a probe's answer: installed versions, Python, host, this probe code."""
    code = Path(probe_protocol.__file__).read_bytes()
    if framework.probe:  # its own probes, found without importing them
        code += Path(importlib.util.find_spec(framework.probe).origin).read_bytes()
    parts = {"versions": framework.versions(), "python": sys.version, "executable": sys.executable,
             "host": machine.hostname(), "dlbench": dlbench.__version__,
             "probe": hashlib.sha256(code).hexdigest()[:16]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def _read_cache(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(path, entries):
    """Atomic: other dlbench processes may read the cache at the same time."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True))
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def run_probe(framework_id, timeout=PROBE_TIMEOUT, python=None):
    """Probe one framework in a fresh process. Returns {feature: {"value", "detail"}} plus "_seconds"."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(dlbench.__file__).parent.parent),
                                                    env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.monotonic()
    process = subprocess.Popen([python or sys.executable, "-m", "dlbench.report.probe", framework_id],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                               text=True, start_new_session=True)
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process)
        stdout, stderr = process.communicate()
    answers = {}
    for line in stdout.splitlines():
        if line.startswith(probe_protocol.MARKER):
            try:
                answer = json.loads(line[len(probe_protocol.MARKER):])
            except ValueError:
                continue
            answers[answer["feature"]] = {k: answer[k] for k in ("value", "detail", "error") if k in answer}
    if answers.get("import", {}).get("value") == "no":
        why = answers["import"]["detail"]
        answers = {f: {"value": "unknown", "detail": f"{framework_id} did not import: {why}"} for f in PROBED}
    for feature in _features_of(framework_id):
        if feature not in answers:
            if timed_out:
                why = f"the probe ran past its {timeout:g} s timeout"
            else:
                last = stderr.strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
                why = f"the probe process ended early: {last[0][:200]}"
            answers[feature] = {"value": "unknown", "detail": why}
    answers.pop("import", None)
    answers["_seconds"] = round(time.monotonic() - started, 1)
    return answers


def _features_of(framework_id):
    """The probed rows of a framework: whether Keras runs on its backend only for Keras 3 (keras2-* is legacy)."""
    framework = frameworks.get(framework_id)
    keras = framework.keras_backend is not None and framework.environment is None
    return PROBED if keras else tuple(f for f in PROBED if f != "keras_backend")


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def probe_all(framework_ids, timeout=PROBE_TIMEOUT, refresh=False, cache=None, on_probe=None):
    """{framework id: {feature: answer}} for these frameworks, from the cache where it still applies.

    A framework that is not installed is not probed: its probed cells say so, with the install hint."""
    cache = Path(cache) if cache else cache_path()
    entries = _read_cache(cache)
    results, changed = {}, False
    for framework_id in framework_ids:
        framework = frameworks.get(framework_id)
        if framework_id in LEGACY_DOCUMENTED:  # fixed old releases: documented, never probed
            results[framework_id] = {}
            continue
        missing = framework.missing()
        if missing:
            why = f"not installed (missing {', '.join(missing)}): {framework.install_hint()}"
            results[framework_id] = {f: {"value": "unknown", "detail": why} for f in _features_of(framework_id)}
            continue
        key = fingerprint(framework)
        entry = entries.get(framework_id)
        if not refresh and entry and entry.get("fingerprint") == key:
            results[framework_id] = entry["answers"]
            continue
        if on_probe:
            on_probe(framework_id)
        answers = run_probe(framework_id, timeout=timeout)
        results[framework_id] = answers
        # A timed-out probe is not cached: the next report tries again.
        if not any("timeout" in a["detail"] for k, a in answers.items() if k != "_seconds"):
            entries[framework_id] = {"fingerprint": key, "answers": answers,
                                     "probed_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            changed = True
    if changed:
        # Re-read before writing so that entries another process added meanwhile are kept.
        merged = _read_cache(cache)
        merged.update({k: v for k, v in entries.items() if k in results})
        _write_cache(cache, merged)
    return results


def matrix(framework_ids, probed):
    """The feature matrix: one row per ROWS entry, one cell per framework: {"value", "detail", "source"}."""
    table = []
    for key, label, how in ROWS:
        cells = {}
        for framework_id in framework_ids:
            framework = frameworks.get(framework_id)
            if key == "version":
                versions = framework.versions()
                value = ", ".join(f"{k} {v}" for k, v in versions.items()) if not framework.missing() else \
                    "not installed"
                cells[framework_id] = {"value": value, "detail": framework.title, "source": "installed"}
            elif key in PROBED and key in _features_of(framework_id) and framework_id not in LEGACY_DOCUMENTED:
                answer = probed.get(framework_id, {}).get(key, {"value": "unknown", "detail": "not probed"})
                cells[framework_id] = {**answer, "source": "probed"}
            else:
                value = DOCUMENTED.get(framework_id, {}).get(key, "unknown")
                when = "its last releases" if framework_id in LEGACY_DOCUMENTED else DOCUMENTED_AS_OF
                cells[framework_id] = {"value": value, "detail": f"documented (as of {when})",
                                       "source": "documented"}
        table.append({"key": key, "label": label, "source": how, "cells": cells})
    return table


def cell_text(cell):
    """What a reader sees in one cell: the value, and for a "no" or "partly" why."""
    value = cell["value"]
    if cell["source"] == "probed" and value in ("no", "partly", "unknown") and cell.get("detail"):
        return f"{value}: {cell['detail']}"
    return str(value)

"""Per-framework environments: a framework that cannot share dlbench's interpreter gets a venv of its own.

CNTK exists only for Python 3.6; MXNet, Theano and Chainer need a numpy older than the one the modern frameworks
use. Such a framework declares an Environment (an interpreter version, pinned pip steps, system libraries);
`dlbench setup ID` builds it under the environments folder, and that framework's trials run their worker with the
environment's interpreter, which sees only this dlbench package and its own site-packages.

Python 3.6-safe: dlbench.frameworks imports this module, and a worker may run on 3.6.
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time

FOLDER_VARIABLE = "DLBENCH_ENVS"
MARKER = "dlbench-environment.json"  # written last: a folder without it is not a usable environment
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib")


class SetupError(Exception):
    """An environment cannot be made: the message is one line that says what to do."""


def folder():
    return os.environ.get(FOLDER_VARIABLE) or os.path.join(os.path.expanduser("~"), ".cache", "dlbench", "envs")


class Library(object):
    """A shared library the framework loads under another name than the system's: `wanted` is made a link to
    `present` in the environment's own library folder (CNTK 2.7 asks for OpenMPI 1.10's libmpi.so.12; Debian ships
    the compatible libmpi.so.40)."""

    def __init__(self, wanted, present, package):
        self.wanted = wanted
        self.present = present
        self.package = package  # the Debian package that provides `present`

    def find(self):
        for directory in LIBRARY_DIRS:
            path = os.path.join(directory, self.present)
            if os.path.exists(path):
                return path
        return None


class Environment(object):
    def __init__(self, python, steps, imports, libraries=(), variables=None):
        self.python = python          # "3.6": the interpreter's major.minor
        self.steps = steps            # pip install argument lists, run in order
        self.imports = imports        # modules that must import once it is built (its smoke check)
        self.libraries = libraries    # Library links the framework needs
        self.variables = variables or {}  # worker environment variables; "{env}" stands for the folder

    def fingerprint(self):
        """Changes when what the environment is made of changes: a stale environment is rebuilt, never reused."""
        text = json.dumps([self.python, self.steps, self.imports,
                           [(l.wanted, l.present) for l in self.libraries]], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def path(framework_id):
    return os.path.join(folder(), framework_id)


def interpreter(framework_id):
    return os.path.join(path(framework_id), "bin", "python")


def marker(framework_id):
    try:
        with open(os.path.join(path(framework_id), MARKER)) as f:
            return json.load(f)
    except (IOError, OSError, ValueError):
        return None


def is_ready(framework):
    found = marker(framework.id)
    return bool(found) and found.get("fingerprint") == framework.environment.fingerprint() and \
        os.path.exists(interpreter(framework.id))


def versions(framework):
    found = marker(framework.id) if is_ready(framework) else None
    return dict(found["versions"]) if found else {}


def find_python(version, explicit=None):
    """The interpreter for `version`: the one given (checked), else pyenv's newest version of that series, else
    pythonX.Y on the PATH."""
    if explicit:
        if not os.path.exists(explicit):
            raise SetupError("--python %s: no such file" % explicit)
        found = _version_of(explicit)
        if found != version:
            raise SetupError("--python %s is Python %s; this environment needs Python %s" % (explicit, found, version))
        return explicit
    candidates = []
    roots = [os.environ.get("PYENV_ROOT"), os.path.join(os.path.expanduser("~"), ".pyenv")]
    for root in [r for r in roots if r]:
        candidates += sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python")),
                             key=_release, reverse=True)
    on_path = shutil.which("python" + version)
    candidates += [on_path] if on_path else []
    for candidate in candidates:
        if _version_of(candidate) == version:
            return candidate
    raise SetupError("no Python %s interpreter found: install one (pyenv install %s, or your system's python%s) "
                     "or name it with --python PATH" % (version, _latest_hint(version), version))


def _release(path_):
    parts = path_.split(os.sep)[-3].split(".")
    return tuple(int(p) if p.isdigit() else 0 for p in parts)


def _latest_hint(version):
    return {"3.6": "3.6.15", "3.7": "3.7.17"}.get(version, version)


def _version_of(python):
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode().strip() or None


def problem(framework):
    """Why this environment cannot be set up on this machine (None: it can): the missing interpreter or library."""
    try:
        find_python(framework.environment.python)
    except SetupError as exc:
        return str(exc)
    return _missing_library(framework.environment)


def _missing_library(environment):
    """What to install for the first library the environment links that this machine lacks (None: none)."""
    for library in environment.libraries:
        if library.find() is None:
            return "needs %s, which is not installed: apt-get install %s" % (library.present, library.package)
    return None


def state(framework):
    """(state, detail): 'ready' with its folder, 'not set up' with the command, or 'cannot be set up here' with why."""
    if is_ready(framework):
        return "ready", path(framework.id)
    why = problem(framework)
    if why:
        return "cannot be set up here", why
    return "not set up", "dlbench setup %s" % framework.id


def readiness(framework):
    """(state, the one line every command shows for it): `dlbench list` and `dlbench env` say the same."""
    found, detail = state(framework)
    return found, "%s: %s" % (found, detail)


def worker_variables(framework):
    """What a worker in this environment needs: this dlbench package alone on its path (never the parent's
    site-packages, whose numpy and frameworks would shadow the environment's), the library links, the framework's
    own variables."""
    where = path(framework.id)
    variables = {"PYTHONPATH": _package_link(where), "PYTHONNOUSERSITE": "1"}
    if framework.environment.libraries:
        links = os.path.join(where, "lib-links")
        variables["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (links, os.environ.get("LD_LIBRARY_PATH")) if p)
    for name, value in framework.environment.variables.items():
        variables[name] = value.replace("{env}", where)
    return variables


def _package_link(where):
    """A folder holding only a link to this dlbench package, refreshed if dlbench moved."""
    holder = os.path.join(where, "dlbench-path")
    link = os.path.join(holder, "dlbench")
    if os.path.realpath(link) != os.path.realpath(PACKAGE_DIR):
        if not os.path.isdir(holder):
            os.makedirs(holder)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(PACKAGE_DIR, link)
    return holder


def setup(framework, python=None, force=False, say=print):
    """Build the framework's environment (or find it already built). Returns its folder; raises SetupError.

    Idempotent: a ready environment with the same fingerprint is kept. A failed build leaves no folder behind."""
    env = framework.environment
    where = path(framework.id)
    if is_ready(framework) and not force:
        say("%s: ready (already set up) in %s" % (framework.id, where))
        return where
    python = find_python(env.python, python)
    missing = _missing_library(env)
    if missing:
        raise SetupError("%s %s" % (framework.id, missing))
    links = [(library.wanted, library.find()) for library in env.libraries]
    if os.path.exists(where):
        shutil.rmtree(where)
    log_path = where + ".setup.log"
    if not os.path.isdir(folder()):
        os.makedirs(folder())
    started = time.time()
    try:
        with open(log_path, "w") as log:
            _step(log, [python, "-m", "venv", where], "making the venv")
            # --no-compile: pip would byte-compile every file it installs (scipy's thousands); the import step below
            # compiles the modules a trial imports instead (a third off a setup's time: paddle 15 s -> 8 s)
            pip = [os.path.join(where, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check",
                   "--no-compile"]
            for arguments in env.steps:
                say("%s: pip install %s" % (framework.id, " ".join(arguments)))
                _step(log, pip + list(arguments), "pip install %s" % " ".join(arguments))
            if links:
                os.makedirs(os.path.join(where, "lib-links"))
                for wanted, found in links:
                    os.symlink(found, os.path.join(where, "lib-links", wanted))
            variables = dict(os.environ, **worker_variables(framework))
            variables.pop("PYTHONDONTWRITEBYTECODE", None)  # this import writes the bytecode the trials will read
            _step(log, [interpreter(framework.id), "-c", "; ".join("import " + m for m in env.imports)],
                  "importing %s" % ", ".join(env.imports), variables)
            freeze = subprocess.run([interpreter(framework.id), "-m", "pip", "freeze", "--all"],
                                    stdout=subprocess.PIPE, stderr=log, check=True)
    except BaseException:
        shutil.rmtree(where, ignore_errors=True)
        raise
    found = dict(line.split("==", 1) for line in freeze.stdout.decode().splitlines() if "==" in line)
    record = {"framework": framework.id, "fingerprint": env.fingerprint(), "python": python,
              "python_version": _version_of(interpreter(framework.id)), "versions": found,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(time.time() - started, 1)}
    with open(os.path.join(where, MARKER + ".tmp"), "w") as f:
        json.dump(record, f, indent=2, sort_keys=True)
    os.rename(os.path.join(where, MARKER + ".tmp"), os.path.join(where, MARKER))
    say("%s: ready in %s (%.0f s; log %s)" % (framework.id, where, record["seconds"], log_path))
    return where


def _step(log, command, what, env=None):
    log.write("$ %s\n" % " ".join(command))
    log.flush()
    done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        with open(log.name) as f:
            last = [l.strip() for l in f.read().splitlines() if l.strip()][-1:] or ["(no output)"]
        raise SetupError("%s failed (exit %d): %s; full log: %s" % (what, done.returncode, last[0], log.name))

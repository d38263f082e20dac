"""A user's own model file (`dlbench run --model my_model.py`), read in the parent: checked without running it.

The parent never imports a framework, so it never executes the file either: it reads the bytes (their sha256 goes
into every trial key, so an edited file is never resumed as the old one), parses them (a syntax error is found here,
with its line), and reads what it can see statically: that build() and data() are defined, which form the file is
(it imports keras: a Keras model for the three Keras backends; it imports torch: a PyTorch model), and the literal
BATCH_SIZE and EPOCHS. The worker executes it (dlbench.workloads.user_model), from the content the trial carries,
so that a Ray node needs no copy of the file.
"""
import ast
import hashlib
import os

PREFIX = "model:"  # a user model's workload id: model:<the file's stem>
SCRIPT_PREFIX = "script:"  # a user's unchanged Keras script: script:<the file's stem>
FORMS = {  # the form of a model file -> the frameworks it runs on by default
    "keras": ("keras-jax", "keras-tensorflow", "keras-torch"),
    "torch": ("torch",),
    "script": ("keras-jax", "keras-tensorflow", "keras-torch"),  # run once per Keras backend
}
FORM_NAMES = {"keras": "a Keras model file", "torch": "a PyTorch model file", "script": "a Keras script"}
DEFAULT_BATCH_SIZE = 32  # Keras fit's own default
DEFAULT_EPOCHS = 5       # one warm-up epoch and four steady ones: enough to see whether the epochs are steady
WHAT_BUILD_RETURNS = ("build() returns a compiled keras.Model (a Keras model file: import keras) or (module, "
                      "optimizer, loss_fn) (a PyTorch model file: import torch)")


class ModelFileError(ValueError):
    """The model file cannot be used: one line that says what is wrong and what to do."""


def is_user_model(workload_id):
    return workload_id.startswith((PREFIX, SCRIPT_PREFIX))


def is_script(workload_id):
    return workload_id.startswith(SCRIPT_PREFIX)


def read_script(path, args):
    """An unchanged Keras script (`--script train.py -- args`) as a trial carries it: its source, sha256 and
    arguments; only its syntax is checked here (it is run, as it is, in each trial's worker)."""
    raw, source = read_source(path, "--script", "a Keras training script")
    try:
        ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ModelFileError("%s, line %s: %s: fix the script's Python syntax" % (path, exc.lineno, exc.msg))
    stem = os.path.splitext(os.path.basename(path))[0]
    return {"name": stem, "workload_id": SCRIPT_PREFIX + stem, "path": path, "source": source,
            "sha256": hashlib.sha256(raw).hexdigest(), "form": "script", "args": list(args),
            "batch_size": None, "epochs": None}


def read_source(path, flag, what):
    """(the file's bytes, its text); raises ModelFileError for a file that is missing, not .py, or not text."""
    if not os.path.exists(path):
        raise ModelFileError("no file %s: give %s the path to %s (.py)" % (path, flag, what))
    if os.path.isdir(path) or not path.endswith(".py"):
        raise ModelFileError("%s is not a Python file: give %s %s (.py)" % (path, flag, what))
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError("%s is not UTF-8 text: give %s a Python source file" % (path, flag))
    except OSError as exc:
        raise ModelFileError("cannot read %s (%s)" % (path, exc.strerror or exc))


def read(path):
    """The model file as a trial carries it (a plain dict: name, workload_id, path, source, sha256, form,
    batch_size, epochs); raises ModelFileError."""
    if not os.path.exists(path):
        raise ModelFileError("no model file %s: give --model the path to a Python file that defines build() and "
                             "data()" % path)
    if os.path.isdir(path) or not path.endswith(".py"):
        raise ModelFileError("%s is not a Python file: give --model a .py file that defines build() and data()"
                             % path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError("%s is not UTF-8 text: give --model a Python source file" % path)
    except OSError as exc:
        raise ModelFileError("cannot read %s (%s)" % (path, exc.strerror or exc))
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ModelFileError("%s, line %s: %s: fix the file's Python syntax" % (path, exc.lineno, exc.msg))
    names = top_level_values(tree)
    for function, what in (("build", WHAT_BUILD_RETURNS),
                           ("data", "data() returns ((x_train, y_train), (x_val, y_val)) as NumPy arrays")):
        if function not in names:
            raise ModelFileError("%s defines no %s(): a model file defines build() and data(); %s"
                                 % (path, function, what))
    stem = os.path.splitext(os.path.basename(path))[0]
    return {"name": stem, "workload_id": PREFIX + stem, "path": path, "source": source,
            "sha256": hashlib.sha256(raw).hexdigest(), "form": form_of(tree, path),
            "batch_size": positive_literal(names, "BATCH_SIZE", DEFAULT_BATCH_SIZE, path),
            "epochs": positive_literal(names, "EPOCHS", DEFAULT_EPOCHS, path)}


def top_level_values(tree):
    """{name: the expression assigned to it, or None for a def, class or import} for the module's top level."""
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = None
    return names


def imported(tree):
    """The top-level packages the file imports, anywhere in it (an import inside build() counts)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def form_of(tree, path):
    packages = imported(tree)
    if "keras" in packages:  # a Keras file may import torch for a helper; it still builds a keras.Model
        return "keras"
    if "torch" in packages:
        return "torch"
    raise ModelFileError("%s imports neither keras nor torch: %s" % (path, WHAT_BUILD_RETURNS))


def positive_literal(names, name, default, path):
    if name not in names:
        return default
    try:
        value = ast.literal_eval(names[name]) if names[name] is not None else None
    except ValueError:
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelFileError("%s: %s must be a positive integer written as a number (%s = 32), for dlbench reads "
                             "it without running the file" % (path, name, name))
    return value

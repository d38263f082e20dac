"""A suite: what to run (from a TOML file, CLI flags, or both), checked, and expanded into trials.

Every mistake in a suite is found here, before any trial starts, and reported in one line (SuiteError).
"""
from __future__ import annotations

import json
import random
import re
from itertools import product
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from dlbench import frameworks, machine, stats, workloads
from dlbench.workloads import user_file

BUNDLED = Path(__file__).parent / "suites"
DEVICES = ("cpu", "gpu", "auto")
DATA_VARIANTS = ("real", "synthetic", "small")
EXECUTORS = ("local", "ray")
# none: eager / the framework's default executor; jit: its compiler (torch.compile, XLA's jit_compile for TensorFlow
# and Keras; JAX is always jitted). A framework with one mode runs that one whatever is asked (Framework.compile_modes).
# A training trial of a suite that leaves compile unset records "auto": its tier decides (Framework.compile_for),
# so that every framework of a default suite is compared in one table; what ran is in the run's compile_used.
COMPILE_MODES = ("none", "jit")
# default: what a typical user of each framework gets from its defaults; tuned: each framework's best practice for
# speed with the workload's semantics kept (docs/gpu.md, "Tiers"). Frameworks without a tuned form run their default one
# and record that nothing was tuned.
TIERS = ("default", "tuned")
# fp32: float32 everywhere. bf16: mixed precision, bfloat16 compute with float32 master weights (no loss scaling:
# bfloat16 has float32's exponent range). fp16-mixed: float16 compute, float32 master weights, dynamic loss scaling.
# What each framework does for each, and what it refuses, is in its adapter's docstring and docs/gpu.md ("Precision").
PRECISIONS = frameworks.PRECISIONS
# Settings that are part of a trial (and its key) only where a suite sets them. tf32 and cudnn_autotune change nothing
# on a CPU (recorded there all the same); layout matters to convolutions. What each framework does with them is in
# its adapter's configure and setup functions, read back into each run's environment.
OPTIONAL_SETTINGS = ("tf32", "cudnn_autotune", "layout")
LAYOUTS = ("channels_first", "channels_last")


class SuiteError(ValueError):
    pass


@dataclass(frozen=True)
class Suite:
    name: str = "cli"
    workloads: tuple = ()
    frameworks: tuple = ("all",)
    device: str = "cpu"
    epochs: int | None = None        # None: each workload's own (WORKLOADS.md)
    repeats: int | None = None       # separate processes, fresh initialisation each; None: 3 (stats.MIN_REPEATS,
                                     # the fewest a verdict is drawn from). With a budget: the first rounds
    budget: float | None = None      # seconds: keep adding repeats to the rows whose verdict is undecided, until
                                     # every one is decided or the time is spent (dlbench.runner); None: fixed repeats
    max_repeats: int = 20            # with a budget: no row gets more repeats than this
    data: str = "real"
    samples: int | None = None       # limit the training set (validation in proportion)
    batch_size: int | None = None    # None: each workload's own
    threads: int | None = None       # None: every CPU this process may use, the same for every framework
    precision: str | tuple = "fp32"  # or several: each precision its own trials, told apart in every result
    compile: str | tuple | None = None  # "none", "jit" or several; None: training runs "auto" (the tier's mode:
                                        # the framework's default, or the tuned tier's pick), inference every
                                        # mode that differs (COMPILE_MODES)
    tier: str | tuple = "default"     # or several: both tiers in one suite, told apart in every result
    tf32: bool | None = None          # GPU only: TF32 for float32 matmuls/convolutions; None: allowed in every
                                      # framework (one policy per table), False: strict FP32 everywhere
    cudnn_autotune: bool | None = None  # GPU only: cuDNN (torch, TF) / XLA (JAX) autotuning; None: on
    layout: str | None = None         # image layout, channels_first or channels_last; None: each framework's own
    seed: int = 0
    timeout: float | None = None     # seconds per trial
    timeouts: dict = field(default_factory=dict)  # per workload: {workload id: seconds}, over `timeout`
    target: float | None = None      # validation accuracy (or loss) for time-to-accuracy; None: each workload's own
    executor: str = "local"          # local: one trial at a time here; ray: a Ray cluster (ray_executor.py)
    ray_address: str | None = None   # the cluster for executor ray: auto, or host:port of its head (None: auto)
    model: str | None = None          # a user's model file (--model): its workload model:<stem> joins the suite
    script: str | None = None         # a user's unchanged Keras script (--script): workload script:<stem>
    script_args: tuple = ()           # the script's own command-line arguments (after --)


MOST_REPEATS = 1000  # a suite of more repeats than this is a typo, not a plan

# key -> (accepted types, check, what a valid value is)
def _positive(v):
    return v > 0


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(value):
    """Seconds from a number of seconds or a string such as "90", "90s", "10m" or "1.5h"; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(value))
    if not match or float(match[1]) <= 0:
        return None
    return float(match[1]) * DURATION_UNITS[match[2] or "s"]


def _one_or_more_of(allowed):
    """A check for a value given as one name or a non-empty list of names, each in `allowed`."""
    return lambda v: bool(v) and all(name in allowed for name in ([v] if isinstance(v, str) else v))


CHECKS = {
    "name": (str, bool, "a non-empty string"),
    "workloads": (list, bool, "a non-empty list of workload ids"),
    "frameworks": (list, bool, "a non-empty list of framework ids, or [\"all\"]"),
    "device": (str, lambda v: v in DEVICES, "one of " + ", ".join(DEVICES)),
    "epochs": (int, _positive, "a positive integer"),
    "repeats": (int, lambda v: 1 <= v <= MOST_REPEATS, f"a positive integer of at most {MOST_REPEATS}"),
    "budget": ((int, float, str), lambda v: duration(v) is not None, "a duration such as 300, \"90s\", \"10m\" or "
               "\"1h\""),
    "max_repeats": (int, lambda v: 2 <= v <= MOST_REPEATS, f"an integer from 2 to {MOST_REPEATS}"),
    "data": (str, lambda v: v in DATA_VARIANTS, "one of " + ", ".join(DATA_VARIANTS)),
    "samples": (int, _positive, "a positive integer"),
    "batch_size": (int, _positive, "a positive integer"),
    "threads": (int, _positive, "a positive integer"),
    "precision": ((str, list), _one_or_more_of(PRECISIONS), "fp32, bf16 or fp16-mixed, or a list of them"),
    "compile": ((str, list), _one_or_more_of(COMPILE_MODES), "none or jit, or a list of them"),
    "tier": ((str, list), _one_or_more_of(TIERS), "default or tuned, or a list of them"),
    "tf32": (bool, lambda v: True, "true or false"),
    "cudnn_autotune": (bool, lambda v: True, "true or false"),
    "layout": (str, lambda v: v in LAYOUTS, "one of " + ", ".join(LAYOUTS)),
    # every framework's seed takes it, plus the repeat: NumPy's RandomState stops at 2**32 - 1
    "seed": (int, lambda v: 0 <= v < 2 ** 31, "a non-negative integer below 2**31"),
    "timeout": ((int, float), _positive, "a positive number of seconds"),
    "timeouts": (dict, lambda v: all(not isinstance(s, bool) and isinstance(s, (int, float)) and s > 0
                                     for s in v.values()), "a table of workload ids to positive seconds"),
    "target": ((int, float), _positive, "a positive number (validation accuracy in (0, 1], or a loss)"),
    "executor": (str, lambda v: v in EXECUTORS, "one of " + ", ".join(EXECUTORS)),
    "ray_address": (str, lambda v: v == "auto" or re.fullmatch(r"[^\s:/]+:\d+", v) is not None,
                    "auto, or host:port of the Ray head node"),
    "model": (str, bool, "the path to a model file (.py)"),
    "script": (str, bool, "the path to a Keras script (.py)"),
    "script_args": (list, lambda v: True, "a list of the script's arguments"),
}


def check(values, origin):
    """Validate raw values (from TOML or flags) and return them as Suite fields; unknown keys are errors."""
    known = {f.name for f in fields(Suite)}
    checked = {}
    for key, value in values.items():
        if key not in known:
            raise SuiteError(f"{origin}: unknown key {key!r}; valid keys: {', '.join(sorted(known))}")
        types, ok, wanted = CHECKS[key]
        if (isinstance(value, bool) and types is not bool) or not isinstance(value, types) or not ok(value):
            raise SuiteError(f"{origin}: {key} = {value!r} is not valid: expected {wanted}")
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise SuiteError(f"{origin}: {key} must be a list of strings")
            value = tuple(value)
        checked[key] = duration(value) if key == "budget" else value
    return checked


def load_file(name_or_path):
    """A suite file: a path, or the name of a suite bundled with dlbench (e.g. `default`)."""
    path = Path(name_or_path)
    if not path.exists() and (BUNDLED / f"{name_or_path}.toml").exists():
        path = BUNDLED / f"{name_or_path}.toml"
    if not path.exists():
        bundled = ", ".join(sorted(p.stem for p in BUNDLED.glob("*.toml")))
        raise SuiteError(f"no suite file {name_or_path!r}: give a path to a TOML file or a bundled suite ({bundled})")
    if path.is_dir():
        raise SuiteError(f"{path} is a folder: give --suite a TOML file or a bundled suite name")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SuiteError(f"cannot read {path} ({exc.strerror or exc}): give --suite a readable TOML file") from None
    values = check(raw, str(path))
    values.setdefault("name", path.stem)
    return values


def build(file_values, flag_values):
    """The suite: bundled defaults, then the file, then command-line flags (flags win)."""
    values = dict(file_values)
    values.update(check({k: v for k, v in flag_values.items() if v is not None}, "command line"))
    suite = Suite(**values)
    if suite.ray_address is not None and suite.executor != "ray":
        raise SuiteError(f"ray_address = {suite.ray_address!r} needs executor = 'ray' (--executor ray)")
    if suite.model is not None:  # read and checked here, never executed in this process
        try:
            described = user_file.read(suite.model)
        except user_file.ModelFileError as exc:
            raise SuiteError(str(exc)) from None
        suite = replace(suite, workloads=suite.workloads + (workloads.use_model_file(described),))
    if suite.script is not None:
        check_script_settings(suite)
        try:
            described = user_file.read_script(suite.script, suite.script_args)
        except user_file.ModelFileError as exc:
            raise SuiteError(str(exc)) from None
        suite = replace(suite, workloads=suite.workloads + (workloads.use_model_file(described),))
    elif suite.script_args:
        raise SuiteError(f"arguments {' '.join(suite.script_args)!r} are for a script: give --script FILE before "
                         "them, or leave them out")
    if not suite.workloads:
        raise SuiteError("no workloads given: use --workloads (see `dlbench list`), --model or --suite")
    for key in ("workloads", "frameworks"):  # a name twice would count one trial as two repeats
        twice = sorted({name for name in getattr(suite, key) if getattr(suite, key).count(name) > 1})
        if twice:
            raise SuiteError(f"{key}: {', '.join(twice)} listed more than once: name each once")
    available = machine.available_cpus()
    if suite.executor == "local" and suite.threads and suite.threads > available:
        raise SuiteError(f"threads = {suite.threads}: this machine lets dlbench use {available} CPUs: ask for at most "
                         f"{available}")
    for workload_id in list(suite.workloads) + list(suite.timeouts):
        try:
            workloads.get(workload_id)
        except workloads.UnknownWorkload as exc:
            raise SuiteError(str(exc)) from exc
    for framework_id in suite.frameworks:
        if framework_id != "all":
            try:
                frameworks.get(framework_id)
            except frameworks.UnknownFramework as exc:
                raise SuiteError(str(exc)) from exc
    return replace(suite, device=resolve_device(suite.device), threads=suite.threads or available)


# What a script decides for itself: a setting of these would be a promise dlbench cannot keep.
SCRIPT_DECIDES = {"epochs": "--epochs", "batch_size": "--batch-size", "samples": "--samples", "compile": "--compile",
                  "target": "--target", "layout": "--layout"}


def check_script_settings(suite):
    for key, flag in SCRIPT_DECIDES.items():
        if getattr(suite, key) is not None:
            raise SuiteError(f"{flag} does not apply to --script: the script sets its own (use --model, whose "
                             "build() and data() dlbench runs, to set it)")
    for key, default in (("precision", "fp32"), ("tier", "default")):
        value = getattr(suite, key)
        if (value if isinstance(value, str) else tuple(value)) not in (default, (default,)):
            raise SuiteError(f"--{key} does not apply to --script: the script runs as it is written ({default})")


def resolve_device(device):
    if device == "cpu":
        return "cpu"
    has_gpu = bool(machine.gpus())
    if device == "gpu" and not has_gpu:
        raise SuiteError("--device gpu: no NVIDIA GPU is visible (nvidia-smi finds none): use --device cpu or auto")
    return "gpu" if has_gpu else "cpu"


@dataclass(frozen=True)
class Trial:
    workload: str
    framework: str
    settings: dict = field(hash=False)
    repeat: int = 0
    timeout: float | None = None  # how long the trial may run; not part of its identity
    # A user's model file (user_file.read): its content travels with the trial to the worker, wherever that runs;
    # its sha256 is in the settings, so the key changes with the file.
    model: dict | None = field(default=None, compare=False, repr=False)

    @property
    def key(self):
        """The trial key (DESIGN.md): workload, framework, settings and repeat, as canonical JSON. --resume and
        other executors find a trial's earlier results by it. The seed follows from the repeat and the target only
        reads the results, so both are left out."""
        settings = {k: v for k, v in self.settings.items() if k not in ("seed", "target")}
        return json.dumps({"workload": self.workload, "framework": self.framework, "settings": settings,
                           "repeat": self.repeat}, sort_keys=True, separators=(",", ":"))

    def again(self, repeat):
        """The same trial as repeat `repeat`: its own process and seed (the suite's seed + the repeat)."""
        seed = self.settings["seed"] - self.repeat + repeat
        return replace(self, repeat=repeat, settings={**self.settings, "seed": seed})

    def for_worker(self):
        described = {"key": self.key, "workload": self.workload, "framework": self.framework,
                     "settings": self.settings, "repeat": self.repeat}
        if self.model is not None:
            described["model"] = self.model
        return described


def plan(suite):
    """Expand workloads x frameworks x settings into trials, one round per repeat. Each round holds every trial once,
    in a seeded random order of its own, so that a drift of the machine during the suite spreads over every
    framework instead of landing on one, and no framework always runs first or after the same neighbour."""
    first = []  # repeat 0 of every trial
    for workload_id in suite.workloads:
        spec = workloads.get(workload_id).SPEC
        implemented = workloads.implementations(workload_id)
        chosen = implemented if "all" in suite.frameworks else list(suite.frameworks)
        for framework_id in chosen:
            if framework_id not in implemented:
                form = (workloads.get(workload_id).described or {}).get("form")
                raise SuiteError(f"{workload_id} is {user_file.FORM_NAMES[form]}: it runs on {', '.join(implemented)}, "
                                 f"not {framework_id}" if form else
                                 f"{workload_id} has no {framework_id} version: it has {', '.join(implemented)}")
        for framework_id in chosen:
            for mode, tier, precision in product(compile_modes(workload_id, framework_id, suite.compile),
                                                 tiers(workload_id, suite.tier),
                                                 precisions(workload_id, suite.precision)):
                settings = {
                    "device": suite.device, "precision": precision, "compile": mode,
                    "tier": tier, "batch_size": suite.batch_size or spec.batch_size, "data": suite.data,
                    "samples": suite.samples, "epochs": suite.epochs or spec.epochs, "threads": suite.threads,
                    "seed": suite.seed, "target": suite.target or spec.target,
                }
                # Only where a suite sets them: a trial that leaves them at the frameworks' defaults says so
                # by their absence, and its key stays short.
                settings.update({name: getattr(suite, name) for name in OPTIONAL_SETTINGS
                                 if getattr(suite, name) is not None})
                if suite.budget is not None:  # its intervals are the anytime-valid ones (dlbench.stats)
                    settings["adaptive"] = True
                if spec.kind == "inference":  # the batch-size sweep and the images per pass; epochs: timed passes
                    sizes, images = workloads.get(workload_id).sweep(suite.device, suite.batch_size, suite.samples)
                    settings.update(batch_size=suite.batch_size, batch_sizes=sizes, samples=images)
                timeout = suite.timeouts.get(workload_id, suite.timeout)
                model = workloads.get(workload_id).described  # a user's model file, or None
                if model is not None and model["form"] == "script":  # its sizes are its own: not settings of it
                    settings.update(data="the script's", batch_size=None, epochs=None, target=None,
                                    model_sha256=model["sha256"], script_args=model["args"])
                elif model is not None:
                    settings.update(data="from data()", model_sha256=model["sha256"])
                if model is not None and model["form"] != "torch":
                    # A user's arrays are laid out as Keras's default has them, on every backend (dlbench's own
                    # workloads use channels_first on keras-torch, their data laid out to match).
                    settings.setdefault("layout", "channels_last")
                first.append(Trial(workload_id, framework_id, settings, 0, timeout, model))
    return [trial for repeat in range(suite.repeats or stats.MIN_REPEATS)
            for trial in shuffled([t.again(repeat) for t in first], suite.seed, repeat)]


def shuffled(trials, seed, round_index):
    """The trials of one round in a random order drawn from the suite's seed and the round: the same every time the
    suite is planned (--resume finds the same plan), different from round to round."""
    order = list(trials)
    random.Random(f"dlbench round {seed}:{round_index}").shuffle(order)
    return order


def tiers(workload_id, requested):
    """Training workloads run every requested tier; inference has one protocol (its compile modes are its tuning)."""
    requested = (requested,) if isinstance(requested, str) else tuple(requested)
    return ["default"] if workloads.is_inference(workload_id) else list(dict.fromkeys(requested))


def precisions(workload_id, requested):
    """Training workloads run every requested precision (each its own trials); inference workloads run in fp32
    only, and asking them for another precision is an error, never a silent fp32 run."""
    requested = list(dict.fromkeys((requested,) if isinstance(requested, str) else requested))
    if workloads.is_inference(workload_id) and requested != ["fp32"]:
        raise SuiteError(f"precision = {', '.join(requested)}: {workload_id} is an inference workload and runs in "
                         "fp32 only (mixed precision is implemented for training workloads)")
    return requested


def precision_refusal(workload_id, framework_id, precision):
    """Why this framework cannot run this precision (the trial is recorded skipped with it), or None. Decided from
    the registry (dlbench.frameworks: Framework.precisions, and the reason it gives), before any process starts;
    a refusal that depends on the workload's layers comes from the adapter, in the worker, as a skipped trial."""
    framework = frameworks.get(framework_id)
    mixed = framework.mixed_workloads
    if precision != "fp32" and mixed is not None and workload_id not in mixed:
        return f"{framework_id} runs fp32 only, not {precision}, for {workload_id}: {framework.precision_note}"
    if precision in framework.precisions:
        return None
    return (f"{framework_id} runs {', '.join(framework.precisions)} only, not {precision}: "
            f"{framework.precision_note or 'mixed precision is not implemented for it in dlbench'}")


def compile_modes(workload_id, framework_id, requested):
    """The compile modes a trial runs in. Training: those asked for, mapped onto the modes the framework has (one
    mode: that one, whatever was asked); none asked: "auto". Inference: the workload's own mapping (every mode that
    differs when none was asked; one where a mode means nothing)."""
    requested = (requested,) if isinstance(requested, str) else requested
    if workloads.is_inference(workload_id):
        return workloads.get(workload_id).compile_modes(framework_id, requested)
    if not requested:
        return ["auto"]
    have = frameworks.get(framework_id).compile_modes
    return list(have) if len(have) == 1 else [mode for mode in COMPILE_MODES if mode in requested]


def as_config(suite):
    return {f.name: getattr(suite, f.name) for f in fields(Suite)}


def pending(trials, completed_keys):
    """For --resume: the trials without a result in the store, in plan order."""
    return [t for t in trials if t.key not in completed_keys]

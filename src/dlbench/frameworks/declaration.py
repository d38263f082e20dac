"""What a framework declaration says: the Framework class, and the settings declarations share.

Each framework's folder declares itself in its __init__.py with this class; dlbench.frameworks builds the registry
from them. Nothing here imports a framework (the parent process reads declarations; only a worker imports an
adapter). Python 3.6-safe, like the worker.
"""
import importlib.util

from dlbench import environments

# The precision settings (dlbench.suite, docs/gpu.md, "Precision"): fp32; bf16 = bfloat16 compute with float32 master
# weights; fp16-mixed = float16 compute, float32 master weights, dynamic loss scaling.
PRECISIONS = ("fp32", "bf16", "fp16-mixed")
MIXED = PRECISIONS
LEGACY_PRECISION_NOTE = ("a legacy framework in its own environment: dlbench trains it in float32 only, as the seed "
                         "articles did")


class Framework(object):
    def __init__(self, id, title, packages, distributions, extras, package, keras_backend=None, inference_only=False,
                 environment=None, precisions=None, precision_note=None, mixed_workloads=None, compile_modes=("none",),
                 tuned_compile=None,
                 workload_file=None, modules=None, adapter=None, probe=None, documented=None,
                 verify=None, verify_exceptions=None):
        self.id = id
        self.title = title
        self.packages = packages          # import names that must be importable (checked without importing)
        # The modules whose presence in a worker's sys.modules shows it imported this framework (recorded, not
        # assumed: Keras can pull in frameworks other than its backend); by default its packages.
        self.modules = tuple(modules or packages)
        # The file of a workload package that holds this framework's version of the model (workload_file + ".py");
        # None for the inference-only frameworks, which run dlbench.inference's models.
        self.workload_file = workload_file
        self.distributions = distributions  # whose versions are recorded (either TensorFlow wheel may be there)
        self.extras = extras              # pip extras of dlbench that install them
        # Its folder's package (dlbench.frameworks.<name>), whose __init__.py is this declaration; and the module
        # holding its training adapter, imported in the worker only: <package>.adapter unless given, None for an
        # inference-only framework.
        self.package = package
        if adapter is None and package is not None and not inference_only:
            adapter = package + ".adapter"
        self.adapter = adapter
        # The module of its feature probes (dlbench.report.probe runs its probes(framework) in a subprocess), None
        # where nothing is probed; and the feature rows known from its documentation, not probed
        # (dlbench.report.features.ROWS keys -> text). Every environment's recipe pins the CPU build (cntk, not
        # cntk-gpu, ...).
        self.probe = probe
        # The module of its weight converter for `dlbench verify` (dlbench.verify.worker: canonical weights in and out,
        # its forward pass and layer outputs), None where verify does not run it.
        self.verify = verify
        # canonical weight name suffix -> why that weight's update cannot match another framework's exactly (a
        # stated exception: dlbench.verify.run.KNOWN_EXCEPTIONS)
        self.verify_exceptions = dict(verify_exceptions or {})
        self.documented = dict(documented or {})
        if environment is not None:
            self.documented.setdefault("gpus", "no: its environment installs the CPU build")
        self.keras_backend = keras_backend
        self.inference_only = inference_only  # runs inference workloads only (no training adapter)
        self.environment = environment    # an environments.Environment: its own venv, made by `dlbench setup`
        # The precisions its adapter implements (a trial asking another is recorded skipped with precision_note)
        self.precisions = tuple(precisions) if precisions else ("fp32",)
        self.precision_note = precision_note or (LEGACY_PRECISION_NOTE if environment is not None else None)
        # The workloads whose code is written for its mixed precisions (None: every workload); the others run fp32
        # only, refused with precision_note.
        self.mixed_workloads = tuple(mixed_workloads) if mixed_workloads is not None else None
        # The compile modes its training adapter implements (dlbench.suite.COMPILE_MODES), the first being what a
        # user gets by default; and per device, the mode the tuned tier picks when a suite leaves compile unset.
        self.compile_modes = tuple(compile_modes)
        self.tuned_compile = dict(tuned_compile or {})

    def compile_for(self, settings):
        """The compile mode a training trial runs: the one asked for, or for "auto" (a suite that left compile
        unset) the framework's default mode, or in the tuned tier the one its best practice on this device uses."""
        if settings.compile != "auto":
            return settings.compile
        if settings.tier == "tuned":
            return self.tuned_compile.get(settings.device, self.compile_modes[0])
        return self.compile_modes[0]

    def missing(self):
        """The packages that are not installed, found without importing them (in its own environment: all of
        them until `dlbench setup` has made it)."""
        if self.environment is not None:
            return [] if environments.is_ready(self) else list(self.packages)
        return [name for name in self.packages if importlib.util.find_spec(name) is None]

    def install_hint(self):
        if self.environment is not None:
            return "dlbench setup %s" % self.id
        return "pip install 'dlbench[%s]'" % ",".join(self.extras)

    def versions(self):
        """Installed distribution versions, read from package metadata (no import)."""
        if self.environment is not None:
            found = environments.versions(self)
            return dict((name, found[name]) for name in self.distributions if name in found)
        try:
            from importlib import metadata
        except ImportError:  # Python < 3.8
            return {}
        found = {}
        for name in self.distributions:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                pass
        return found


# Training compile modes: none = eager PyTorch, TensorFlow's graph executor, Keras's jit_compile=False; jit =
# torch.compile (Inductor), XLA (jit_compile=True). JAX is always jitted, and so is Keras on JAX by default.
EAGER_OR_JIT = ("none", "jit")
JIT_ONLY = ("jit",)

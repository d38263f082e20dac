"""A trial's settings on the worker side: one typed structure, built once from the trial's JSON (the plain dict the
parent planned in dlbench.suite.plan), that holds every setting's default in one place.

Python 3.6-safe (no dataclasses): a small class with __slots__. The parent keeps its plain dict (it is the trial
key and the stored `settings` column); only the worker and the adapters it loads read this.
"""

# Every setting a trial may carry, with the worker's one default for it. None: the parent leaves it out where the
# suite does not set it (the optional settings), or it applies to one kind of workload only.
DEFAULTS = (
    ("device", None),          # cpu or gpu (required)
    ("threads", None),         # CPUs the trial is pinned to, and every framework pool's size (required)
    ("seed", None),            # this repeat's seed (required)
    ("tier", "default"),       # default or tuned
    ("precision", "fp32"),     # fp32, bf16 or fp16 (stores from before precision existed ran fp32)
    ("compile", "auto"),       # auto (the framework's default mode, or its tuned tier's), none, jit, ...
    ("data", None),            # real, synthetic or small (training)
    ("batch_size", None),      # training; inference: the suite's, None when it sweeps
    ("epochs", None),          # training epochs; inference: timed passes per batch size
    ("samples", None),         # training: a cap on the training set (None: all); inference: images per pass
    ("batch_sizes", None),     # inference: the batch-size sweep
    ("target", None),          # time to target: the validation accuracy to reach (the parent reads it)
    ("adaptive", False),       # the suite has a budget: anytime-valid intervals (the parent reads it)
    ("tf32", None),            # None: dlbench's policy (TF32 allowed on a GPU); False: strict FP32
    ("cudnn_autotune", None),  # None: on; False: off
    ("layout", None),          # None: the framework's native layout; channels_first or channels_last
)
REQUIRED = ("device", "threads", "seed")


class TrialSettings(object):
    """The settings of one trial, as attributes (settings.precision, settings.threads, ...), defaults filled in."""

    __slots__ = tuple(name for name, _ in DEFAULTS)

    def __init__(self, **fields):
        unknown = set(fields) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown trial settings: %s" % ", ".join(sorted(unknown)))
        for name, default in DEFAULTS:
            setattr(self, name, fields.get(name, default))

    @classmethod
    def from_dict(cls, settings):
        """From the trial's JSON settings: a missing required setting raises KeyError, as reading it would have;
        settings this worker does not know are passed over (a newer parent may send more)."""
        for name in REQUIRED:
            if name not in settings:
                raise KeyError(name)
        return cls(**dict((name, settings[name]) for name in cls.__slots__ if name in settings))

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)

    def __repr__(self):
        return "TrialSettings(%s)" % ", ".join("%s=%r" % (name, getattr(self, name)) for name in self.__slots__)

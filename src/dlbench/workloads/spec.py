"""What a workload is, framework-free: its hyperparameters, data, expected parameter count and how its arrays are fed.

Runs in the worker too, so Python 3.6 with the standard library and numpy only.
"""
import copy


class Hyper(object):
    """A bag of named hyperparameters, read as attributes (hp.learning_rate) by every framework's version."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def as_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        return "Hyper(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))


TARGET_ON = ("validation", "train")


class WorkloadSpec(object):
    """One row of WORKLOADS.md.

    id, source, dataset (a module of dlbench.data), batch_size, epochs, params (Keras count_params(): trainable
    plus non-trainable state), trainable_params, metric ("accuracy" or "loss"), reference (what the original
    reported), hp (the model's and optimizer's constants), warmup_epochs (epochs kept out of the steady state),
    target (the accuracy, or loss for metric "loss", whose first crossing gives the time to accuracy), target_on
    (which epoch figure the target is compared with: "validation", the default, reads val_accuracy or val_loss;
    "train" reads the epoch's training accuracy or loss, for an original whose reference figure is a training
    figure: char_lstm's ~1.40 is the Keras progress bar's loss), recurrent (the model has a recurrent layer: a run
    records which RNN kernel its framework used), attention (the model has an attention layer: a run records which
    attention kernel its framework used: flash, cuDNN, memory-efficient or the unfused math), optimizer (the rule's
    name: rmsprop, adam, adadelta, sgd_momentum, adamw; its constants are in hp), output (the model's last activation:
    softmax or sigmoid, or "logits" where Keras's model has none; a native version returns logits and fuses it into
    its loss), kind
    ("training", or "inference": forward passes only, no data set; epochs then count the timed passes per batch
    size, and dataset is None).
    """

    def __init__(self, id, source, dataset, batch_size, epochs, params, trainable_params, hp,
                 metric="accuracy", reference="", warmup_epochs=1, target=None, recurrent=False, kind="training",
                 target_on="validation", optimizer=None, output="softmax", attention=False):
        if target_on not in TARGET_ON:
            raise ValueError("target_on must be one of %s, not %r" % (", ".join(TARGET_ON), target_on))
        self.id = id
        self.source = source
        self.dataset = dataset
        self.batch_size = batch_size
        self.epochs = epochs
        self.params = params
        self.trainable_params = trainable_params
        self.hp = hp
        self.metric = metric
        self.reference = reference
        self.warmup_epochs = warmup_epochs
        self.target = target
        self.target_on = target_on
        self.recurrent = recurrent
        self.attention = attention
        self.kind = kind
        self.optimizer = optimizer
        self.output = output

    def with_hp(self, hp):
        """The same spec with data-dependent hyperparameters (a workload's hyper(dataset))."""
        spec = copy.copy(self)
        spec.hp = hp
        return spec

    def describe(self):
        return {
            "id": self.id, "source": self.source, "dataset": self.dataset, "batch_size": self.batch_size,
            "epochs": self.epochs, "params": self.params, "trainable_params": self.trainable_params,
            "metric": self.metric, "target": self.target, "target_on": self.target_on, "reference": self.reference,
            "recurrent": self.recurrent, "attention": self.attention, "optimizer": self.optimizer,
            "output": self.output, "kind": self.kind, "hyperparameters": self.hp.as_dict(),
        }


class Workload(object):
    """A workload as the worker and `dlbench verify` use it: the hooks a workload may define, with their defaults,
    so that callers never ask whether a workload has one. A package defines only the hooks it changes
    (PackageWorkload); a user's model file is a subclass (user_model.UserWorkload)."""
    augment = None      # (inputs, rng, layout) -> inputs: each training batch's augmentation (cifar10_cnn), or None
    sample_text = None  # (predict, dataset, rng) -> text generated after training (char_lstm, the GPTs), or None
    described = None    # a user's model file as its trial carries it (workloads.user_file.read), or None

    def hyper(self, dataset):
        """The hyperparameters, with the sizes that depend on the data (a vocabulary, fasttext's bigram count)."""
        return self.SPEC.hp


class PackageWorkload(Workload):
    """A bundled workload: its package's names (SPEC, splits, model_layers, ...) and the hooks it defines."""
    HOOKS = ("augment", "sample_text", "hyper")

    def __init__(self, module):
        self.module = module
        for hook in self.HOOKS:
            if hook in vars(module):
                setattr(self, hook, vars(module)[hook])

    def __getattr__(self, name):
        return getattr(self.module, name)


class Split(object):
    """The arrays of one split as a model consumes them: several inputs and several targets are allowed
    (bAbI has a story and a query; char_embed_lstm has two heads)."""

    def __init__(self, inputs, targets):
        self.inputs = list(inputs)
        self.targets = list(targets)
        sizes = set(len(a) for a in self.inputs + self.targets)
        if len(sizes) != 1:
            raise ValueError("inputs and targets differ in length: %s" % sorted(sizes))
        self.n = sizes.pop()

    def take(self, index):
        return Split([a[index] for a in self.inputs], [a[index] for a in self.targets])

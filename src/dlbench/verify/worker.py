"""One framework's side of `dlbench verify`, in its own process: `python -m dlbench.verify.worker FRAMEWORK THREADS
SEED [--converter MODULE] [--layers] IN OUT [IN OUT ...]`, one IN/OUT pair per workload.

IN (written by the parent, dlbench.verify.run) holds the canonical weights (`weights/<name>`), one batch of inputs
in both image layouts (`inputs/<layout>/<i>`), its targets (`targets/<i>`) and a JSON `meta`. The worker builds the
workload's model for FRAMEWORK through its training adapter (the same trainer a benchmark runs, every dropout rate
0, no augmentation), loads the weights with the framework's converter (its declaration's verify module,
dlbench.frameworks.<package>.verify, or MODULE: the tests pass a deliberately broken one), checks that they read
back bit for bit, then
  1. runs the batch through the model in inference mode (dropout off, BatchNorm frozen): `output`, probabilities
     for Keras, logits for the native versions; and with --layers the output of each layer it can show
     (`layer/<canonical layer>`, layer_outputs), so that a failing pair can name the first layer that diverges (the
     parent asks for them only then: shown op by op, they cost JAX an XLA compilation per op)
  2. trains one step on the batch (one epoch of one batch): `loss` (the training loss before the step) and the
     updated weights in canonical form (`updated/<name>`)
and writes them to OUT. The comparison happens in the parent, so no two frameworks share a process.
"""
import collections
import importlib
import json
import sys
import traceback

import numpy as np

from dlbench import frameworks, workloads
from dlbench.frameworks.adapter import InputPipeline
from dlbench.verify import canonical
from dlbench.workloads.spec import Hyper, Split


def converter_for(framework, override=None):
    """The framework's verify module (its declaration's: <package>.verify), or MODULE from --converter."""
    module = override or frameworks.get(framework).verify
    if module is None:
        raise ValueError("%s has no weight converter: dlbench verify does not run it" % framework)
    return importlib.import_module(module)


def forward(native, trainer, inputs):
    """The model's output for one batch in inference mode (dropout off, BatchNorm frozen), from the framework's
    verify module: probabilities where its LOGITS is False (Keras's model ends in its softmax or sigmoid), else
    logits (the parent applies the workload's output function to them, in float64)."""
    return _numpy(native.forward(trainer, inputs))


def entry_owners(entries):
    """The top-level attribute holding each weight of a native converter's entries (name, native path or paths,
    ...): a native verify module's weight_owners."""
    return [(entry[1][0] if isinstance(entry[1], tuple) else entry[1]).split(".")[0] for entry in entries]


def native_layers(native, model, workload_id, hp):
    """canonical layer -> the model's top-level layer that holds its weights (a torch/Flax/tf.Module attribute, a
    Keras layer's name), for the canonical layers that have one of their own (not a bidirectional nn.LSTM or Keras
    Bidirectional that holds two)."""
    names = list(canonical.shapes(workload_id, hp))
    tops = native.weight_owners(model, workload_id, hp)
    found = collections.OrderedDict()
    for name, top in zip(names, tops):
        found.setdefault(canonical.layer_of(name), set()).add(top)
    owners = collections.Counter(next(iter(t)) for t in found.values() if len(t) == 1)
    return collections.OrderedDict((layer, next(iter(t))) for layer, t in found.items()
                                   if len(t) == 1 and owners[next(iter(t))] == 1)


def first_array(output):
    while isinstance(output, (list, tuple)):  # nn.LSTM's (output, (h, c)): the output
        output = output[0]
    return np.asarray(output, dtype=np.float32)


def watch_calls(trainer, inputs, tops, forward):
    """canonical layer -> its output for one eager forward pass, each layer's class __call__ wrapped meanwhile (Flax
    NNX and tf.Module layers: a native verify module's layer_outputs)."""
    model, found = trainer.model, {}
    watched = dict((id(getattr(model, top)), layer) for layer, top in tops.items())
    classes = set(type(getattr(model, top)) for top in tops.values())
    saved = dict((cls, cls.__dict__.get("__call__")) for cls in classes)
    for cls in classes:
        def call(self, *args, _call=cls.__call__, **kwargs):
            output = _call(self, *args, **kwargs)
            if id(self) in watched:
                found[watched[id(self)]] = output
            return output
        cls.__call__ = call
    try:
        forward(trainer, inputs)
    finally:
        for cls, call in saved.items():
            if call is None:
                del cls.__call__
            else:
                cls.__call__ = call
    return found


def layer_outputs(native, trainer, inputs, workload_id, hp):
    """canonical layer -> that layer's output for the batch in inference mode, where the framework shows it (its
    verify module's layer_outputs: a torch forward hook, the Flax or tf.Module layer's __call__ watched for one
    forward pass, a Keras model of the layers' outputs); a layer it cannot show is left out, and so is everything on
    any error: the parent compares the layers both frameworks of a pair show, to name the first that diverges."""
    try:
        tops = native_layers(native, trainer.model, workload_id, hp)
    except Exception:
        return {}
    layers = {}
    for layer, output in native.layer_outputs(trainer, inputs, tops).items():
        try:
            layers[layer] = first_array(output)
        except Exception:  # a traced value (the layer ran under a transform): not shown
            pass
    return layers


def _numpy(outputs):
    """One output, or several heads (char_embed_lstm's main and aux) stacked: (heads, N, classes)."""
    if isinstance(outputs, (list, tuple)):
        return np.stack([np.asarray(o) for o in outputs])
    return np.asarray(outputs)


def verify_one(framework, adapter, settings, in_path, out_path, override, with_layers):
    with np.load(in_path, allow_pickle=False) as archive:
        arrays = dict((name, archive[name]) for name in archive.files)
    meta = json.loads(str(arrays["meta"]))
    workload_id, seed = meta["workload"], meta["seed"]
    workload = workloads.get(workload_id)
    hp = Hyper(**meta["hp"])  # the parent's: dropout 0, data-dependent sizes resolved
    layout = adapter.layout
    inputs = [arrays["inputs/%s/%d" % (layout, i)] for i in range(meta["inputs"])]
    targets = [arrays["targets/%d" % i] for i in range(meta["targets"])]
    weights = collections.OrderedDict((name, arrays["weights/" + name]) for name in canonical.shapes(workload_id, hp))

    module = workloads.framework_module(workload_id, framework)
    trainer = adapter.trainer(module, workload.SPEC.with_hp(hp), settings, InputPipeline(None, layout))
    native = converter_for(framework)  # how the model runs and shows its layers
    convert = converter_for(framework, override)  # how the weights load (the tests' --converter is broken on purpose)
    convert.from_canonical(trainer.model, workload_id, hp, weights)
    for name, value in convert.to_canonical(trainer.model, workload_id, hp).items():
        if not np.array_equal(value, weights[name]):
            raise ValueError("%s: %s does not read back as it was loaded (the converter's two directions "
                             "disagree)" % (framework, name))

    output = np.asarray(forward(native, trainer, inputs), dtype=np.float32)
    layers = layer_outputs(native, trainer, inputs, workload_id, hp) if with_layers else {}
    batch = Split(inputs, targets)
    loss, _ = trainer.train_epoch(batch, batch.n, np.random.RandomState(seed))
    trainer.sync()
    updated = convert.to_canonical(trainer.model, workload_id, hp)
    from dlbench.worker.process import imported_frameworks
    results = {"output": output, "logits": np.array(bool(native.LOGITS)),
               "loss": np.float64(loss), "layout": np.array(layout),
               "versions": np.array(json.dumps(imported_frameworks()))}
    results.update(("updated/" + name, value) for name, value in updated.items())
    results.update(("layer/" + name, value) for name, value in layers.items())
    np.savez(out_path, **results)


def main(argv):
    """FRAMEWORK THREADS SEED [--converter MODULE] [--layers] IN OUT [IN OUT ...]: every workload's pair of files in
    this one process (the framework is imported once). A workload that fails writes OUT + ".error" (one line) and
    the others go on."""
    framework, threads, seed = argv[0], int(argv[1]), int(argv[2])
    rest = argv[3:]
    override = None
    if rest[:1] == ["--converter"]:
        override, rest = rest[1], rest[2:]
    with_layers = rest[:1] == ["--layers"]
    rest = rest[1:] if with_layers else rest
    from dlbench.worker.settings import TrialSettings
    settings = TrialSettings(threads=threads, device="cpu", seed=seed, tier="default")
    from dlbench.worker.process import pin_threads
    pin_threads(threads)
    adapter = frameworks.load_adapter(framework)
    adapter.configure(settings)
    adapter.load(settings)
    for in_path, out_path in zip(rest[0::2], rest[1::2]):
        try:
            verify_one(framework, adapter, settings, in_path, out_path, override, with_layers)
        except Exception as exc:
            message = str(exc).strip().splitlines()
            with open(out_path + ".error", "w") as f:
                f.write("%s: %s\n" % (type(exc).__name__, message[0] if message else ""))
                f.write(traceback.format_exc()[-3000:])


if __name__ == "__main__":
    main(sys.argv[1:])

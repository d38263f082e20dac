"""The parent side of `dlbench verify` (framework-free: it never imports a framework).

For each workload: make the canonical weights (seeded) and one batch of the workload's synthetic data, write them to
a temporary .npz; then run one worker process per framework (dlbench.verify.worker) over every workload's file, and
compare every pair of frameworks from the arrays they saved.

What is compared, and the float32 tolerances (a pair passes a phase when every element satisfies
|a - b| <= atol + rtol * |b|, b the earlier framework's value):
  forward  the model's output probabilities in inference mode          rtol 1e-4, atol 1e-5
  loss     the training loss of the step (before the update)           rtol 1e-5, atol 1e-6
  update   each weight's change in one optimizer step (new - old),      rtol 1e-3, atol 1e-3 * max |change| of that
           weight by weight in canonical order                          weight in the reference; Adam: plus, per
                                                                        element, 0.1 * lr * (1 - |change| / lr)^2
Why these: float32 has a 6e-8 unit roundoff; frameworks sum in different orders (BLAS blocking, oneDNN vs XLA
convolutions, a fused LSTM against a scanned one), which moves outputs by 1e-7..1e-6 after a few layers and a
100-step recurrence, so 1e-4 relative leaves two orders of margin while a transposed kernel, a swapped gate or a
missing bias moves outputs by 1e-2 or more. The update is compared as the change, not the new weight: the change
(lr-sized) is where an optimizer's semantics live (epsilon inside or outside the root, momentum form, Keras 2's
decay), and on the weight itself a 10% error in a 1e-4 step hides below the weight's own float32 rounding.
A change is the optimizer's function of the gradient, so it differs between frameworks by that function's slope
times the gradients' roundoff. SGD with momentum's first step is lr * g; RMSprop's and Adadelta's (Keras's, epsilon
inside the root) are lr * g / sqrt((1 - rho) g^2 + eps) and alike, whose slope stays within lr / sqrt(eps): every
pair of the six frameworks agrees within 7.5e-5 of the largest change on those workloads (measured; cifar10_vgg and
cifar10_cnn the most), hence atol 1e-3 of it for every workload.
Adam's first step (Keras's rule: epsilon outside the root, the bias correction folded into the rate) is
lr * g / (|g| + eps'), eps' = eps / sqrt(1 - beta_2) (3.2e-6 at eps 1e-7, 3.2e-7 at imdb_gru's 1e-8), whose slope
lr / eps' * (1 - |change| / lr)^2 reaches 316 (3,162) where the gradient is near zero: there an element moves by that
times its gradient's roundoff. Measured on char_embed_lstm's LSTM kernel (gradients up to 1e-1, summed over 40 steps
and 8 samples): elements whose gradient is 1e-7..2e-6 differ by up to 7e-8 between every pair of frameworks (keras-jax
and jax, which share XLA, as much as native TensorFlow against the rest), which moves their change by up to 1.4% of
lr (imdb_gru: 0.3%). So an Adam workload's update allows, per element, what a gradient difference of 0.1 eps' moves
its change by: 0.1 * lr * (1 - |change| / lr)^2 more (0.1 lr where the change is near 0, nothing where it is the
full lr; ADAM_FIRST_STEP). A wrong rule still shows: epsilon after the bias correction (torch.optim.Adam, optax.adam)
is a 31.6 times smaller eps', which moves an element whose gradient is eps' from 0.5 lr to 0.97 lr (allowed 0.025
lr); a missing bias correction multiplies every change by 3.16.
Keras's cross-entropy clips probabilities to [1e-7, 1 - 1e-7] where the native versions fuse softmax into the loss;
the weights are scaled so that no probability of the batch comes near the clip, where the two are the same math.
"""
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from dlbench import data, frameworks, workloads
from dlbench.verify import canonical

TOLERANCES = {"forward": (1e-4, 1e-5), "loss": (1e-5, 1e-6), "update": (1e-3, 1e-3)}
ADAM_FIRST_STEP = 0.1  # the gradient difference, in units of eps', that Adam's first step may amplify
PHASES = ("forward", "loss", "update")
DEFAULT_SAMPLES = 8


def tolerance_text(phase, workload=None):
    rtol, atol = TOLERANCES[phase]
    if phase != "update":
        return "rtol %g, atol %g" % (rtol, atol)
    text = "rtol %g, atol %g x max|change|" % (rtol, atol)
    if workload and canonical.optimizer(workload) in ("adam", "adamw"):
        text += (" + %g lr (1 - |change|/lr)^2 per element (Adam's first step, lr g / (|g| + eps'), multiplies the "
                 "gradients' roundoff by up to lr / eps' where g is near 0)" % ADAM_FIRST_STEP)
    return text


def update_allowance(workload, hp, expected):
    """The per-element tolerance an optimizer's first step adds to the update's (0 but for Adam): for Adam, the
    change that a gradient difference of ADAM_FIRST_STEP * eps' makes, ADAM_FIRST_STEP * lr * (1 - |change|/lr)^2
    (module docstring). hp: the workload's hyperparameters (learning_rate; Keras 2's decay is 1 at the first step)."""
    if workload is None or canonical.optimizer(workload) not in ("adam", "adamw"):  # AdamW: the same first step
        return 0.0
    lr = float(hp.learning_rate)
    full = np.minimum(np.abs(expected) / lr, 1.0)
    return ADAM_FIRST_STEP * lr * (1.0 - full) ** 2


def prepare(workload_id, path, samples=DEFAULT_SAMPLES, seed=0, threads=1):
    """Write the worker's input .npz; return the canonical weights."""
    workload = workloads.get(workload_id)
    spec = workload.SPEC
    dataset = data.dataset_module(spec.dataset).load("synthetic", samples, seed=seed)
    arrays = {}
    for layout in ("channels_last", "channels_first"):
        train = workload.splits(dataset, layout)[0].take(np.arange(samples))
        arrays.update(("inputs/%s/%d" % (layout, i), a) for i, a in enumerate(train.inputs))
    # sizes that depend on the data (imdb_fasttext's bigram vocabulary) go to the workers with the batch
    hp = canonical.without_dropout(workload.hyper(dataset))
    arrays.update(("targets/%d" % i, a) for i, a in enumerate(train.targets))
    weights = canonical.random_weights(workload_id, hp, seed)
    arrays.update(("weights/" + name, a) for name, a in weights.items())
    arrays["meta"] = np.array(json.dumps({"workload": workload_id, "seed": seed, "threads": threads,
                                          "inputs": len(train.inputs), "targets": len(train.targets),
                                          "hp": hp.as_dict()}))
    np.savez(path, **arrays)
    return weights, hp


def run_worker(framework, pairs, threads, seed, converter=None, layers=False, timeout=1800):
    """One framework's worker over every workload's (in, out) files (layers: with each layer's output too). Returns
    None when it ran (a workload that failed inside it left OUT.error), else a one-line error."""
    command = [sys.executable, "-m", "dlbench.verify.worker", framework, str(threads), str(seed)]
    command += ["--converter", converter] if converter else []
    command += ["--layers"] if layers else []
    for in_path, out_path in pairs:
        command += [in_path, out_path]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "the worker did not finish in %d s" % timeout
    if done.returncode != 0:
        lines = [l for l in done.stderr.strip().splitlines() if l.strip()]
        return "worker exited with %d: %s" % (done.returncode, lines[-1] if lines else "no output")
    return None


def load_result(workload_id, path):
    with np.load(path, allow_pickle=False) as archive:
        found = dict((name, archive[name]) for name in archive.files)
    return {"output": canonical.probabilities(workload_id, found["output"], bool(found["logits"])),
            "loss": float(found["loss"]), "versions": json.loads(str(found["versions"])),
            "updated": dict((n[len("updated/"):], a) for n, a in found.items() if n.startswith("updated/")),
            "layers": dict((n[len("layer/"):], a) for n, a in found.items() if n.startswith("layer/")),
            "layout": str(found["layout"])}


LAYER_TOLERANCE = (1e-4, 1e-4)  # rtol, atol x max |output| of the layer in the reference


def _activation(x, layout):
    """A layer's output in channels-last order (a channels-first framework's conv features transposed)."""
    x = np.asarray(x, dtype=np.float64)
    return x.transpose(0, 2, 3, 1) if layout == "channels_first" and x.ndim == 4 else x


def _matched(a, b):
    """The two outputs of one layer in a common shape, or None: the same shape; or a recurrent layer's whole
    sequence (N, T, H) against the last state (N, H) another framework returns (its last step); or the same
    elements in another grouping (PyTorch's rows of every image at once, (N * rows, H), against Keras's
    TimeDistributed (N, rows, H))."""
    last = lambda x: x[:, -1] if x.ndim == 3 else None
    for x, y in ((a, b), (a, last(b)), (last(a), b), (last(a), last(b))):
        if x is not None and y is not None and x.shape == y.shape:
            return x, y
    for x, y in ((a, b), (a, last(b)), (last(a), b), (last(a), last(b))):
        if x is not None and y is not None and x.size == y.size and x.shape[-1] == y.shape[-1]:
            return x, y.reshape(x.shape)
    return None


def layer_by_layer(reference, other, order):
    """(first layer out of tolerance or None, compared layers, diverging layers): the layers' outputs both
    frameworks showed, in the model's order (order: canonical layer names)."""
    rtol, scale = LAYER_TOLERANCE
    compared, diverging = [], []
    for layer in order:
        if layer not in reference["layers"] or layer not in other["layers"]:
            continue
        pair = _matched(_activation(reference["layers"][layer], reference["layout"]),
                        _activation(other["layers"][layer], other["layout"]))
        if pair is None:
            continue
        compared.append(layer)
        if not any(_close(found, expected, rtol, scale) for expected, found in _activated(*pair)):
            diverging.append(layer)
    return (diverging[0] if diverging else None), compared, diverging


def _close(found, expected, rtol, scale):
    atol = scale * float(np.max(np.abs(expected))) if expected.size else 0.0
    return difference(found, expected, rtol, max(atol, 1e-12))[2]


def _softmax(x):
    x = np.exp(x - x.max(axis=-1, keepdims=True))
    return x / x.sum(axis=-1, keepdims=True)


def _gelu(x):
    """The exact (erf) GELU."""
    erf = np.frompyfunc(math.erf, 1, 1)
    return 0.5 * x * (1.0 + erf(np.asarray(x, np.float64) / math.sqrt(2.0)).astype(np.float64))


ACTIVATIONS = (lambda x: np.maximum(x, 0.0), _softmax, lambda x: 1.0 / (1.0 + np.exp(-x)), np.tanh, _gelu)


def _activated(a, b):
    """The pairs a layer's two outputs are compared as: as they are, or with an activation applied to one side
    (Keras folds a Dense's or Conv2D's activation into the layer, the native versions apply it after theirs): a
    layer matches when one of them is within tolerance. Localising only: the verdict is the model's output."""
    yield a, b
    for f in ACTIVATIONS:
        yield f(a), b
        yield a, f(b)


def difference(a, b, rtol, atol, extra=0.0):
    """(max |a - b|, max relative difference, ok): the relative difference |a - b| / |b| over the elements with
    |b| >= atol (below it a ratio says nothing), ok when every element is within atol + extra + rtol * |b| (extra:
    a per-element allowance, update_allowance)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf"), float("inf"), False
    gap = np.abs(a - b)
    if not np.isfinite(gap).all():  # a NaN or an infinity on either side
        return float("nan"), float("nan"), False
    size = np.abs(b)
    big = size >= max(atol, 1e-30)
    max_rel = float(np.max(gap / np.where(big, size, 1.0), where=big, initial=0.0))
    return float(gap.max()) if gap.size else 0.0, max_rel, bool(np.all(gap <= atol + extra + rtol * size))


class Updates(object):
    """Each framework's weight changes in float64 (updated - before), and the allowance of each as a reference
    (update_allowance), computed once per workload for all the pairs it is in, not again for each pair (the largest
    models have tens of millions of weights)."""

    def __init__(self, weights, workload=None, hp=None):
        self.weights, self.workload, self.hp = weights, workload, hp
        self.changes, self.allowances = {}, {}

    def change(self, result, name):
        key = (id(result), name)
        if key not in self.changes:
            self.changes[key] = result["updated"][name].astype(np.float64) - self.weights[name]
        return self.changes[key]

    def allowance(self, result, name):
        key = (id(result), name)
        if key not in self.allowances:
            self.allowances[key] = update_allowance(self.workload, self.hp, self.change(result, name))
        return self.allowances[key]

    def forget(self, result):
        """Drop what was kept for result (a reference whose pairs are all compared)."""
        for kept in (self.changes, self.allowances):
            for key in [k for k in kept if k[0] == id(result)]:
                del kept[key]


def compare(reference, other, weights, pair=(), workload=None, hp=None, updates=None):
    """Rows (phase, max_abs, max_rel, ok, divergent, note) of one framework against the reference framework's
    results; pair names the two frameworks (for the known exceptions), workload and hp give the update's
    optimizer-specific allowance (update_allowance); updates: the workload's Updates, shared by its pairs. A
    failing update names the first layer, in the model's order, with a weight out of tolerance ("layer dense2
    (dense2/kernel)") and its note lists every such layer: a layer computed wrongly moves the updates of the others
    too (its wrong outputs feed the later layers, its wrong backward pass the earlier ones), so the list is the
    whole of what diverged."""
    updates = updates or Updates(weights, workload, hp)
    rows = []
    rtol, atol = TOLERANCES["forward"]
    max_abs, max_rel, ok = difference(other["output"], reference["output"], rtol, atol)
    divergent, note = None, None
    if not ok:
        order = list(collections.OrderedDict((canonical.layer_of(n), None) for n in weights))
        first, compared, diverging = layer_by_layer(reference, other, order)
        divergent = "output"
        if first:  # the first compared layer out of tolerance; a layer before it that was not compared may be first
            unseen = [l for l in order[:order.index(first)] if l not in compared]
            divergent = "layer %s" % first + (" (or the uncompared %s)" % ", ".join(unseen) if unseen else "")
        note = "layer outputs compared (rtol %g, atol %g x max|output|): %s; out of tolerance: %s" % (
            LAYER_TOLERANCE + (", ".join(compared) or "none", ", ".join(diverging) or "none"))
    rows.append(dict(phase="forward", max_abs=max_abs, max_rel=max_rel, ok=ok, divergent=divergent, note=note))
    rtol, atol = TOLERANCES["loss"]
    max_abs, max_rel, ok = difference(other["loss"], reference["loss"], rtol, atol)
    rows.append(dict(phase="loss", max_abs=max_abs, max_rel=max_rel, ok=ok, divergent=None if ok else "loss",
                     note=None))
    rtol, scale = TOLERANCES["update"]
    worst_abs, worst_rel, first, notes, layers = 0.0, 0.0, None, [], []
    for name in weights:
        known = known_exception(pair, name)
        expected, found = updates.change(reference, name), updates.change(other, name)
        atol = scale * float(np.max(np.abs(expected))) if expected.size else 0.0
        max_abs, max_rel, ok = difference(found, expected, rtol, max(atol, 1e-12), updates.allowance(reference, name))
        if known:  # stated, measured, and left out of the pass decision (not a looser tolerance for everyone)
            notes.append("%s: max abs %.1e, not compared: %s" % (name, max_abs, known))
            continue
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        if not ok:
            first = first or name
            if canonical.layer_of(name) not in layers:
                layers.append(canonical.layer_of(name))
    if layers:
        notes.insert(0, "layers whose update diverges, in the model's order: %s (of %s)" % (
            ", ".join(layers), ", ".join(sorted(set(map(canonical.layer_of, weights)),
                                                key=[canonical.layer_of(n) for n in weights].index))))
    rows.append(dict(phase="update", max_abs=worst_abs, max_rel=worst_rel, ok=first is None,
                     divergent=first and "layer %s (%s)" % (canonical.layer_of(first), first),
                     note="; ".join(notes) or None))
    return rows


# Exact-match exceptions, from the declarations (Framework.verify_exceptions): (framework, canonical weight name
# suffix) -> why that weight's update cannot match.
KNOWN_EXCEPTIONS = dict(((f.id, suffix), why) for f in frameworks.FRAMEWORKS.values()
                        for suffix, why in f.verify_exceptions.items())


def known_exception(pair, name):
    for (framework, suffix), note in KNOWN_EXCEPTIONS.items():
        if framework in pair and name.endswith(suffix):
            return "%s (%s)" % (note, framework)
    return None


def pairs_of(workload_id, framework_ids, results, errors, weights, hp=None):
    """Rows comparing every pair of frameworks on one workload (the earlier framework is the pair's reference)."""
    rows, updates = [], Updates(weights, workload_id, hp)
    for i, reference in enumerate(framework_ids):
        for framework in framework_ids[i + 1:]:
            base = dict(workload=workload_id, framework=framework, reference=reference)
            failed = [f for f in (reference, framework) if f in errors]
            if failed:
                rows.append(dict(base, phase="run", max_abs=None, max_rel=None, tolerance=None, ok=False,
                                 divergent=None, note="; ".join("%s: %s" % (f, errors[f]) for f in failed)))
                continue
            for row in compare(results[reference], results[framework], weights, (reference, framework),
                               workload_id, hp, updates):
                rows.append(dict(base, tolerance=tolerance_text(row["phase"], workload_id), **row))
        if reference in results:
            updates.forget(results[reference])
    return rows


def run_workers(workload_ids, framework_ids, folder, threads, seed, converters, progress=None, layers=False):
    """One worker process per framework over every workload's input file in folder. Returns (results, failed):
    workload -> framework -> its loaded result, or its one-line error."""
    results = dict((w, {}) for w in workload_ids)
    failed = dict((w, {}) for w in workload_ids)
    for framework in framework_ids:
        if progress:
            progress(framework)
        outs = dict((w, os.path.join(folder, "%s.%s.out.npz" % (w, framework))) for w in workload_ids)
        error = run_worker(framework, [(os.path.join(folder, w + ".in.npz"), outs[w]) for w in workload_ids],
                           threads, seed, converters.get(framework), layers)
        for w in workload_ids:
            if error is None and os.path.exists(outs[w]):
                results[w][framework] = load_result(w, outs[w])
            elif error is None and os.path.exists(outs[w] + ".error"):
                with open(outs[w] + ".error") as f:
                    failed[w][framework] = f.readline().strip()
            else:
                failed[w][framework] = error or "the worker wrote no result"
    return results, failed


def verify(workload_ids, framework_ids, samples=DEFAULT_SAMPLES, seed=0, threads=1, converters=None, progress=None):
    """Prepare every workload's inputs, run one worker process per framework over all of them, compare every pair;
    where a pair's forward outputs differ, run the frameworks of that workload again with their layers' outputs, to
    name the first layer that diverges. Returns (rows, versions by framework, errors by (workload, framework))."""
    converters = converters or {}
    rows, versions, errors = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="dlbench-verify-") as folder:
        weights, hps = {}, {}
        for workload_id in workload_ids:
            weights[workload_id], hps[workload_id] = prepare(workload_id, os.path.join(folder, workload_id + ".in.npz"),
                                           samples=samples, seed=seed, threads=threads)
        results, failed = run_workers(workload_ids, framework_ids, folder, threads, seed, converters, progress)
        compared = dict((w, pairs_of(w, framework_ids, results[w], failed[w], weights[w], hps[w]))
                        for w in workload_ids)
        failing = [r for w in workload_ids for r in compared[w] if r["phase"] == "forward" and not r["ok"]]
        if failing:
            diverged = [w for w in workload_ids if any(r["workload"] == w for r in failing)]
            involved = [f for f in framework_ids if any(f in (r["reference"], r["framework"]) for r in failing)]
            again, _ = run_workers(diverged, involved, folder, threads, seed, converters, progress, layers=True)
            for w in diverged:
                results[w].update(again[w])
                compared[w] = pairs_of(w, framework_ids, results[w], failed[w], weights[w], hps[w])
        for w in workload_ids:
            rows.extend(compared[w])
            errors.update(((w, f), e) for f, e in failed[w].items())
            for f, result in results[w].items():
                versions.setdefault(f, result["versions"])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    for row in rows:
        row["verified_at"] = stamp
    return rows, versions, errors

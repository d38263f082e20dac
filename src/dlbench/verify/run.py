"""The parent side of `dlbench verify` (framework-free: it never imports a framework).

For each workload: make the canonical weights (seeded) and one batch of the workload's synthetic data, write them to
a temporary .npz; then run one worker process per framework (dlbench.verify.worker) over every workload's file, and
compare every pair of frameworks from the arrays they saved.

What is compared, and the float32 tolerances (a pair passes a phase when every element satisfies
|a - b| <= atol + rtol * |b|, b the earlier framework's value):
  forward  the model's output probabilities in inference mode          rtol 1e-4, atol 1e-5
  loss     the training loss of the step (before the update)           rtol 1e-5, atol 1e-6
  update   each weight's change in one optimizer step (new - old),      rtol 1e-3, atol 1e-2 * max |change| of that
           weight by weight in canonical order                          weight in the reference
Why these: float32 has a 6e-8 unit roundoff; frameworks sum in different orders (BLAS blocking, oneDNN vs XLA
convolutions, a fused LSTM against a scanned one), which moves outputs by 1e-7..1e-6 after a few layers and a
100-step recurrence, so 1e-4 relative leaves two orders of margin while a transposed kernel, a swapped gate or a
missing bias moves outputs by 1e-2 or more. The update is compared as the change, not the new weight: the change
(lr-sized) is where an optimizer's semantics live (epsilon inside or outside the root, momentum form, Keras 2's
decay), and on the weight itself a 10% error in a 1e-4 step hides below the weight's own float32 rounding. A change is
an optimizer's function of the gradient, and Adam's first step is lr * g / (|g| + eps): an element whose gradient is
near eps moves by lr * dg / eps for a roundoff dg, 1e5 * dg with imdb_gru's eps 1e-8. There, gradients that differ
by 1e-11 of summation order move the GRU kernel's update by up to 3e-3 of its largest change (measured, also between
keras-jax and jax, which share XLA), hence atol 1e-2 of the largest change; a wrong rule (bias correction, epsilon,
momentum form) moves the large elements, which rtol 1e-3 holds.
Keras's cross-entropy clips probabilities to [1e-7, 1 - 1e-7] where the native versions fuse softmax into the loss;
the weights are scaled so that no probability of the batch comes near the clip, where the two are the same math.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from dlbench import data, workloads
from dlbench.verify import canonical

TOLERANCES = {"forward": (1e-4, 1e-5), "loss": (1e-5, 1e-6), "update": (1e-3, 1e-2)}
PHASES = ("forward", "loss", "update")
DEFAULT_SAMPLES = 8


def tolerance_text(phase):
    rtol, atol = TOLERANCES[phase]
    if phase == "update":
        return "rtol %g, atol %g x max|change|" % (rtol, atol)
    return "rtol %g, atol %g" % (rtol, atol)


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
    hp = canonical.without_dropout(workload.hyper(dataset) if hasattr(workload, "hyper") else spec.hp)
    arrays.update(("targets/%d" % i, a) for i, a in enumerate(train.targets))
    weights = canonical.random_weights(workload_id, hp, seed)
    arrays.update(("weights/" + name, a) for name, a in weights.items())
    arrays["meta"] = np.array(json.dumps({"workload": workload_id, "seed": seed, "threads": threads,
                                          "inputs": len(train.inputs), "targets": len(train.targets),
                                          "hp": hp.as_dict()}))
    np.savez(path, **arrays)
    return weights, hp


def run_worker(framework, pairs, threads, seed, converter=None, timeout=1800):
    """One framework's worker over every workload's (in, out) files. Returns None when it ran (a workload that
    failed inside it left OUT.error), else a one-line error."""
    command = [sys.executable, "-m", "dlbench.verify.worker", framework, str(threads), str(seed)]
    command += ["--converter", converter] if converter else []
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
            "updated": dict((n[len("updated/"):], a) for n, a in found.items() if n.startswith("updated/"))}


def difference(a, b, rtol, atol):
    """(max |a - b|, max relative difference, ok): the relative difference |a - b| / |b| over the elements with
    |b| >= atol (below it a ratio says nothing), ok when every element is within atol + rtol * |b|."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf"), float("inf"), False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan"), float("nan"), False
    gap = np.abs(a - b)
    big = np.abs(b) >= max(atol, 1e-30)
    max_rel = float(np.max(gap[big] / np.abs(b[big]))) if big.any() else 0.0
    return float(gap.max()) if gap.size else 0.0, max_rel, bool(np.all(gap <= atol + rtol * np.abs(b)))


def compare(reference, other, weights, pair=()):
    """Rows (phase, max_abs, max_rel, ok, divergent, note) of one framework against the reference framework's
    results; pair names the two frameworks (for the known exceptions)."""
    rows = []
    rtol, atol = TOLERANCES["forward"]
    max_abs, max_rel, ok = difference(other["output"], reference["output"], rtol, atol)
    rows.append(dict(phase="forward", max_abs=max_abs, max_rel=max_rel, ok=ok, divergent=None if ok else "output",
                     note=None))
    rtol, atol = TOLERANCES["loss"]
    max_abs, max_rel, ok = difference(other["loss"], reference["loss"], rtol, atol)
    rows.append(dict(phase="loss", max_abs=max_abs, max_rel=max_rel, ok=ok, divergent=None if ok else "loss",
                     note=None))
    rtol, scale = TOLERANCES["update"]
    worst_abs, worst_rel, first, notes = 0.0, 0.0, None, []
    for name, before in weights.items():
        known = known_exception(pair, name)
        expected = reference["updated"][name].astype(np.float64) - before
        found = other["updated"][name].astype(np.float64) - before
        atol = scale * float(np.max(np.abs(expected))) if expected.size else 0.0
        max_abs, max_rel, ok = difference(found, expected, rtol, max(atol, 1e-12))
        if known:  # stated, measured, and left out of the pass decision (not a looser tolerance for everyone)
            notes.append("%s: max abs %.1e, not compared: %s" % (name, max_abs, known))
            continue
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        if not ok and first is None:
            first = name
    rows.append(dict(phase="update", max_abs=worst_abs, max_rel=worst_rel, ok=first is None, divergent=first,
                     note="; ".join(notes) or None))
    return rows


# Exact-match exceptions: (framework, canonical weight name suffix) -> why that weight's update cannot match.
KNOWN_EXCEPTIONS = {
    ("keras-tensorflow", "/embeddings"):
        "Keras on TensorFlow hands an Embedding's gradient to the optimizer as tf.IndexedSlices, one slice per "
        "occurrence of an id; the rows of ids that occur more than once in the batch take a different Adam step "
        "(rows of ids that occur once match; measured on imdb_bilstm), consistent with a second moment accumulated "
        "per occurrence (sum of g_i^2) instead of over the summed gradient ((sum g_i)^2) as the dense rule does",
}


def known_exception(pair, name):
    for (framework, suffix), note in KNOWN_EXCEPTIONS.items():
        if framework in pair and name.endswith(suffix):
            return "%s (%s)" % (note, framework)
    return None


def pairs_of(workload_id, framework_ids, results, errors, weights):
    """Rows comparing every pair of frameworks on one workload (the earlier framework is the pair's reference)."""
    rows = []
    for i, reference in enumerate(framework_ids):
        for framework in framework_ids[i + 1:]:
            base = dict(workload=workload_id, framework=framework, reference=reference)
            failed = [f for f in (reference, framework) if f in errors]
            if failed:
                rows.append(dict(base, phase="run", max_abs=None, max_rel=None, tolerance=None, ok=False,
                                 divergent=None, note="; ".join("%s: %s" % (f, errors[f]) for f in failed)))
                continue
            for row in compare(results[reference], results[framework], weights, (reference, framework)):
                rows.append(dict(base, tolerance=tolerance_text(row["phase"]), **row))
    return rows


def verify(workload_ids, framework_ids, samples=DEFAULT_SAMPLES, seed=0, threads=1, converters=None, progress=None):
    """Prepare every workload's inputs, run one worker process per framework over all of them, compare every pair.
    Returns (rows, versions by framework, errors by (workload, framework))."""
    converters = converters or {}
    rows, versions, errors = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="dlbench-verify-") as folder:
        weights = {}
        for workload_id in workload_ids:
            weights[workload_id], _ = prepare(workload_id, os.path.join(folder, workload_id + ".in.npz"),
                                           samples=samples, seed=seed, threads=threads)
        results = dict((w, {}) for w in workload_ids)
        failed = dict((w, {}) for w in workload_ids)
        for framework in framework_ids:
            if progress:
                progress(framework)
            outs = dict((w, os.path.join(folder, "%s.%s.out.npz" % (w, framework))) for w in workload_ids)
            error = run_worker(framework, [(os.path.join(folder, w + ".in.npz"), outs[w]) for w in workload_ids],
                               threads, seed, converters.get(framework))
            for w in workload_ids:
                if error is None and os.path.exists(outs[w]):
                    results[w][framework] = load_result(w, outs[w])
                    versions.setdefault(framework, results[w][framework]["versions"])
                elif error is None and os.path.exists(outs[w] + ".error"):
                    with open(outs[w] + ".error") as f:
                        failed[w][framework] = f.readline().strip()
                else:
                    failed[w][framework] = error or "the worker wrote no result"
        for w in workload_ids:
            rows.extend(pairs_of(w, framework_ids, results[w], failed[w], weights[w]))
            errors.update(((w, f), e) for f, e in failed[w].items())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    for row in rows:
        row["verified_at"] = stamp
    return rows, versions, errors

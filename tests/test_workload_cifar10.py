"""cifar10_cnn and cifar10_vgg: the augmentation on its own (NumPy, and against Keras's own ImageDataGenerator), then
both workloads end to end in every training framework: the real CLI, real frameworks, the learnable synthetic
CIFAR-10, a real store. One suite (both workloads, six frameworks, one repeat, two short epochs) runs once for the
module; each test reads what it stored."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from dlbench.store import Store
from dlbench.workloads import cifar10_cnn, cifar10_vgg

from conftest import MODERN, dlbench, require_framework

FRAMEWORKS = ["keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"]
WORKLOADS = {"cifar10_cnn": cifar10_cnn, "cifar10_vgg": cifar10_vgg}
LAYOUT = {"keras-jax": "channels_last", "keras-tensorflow": "channels_last", "keras-torch": "channels_first",
          "torch": "channels_first", "jax": "channels_last", "tensorflow": "channels_last"}
SAMPLES = 512  # 102 validation images
EPOCHS = 2


# --- the augmentation ---------------------------------------------------------------------------------------

def coordinates(n, layout="channels_last"):
    """Images whose every pixel holds its own coordinate, row * 32 + column (exact in float32), in all channels:
    what an augmented image holds tells where each of its pixels came from."""
    plane = np.arange(32 * 32, dtype=np.float32).reshape(32, 32)
    images = np.broadcast_to(plane[None, :, :, None], (n, 32, 32, 3))
    if layout == "channels_first":
        images = images.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(images)


def recover(out):
    """(dy, dx, flip) of each augmented coordinate image (NHWC), read from its middle pixels."""
    rows, columns = out[:, :, :, 0] // 32, out[:, :, :, 0] % 32
    flip = columns[:, 16, 17] < columns[:, 16, 16]
    dy = 16 - rows[:, 16, 16]
    dx = np.where(flip, 31 - 16 - columns[:, 16, 16], 16 - columns[:, 16, 16])
    return dy.astype(int), dx.astype(int), flip


def reference(images, dy, dx, flip):
    """The definition, one NHWC image at a time: pad with the edge pixels, cut the shifted window, mirror."""
    out = np.empty_like(images)
    for k, image in enumerate(images):
        padded = np.pad(image, ((3, 3), (3, 3), (0, 0)), mode="edge")
        shifted = padded[3 - dy[k]:3 - dy[k] + 32, 3 - dx[k]:3 - dx[k] + 32]
        out[k] = shifted[:, ::-1] if flip[k] else shifted
    return out


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_augment_keeps_shape_dtype_other_inputs_and_the_original(layout):
    images = np.random.RandomState(0).rand(32, 32, 32, 3).astype(np.float32)
    if layout == "channels_first":
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    before = images.copy()
    extra = np.arange(32)
    out = cifar10_cnn.augment([images, extra], np.random.RandomState(1), layout)
    assert len(out) == 2 and out[1] is extra
    assert out[0].shape == images.shape and out[0].dtype == np.float32
    assert np.array_equal(images, before)
    assert not np.array_equal(out[0], images)
    # A shift and a flip only move pixels: each output pixel is a pixel of the same image and channel.
    assert out[0].min() >= images.min() and out[0].max() <= images.max()


def test_augment_is_deterministic_for_a_seed_and_respects_the_layout():
    nhwc = np.random.RandomState(0).rand(64, 32, 32, 3).astype(np.float32)
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    a = cifar10_cnn.augment([nhwc], np.random.RandomState(7), "channels_last")[0]
    b = cifar10_cnn.augment([nhwc], np.random.RandomState(7), "channels_last")[0]
    c = cifar10_cnn.augment([nhwc], np.random.RandomState(8), "channels_last")[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # The same draws in the other layout move the same pixels: height and width are found in either layout.
    d = cifar10_cnn.augment([nchw], np.random.RandomState(7), "channels_first")[0]
    assert d.shape == (64, 3, 32, 32)
    assert np.array_equal(d.transpose(0, 2, 3, 1), a)


def test_augment_shifts_are_bounded_and_flips_happen_half_the_time():
    n = 4000
    out = cifar10_cnn.augment([coordinates(n)], np.random.RandomState(0), "channels_last")[0]
    dy, dx, flip = recover(out)
    assert 0.46 < flip.mean() < 0.54
    for shift in (dy, dx):
        assert shift.min() == -3 and shift.max() == 3  # 10% of 32 pixels, rounded
        share = np.bincount(shift + 3, minlength=7) / n
        # rint(U(-3.2, 3.2)): 0 and +-1, +-2 each 1/6.4 of the time, +-3 0.7/6.4 of it
        assert np.allclose(share, np.array([0.7, 1, 1, 1, 1, 1, 0.7]) / 6.4, atol=0.025)
    assert abs(np.corrcoef(dy, dx)[0, 1]) < 0.1  # the two axes are drawn independently
    # Every pixel follows the definition, borders (nearest fill) included.
    assert np.array_equal(out, reference(coordinates(n), dy, dx, flip))


def test_augment_cost_is_small():
    images = np.random.RandomState(0).rand(32, 32, 32, 3).astype(np.float32)
    rng = np.random.RandomState(0)
    started = time.perf_counter()
    for _ in range(200):
        cifar10_cnn.augment([images], rng, "channels_last")
    per_batch = (time.perf_counter() - started) / 200
    assert per_batch < 0.025, "%.1f ms per batch of 32 (about 1 ms when idle)" % (per_batch * 1e3)


KERAS_SCRIPT = """
import sys, numpy as np
from keras.src.legacy.preprocessing.image import ImageDataGenerator
folder = sys.argv[1]
images, dy, dx, flip = (np.load(folder + "/%s.npy" % name) for name in ("images", "dy", "dx", "flip"))
generator = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True,
                               fill_mode="nearest", interpolation_order=0, data_format="channels_last")
# Keras's tx moves columns and ty rows, each by minus its value: out[i, j] = image[i + ty, j + tx].
out = np.stack([generator.apply_transform(image, {"tx": -dx[k], "ty": -dy[k], "flip_horizontal": bool(flip[k])})
                for k, image in enumerate(images)])
np.save(folder + "/keras.npy", out)
"""


def test_augment_is_keras_image_data_generator_with_nearest_neighbour_resampling(tmp_path):
    """Keras's own ImageDataGenerator (its legacy copy in Keras 3) with Keras 2.0's order-0 resampling, given the
    same fractional shifts, produces exactly our whole-pixel shifts (fill 'nearest', flip after the shift)."""
    require_framework("keras-jax")
    pytest.importorskip("scipy")
    rng = np.random.RandomState(3)
    n = 40
    images = rng.rand(n, 32, 32, 3).astype(np.float32)
    dy_drawn, dx_drawn = rng.uniform(-3.2, 3.2, n), rng.uniform(-3.2, 3.2, n)
    flip = rng.uniform(size=n) < 0.5
    for name, array in (("images", images), ("dy", dy_drawn), ("dx", dx_drawn), ("flip", flip)):
        np.save(str(tmp_path / (name + ".npy")), array)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = cifar10_cnn.shift_and_flip(images, np.rint(dy_drawn).astype(np.intp), np.rint(dx_drawn).astype(np.intp),
                                      flip, "channels_last")
    assert np.array_equal(ours, np.load(str(tmp_path / "keras.npy")))


# --- the same function in every framework -------------------------------------------------------------------

SAME_FUNCTION_SCRIPT = """
import json, sys, numpy as np
import torch, jax.numpy as jnp, tensorflow as tf, keras
from flax import nnx
from dlbench.workloads import get, framework_module

keras.config.set_image_data_format("channels_first")  # Keras on torch runs channels-first, as in the benchmark
x = np.random.RandomState(0).rand(4, 32, 32, 3).astype(np.float32)
report = {}
for workload in ("cifar10_cnn", "cifar10_vgg"):
    hp = get(workload).SPEC.hp
    torch_model = framework_module(workload, "torch").build(hp)[0].eval()
    with torch.no_grad():
        logits = torch_model(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))).numpy()
    # The torch weights in every other framework's shapes: conv (out, in, kh, kw) -> (kh, kw, in, out); dense1's
    # rows reordered from torch's (C, H, W) flatten to the channels-last (H, W, C) one.
    side = int(round((hp.flat // hp.filters2) ** 0.5))
    weights = {}
    for name in ("conv1", "conv2", "conv3", "conv4", "dense1", "dense2"):
        layer = getattr(torch_model, name)
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        weights[name] = (w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.T, b)
    dense1_chw = weights["dense1"][0]
    weights["dense1"] = (dense1_chw.reshape(hp.filters2, side, side, -1).transpose(1, 2, 0, 3).reshape(hp.flat, -1),
                         weights["dense1"][1])

    jax_model = framework_module(workload, "jax").build(hp, nnx.Rngs(params=0, dropout=1))[0]
    tf_model = framework_module(workload, "tensorflow").build(hp, tf.random.Generator.from_seed(0))[0]
    for name, (w, b) in weights.items():
        getattr(jax_model, name).kernel.value = jnp.asarray(w)
        getattr(jax_model, name).bias.value = jnp.asarray(b)
        getattr(tf_model, name).kernel.assign(w)
        getattr(tf_model, name).bias.assign(b)
    jax_model.eval()
    outputs = {"jax": np.asarray(jax_model(jnp.asarray(x))),
               "tensorflow": tf_model(tf.constant(x), training=False).numpy()}

    keras_model = framework_module(workload, "keras-torch").build(hp)
    layers = [layer for layer in keras_model.layers if layer.weights]
    for layer, name in zip(layers, ("conv1", "conv2", "conv3", "conv4", "dense1", "dense2")):
        w, b = weights[name]
        layer.set_weights([dense1_chw if name == "dense1" else w, b])  # Keras channels-first flattens as torch
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    probabilities = keras.ops.convert_to_numpy(keras_model(nchw, training=False))
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    report[workload] = dict((name, float(np.abs(out - logits).max())) for name, out in outputs.items())
    report[workload]["keras-torch"] = float(np.abs(probabilities - softmax).max())
    report[workload]["spread"] = float(logits.std())
print(json.dumps(report))
"""


def test_every_version_computes_the_same_function():
    """The torch weights, copied into the JAX, native TensorFlow and Keras (torch backend, channels-first) models,
    give the same outputs on the same images in inference mode: the same layers in the same order, relu where
    the spec has it, and flatten orders that differ only by the permutation the docstrings state."""
    for framework in ("torch", "jax", "tensorflow", "keras-torch"):
        require_framework(framework)
    env = dict(os.environ, KERAS_BACKEND="torch", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, "-c", SAME_FUNCTION_SCRIPT], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    for workload, differences in report.items():
        assert differences.pop("spread") > 1e-3, workload  # the logits are not all alike: the check has teeth
        for framework, difference in differences.items():
            assert difference < 1e-4, (workload, framework, difference)


# --- both workloads in every framework ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    store_path = tmp_path_factory.mktemp("cifar10") / "dlbench.sqlite"
    result = dlbench("run", "--workloads", "cifar10_cnn,cifar10_vgg", "--frameworks", ",".join(MODERN), "--data", "synthetic",
                     "--samples", SAMPLES, "--epochs", EPOCHS, "--repeats", 1, "--threads", 1,
                     "--store", store_path, "--json")
    store = Store(store_path)
    runs = store.runs()
    return {"result": result, "runs": runs, "epochs": store.epochs([r["id"] for r in runs])}


def the_run(suite, workload, framework):
    require_framework(framework)
    runs = [r for r in suite["runs"] if r["workload"] == workload and r["framework"] == framework]
    assert len(runs) == 1, suite["result"].stderr[-3000:]
    run = runs[0]
    assert run["status"] == "ok", (run["error"], run["detail"])
    return run, suite["epochs"][run["id"]]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_trains_with_the_spec_s_parameters_and_layout(suite, workload, framework):
    run, epochs = the_run(suite, workload, framework)
    spec = WORKLOADS[workload].SPEC
    assert run["params_total"] == spec.params and run["params_trainable"] == spec.trainable_params
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
    for e in epochs:
        assert e["train_seconds"] > 0 and e["eval_seconds"] > 0 and e["samples_per_second"] > 0
        assert np.isfinite(e["loss"]) and np.isfinite(e["val_loss"])
    env = run["env"]
    assert env["layout"] == LAYOUT[framework]
    assert (env["n_train"], env["n_val"]) == (SAMPLES, round(SAMPLES / 5))
    assert env["augmentation"] is (workload == "cifar10_cnn")
    if workload == "cifar10_cnn":
        # The augmentation runs in dlbench's input pipeline in every framework (a PyDataset for Keras): measured.
        for e in epochs:
            assert 0 < e["input_seconds"] < e["train_seconds"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_learns_the_synthetic_set(suite, workload, framework):
    """Chance is 10%; two epochs of 512 learnable synthetic images reach well above it (about 50-100%)."""
    run, epochs = the_run(suite, workload, framework)
    assert epochs[-1]["val_accuracy"] > 0.4, [round(e["val_accuracy"], 3) for e in epochs]
    assert epochs[-1]["loss"] < epochs[0]["loss"]


def test_the_summary_has_both_workloads_in_every_framework(suite):
    for framework in FRAMEWORKS:
        require_framework(framework)
    result = suite["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout)
    assert sorted((row["workload"], row["framework"]) for row in rows) == sorted(
        (w, f) for w in WORKLOADS for f in FRAMEWORKS)

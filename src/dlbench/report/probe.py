"""Feature probes that run INSIDE a subprocess, one per framework: `python -m dlbench.report.probe FRAMEWORK_ID`.

This module imports the framework it probes, so the parent process never imports it: dlbench.report.features starts
it with a timeout and reads its answers. Each answer is one line on stdout, `DLBENCH-PROBE {json}`, printed as soon
as it is known, so that a probe that hangs or crashes still leaves the answers before it.

Every probe runs a tiny real computation and checks its result; an answer is
  {"feature": ..., "value": "yes" | "no" | "partly" | "unknown" | <a number>, "detail": what was run or what failed}.
"""
import importlib.util
import json
import os
import re
import sys
import tempfile
import traceback

import numpy as np

MARKER = "DLBENCH-PROBE "
FEATURES = ("autodiff", "jit", "bf16", "onnx", "gpus", "keras_backend")


def emit(feature, value, detail="", error=None):
    answer = {"feature": feature, "value": value, "detail": detail}
    if error:
        answer["error"] = error
    sys.stdout.write(MARKER + json.dumps(answer) + "\n")
    sys.stdout.flush()


def one_line(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0][:200] if text else "")


def missing_package(exc):
    """The package an exporter says it needs, from the exception (ModuleNotFoundError.name, or its message)."""
    for error in _chain(exc):
        name = getattr(error, "name", None)
        if isinstance(error, ImportError) and name:
            return name.split(".")[0]
        text = str(error)
        for pattern in (r"pip install [`'\"]?([A-Za-z0-9_.\-]+)", r"[Mm]odule '?([A-Za-z0-9_.\-]+)'? is not installed",
                        r"No module named '([A-Za-z0-9_.\-]+)'", r"requires the ([A-Za-z0-9_.\-]+) module"):
            found = re.search(pattern, text)
            if found:
                return found.group(1).split(".")[0]
    return None


def _chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def probe(feature, function):
    """Run one probe; whatever it raises becomes an honest answer instead of ending the others."""
    error = None
    try:
        value, detail = function()
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never crashes the others
        error = one_line(exc)
        needed = missing_package(exc) if feature == "onnx" else None
        if needed:
            value, detail = "no", "needs %s" % needed  # the exporter is not installed: that is the answer
        else:
            value, detail = "no", error
            sys.stderr.write(traceback.format_exc())
    emit(feature, value, detail, error)


def close(a, b, tolerance=1e-4):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=tolerance,
                       rtol=tolerance)


# A tiny model used by every probe: y = relu(x W1 + b1) W2 + b2, with fixed weights, so every framework computes
# the same numbers and the answer can be checked against NumPy.
RNG = np.random.RandomState(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
W1 = RNG.standard_normal((4, 8)).astype(np.float32)
B1 = RNG.standard_normal((8,)).astype(np.float32)
W2 = RNG.standard_normal((8, 2)).astype(np.float32)
B2 = RNG.standard_normal((2,)).astype(np.float32)
EXPECTED = np.maximum(X @ W1 + B1, 0) @ W2 + B2
# d/dx sum(x^3) = 3 x^2
GRAD_X = np.array([1.0, 2.0, -0.5], dtype=np.float32)
GRAD_EXPECTED = 3 * GRAD_X ** 2


def onnx_check(path):
    """After an export: run the file with onnxruntime when it is installed, otherwise say it was not verified."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return "no", "the exporter wrote no file"
    if importlib.util.find_spec("onnxruntime") is None:
        return "yes", "exported %d bytes (not run: onnxruntime is not installed)" % os.path.getsize(path)
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = session.run(None, {name: X})[0]
    if close(out, EXPECTED, 1e-3):
        return "yes", "exported and run by onnxruntime: outputs match"
    return "no", "exported, but onnxruntime's outputs differ"


# -- PyTorch ---------------------------------------------------------------------------------------------------------

def torch_probes():
    import torch

    def model():
        m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        with torch.no_grad():
            m[0].weight.copy_(torch.from_numpy(W1.T))
            m[0].bias.copy_(torch.from_numpy(B1))
            m[2].weight.copy_(torch.from_numpy(W2.T))
            m[2].bias.copy_(torch.from_numpy(B2))
        return m.eval()

    def autodiff():
        x = torch.tensor(GRAD_X, requires_grad=True)
        (grad,) = torch.autograd.grad((x ** 3).sum(), x)
        ok = close(grad.numpy(), GRAD_EXPECTED)
        return ("yes" if ok else "no"), "torch.autograd.grad of sum(x^3) " + ("= 3x^2" if ok else "is wrong")

    def jit():
        m = model()
        try:
            out = torch.compile(m)(torch.from_numpy(X)).detach().numpy()
        except Exception as exc:  # noqa: BLE001
            traced = torch.jit.trace(m, torch.from_numpy(X))
            ok = close(traced(torch.from_numpy(X)).detach().numpy(), EXPECTED)
            return ("partly" if ok else "no"), "torch.compile failed (%s); torch.jit.trace %s" % (
                one_line(exc), "works" if ok else "gives wrong outputs")
        ok = close(out, EXPECTED)
        return ("yes" if ok else "no"), "torch.compile (inductor) on a 2-layer MLP: " + (
            "outputs match eager" if ok else "outputs differ")

    def bf16():
        m = model().to(torch.bfloat16).train()
        out = m(torch.from_numpy(X).to(torch.bfloat16))
        out.float().pow(2).mean().backward()
        ok = out.dtype == torch.bfloat16 and m[0].weight.grad.dtype == torch.bfloat16 and bool(
            torch.isfinite(m[0].weight.grad.float()).all()) and close(out.float().detach().numpy(), EXPECTED, 0.1)
        return ("yes" if ok else "no"), "forward and backward in bfloat16 on the cpu"

    def onnx():
        from dlbench.inference import onnx_export  # dlbench's own export path (ONNX Runtime, OpenVINO runs)
        path = os.path.join(tempfile.mkdtemp(), "probe.onnx")
        torch.onnx.export(model(), (torch.from_numpy(X),), path, **onnx_export.torch_export_arguments())
        value, detail = onnx_check(path)
        return value, "dlbench's export path (TorchScript exporter, opset %d): %s" % (onnx_export.OPSET, detail)

    def gpus():
        count = torch.cuda.device_count()
        names = [torch.cuda.get_device_name(i) for i in range(count)]
        return count, "torch.cuda.device_count()" + (": " + ", ".join(names) if names else "")

    return [("autodiff", autodiff), ("jit", jit), ("bf16", bf16), ("gpus", gpus), ("onnx", onnx)]


# -- JAX -------------------------------------------------------------------------------------------------------------

def jax_probes():
    import jax
    import jax.numpy as jnp

    def forward(params, x):
        w1, b1, w2, b2 = params
        return jnp.maximum(x @ w1 + b1, 0) @ w2 + b2

    params = tuple(jnp.asarray(a) for a in (W1, B1, W2, B2))

    def autodiff():
        grad = jax.grad(lambda x: jnp.sum(x ** 3))(jnp.asarray(GRAD_X))
        ok = close(grad, GRAD_EXPECTED)
        return ("yes" if ok else "no"), "jax.grad of sum(x^3) " + ("= 3x^2" if ok else "is wrong")

    def jit():
        compiled = jax.jit(forward).lower(params, jnp.asarray(X)).compile()
        ok = close(compiled(params, jnp.asarray(X)), EXPECTED)
        return ("yes" if ok else "no"), "jax.jit (XLA) lowered and compiled a 2-layer MLP: " + (
            "outputs match NumPy" if ok else "outputs differ")

    def bf16():
        p16 = tuple(a.astype(jnp.bfloat16) for a in params)
        loss = lambda p: jnp.mean(forward(p, jnp.asarray(X, jnp.bfloat16)).astype(jnp.float32) ** 2)  # noqa: E731
        grads = jax.jit(jax.grad(loss))(p16)
        out = forward(p16, jnp.asarray(X, jnp.bfloat16))
        ok = out.dtype == jnp.bfloat16 and grads[0].dtype == jnp.bfloat16 and bool(
            jnp.all(jnp.isfinite(grads[0].astype(jnp.float32)))) and close(out.astype(jnp.float32), EXPECTED, 0.1)
        return ("yes" if ok else "no"), "jitted forward and gradient in bfloat16 on %s" % jax.default_backend()

    def onnx():
        if importlib.util.find_spec("jax2onnx") is None:
            return "no", "needs jax2onnx (JAX has no ONNX exporter of its own)"
        from jax2onnx import to_onnx
        path = os.path.join(tempfile.mkdtemp(), "probe.onnx")
        proto = to_onnx(lambda x: forward(params, x), [X.shape])
        with open(path, "wb") as f:
            f.write(proto.SerializeToString())
        return onnx_check(path)

    def gpus():
        try:
            devices = jax.devices("gpu")
        except RuntimeError:
            devices = []
        return len(devices), "jax.devices('gpu')" + (": " + ", ".join(d.device_kind for d in devices)
                                                     if devices else "")

    return [("autodiff", autodiff), ("jit", jit), ("bf16", bf16), ("gpus", gpus), ("onnx", onnx)]


# -- TensorFlow ------------------------------------------------------------------------------------------------------

def tensorflow_probes():
    import tensorflow as tf

    params = [tf.constant(a) for a in (W1, B1, W2, B2)]

    def forward(x, w1, b1, w2, b2):
        return tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2

    def autodiff():
        x = tf.Variable(GRAD_X)
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(x ** 3)
        ok = close(tape.gradient(y, x).numpy(), GRAD_EXPECTED)
        return ("yes" if ok else "no"), "tf.GradientTape of sum(x^3) " + ("= 3x^2" if ok else "is wrong")

    def jit():
        graph = tf.function(forward)(tf.constant(X), *params).numpy()
        try:
            xla = tf.function(forward, jit_compile=True)(tf.constant(X), *params).numpy()
        except Exception as exc:  # noqa: BLE001
            ok = close(graph, EXPECTED)
            return ("partly" if ok else "no"), "tf.function graph %s; XLA (jit_compile=True) failed: %s" % (
                "works" if ok else "gives wrong outputs", one_line(exc))
        ok = close(graph, EXPECTED) and close(xla, EXPECTED)
        return ("yes" if ok else "no"), "tf.function graph and XLA jit_compile=True on a 2-layer MLP: " + (
            "outputs match NumPy" if ok else "outputs differ")

    def bf16():
        p16 = [tf.Variable(tf.cast(a, tf.bfloat16)) for a in params]
        with tf.GradientTape() as tape:
            out = forward(tf.cast(tf.constant(X), tf.bfloat16), *p16)
            loss = tf.reduce_mean(tf.cast(out, tf.float32) ** 2)
        grads = tape.gradient(loss, p16)
        ok = out.dtype == tf.bfloat16 and grads[0].dtype == tf.bfloat16 and bool(
            tf.reduce_all(tf.math.is_finite(tf.cast(grads[0], tf.float32)))) and close(
            tf.cast(out, tf.float32).numpy(), EXPECTED, 0.1)
        return ("yes" if ok else "no"), "forward and GradientTape gradient in bfloat16"

    def onnx():
        if importlib.util.find_spec("tf2onnx") is None:
            return "no", "needs tf2onnx"
        import tf2onnx
        path = os.path.join(tempfile.mkdtemp(), "probe.onnx")
        function = tf.function(lambda x: forward(x, *params))
        tf2onnx.convert.from_function(function, input_signature=[tf.TensorSpec(X.shape, tf.float32, name="x")],
                                      output_path=path)
        return onnx_check(path)

    def gpus():
        devices = tf.config.list_physical_devices("GPU")
        return len(devices), "tf.config.list_physical_devices('GPU')"

    return [("autodiff", autodiff), ("jit", jit), ("bf16", bf16), ("gpus", gpus), ("onnx", onnx)]


# -- Keras 3 ---------------------------------------------------------------------------------------------------------

def keras_probes(backend):
    os.environ["KERAS_BACKEND"] = backend
    import keras

    def model(**compile_args):
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
        m.set_weights([W1, B1, W2, B2])
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", **compile_args)
        return m

    def keras_backend():
        found = keras.backend.backend()
        return ("yes" if found == backend else "no"), "keras.backend.backend() is %r (keras %s)" % (
            found, keras.__version__)

    def autodiff():
        # One SGD step on mse(w x, 0) with w = 0.5, x = [1, 2]: the gradient is mean(2 w x * x) = 2.5, so w -> 0.25.
        m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
            1, use_bias=False, kernel_initializer=keras.initializers.Constant(0.5))])
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        m.train_on_batch(np.array([[1.0], [2.0]], np.float32), np.zeros((2, 1), np.float32))
        w = float(np.asarray(m.get_weights()[0]).reshape(-1)[0])
        ok = abs(w - 0.25) < 1e-5
        return ("yes" if ok else "no"), "a train_on_batch SGD step through the %s backend's gradients %s" % (
            backend, "is exact" if ok else "gave w=%r, expected 0.25" % w)

    def jit():
        m = model(jit_compile=True)
        resolved = m.jit_compile
        out = np.asarray(m.predict_on_batch(X))
        m.train_on_batch(X, np.zeros((3, 2), np.float32))
        ok = close(out, EXPECTED)
        if not resolved:
            return "no", "Keras turned jit_compile=True off on the %s backend" % backend
        what = {"jax": "jax.jit (XLA)", "tensorflow": "tf.function with XLA", "torch": "torch.compile"}[backend]
        return ("yes" if ok else "no"), "compile(jit_compile=True): %s; predict and a train step %s" % (
            what, "match" if ok else "give wrong outputs")

    def bf16():
        keras.config.set_dtype_policy("mixed_bfloat16")
        try:
            m = model()
            loss = m.train_on_batch(X, np.zeros((3, 2), np.float32))
            out = m(X)
            dtype = keras.backend.standardize_dtype(out.dtype)
        finally:
            keras.config.set_dtype_policy("float32")
        ok = dtype == "bfloat16" and np.isfinite(float(np.asarray(loss).reshape(-1)[0]))
        return ("yes" if ok else "no"), "a train step under the mixed_bfloat16 policy (outputs %s)" % dtype

    def onnx():
        path = os.path.join(tempfile.mkdtemp(), "probe.onnx")
        m = model()
        m(X)  # Keras exports only a model that has been called
        m.export(path, format="onnx", verbose=False)
        return onnx_check(path)

    def gpus():
        if backend == "torch":
            import torch
            return torch.cuda.device_count(), "through torch.cuda.device_count()"
        if backend == "jax":
            import jax
            try:
                return len(jax.devices("gpu")), "through jax.devices('gpu')"
            except RuntimeError:
                return 0, "through jax.devices('gpu')"
        import tensorflow as tf
        return len(tf.config.list_physical_devices("GPU")), "through tf.config.list_physical_devices('GPU')"

    return [("keras_backend", keras_backend), ("autodiff", autodiff), ("jit", jit), ("bf16", bf16),
            ("gpus", gpus), ("onnx", onnx)]


def probes_for(framework_id):
    if framework_id.startswith("keras-"):
        return keras_probes(framework_id[len("keras-"):])
    return {"torch": torch_probes, "jax": jax_probes, "tensorflow": tensorflow_probes}[framework_id]()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python -m dlbench.report.probe FRAMEWORK_ID\n")
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        probes = probes_for(argv[1])
    except Exception as exc:  # noqa: BLE001 - the framework does not even import
        emit("import", "no", one_line(exc))
        return 1
    emit("import", "yes", "")
    for feature, function in probes:
        probe(feature, function)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Keras 3's feature probes, one backend per keras-* id: `python -m dlbench.report.probe keras-jax`
(dlbench.report.probe: the protocol, the tiny model and its expected numbers). Imports keras only when called."""
import os
import tempfile

import numpy as np

from dlbench.report.probe import B1, B2, EXPECTED, W1, W2, X, close, onnx_check


def probes(framework):
    """(feature, function) pairs for one keras-* framework, on its backend."""
    backend = framework.keras_backend
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

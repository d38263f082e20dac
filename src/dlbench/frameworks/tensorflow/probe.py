"""TensorFlow's feature probes, run by `python -m dlbench.report.probe tensorflow` (dlbench.report.probe:
the protocol, the tiny model and its expected numbers). Imports tensorflow only when called."""
import importlib.util
import os
import tempfile

from dlbench.report.probe import B1, B2, EXPECTED, GRAD_EXPECTED, GRAD_X, W1, W2, X, close, one_line, onnx_check


def probes(framework):
    """(feature, function) pairs, each run by dlbench.report.probe.probe."""
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

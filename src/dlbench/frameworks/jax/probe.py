"""JAX's feature probes, run by `python -m dlbench.report.probe jax` (dlbench.report.probe: the protocol, the
tiny model and its expected numbers). Imports jax only when called."""
import importlib.util
import os
import tempfile

from dlbench.report.probe import B1, B2, EXPECTED, GRAD_EXPECTED, GRAD_X, W1, W2, X, close, onnx_check


def probes(framework):
    """(feature, function) pairs, each run by dlbench.report.probe.probe."""
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

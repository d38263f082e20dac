"""Every framework's RMSprop follows Keras 3's rule exactly, epsilon inside the square root (WORKLOADS.md).

The gradients are small enough (1e-4) that v is comparable to epsilon: a rule with epsilon outside the root,
as torch.optim.RMSprop has, gives visibly different weights here, so these tests can fail."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from dlbench.workloads.mnist_mlp import SPEC

from conftest import require_framework

HP = SPEC.hp
W0 = np.array([0.5, -0.25, 0.125, 1.0], dtype=np.float32)
GRADS = [np.array([1e-4, -2e-4, 3e-1, 0.0], dtype=np.float32), np.array([-1e-4, 1e-4, -1e-1, 2e-4], np.float32),
         np.array([5e-5, 0.0, 2e-1, -1e-4], dtype=np.float32)]


def keras_rule():
    w, v = W0.astype(np.float64), np.zeros(4)
    for g in GRADS:
        v = HP.rho * v + (1 - HP.rho) * g.astype(np.float64) ** 2
        w = w - HP.learning_rate * g / np.sqrt(v + HP.epsilon)
    return w


def epsilon_outside_rule():
    w, v = W0.astype(np.float64), np.zeros(4)
    for g in GRADS:
        v = HP.rho * v + (1 - HP.rho) * g.astype(np.float64) ** 2
        w = w - HP.learning_rate * g / (np.sqrt(v) + HP.epsilon)
    return w


def assert_keras_rule(weights):
    np.testing.assert_allclose(weights, keras_rule(), rtol=0, atol=1e-7)


def test_the_test_can_tell_the_rules_apart():
    assert np.max(np.abs(keras_rule() - epsilon_outside_rule())) > 1e-5


def test_keras_rmsprop_is_the_reference_rule():
    require_framework("keras-jax")
    script = f"""
import json, numpy as np, keras
hp = {json.dumps(HP.as_dict())}
w = keras.Variable(np.array({W0.tolist()}, dtype="float32"))
opt = keras.optimizers.RMSprop(learning_rate=hp["learning_rate"], rho=hp["rho"], momentum=0.0,
                               epsilon=hp["epsilon"], centered=False)
for g in {[g.tolist() for g in GRADS]}:
    opt.apply([np.array(g, dtype="float32")], [w])
print(json.dumps(np.asarray(w.numpy()).tolist()))
"""
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert_keras_rule(np.array(json.loads(result.stdout.splitlines()[-1])))


def test_torch_keras_rmsprop():
    require_framework("torch")
    import torch

    from dlbench.frameworks.torch_optim import KerasRMSprop
    w = torch.nn.Parameter(torch.from_numpy(W0.copy()))
    opt = KerasRMSprop([w], lr=HP.learning_rate, rho=HP.rho, epsilon=HP.epsilon)
    for g in GRADS:
        w.grad = torch.from_numpy(g)
        opt.step()
    assert_keras_rule(w.detach().numpy())
    # torch's own RMSprop puts epsilon outside the root: it would not pass.
    w2 = torch.nn.Parameter(torch.from_numpy(W0.copy()))
    own = torch.optim.RMSprop([w2], lr=HP.learning_rate, alpha=HP.rho, eps=HP.epsilon)
    for g in GRADS:
        w2.grad = torch.from_numpy(g)
        own.step()
    with pytest.raises(AssertionError):
        assert_keras_rule(w2.detach().numpy())


def test_tensorflow_keras_rmsprop():
    require_framework("tensorflow")
    import tensorflow as tf

    from dlbench.frameworks.tf_optim import KerasRMSprop
    w = tf.Variable(W0.copy())
    opt = KerasRMSprop([w], lr=HP.learning_rate, rho=HP.rho, epsilon=HP.epsilon)
    for g in GRADS:
        opt.apply([tf.constant(g)], [w])
    assert_keras_rule(w.numpy())


def test_optax_rmsprop_as_the_jax_workload_configures_it():
    require_framework("jax")
    import jax.numpy as jnp
    import optax
    from flax import nnx

    from dlbench.workloads.mnist_mlp import jax as mlp_jax
    _, tx = mlp_jax.build(HP, nnx.Rngs(0))
    w = jnp.asarray(W0)
    state = tx.init(w)
    for g in GRADS:
        updates, state = tx.update(jnp.asarray(g), state, w)
        w = optax.apply_updates(w, updates)
    assert_keras_rule(np.asarray(w))

"""Every framework's optimizers follow Keras 3's rules exactly (WORKLOADS.md), Keras 2's per-step `decay` included.

Each rule is written once in NumPy (float64) and every implementation is compared with it over a few steps. The
gradients are small enough (1e-4) that the accumulators are comparable to epsilon: a rule with epsilon outside
the root, as torch.optim.RMSprop and Adadelta have, gives visibly different weights, so these tests can fail."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_framework

W0 = np.array([0.5, -0.25, 0.125, 1.0], dtype=np.float32)
GRADS = [np.array([1e-4, -2e-4, 3e-1, 0.0], dtype=np.float32), np.array([-1e-4, 1e-4, -1e-1, 2e-4], np.float32),
         np.array([5e-5, 0.0, 2e-1, -1e-4], dtype=np.float32)]
# name -> constants; decay is Keras 2's per-step inverse-time decay
CASES = {
    "rmsprop": dict(lr=1e-3, rho=0.9, epsilon=1e-7, decay=0.0),
    "rmsprop_decay": dict(lr=1e-3, rho=0.9, epsilon=1e-7, decay=0.5),  # a large decay, so that it shows
    "adadelta": dict(lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0),
    "sgd": dict(lr=0.01, momentum=0.9, decay=0.0),
    "adam": dict(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0),
    "adam_decay": dict(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.5),
    # keras.optimizers.AdamW; a large weight decay, so that it shows
    "adamw": dict(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0, weight_decay=0.5),
}


def reference(name, epsilon_outside=False):
    c = CASES[name]
    w = W0.astype(np.float64)
    a, b = np.zeros(4), np.zeros(4)
    root = (lambda x: np.sqrt(x) + c["epsilon"]) if epsilon_outside else (lambda x: np.sqrt(x + c["epsilon"]))
    for t, g in enumerate(GRADS):
        g = g.astype(np.float64)
        lr = c["lr"] / (1 + c["decay"] * t)
        if name.startswith("rmsprop"):
            a = c["rho"] * a + (1 - c["rho"]) * g ** 2
            w = w - lr * g / root(a)
        elif name.startswith("adam"):
            if name == "adamw":  # Keras decays the weight before its Adam step
                w = w - w * c["weight_decay"] * lr
            a = a + (1 - c["beta_1"]) * (g - a)
            b = b + (1 - c["beta_2"]) * (g ** 2 - b)
            step = t + 1
            if epsilon_outside:  # torch.optim.Adam and optax.adam: epsilon added to the bias-corrected root
                w = w - lr / (1 - c["beta_1"] ** step) * a / (np.sqrt(b / (1 - c["beta_2"] ** step)) + c["epsilon"])
            else:
                w = w - lr * np.sqrt(1 - c["beta_2"] ** step) / (1 - c["beta_1"] ** step) * a / (np.sqrt(b) + c["epsilon"])
        elif name == "adadelta":
            a = c["rho"] * a + (1 - c["rho"]) * g ** 2
            delta = -root(b) / root(a) * g
            b = c["rho"] * b + (1 - c["rho"]) * delta ** 2
            w = w + lr * delta
        else:
            a = c["momentum"] * a - lr * g
            w = w + a
    return w


def check(name, weights):
    np.testing.assert_allclose(np.asarray(weights, dtype=np.float64), reference(name), rtol=0, atol=2e-7)


@pytest.mark.parametrize("name", ["rmsprop", "adadelta", "adam"])
def test_the_test_can_tell_epsilon_inside_from_outside(name):
    assert np.max(np.abs(reference(name) - reference(name, epsilon_outside=True))) > 1e-5


KERAS_SCRIPT = """
import json, sys, numpy as np, keras
cases, w0, grads = json.loads(sys.argv[1])
found = {}
for name, c in cases.items():
    lr = keras.optimizers.schedules.InverseTimeDecay(c["lr"], decay_steps=1, decay_rate=c["decay"])
    if name.startswith("rmsprop"):
        opt = keras.optimizers.RMSprop(learning_rate=lr, rho=c["rho"], momentum=0.0, epsilon=c["epsilon"],
                                       centered=False)
    elif name == "adadelta":
        opt = keras.optimizers.Adadelta(learning_rate=lr, rho=c["rho"], epsilon=c["epsilon"])
    elif name == "adamw":
        opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=c["weight_decay"], beta_1=c["beta_1"],
                                     beta_2=c["beta_2"], epsilon=c["epsilon"], amsgrad=False)
    elif name.startswith("adam"):
        opt = keras.optimizers.Adam(learning_rate=lr, beta_1=c["beta_1"], beta_2=c["beta_2"], epsilon=c["epsilon"],
                                    amsgrad=False)
    else:
        opt = keras.optimizers.SGD(learning_rate=lr, momentum=c["momentum"], nesterov=False)
    w = keras.Variable(np.array(w0, dtype="float32"))
    for g in grads:
        opt.apply([np.array(g, dtype="float32")], [w])
    found[name] = np.asarray(w.numpy()).tolist()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def keras_weights():
    """Every case's weights after Keras's steps, from one Keras process (on JAX)."""
    require_framework("keras-jax")
    argument = json.dumps([CASES, W0.tolist(), [g.tolist() for g in GRADS]])
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, argument], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", list(CASES))
def test_keras_is_the_reference(keras_weights, name):
    """The NumPy rules are Keras 3's: checked against Keras itself (decay as InverseTimeDecay, decay_steps=1)."""
    check(name, keras_weights[name])


def run_torch(name, optimizer_class=None):
    import torch

    from dlbench.frameworks.torch.optim import KerasAdadelta, KerasAdam, KerasAdamW, KerasRMSprop, inverse_time_decay
    c = CASES[name]
    w = torch.nn.Parameter(torch.from_numpy(W0.copy()))
    if optimizer_class is torch.optim.Adam:
        opt = optimizer_class([w], lr=c["lr"], betas=(c["beta_1"], c["beta_2"]), eps=c["epsilon"])
    elif optimizer_class is not None:
        opt = optimizer_class([w], lr=c["lr"], alpha=c["rho"], eps=c["epsilon"])
    elif name == "adamw":
        opt = KerasAdamW([w], lr=c["lr"], weight_decay=c["weight_decay"], beta_1=c["beta_1"], beta_2=c["beta_2"],
                         epsilon=c["epsilon"])
    elif name.startswith("adam"):
        opt = KerasAdam([w], lr=c["lr"], beta_1=c["beta_1"], beta_2=c["beta_2"], epsilon=c["epsilon"])
    elif name.startswith("rmsprop"):
        opt = KerasRMSprop([w], lr=c["lr"], rho=c["rho"], epsilon=c["epsilon"])
    elif name == "adadelta":
        opt = KerasAdadelta([w], lr=c["lr"], rho=c["rho"], epsilon=c["epsilon"])
    else:
        opt = torch.optim.SGD([w], lr=c["lr"], momentum=c["momentum"], dampening=0.0, nesterov=False)
    # Keras 2's decay, as the workloads apply it: a LambdaLR stepped after every update.
    schedule = inverse_time_decay(opt, c["decay"])
    for g in GRADS:
        w.grad = torch.from_numpy(g)
        opt.step()
        schedule.step()
    return w.detach().numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_torch(name):
    require_framework("torch")
    check(name, run_torch(name))


@pytest.mark.parametrize("name, own", [("rmsprop", "RMSprop"), ("adam", "Adam")])
def test_torch_own_optimizer_would_not_pass(name, own):
    require_framework("torch")
    import torch
    with pytest.raises(AssertionError):
        check(name, run_torch(name, getattr(torch.optim, own)))


@pytest.mark.parametrize("name", list(CASES))
def test_tensorflow(name):
    require_framework("tensorflow")
    import tensorflow as tf

    from dlbench.frameworks.tensorflow.optim import KerasAdadelta, KerasAdam, KerasAdamW, KerasRMSprop, KerasSGD
    c = CASES[name]
    w = tf.Variable(W0.copy())
    if name == "adamw":
        opt = KerasAdamW([w], lr=c["lr"], weight_decay=c["weight_decay"], beta_1=c["beta_1"], beta_2=c["beta_2"],
                         epsilon=c["epsilon"])
    elif name.startswith("adam"):
        opt = KerasAdam([w], lr=c["lr"], beta_1=c["beta_1"], beta_2=c["beta_2"], epsilon=c["epsilon"],
                        decay=c["decay"])
    elif name.startswith("rmsprop"):
        opt = KerasRMSprop([w], lr=c["lr"], rho=c["rho"], epsilon=c["epsilon"], decay=c["decay"])
    elif name == "adadelta":
        opt = KerasAdadelta([w], lr=c["lr"], rho=c["rho"], epsilon=c["epsilon"], decay=c["decay"])
    else:
        opt = KerasSGD([w], lr=c["lr"], momentum=c["momentum"], decay=c["decay"])
    for g in GRADS:
        opt.apply([tf.constant(g)], [w])
    check(name, w.numpy())


@pytest.mark.parametrize("name", list(CASES))
def test_optax(name):
    require_framework("jax")
    import jax.numpy as jnp
    import optax

    from dlbench.frameworks.jax.optim import inverse_time_decay, keras_adam, keras_adamw
    c = CASES[name]
    lr = inverse_time_decay(c["lr"], c["decay"])  # optax counts updates from 0
    if name == "adamw":  # a constant learning rate (the workload's)
        tx = keras_adamw(c["lr"], weight_decay=c["weight_decay"], beta_1=c["beta_1"], beta_2=c["beta_2"],
                         epsilon=c["epsilon"])
    elif name.startswith("adam"):
        tx = keras_adam(lr, beta_1=c["beta_1"], beta_2=c["beta_2"], epsilon=c["epsilon"])
    elif name.startswith("rmsprop"):
        tx = optax.rmsprop(lr, decay=c["rho"], eps=c["epsilon"], initial_scale=0.0, eps_in_sqrt=True)
    elif name == "adadelta":
        tx = optax.adadelta(lr, rho=c["rho"], eps=c["epsilon"])
    else:
        tx = optax.sgd(lr, momentum=c["momentum"], nesterov=False)
    w = jnp.asarray(W0)
    state = tx.init(w)
    for g in GRADS:
        updates, state = tx.update(jnp.asarray(g), state, w)
        w = optax.apply_updates(w, updates)
    check(name, np.asarray(w))


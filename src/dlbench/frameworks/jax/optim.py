"""Keras 3's rules as optax transformations, where optax's own differ.

optax.adam divides by sqrt(v_hat) + eps (bias-corrected v, as torch.optim.Adam); Keras folds the bias correction
into the step size and divides by sqrt(v) + eps, so its epsilon is effectively smaller in the first steps.
optax.rmsprop(eps_in_sqrt=True, initial_scale=0.0) is Keras's RMSprop already and needs nothing here.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


def inverse_time_decay(learning_rate, decay):
    """Keras 2's `decay` as an optax schedule: lr_t = lr / (1 + decay * t), t the updates before this one."""
    return lambda count: learning_rate / (1.0 + decay * count)


class KerasAdamState(NamedTuple):
    count: jnp.ndarray
    m: optax.Updates
    v: optax.Updates


def keras_adam(learning_rate, beta_1, beta_2, epsilon):
    """m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + epsilon). `learning_rate` is a float or a schedule."""

    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return KerasAdamState(count=jnp.zeros([], jnp.int32), m=zeros, v=zeros)

    def update(grads, state, params=None):
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        t = (state.count + 1).astype(jnp.float32)
        alpha = lr * jnp.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1.0 - beta_1), state.m, grads)
        v = jax.tree_util.tree_map(lambda v, g: v + (g * g - v) * (1.0 - beta_2), state.v, grads)
        updates = jax.tree_util.tree_map(lambda m, v: -alpha * m / (jnp.sqrt(v) + epsilon), m, v)
        return updates, KerasAdamState(count=state.count + 1, m=m, v=v)

    return optax.GradientTransformation(init, update)


def keras_adamw(learning_rate, weight_decay, beta_1, beta_2, epsilon):
    """keras.optimizers.AdamW: Keras's Adam step (keras_adam) plus the decay of every parameter, -lr * wd * w
    (Keras decays every trainable variable by default, before its Adam step; Adam's step does not read w, so the
    sum is the same). `learning_rate` is a float."""
    adam = keras_adam(learning_rate, beta_1, beta_2, epsilon)

    def update(grads, state, params=None):
        updates, state = adam.update(grads, state, params)
        decay = weight_decay * learning_rate
        return jax.tree_util.tree_map(lambda u, w: u - w * decay, updates, params), state

    return optax.GradientTransformation(adam.init, update)

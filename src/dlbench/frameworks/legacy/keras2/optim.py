"""Keras 3's optimizer rules on Keras 2's three backends (Keras 2.3.1 on CNTK and Theano, keras-mxnet 2.2.4.3 on
MXNet), where Keras 2's own optimizer of the same name follows another rule. Imported only in those environments
(Python 3.6).

RMSprop, Keras 3's rule (WORKLOADS.md: the reference for every framework):
    v <- rho * v + (1 - rho) * g^2
    w <- w - lr * g / sqrt(v + epsilon)        (epsilon INSIDE the root)
- Keras 2.3.1's keras.optimizers.RMSprop puts epsilon OUTSIDE the root, lr * g / (sqrt(v) + epsilon): rmsprop() gives
  its subclass with get_updates written to Keras 3's rule (the same variables, the same K ops otherwise).
- keras-mxnet cannot run a symbolic get_updates (its backend trains through mx.mod.Module, with MXNet's own
  optimizers only); its keras.optimizers.RMSprop is mx.optimizer.RMSProp, MXNet's rmsprop_update, which is Keras
  3's rule already (epsilon inside the root, accumulator from zero): rmsprop() returns it, epsilon set explicitly.
Each optimizer carries its rule in words (`dlbench_rule`); the Keras 2 adapter records it with the run.
"""
import keras
from keras import backend as K

RMSPROP_RULE = "Keras 3's RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + epsilon)"


class KerasRMSprop(keras.optimizers.RMSprop):
    """Keras 2.3.1's RMSprop with Keras 3's update (epsilon inside the root); Keras 2's decay kept (0 here)."""

    dlbench_rule = RMSPROP_RULE + " (keras.optimizers.RMSprop's get_updates, epsilon moved inside the root)"

    def get_updates(self, loss, params):
        grads = self.get_gradients(loss, params)
        accumulators = [K.zeros(K.int_shape(p), dtype=K.dtype(p), name="accumulator_" + str(i))
                        for (i, p) in enumerate(params)]
        self.weights = [self.iterations] + accumulators
        self.updates = [K.update_add(self.iterations, 1)]
        lr = self.learning_rate
        if self.initial_decay > 0:
            lr = lr * (1. / (1. + self.decay * K.cast(self.iterations, K.dtype(self.decay))))
        for p, g, a in zip(params, grads, accumulators):
            new_a = self.rho * a + (1. - self.rho) * K.square(g)
            self.updates.append(K.update(a, new_a))
            new_p = p - lr * g / K.sqrt(new_a + self.epsilon)  # Keras 3: epsilon inside the root
            if getattr(p, "constraint", None) is not None:
                new_p = p.constraint(new_p)
            self.updates.append(K.update(p, new_p))
        return self.updates


def rmsprop(lr, rho, epsilon):
    """An RMSprop with Keras 3's rule on the backend Keras 2 runs on (see the module docstring)."""
    if K.backend() == "mxnet":
        optimizer = keras.optimizers.RMSprop(lr=lr, rho=rho, epsilon=epsilon, decay=0.0)
        optimizer.dlbench_rule = RMSPROP_RULE + " (keras-mxnet's RMSprop: MXNet's rmsprop_update)"
        return optimizer
    return KerasRMSprop(learning_rate=lr, rho=rho, epsilon=epsilon, decay=0.0)

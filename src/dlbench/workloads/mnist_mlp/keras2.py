"""mnist_mlp in Keras 2 (2.3.1 on cntk and theano, keras-mxnet 2.2.4.3 on mxnet; KERAS_BACKEND picks): keras.py's
model in the Keras 2 API. RMSprop follows Keras 3's rule on all three backends, one rule under one name
(dlbench.frameworks.legacy.keras2.optim.rmsprop, recorded with the run as env "optimizer"):
    v <- rho * v + (1 - rho) * g^2;  w <- w - lr * g / sqrt(v + epsilon)
Keras 2.3.1's own keras.optimizers.RMSprop puts epsilon OUTSIDE the root (lr * g / (sqrt(v) + epsilon)), so on cntk
and theano its get_updates is written to Keras 3's rule; keras-mxnet's RMSprop is MXNet's rmsprop_update, Keras 3's
rule already, and keras-mxnet runs MXNet's optimizers only. epsilon is the spec's 1e-7, set explicitly (Keras 2.3.1
defaults to K.epsilon() = 1e-7, keras-mxnet to 1e-8)."""
import keras
from keras import layers

from dlbench.frameworks.legacy.keras2.optim import rmsprop


INIT = dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")


def build(hp):
    inputs = keras.Input(shape=(hp.inputs,))
    x = layers.Dense(hp.hidden, activation="relu", **INIT)(inputs)
    x = layers.Dropout(hp.dropout)(x)
    x = layers.Dense(hp.hidden, activation="relu", **INIT)(x)
    x = layers.Dropout(hp.dropout)(x)
    outputs = layers.Dense(hp.classes, activation="softmax", **INIT)(x)
    model = keras.Model(inputs, outputs, name="mnist_mlp")
    model.compile(
        optimizer=rmsprop(lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon),
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model

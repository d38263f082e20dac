"""mnist_mlp in Keras 2 (2.3.1 on cntk and theano, keras-mxnet 2.2.4.3 on mxnet; KERAS_BACKEND picks): keras.py's
model in the Keras 2 API. RMSprop: Keras 2.3.1's own rule puts epsilon OUTSIDE the root,
    w <- w - lr * g / (sqrt(v) + epsilon)      (Keras 3: lr * g / sqrt(v + epsilon))
and keras-mxnet's RMSprop is MXNet's rmsprop_update, epsilon INSIDE the root as in Keras 3. epsilon is set to the
spec's 1e-7 explicitly (Keras 2.3.1 defaults to K.epsilon() = 1e-7, keras-mxnet to 1e-8)."""
import keras
from keras import layers


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
        optimizer=keras.optimizers.RMSprop(lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon, decay=0.0),
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model

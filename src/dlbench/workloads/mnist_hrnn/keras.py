"""mnist_hrnn in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). On the CPU
every backend runs Keras's own LSTM loop (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on torch:
Keras uses the fused cuDNN kernel on a GPU only); TimeDistributed calls the row LSTM once per row."""
import keras
from keras import layers


def lstm(units):
    return layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                       kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                       bias_initializer="zeros", unit_forget_bias=True)


def build(hp):
    inputs = keras.Input(shape=(hp.rows, hp.cols, hp.pixels))
    x = layers.TimeDistributed(lstm(hp.row_hidden))(inputs)  # each row -> its last hidden state
    x = lstm(hp.col_hidden)(x)  # the sequence of row encodings -> its last hidden state
    outputs = layers.Dense(hp.classes, activation="softmax", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="mnist_hrnn")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=hp.learning_rate, rho=hp.rho, momentum=0.0,
                                           epsilon=hp.epsilon, centered=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model

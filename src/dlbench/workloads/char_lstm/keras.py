"""char_lstm in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). On the CPU
every backend runs Keras's own LSTM loop (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on torch);
Keras uses the fused cuDNN kernel on a GPU only. The model outputs probabilities (softmax layer)."""
import keras
from keras import layers


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen, hp.symbols))
    x = layers.LSTM(hp.units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                    kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                    bias_initializer="zeros", unit_forget_bias=True, name="lstm")(inputs)  # the last hidden state
    outputs = layers.Dense(hp.symbols, activation="softmax", kernel_initializer="glorot_uniform",
                           bias_initializer="zeros", name="dense")(x)
    model = keras.Model(inputs, outputs, name="char_lstm")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=hp.learning_rate, rho=hp.rho, momentum=0.0,
                                           epsilon=hp.epsilon, centered=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model


def probabilities(outputs):
    return outputs  # the softmax layer's output already

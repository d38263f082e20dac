"""imdb_gru in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks).
layers.GRU(reset_after=True) is the cuDNN form; Keras runs the fused cuDNN kernel on a GPU only, and its own loop on
the CPU (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on torch)."""
import keras
from keras import layers


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = layers.Embedding(hp.num_words, hp.embed,
                         embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))(inputs)
    x = layers.GRU(hp.hidden, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
                   kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                   bias_initializer="zeros")(x)  # the last output
    outputs = layers.Dense(hp.classes, activation="softmax", kernel_initializer="glorot_uniform",
                           bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="imdb_gru")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model

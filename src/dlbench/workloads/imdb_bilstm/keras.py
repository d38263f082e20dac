"""imdb_bilstm in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks).
Bidirectional(LSTM) builds the backward copy with go_backwards=True and concatenates the two last states. On the
CPU every backend runs Keras's own LSTM loop (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on
torch); Keras uses the fused cuDNN kernel on a GPU only."""
import keras
from keras import layers


def lstm(units):
    return layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                       kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                       bias_initializer="zeros", unit_forget_bias=True)


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = layers.Embedding(hp.max_features, hp.embedding_dim,
                         embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))(inputs)
    x = layers.Bidirectional(lstm(hp.units), merge_mode="concat")(x)  # [forward last, backward last]
    x = layers.Dropout(hp.dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="imdb_bilstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.BinaryCrossentropy(from_logits=False),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.5)],
    )
    return model

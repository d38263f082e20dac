"""imdb_fasttext in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks).
GlobalAveragePooling1D without a mask (the Embedding's mask_zero is False) averages over all 400 positions,
padding included, as Keras 2's did (its data_format pinned to channels_last: the default follows the
image layout, channels_first on keras-torch). Adam is dense on every backend (on tensorflow it densifies the embedding's
IndexedSlices gradient)."""
import keras
from keras import layers


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = layers.Embedding(hp.max_features, hp.embedding_dim,
                         embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))(inputs)
    # The mean over all positions, padding included. data_format fixed: the layer's default follows
    # image_data_format, and keras-torch runs channels_first, which would average over the 50 features instead.
    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    outputs = layers.Dense(1, activation="sigmoid", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="imdb_fasttext")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.BinaryCrossentropy(from_logits=False),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.5)],
    )
    return model

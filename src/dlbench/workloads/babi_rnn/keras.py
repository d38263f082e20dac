"""babi_rnn in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). On the CPU
every backend runs Keras's own LSTM loop (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on torch);
Keras uses the fused cuDNN kernel on a GPU only."""
import keras
from keras import layers


def lstm(units):
    return layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                       kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                       bias_initializer="zeros", unit_forget_bias=True)


def embedding(hp):
    return layers.Embedding(hp.vocab_size, hp.embed,
                            embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))


def build(hp):
    story = keras.Input(shape=(hp.story_maxlen,), dtype="int32")
    query = keras.Input(shape=(hp.query_maxlen,), dtype="int32")
    s = layers.Dropout(hp.dropout)(embedding(hp)(story))  # (552, 50)
    q = layers.Dropout(hp.dropout)(embedding(hp)(query))  # (5, 50)
    q = lstm(hp.embed)(q)  # the question's encoding: the last hidden state
    q = layers.RepeatVector(hp.story_maxlen)(q)  # repeated over the story's 552 steps
    x = lstm(hp.hidden)(layers.add([s, q]))
    x = layers.Dropout(hp.dropout)(x)
    answer = layers.Dense(hp.vocab_size, activation="softmax", kernel_initializer="glorot_uniform",
                          bias_initializer="zeros")(x)
    model = keras.Model([story, query], answer, name="babi_rnn")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model

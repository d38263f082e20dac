"""imdb_gru in Keras 2 (2.3.1 on cntk and theano, keras-mxnet 2.2.4.3 on mxnet; KERAS_BACKEND picks): keras.py's
model in the Keras 2 API, with every argument whose Keras 2 default differs set explicitly: reset_after=True (the
cuDNN form; Keras 2 defaults to False, reset before, 3 x 100 biases), recurrent_activation="sigmoid" (keras-mxnet
defaults to hard_sigmoid), implementation=2 (one matmul for the three gates, Keras 3's only form) except on mxnet:
keras-mxnet 2.2.4.3's foreach GRU step with implementation=2 and reset_after=True slices the recurrent projection's
columns [0, 200) instead of [200, 300) for the candidate (MXNetError: "slice_axis: Shape inconsistent, Provided =
[-1,100], inferred shape=[-1,200]"), so it runs implementation=1 there: three matmuls per projection, the same
function and the same weights (the layer keeps the fused kernel; the cell reads its gate slices). Keras 2 runs its
own loop on the CPU: K.rnn is a theano.scan on theano, a CNTK recurrence over a dynamic sequence axis
(past_value) on cntk, an mx.sym.contrib.foreach on mxnet. Adam: Keras 2.3.1's rule and keras-mxnet's (MXNet's
adam_update) are Keras 3's, epsilon outside the root; epsilon is set to the spec's 1e-8 explicitly (Keras 2.3.1
defaults to K.epsilon() = 1e-7); amsgrad is off by default (keras-mxnet's Adam has no such argument)."""
import keras
from keras import layers


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = layers.Embedding(hp.num_words, hp.embed,
                         embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))(inputs)
    x = layers.GRU(hp.hidden, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
                   kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                   bias_initializer="zeros",
                   implementation=1 if keras.backend.backend() == "mxnet" else 2)(x)  # the last output
    outputs = layers.Dense(hp.classes, activation="softmax", kernel_initializer="glorot_uniform",
                           bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="imdb_gru")
    model.compile(
        optimizer=keras.optimizers.Adam(lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, decay=0.0),  # amsgrad off
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model

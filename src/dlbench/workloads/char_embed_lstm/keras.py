"""char_embed_lstm in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). On the
CPU every backend runs Keras's own LSTM loop (cuDNN on a GPU only). Two outputs (main, aux), both softmax; the loss
weights 1.0 and 0.2; fit's logs name the main head's accuracy ACCURACY."""
import keras
from keras import layers

ACCURACY = "main_out_accuracy"


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = layers.Embedding(hp.symbols, hp.embedding,
                         embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05), name="embedding")(inputs)
    h = layers.LSTM(hp.units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                    kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                    bias_initializer="zeros", unit_forget_bias=True, name="lstm")(x)  # the last hidden state
    aux = layers.Dense(hp.symbols, activation="softmax", kernel_initializer="glorot_uniform",
                       bias_initializer="zeros", name="aux_out")(h)
    x = layers.Dense(hp.hidden1, use_bias=False, kernel_initializer="glorot_uniform", name="dense1")(h)
    x = layers.BatchNormalization(momentum=hp.bn_momentum, epsilon=hp.bn_epsilon, name="norm1")(x)
    x = layers.Activation("relu")(x)
    x = layers.Dense(hp.hidden2, use_bias=False, kernel_initializer="glorot_uniform", name="dense2")(x)
    x = layers.BatchNormalization(momentum=hp.bn_momentum, epsilon=hp.bn_epsilon, name="norm2")(x)
    x = layers.Activation("relu")(x)
    main = layers.Dense(hp.symbols, activation="softmax", kernel_initializer="glorot_uniform",
                        bias_initializer="zeros", name="main_out")(x)
    model = keras.Model(inputs, [main, aux], name="char_embed_lstm")
    schedule = keras.optimizers.schedules.InverseTimeDecay(hp.learning_rate, decay_steps=1, decay_rate=hp.decay)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=False),
              keras.losses.SparseCategoricalCrossentropy(from_logits=False)],
        loss_weights=[hp.main_weight, hp.aux_weight],
        metrics={"main_out": ["accuracy"]},
    )
    return model


def probabilities(outputs):
    return outputs[0]  # the main head's softmax output

"""babi_rnn in native TensorFlow: a tf.Module with its own variables (no Keras); the shared tensorflow/layers.LSTM runs its
steps in a tf.scan (a while loop in the graph: the 552 story steps are not unrolled), logits out (softmax fused into
the loss), Keras's Adam rule written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import LSTM, Dense, Embedding
from dlbench.frameworks.tensorflow.optim import KerasAdam


class BabiRNN(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="babi_rnn")
        self.story_embed = Embedding(hp.vocab_size, hp.embed, generator, "story_embed")
        self.query_embed = Embedding(hp.vocab_size, hp.embed, generator, "query_embed")
        self.query_lstm = LSTM(hp.embed, hp.embed, generator, "query_lstm")
        self.story_lstm = LSTM(hp.embed, hp.hidden, generator, "story_lstm")
        self.dense = Dense(hp.hidden, hp.vocab_size, generator, "dense")
        self.rate = hp.dropout

    def __call__(self, story, query, training):
        def dropout(x):
            return tf.nn.dropout(x, self.rate) if training else x
        s = dropout(self.story_embed(story))  # (batch, 552, 50)
        q = dropout(self.query_embed(query))  # (batch, 5, 50)
        q = self.query_lstm(q)  # the question's encoding: the last hidden state, (batch, 50)
        q = q[:, None, :]  # RepeatVector: broadcast over the story's 552 steps
        x = self.story_lstm(s + q)
        x = dropout(x)
        return self.dense(x)  # logits


def build(hp, generator):
    model = BabiRNN(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, answers):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=answers, logits=logits))


def correct(logits, answers):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=answers.dtype), answers), tf.float32))

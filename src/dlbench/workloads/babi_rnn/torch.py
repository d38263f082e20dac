"""babi_rnn in PyTorch: nn.LSTM (oneDNN's fused LSTM on the CPU, cuDNN on a GPU) with its second bias b_hh held at
zero and frozen (Keras's cell has one bias; marked as a structural zero, left out of the count), logits out (softmax
fused into the loss), Keras's Adam rule (dlbench.frameworks.torch.optim.KerasAdam)."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.torch.optim import KerasAdam


class BabiRNN(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.story_embed = keras_embedding(hp.vocab_size, hp.embed)
        self.query_embed = keras_embedding(hp.vocab_size, hp.embed)
        self.query_lstm = keras_lstm(hp.embed, hp.embed)
        self.story_lstm = keras_lstm(hp.embed, hp.hidden)
        self.dense = keras_linear(hp.hidden, hp.vocab_size)
        self.dropout = nn.Dropout(hp.dropout)  # one module, a fresh mask at each of its three uses

    def forward(self, story, query):
        s = self.dropout(self.story_embed(story))  # (batch, 552, 50)
        q = self.dropout(self.query_embed(query))  # (batch, 5, 50)
        _, (q, _) = self.query_lstm(q)  # the question's encoding: the last hidden state, (1, batch, 50)
        q = q[0].unsqueeze(1)  # RepeatVector: broadcast over the story's 552 steps
        _, (x, _) = self.story_lstm(s + q)
        x = self.dropout(x[0])
        return self.dense(x)  # logits


def build(hp):
    model = BabiRNN(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasAdam(trainable, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, answers):
    return F.cross_entropy(logits, answers.long())


def correct(logits, answers):
    return (logits.argmax(dim=1) == answers).sum()

"""imdb_gru in PyTorch: nn.GRU is cuDNN's GRU already (two bias vectors, reset applied after the recurrent bias;
gate order r, z, n where Keras has z, r, h): cuDNN on a GPU, PyTorch's fused CPU kernel otherwise. Logits out
(softmax fused into the loss), Keras's Adam rule (dlbench.frameworks.torch.optim.KerasAdam)."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_embedding, keras_linear
from dlbench.frameworks.torch.optim import KerasAdam


def keras_gru(units_in, units):
    """nn.GRU initialised as Keras's GRU: glorot_uniform over the three gates together ((3 * units, in) has Keras's
    (in, 3 * units) fans), orthogonal recurrent kernel (the transpose of Keras's (units, 3 * units) draw), zero
    biases; both bias vectors are the spec's and train."""
    gru = nn.GRU(units_in, units, batch_first=True)
    nn.init.xavier_uniform_(gru.weight_ih_l0)
    nn.init.orthogonal_(gru.weight_hh_l0)
    nn.init.zeros_(gru.bias_ih_l0)
    nn.init.zeros_(gru.bias_hh_l0)
    return gru


class ImdbGRU(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.embed = keras_embedding(hp.num_words, hp.embed)
        self.gru = keras_gru(hp.embed, hp.hidden)
        self.dense = keras_linear(hp.hidden, hp.classes)

    def forward(self, x):
        x = self.embed(x)  # (batch, 150, 125)
        _, h = self.gru(x)  # the last output, (1, batch, 100)
        return self.dense(h[0])  # logits


def build(hp):
    model = ImdbGRU(hp)
    optimizer = KerasAdam(model.parameters(), lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()

"""imdb_fasttext in PyTorch: nn.Embedding with a dense gradient (sparse=False), the mean over all positions
(padding included), the logit out (the sigmoid fused into the loss), Keras's Adam rule (dense: every row, every
step)."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_embedding, keras_linear
from dlbench.frameworks.torch.optim import KerasAdam


class ImdbFastText(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.embedding = keras_embedding(hp.max_features, hp.embedding_dim)
        self.dense = keras_linear(hp.embedding_dim, 1)

    def forward(self, ids):
        x = self.embedding(ids)
        x = x.mean(dim=1)  # GlobalAveragePooling1D: every position, padding included
        return self.dense(x)[:, 0]  # the logit


def build(hp):
    model = ImdbFastText(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasAdam(trainable, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.binary_cross_entropy_with_logits(logits, labels.float())


def correct(logits, labels):
    return ((logits > 0).int() == labels).sum()

"""A PyTorch model file for `dlbench run --model examples/torch_model.py`: a small classifier on generated data.

dlbench executes this file as your own code in each trial's worker and runs it as `torch`, under the compile modes
(`--compile none,jit`) and precisions (`--precision fp32,bf16`) you ask for. See docs/your-model.md.
"""
import numpy as np
import torch
from torch import nn

BATCH_SIZE = 64  # optional: --batch-size overrides it
EPOCHS = 4       # optional: --epochs overrides it

FEATURES, CLASSES = 20, 4


def build():
    """(module, optimizer, loss_fn): the module returns logits; loss_fn(outputs, targets) the batch's mean loss."""
    model = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, optimizer, nn.CrossEntropyLoss()


def data():
    """((x_train, y_train), (x_val, y_val)) as NumPy arrays: four Gaussian blobs, seeded."""
    rng = np.random.RandomState(0)
    centres = rng.normal(0.0, 0.3, size=(CLASSES, FEATURES))

    def blobs(n):
        labels = rng.randint(0, CLASSES, size=n)
        return (centres[labels] + rng.normal(size=(n, FEATURES))).astype("float32"), labels

    return blobs(2048), blobs(512)

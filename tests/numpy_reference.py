"""The NumPy references the workload tests compare every framework with: the spec's math written once."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_lstm(seq, kernel, recurrent, bias):
    """Keras's LSTM (sigmoid gates, tanh candidate and output, gate order i, f, c, o) over (batch, time, features):
    the last hidden state."""
    h = c = np.zeros((seq.shape[0], recurrent.shape[0]))
    for t in range(seq.shape[1]):
        i, f, g, o = np.split(seq[:, t] @ kernel + h @ recurrent + bias, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h

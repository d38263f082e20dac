"""mnist_cnn in Theano: shared variables and a symbolic forward pass on NCHW images, logits out (softmax fused into
the loss), Keras's Adadelta rule as update pairs. The convolution is nnet.conv2d without the kernel flip (a
correlation, as Keras's); it flattens in (C, H, W) order, the NHWC versions in (H, W, C) order (a fixed permutation
of dense1's inputs). B is dlbench.frameworks.legacy.theano.common.Backend; the same code runs PyTensor (pytensor.py)."""


class MnistCNN(object):
    def __init__(self, hp, B):
        self.B, self.hp = B, hp
        self.conv1 = B.conv(hp.channels, hp.filters1, hp.kernel, "conv1")  # (kernel, bias), glorot_uniform / zeros
        self.conv2 = B.conv(hp.filters1, hp.filters2, hp.kernel, "conv2")
        self.dense1 = B.dense(hp.flat, hp.hidden, "dense1")
        self.dense2 = B.dense(hp.hidden, hp.classes, "dense2")
        self.params = list(self.conv1 + self.conv2 + self.dense1 + self.dense2)

    def __call__(self, x, training):
        B, T, hp = self.B, self.B.T, self.hp
        x = B.relu(B.conv2d(x, *self.conv1, padding="valid"))
        x = B.relu(B.conv2d(x, *self.conv2, padding="valid"))
        x = B.max_pool(x, hp.pool)
        x = B.dropout(x, hp.dropout1, training)
        x = T.flatten(x, 2)  # (C, H, W) order
        x = B.dropout(B.relu(T.dot(x, self.dense1[0]) + self.dense1[1]), hp.dropout2, training)
        return T.dot(x, self.dense2[0]) + self.dense2[1]  # logits


def build(hp, B):
    model = MnistCNN(hp, B)
    optimizer = B.adadelta(lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(B, logits, labels):
    return B.sparse_softmax_cross_entropy(logits, labels)


def correct(B, logits, labels):
    return B.correct(logits, labels)

"""cifar10_vgg in Theano: shared variables and a symbolic forward pass on channels-first (NCHW) images, logits out
(softmax fused into the loss), SGD with plain momentum in Keras's form as update pairs. relu after each pool, as the
spec and the benchmark's own PyTorch version. Convolutions are nnet.conv2d with border_mode "half" (same) and no
kernel flip; Flatten is in (C, H, W) order. B is dlbench.frameworks.legacy.theano.common.Backend; the same code runs
PyTensor (pytensor.py)."""


class Cifar10VGG(object):
    def __init__(self, hp, B):
        self.B, self.hp = B, hp
        self.conv1 = B.conv(hp.channels, hp.filters1, hp.kernel, "conv1")  # (kernel, bias), glorot_uniform / zeros
        self.conv2 = B.conv(hp.filters1, hp.filters1, hp.kernel, "conv2")
        self.conv3 = B.conv(hp.filters1, hp.filters2, hp.kernel, "conv3")
        self.conv4 = B.conv(hp.filters2, hp.filters2, hp.kernel, "conv4")
        self.dense1 = B.dense(hp.flat, hp.hidden, "dense1")
        self.dense2 = B.dense(hp.hidden, hp.classes, "dense2")
        self.params = list(self.conv1 + self.conv2 + self.conv3 + self.conv4 + self.dense1 + self.dense2)

    def __call__(self, x, training):
        B, T, hp = self.B, self.B.T, self.hp
        x = B.relu(B.conv2d(x, *self.conv1, padding="same"))
        x = B.relu(B.max_pool(B.conv2d(x, *self.conv2, padding="same"), hp.pool))
        x = B.dropout(x, hp.conv_dropout, training)
        x = B.relu(B.conv2d(x, *self.conv3, padding="same"))
        x = B.relu(B.max_pool(B.conv2d(x, *self.conv4, padding="same"), hp.pool))
        x = B.dropout(x, hp.conv_dropout, training)
        x = T.flatten(x, 2)  # (C, H, W) order
        x = B.dropout(B.relu(T.dot(x, self.dense1[0]) + self.dense1[1]), hp.dense_dropout, training)
        return T.dot(x, self.dense2[0]) + self.dense2[1]  # logits


def build(hp, B):
    model = Cifar10VGG(hp, B)
    optimizer = B.sgd(lr=hp.learning_rate, momentum=hp.momentum)
    return model, optimizer


def loss_fn(B, logits, labels):
    return B.sparse_softmax_cross_entropy(logits, labels)


def correct(B, logits, labels):
    return B.correct(logits, labels)

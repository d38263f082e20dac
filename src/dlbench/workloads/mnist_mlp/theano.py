"""mnist_mlp in Theano: shared variables and a symbolic forward pass, logits out (softmax fused into the loss),
Keras's RMSprop rule as update pairs. B is dlbench.frameworks.legacy.theano.common.Backend (B.T is theano.tensor); the
same code runs PyTensor (pytensor.py)."""


class MnistMLP(object):
    def __init__(self, hp, B):
        self.B, self.hp = B, hp
        self.dense1 = B.dense(hp.inputs, hp.hidden, "dense1")  # (kernel, bias): glorot_uniform, zeros
        self.dense2 = B.dense(hp.hidden, hp.hidden, "dense2")
        self.dense3 = B.dense(hp.hidden, hp.classes, "dense3")
        self.params = list(self.dense1 + self.dense2 + self.dense3)

    def __call__(self, x, training):
        B, T, hp = self.B, self.B.T, self.hp
        x = B.dropout(B.relu(T.dot(x, self.dense1[0]) + self.dense1[1]), hp.dropout, training)
        x = B.dropout(B.relu(T.dot(x, self.dense2[0]) + self.dense2[1]), hp.dropout, training)
        return T.dot(x, self.dense3[0]) + self.dense3[1]  # logits


def build(hp, B):
    model = MnistMLP(hp, B)
    optimizer = B.rmsprop(lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(B, logits, labels):
    return B.sparse_softmax_cross_entropy(logits, labels)


def correct(B, logits, labels):
    return B.correct(logits, labels)

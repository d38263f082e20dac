"""mnist_mlp in CNTK 2.7: cntk.layers on (784,) inputs, logits out (softmax fused into the loss), Keras's RMSprop rule
as a CNTK universal learner (cntk.learners.rmsprop is a different algorithm; dlbench.frameworks.legacy.cntk.optim)."""
import cntk as C

from dlbench.frameworks.legacy.cntk.optim import KerasRMSprop

INIT = dict(init=C.initializer.glorot_uniform(), init_bias=0)  # CNTK's glorot_uniform has Keras's fans


def build(hp, rng):
    x = C.input_variable(hp.inputs, name="pixels")
    model = C.layers.Sequential([
        C.layers.Dense(hp.hidden, activation=C.relu, name="dense1", **INIT),
        C.layers.Dropout(hp.dropout),
        C.layers.Dense(hp.hidden, activation=C.relu, name="dense2", **INIT),
        C.layers.Dropout(hp.dropout),
        C.layers.Dense(hp.classes, activation=None, name="dense3", **INIT),  # logits
    ])
    logits = model(x)
    optimizer = KerasRMSprop(logits.parameters, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return [x], logits, optimizer


def loss_fn(logits, labels):
    return C.cross_entropy_with_softmax(logits, C.one_hot(labels, logits.shape[-1]))

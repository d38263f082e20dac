"""mnist_cnn in CNTK 2.7: cntk.layers on channels-first (1, 28, 28) images, logits out (softmax fused into the loss),
CNTK's adadelta, which is Keras's rule (epsilon inside both roots) on the mean gradient (dlbench.frameworks.legacy.cntk.optim).
Dense flattens its (64, 12, 12) input in (C, H, W) order, as PyTorch's version (a fixed permutation of dense1's rows
against the NHWC versions)."""
import cntk as C

from dlbench.frameworks.legacy.cntk.optim import keras_adadelta

INIT = dict(init=C.initializer.glorot_uniform(), init_bias=0)  # a conv kernel's fans include its 3x3 field, as Keras's


def build(hp, rng):
    x = C.input_variable((hp.channels, hp.rows, hp.cols), name="images")
    model = C.layers.Sequential([
        C.layers.Convolution2D((hp.kernel, hp.kernel), hp.filters1, activation=C.relu, pad=False, name="conv1", **INIT),
        C.layers.Convolution2D((hp.kernel, hp.kernel), hp.filters2, activation=C.relu, pad=False, name="conv2", **INIT),
        C.layers.MaxPooling((hp.pool, hp.pool), strides=(hp.pool, hp.pool)),
        C.layers.Dropout(hp.dropout1),
        lambda t: C.reshape(t, hp.flat),  # Flatten, in (C, H, W) order: 9216
        C.layers.Dense(hp.hidden, activation=C.relu, name="dense1", **INIT),
        C.layers.Dropout(hp.dropout2),
        C.layers.Dense(hp.classes, activation=None, name="dense2", **INIT),  # logits
    ])
    logits = model(x)
    learner = keras_adadelta(logits.parameters, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return [x], logits, learner


def loss_fn(logits, labels):
    return C.cross_entropy_with_softmax(logits, C.one_hot(labels, logits.shape[-1]))

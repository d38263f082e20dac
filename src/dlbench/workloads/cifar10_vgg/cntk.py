"""cifar10_vgg in CNTK 2.7: cntk.layers on channels-first (3, 32, 32) images, logits out (softmax fused into the
loss), CNTK's momentum_sgd with unit_gain=False (plain momentum: Keras's rule for a constant lr;
dlbench.frameworks.legacy.cntk.optim). relu after each pool, as the spec. Dense flattens in (C, H, W) order."""
import cntk as C

from dlbench.frameworks.legacy.cntk.optim import keras_sgd

INIT = dict(init=C.initializer.glorot_uniform(), init_bias=0)  # a conv kernel's fans include its 3x3 field, as Keras's


def build(hp, rng):
    x = C.input_variable((hp.channels, hp.height, hp.width), name="images")
    kernel, pool = (hp.kernel, hp.kernel), (hp.pool, hp.pool)
    model = C.layers.Sequential([
        C.layers.Convolution2D(kernel, hp.filters1, activation=C.relu, pad=True, name="conv1", **INIT),
        C.layers.Convolution2D(kernel, hp.filters1, activation=None, pad=True, name="conv2", **INIT),
        C.layers.MaxPooling(pool, strides=pool),
        C.relu,
        C.layers.Dropout(hp.conv_dropout),
        C.layers.Convolution2D(kernel, hp.filters2, activation=C.relu, pad=True, name="conv3", **INIT),
        C.layers.Convolution2D(kernel, hp.filters2, activation=None, pad=True, name="conv4", **INIT),
        C.layers.MaxPooling(pool, strides=pool),
        C.relu,
        C.layers.Dropout(hp.conv_dropout),
        lambda t: C.reshape(t, hp.flat),  # Flatten, in (C, H, W) order: 6400
        C.layers.Dense(hp.hidden, activation=C.relu, name="dense1", **INIT),
        C.layers.Dropout(hp.dense_dropout),
        C.layers.Dense(hp.classes, activation=None, name="dense2", **INIT),  # logits
    ])
    logits = model(x)
    learner = keras_sgd(logits.parameters, lr=hp.learning_rate, momentum=hp.momentum)
    return [x], logits, learner


def loss_fn(logits, labels):
    return C.cross_entropy_with_softmax(logits, C.one_hot(labels, logits.shape[-1]))

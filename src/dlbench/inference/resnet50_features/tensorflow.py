"""resnet50_features in native TensorFlow (no Keras layers): a tf.Module of tf.Variables under Keras's weight names,
the forward written with tf.nn.conv2d, tf.nn.batch_normalization (inference: the moving statistics) and
tf.nn.max_pool2d on channels-last (NHWC) images, TensorFlow's CPU layout, kernels HWIO as Keras's. The forward runs
under tf.function, either in TensorFlow's graph executor (oneDNN convolutions on the CPU; the default a user gets)
or compiled by XLA (jit_compile=True); on a GPU both use cuDNN. The layer helpers are local to this file:
dlbench.frameworks.tensorflow.layers has no convolution or BatchNorm. Variables are created trainable (gamma, beta, kernels,
biases) or not (moving statistics), as Keras's, so count_params reads Keras's count off them."""
import numpy as np
import tensorflow as tf

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import weights as canonical

LAYOUT = "channels_last"


class Conv2D(tf.Module):
    def __init__(self, k, cin, cout, stride, name):
        super().__init__(name=name)
        self.stride = stride
        pad = (k - 1) // 2
        if pad == 0 or stride == 1:
            self.padding = "VALID" if pad == 0 else "SAME"  # 'SAME' at stride 1 pads (pad, pad)
        else:  # conv1: 'SAME' at stride 2 would pad (2, 3), Keras's ZeroPadding2D pads (3, 3)
            self.padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
        self.kernel = tf.Variable(tf.zeros((k, k, cin, cout)), name="kernel")  # values come from load()
        self.bias = tf.Variable(tf.zeros((cout,)), name="bias")

    def __call__(self, x):
        return tf.nn.conv2d(x, self.kernel, self.stride, self.padding) + self.bias


class BatchNorm(tf.Module):
    def __init__(self, channels, name):
        super().__init__(name=name)
        self.gamma = tf.Variable(tf.ones((channels,)), name="gamma")
        self.beta = tf.Variable(tf.zeros((channels,)), name="beta")
        self.moving_mean = tf.Variable(tf.zeros((channels,)), trainable=False, name="moving_mean")
        self.moving_variance = tf.Variable(tf.ones((channels,)), trainable=False, name="moving_variance")

    def __call__(self, x):
        return tf.nn.batch_normalization(x, self.moving_mean, self.moving_variance, self.beta, self.gamma,
                                         spec.EPSILON)


class ResNet50(tf.Module):
    def __init__(self):
        super().__init__(name="resnet50")
        self.layers = {}
        for name, k, cin, cout, stride in spec.convs():
            self.layers[name + "_conv"] = Conv2D(k, cin, cout, stride, name + "_conv")
            self.layers[name + "_bn"] = BatchNorm(cout, name + "_bn")

    def conv_bn(self, name, x):
        return self.layers[name + "_bn"](self.layers[name + "_conv"](x))

    def __call__(self, x):  # (N, 224, 224, 3)
        x = tf.nn.relu(self.conv_bn("conv1", x))
        x = tf.nn.max_pool2d(tf.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), 3, 2, "VALID")  # no explicit pool padding
        for name, filters, stride, conv_shortcut in spec.blocks():  # keras.applications.resnet.block1
            if conv_shortcut:
                shortcut = self.conv_bn(name + "_0", x)
            else:
                shortcut = x
            y = tf.nn.relu(self.conv_bn(name + "_1", x))
            y = tf.nn.relu(self.conv_bn(name + "_2", y))
            y = self.conv_bn(name + "_3", y)
            x = tf.nn.relu(shortcut + y)
        return tf.reduce_mean(x, axis=(1, 2))  # global average pool -> (N, 2048)


def build():
    return ResNet50()


def count_params(model):
    """(total, trainable) as Keras counts them."""
    total = sum(int(np.prod(v.shape)) for v in model.variables)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    return total, trainable


def _variables(model):
    """Canonical name -> tf.Variable."""
    return {"%s/%s" % (layer, attribute): getattr(model.layers[layer], attribute)
            for layer, attribute in (name.split("/") for name in canonical.shapes())}


def load(model, weights):
    variables = _variables(model)
    for name, array in canonical.check(weights).items():
        variables[name].assign(array)
    return model


def export(model):
    variables = _variables(model)
    return canonical.check(type(canonical.shapes())((name, variables[name].numpy()) for name in canonical.shapes()))


def predictor(model, jit_compile=False):
    """A function numpy (N, 224, 224, 3) float32 -> numpy (N, 2048): the forward under tf.function, in TensorFlow's
    graph executor or compiled by XLA (jit_compile=True); one trace per batch shape."""
    forward = tf.function(model.__call__, jit_compile=jit_compile)

    def predict(x):  # a NumPy batch, or a tensor already where it runs (a timed loop places its images once)
        return forward(x if isinstance(x, tf.Tensor) else tf.constant(x)).numpy()
    return predict

"""resnet50_features in JAX: a Flax NNX module of nnx.Conv and nnx.BatchNorm on channels-last (NHWC) images, kernels
HWIO as Keras's, BatchNorm with use_running_average=True (inference mode), the forward under jax.jit (XLA: Eigen /
oneDNN convolutions on the CPU, cuDNN on a GPU, where JAX's default float32 precision may use TF32: the check needs
jax.default_matmul_precision("highest") there). Layers are kept in one nnx.Dict under Keras's layer names, so the
weight converter is a renaming (gamma/beta/moving_mean/moving_variance -> scale/bias/mean/var). The running
statistics are nnx.BatchStat variables, not nnx.Param: count_params counts both (Keras's count) and the Params alone
(trainable)."""
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import weights as canonical

LAYOUT = "channels_last"


class ResNet50(nnx.Module):
    def __init__(self, rngs):
        self.layers = nnx.Dict()
        for name, k, cin, cout, stride in spec.convs():
            pad = (k - 1) // 2
            self.layers[name + "_conv"] = nnx.Conv(cin, cout, (k, k), strides=stride,
                                                   padding=((pad, pad), (pad, pad)), use_bias=True, rngs=rngs)
            self.layers[name + "_bn"] = nnx.BatchNorm(cout, epsilon=spec.EPSILON, use_running_average=True,
                                                      rngs=rngs)

    def conv_bn(self, name, x):
        return self.layers[name + "_bn"](self.layers[name + "_conv"](x))

    def __call__(self, x):  # (N, 224, 224, 3)
        x = nnx.relu(self.conv_bn("conv1", x))
        x = nnx.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))  # -inf padding: same max of relus
        for name, filters, stride, conv_shortcut in spec.blocks():  # keras.applications.resnet.block1
            if conv_shortcut:
                shortcut = self.conv_bn(name + "_0", x)
            else:
                shortcut = x
            y = nnx.relu(self.conv_bn(name + "_1", x))
            y = nnx.relu(self.conv_bn(name + "_2", y))
            y = self.conv_bn(name + "_3", y)
            x = nnx.relu(shortcut + y)
        return x.mean(axis=(1, 2))  # global average pool -> (N, 2048)


def build(seed=0):
    """The model's structure, its variables abstract (shapes and dtypes) until load() fills them: initialising 23.5M
    values eagerly, layer by layer, takes ~25 s on a CPU only to throw them away."""
    return nnx.eval_shape(lambda: ResNet50(nnx.Rngs(seed)))


def count_params(model):
    """(total, trainable) as Keras counts them: Params plus the BatchNorm running statistics (BatchStat)."""
    trainable = sum(v.size for v in jax.tree.leaves(nnx.state(model, nnx.Param)))
    statistics = sum(v.size for v in jax.tree.leaves(nnx.state(model, nnx.BatchStat)))
    return trainable + statistics, trainable


def load(model, weights):
    for (layer, attribute), array in canonical.to_flax(weights).items():
        variable = getattr(model.layers[layer], attribute)
        if variable.value.shape != array.shape:
            raise ValueError("%s/%s: model %s, weights %s" % (layer, attribute, variable.value.shape, array.shape))
        variable.value = jnp.asarray(array)
    return model


def export(model):
    state = {}
    for layer, attribute in canonical.to_flax(canonical.shapes()):
        state[(layer, attribute)] = np.asarray(getattr(model.layers[layer], attribute).value)
    return canonical.from_flax(state)


def predictor(model):
    """A function numpy (N, 224, 224, 3) float32 -> numpy (N, 2048): the model split once into its graph and
    state, the forward jitted (one compile per batch shape)."""
    graphdef, state = nnx.split(model)

    @jax.jit
    def forward(state, x):
        return nnx.merge(graphdef, state)(x)

    def predict(x):
        return np.asarray(forward(state, x))
    return predict

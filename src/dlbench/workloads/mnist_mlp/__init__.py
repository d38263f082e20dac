"""mnist_mlp: the Keras example mnist_mlp.py, a 784-512-512-10 perceptron on MNIST.

Model: Dense 512 relu, Dropout 0.2, Dense 512 relu, Dropout 0.2, Dense 10 softmax; 669,706 parameters.
Initialisers: kernels glorot_uniform, biases zero (set explicitly in every version; PyTorch's and Flax's
defaults differ). Loss: categorical cross-entropy. Keras keeps the softmax layer and its cross-entropy (which clips
probabilities to [1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the loss: the same
math without the clip. Optimizer: RMSprop with Keras 3's rule, written out where a framework's own differs:
    v <- rho * v + (1 - rho) * g^2
    w <- w - lr * g / sqrt(v + epsilon)        (epsilon inside the root; PyTorch puts it outside)
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
The legacy frameworks' versions (each in its own environment, dlbench setup) sit there too: cntk.py,
mxnet.py (Gluon), theano.py, pytensor.py (theano.py's model on PyTensor), chainer.py, paddle.py, and keras2.py
(Keras 2 on CNTK, Theano and MXNet); each states where its framework differs.
"""
from dlbench.workloads import layers
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="mnist_mlp",
    source="Keras example mnist_mlp.py",
    dataset="mnist",
    batch_size=128,
    epochs=20,
    params=669706,
    trainable_params=669706,
    hp=Hyper(inputs=784, hidden=512, dropout=0.2, classes=10,
             learning_rate=1e-3, rho=0.9, epsilon=1e-7),
    metric="accuracy",
    optimizer="rmsprop",
    target=0.98,
    reference="98.4% validation accuracy after 20 epochs on the full MNIST (Keras example)",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    return [layers.Dense("dense1", hp.inputs, hp.hidden, data=True),  # reads the pixels: no input gradient
            layers.Dense("dense2", hp.hidden, hp.hidden),
            layers.Dense("dense3", hp.hidden, hp.classes)]


def splits(dataset, layout):
    """Flatten the 28x28 images to 784 features (the layout does not matter to a perceptron); labels stay integer
    class ids (sparse cross-entropy)."""
    def flat(x):
        return x.reshape(len(x), SPEC.hp.inputs)
    return (Split([flat(dataset.x_train)], [dataset.y_train]),
            Split([flat(dataset.x_val)], [dataset.y_val]))

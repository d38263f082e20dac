"""resnet50_features in Keras 3: keras.applications.ResNet50(include_top=False, pooling='avg', weights=None), the
reference model itself, on whichever backend KERAS_BACKEND chose before Keras was imported: jax (XLA), tensorflow
(tf.function; XLA only with jit_compile=True), torch (eager, channels-first: the layout its convolutions take
without a transpose per call) or openvino (Keras 3's inference-only backend: the model is converted to an OpenVINO
graph on the first predict). Built in the backend's image_data_format; its weights are layout-independent (Keras 3
keeps conv kernels HWIO in both formats), so the canonical list is set as it is. predict runs each
batch through predict_on_batch."""
import keras
import numpy as np

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import weights as canonical

# The layout each backend's convolutions prefer (as dlbench.frameworks.keras.adapter's IMAGE_DATA_FORMAT).
IMAGE_DATA_FORMAT = {"jax": "channels_last", "tensorflow": "channels_last", "torch": "channels_first",
                     "openvino": "channels_last"}
LAYOUT = IMAGE_DATA_FORMAT.get(keras.backend.backend(), "channels_last")


def build():
    keras.config.set_image_data_format(LAYOUT)
    shape = spec.IMAGE_SHAPE if LAYOUT == "channels_last" else spec.IMAGE_SHAPE[2:] + spec.IMAGE_SHAPE[:2]
    return keras.applications.ResNet50(include_top=False, weights=None, input_shape=shape, pooling="avg")


def count_params(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


def _paths(model):
    return [w.path for w in model.weights]


def load(model, weights):
    model.set_weights(canonical.to_keras(weights, _paths(model)))
    return model


def export(model):
    return canonical.from_keras(model.get_weights(), _paths(model))


def predictor(model, batch_size=spec.BATCH_SIZE, jit_compile="auto"):
    """A function numpy batch in LAYOUT -> numpy (N, 2048) through model.predict_on_batch (Keras's compiled
    predict step, without predict()'s per-call data adapter and callbacks). jit_compile: Keras's compile() setting
    ("auto": XLA on jax, not on tensorflow on a CPU; True: XLA on tensorflow too)."""
    if jit_compile != "auto":
        model.compile(jit_compile=jit_compile)

    def predict(x):
        return np.asarray(model.predict_on_batch(x))
    return predict

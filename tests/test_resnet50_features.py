"""resnet50_features: one ResNet-50, the same function in every framework and runtime.

1. The topology: 53 convs and BatchNorms in Keras's order, 23,587,712 parameters (23,534,592 trainable).
2. The canonical weights: generated from a seed with randomised BatchNorm statistics and affine parameters, saved
   and loaded unchanged, rejected when incomplete; the NumPy converters (torch OIHW, Flax names, Keras order) are
   exact inverses; the NumPy reference's convolution and pooling match naive loops; the reference's features stay
   O(1) through the 50 layers (neither explode nor vanish) and differ between images.
3. ONNX Runtime's IOBinding path computes what session.run computes. Every runtime's own check (parameter counts,
   the weights exported back unchanged, features within 1e-4 of the NumPy float64 reference) is one real CLI run:
   tests/test_inference_run.py.
A missing core framework skips (under CI=true: fails, conftest.require_framework); ONNX Runtime and OpenVINO are
optional extras: they skip with the pip command that installs them.
Under a minute on two cores, most of it the float64 reference and one torch model exported to ONNX.
"""
import collections
import json

import numpy as np
import pytest

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import runtimes
from dlbench.inference.resnet50_features import weights as canonical

from conftest import require_framework

IMAGES = 2


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("resnet50") / "weights.npz")
    return canonical.save(canonical.generate(0), path)


@pytest.fixture(scope="module")
def weights(weights_file):
    return canonical.load(weights_file)


@pytest.fixture(scope="module")
def reference(weights):
    return canonical.forward(weights, spec.inputs(IMAGES))


# -- 1. topology ----------------------------------------------------------------------------------------------------

def test_topology_and_parameter_counts():
    assert spec.param_counts() == (spec.PARAMS, spec.TRAINABLE_PARAMS) == (23587712, 23534592)
    convs = spec.convs()
    assert len(convs) == 53 and len(spec.blocks()) == 16
    assert convs[:6] == [("conv1", 7, 3, 64, 2), ("conv2_block1_1", 1, 64, 64, 1), ("conv2_block1_2", 3, 64, 64, 1),
                         ("conv2_block1_0", 1, 64, 256, 1), ("conv2_block1_3", 1, 64, 256, 1),
                         ("conv2_block2_1", 1, 256, 64, 1)]
    # v1: the stride sits on the first 1x1 conv and the projection of a downsampling block, never on the 3x3
    assert ("conv3_block1_1", 1, 256, 128, 2) in convs and ("conv3_block1_0", 1, 256, 512, 2) in convs
    assert all(stride == 1 for name, k, _, _, stride in convs if k == 3)
    assert convs[-1] == ("conv5_block3_3", 1, 512, 2048, 1)
    names = spec.weight_names()
    assert len(names) == 318 and names[:3] == ["conv1_conv/kernel", "conv1_conv/bias", "conv1_bn/gamma"]


def test_inputs_are_seeded_uniform_and_transposed_once():
    x = spec.inputs(3)
    assert x.shape == (3, 224, 224, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() < 1
    np.testing.assert_array_equal(spec.inputs(2), x[:2])  # a prefix of a longer draw
    first = spec.inputs(2, channels_first=True)
    assert first.shape == (2, 3, 224, 224) and first.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(first, x[:2].transpose(0, 3, 1, 2))
    assert not np.array_equal(spec.inputs(1, seed=1), x[:1])


def test_relative_error_is_max_abs_over_max_reference():
    ref = np.array([[1.0, -4.0], [0.0, 2.0]])
    assert spec.relative_error(ref + np.array([[0.0, 0.0], [0.4, 0.0]]), ref) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        spec.relative_error(ref[:1], ref)


# -- 2. canonical weights and the NumPy reference -------------------------------------------------------------------

def test_canonical_file_lists_keras_order_and_round_trips(weights_file, weights):
    with np.load(weights_file) as archive:
        assert archive.files == spec.weight_names()
    assert list(weights) == spec.weight_names()
    assert all(weights[n].shape == s and weights[n].dtype == np.float32 for n, s in canonical.shapes().items())
    broken = collections.OrderedDict(weights)
    del broken["conv3_block2_2_bn/moving_variance"]
    with pytest.raises(ValueError, match="1 missing.*conv3_block2_2_bn/moving_variance"):
        canonical.check(broken)
    broken = collections.OrderedDict(weights)
    broken["conv1_conv/kernel"] = broken["conv1_conv/kernel"].transpose(3, 2, 0, 1)
    with pytest.raises(ValueError, match="conv1_conv/kernel"):
        canonical.check(broken)


def test_ensure_generates_into_the_cache_once(weights_file, tmp_path, monkeypatch):
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path))
    assert canonical.default_path(3) == str(tmp_path / "resnet50_features-seed3-v1.npz")
    monkeypatch.setattr(canonical, "generate", lambda seed: pytest.fail("an existing file was generated again"))
    assert canonical.ensure(0, path=weights_file) == weights_file


def test_batchnorm_parameters_are_randomised(weights):
    for layer in ("conv1", "conv3_block2_2", "conv5_block3_3"):
        gamma, beta, mean, variance = [weights[layer + "_bn/" + a] for a in canonical.BN_ATTRIBUTES]
        for values, identity in ((gamma, 1.0), (beta, 0.0), (mean, 0.0), (variance, 1.0)):
            assert np.abs(values - identity).mean() > 0.05, layer  # not left at Keras's 0/1 initial values
            assert values.std() > 0.01, layer
        assert variance.min() > 0


def test_converters_are_exact_inverses(weights):
    torch_state = canonical.to_torch(weights)
    assert torch_state["layers.conv1_conv.weight"].shape == (64, 3, 7, 7)  # OIHW
    assert set(k.rsplit(".", 1)[1] for k in torch_state) == {"weight", "bias", "running_mean", "running_var"}
    flax_state = canonical.to_flax(weights)
    assert ("conv1_bn", "scale") in flax_state and ("conv1_conv", "kernel") in flax_state
    paths = list(reversed(spec.weight_names()))
    for back in (canonical.from_torch(torch_state), canonical.from_flax(flax_state),
                 canonical.from_keras(canonical.to_keras(weights, paths), paths)):
        assert list(back) == list(weights)
        assert all(np.array_equal(back[n], weights[n]) for n in weights)


def test_reference_ops_match_naive_loops():
    rng = np.random.RandomState(3)
    x = rng.standard_normal((2, 9, 8, 3))
    kernel, bias = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    for stride, pad in ((1, 1), (2, 0), (2, 3)):
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        ho, wo = (padded.shape[1] - 3) // stride + 1, (padded.shape[2] - 3) // stride + 1
        naive = np.zeros((2, ho, wo, 4))
        for i in range(ho):
            for j in range(wo):
                patch = padded[:, i * stride:i * stride + 3, j * stride:j * stride + 3, :]
                naive[:, i, j] = np.einsum("nhwc,hwco->no", patch, kernel) + bias
        np.testing.assert_allclose(canonical.conv2d(x, kernel, bias, stride, pad), naive, rtol=1e-12, atol=1e-12)
    one = rng.standard_normal((1, 1, 3, 4))
    np.testing.assert_allclose(canonical.conv2d(x, one, bias, 2), x[:, ::2, ::2] @ one[0, 0] + bias)
    relu = np.maximum(x, 0)
    pooled = canonical.max_pool_3x3_s2(relu)
    padded = np.pad(relu, ((0, 0), (1, 1), (1, 1), (0, 0)))
    assert pooled.shape == (2, 5, 4, 3)
    for i in range(5):
        for j in range(4):
            np.testing.assert_array_equal(pooled[:, i, j], padded[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(1, 2)))


def test_reference_features_neither_explode_nor_vanish(weights, reference):
    assert reference.shape == (IMAGES, 2048) and np.isfinite(reference).all()
    assert 0.1 < reference.mean() < 10 and reference.max() < 100
    assert (reference > 1e-3).mean() > 0.9  # not dead relus
    assert reference.std(axis=1).min() > 0.05  # the 2048 features differ
    assert np.abs(reference[0] - reference[1]).max() > 0.05 * reference.max()  # the images differ
    # float32 through 50 layers stays within the check's tolerance: it is attainable
    assert spec.relative_error(canonical.forward(weights, spec.inputs(IMAGES), np.float32), reference) < 1e-5


def test_missing_runtime_skips_with_the_install_hint(monkeypatch, capsys):
    monkeypatch.setitem(runtimes.REQUIRES, "openvino", ("torch", "dlbench_no_such_module"))
    assert runtimes.main(["--runtime", "openvino", "--weights", "unused.npz"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out == {"runtime": "openvino", "status": "skipped", "missing": ["dlbench_no_such_module"],
                   "hint": "pip install 'dlbench[openvino]'"}


# -- 3. the ONNX Runtime binding -----------------------------------------------------------------------------------

def test_onnxruntime_binds_a_torch_tensor_in_place(weights, tmp_path):
    """A GPU trial gives ONNX Runtime its images as a torch tensor on the device, bound through IOBinding: the same
    code path on the CPU's memory computes exactly what session.run computes from the NumPy array."""
    require_framework("torch")
    if runtimes.missing("onnxruntime"):
        pytest.skip("onnxruntime is an optional extra: " + runtimes.OPTIONAL["onnxruntime"])
    import torch

    from dlbench.inference import onnx_export
    from dlbench.inference.resnet50_features import torch as impl

    path = str(tmp_path / "resnet50.onnx")
    onnx_export.export(impl.load(impl.build(), weights), path)
    predict, info = onnx_export.onnxruntime_predictor(path, 2)
    x = spec.inputs(1, channels_first=True)
    assert np.array_equal(predict(torch.from_numpy(x)), predict(x))
    assert info["use_tf32"] is None  # no CUDA provider here

"""The RNN-kernel label is read from op names: each rule is pinned on the names the frameworks really emit (seen in
runs here and on a GPU), and the label never claims cuDNN without a cuDNN op."""
import pytest

from dlbench.frameworks.kernels import PER_STEP, rnn_kernel


@pytest.mark.parametrize("ops, label", [
    (["aten::lstm", "aten::_cudnn_rnn", "aten::cudnn_convolution"], "cuDNN RNN"),
    (["tf:CudnnRNNV3", "tf:While"], "cuDNN RNN"),
    (["jax:custom_vjp_call", "jax:rnn_fwd", "jax:dot_general"], "cuDNN RNN"),  # keras-jax's LSTM on an H100
    (["aten::lstm", "aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer_backward"], "oneDNN fused RNN (CPU)"),
    (["aten::gru", "aten::addmm"], "ATen RNN (native loop)"),
    (["tf:BlockLSTMV2", "tf:MatMul"], "TensorFlow fused block LSTM/GRU"),
    (["jax:scan", "jax:dot_general"], "XLA while loop (lax.scan)"),
    (["tf:StatelessWhile", "tf:MatMul"], "graph while loop (tf.while_loop)"),
])
def test_the_decisive_op_names_the_kernel(ops, label):
    found, evidence = rnn_kernel(ops, recurrent=True)
    assert found == label and evidence and set(evidence) <= set(ops)


def test_a_cudnn_convolution_is_not_a_cudnn_rnn():
    assert rnn_kernel(["aten::cudnn_convolution", "aten::mkldnn_rnn_layer"], True)[0] == "oneDNN fused RNN (CPU)"


def test_a_cudnn_convolution_kernel_of_a_gpu_run_is_not_evidence_of_an_rnn():
    # A real kernel name from cifar10_cnn under torch on an H100: its mangled name contains "gru" and "cudnn".
    conv = ("_ZN17cutlass__5x_cudnn6KernelINS_4conv6kernel23ImplicitGemmConvolutionINS1_11threadblock22ImplicitGemm"
            "MultistageINS_4gemm9GemmShapeILi64ELi64ELi32EEENS4_52Conv2dWgradOutputGradientTileAccessIterator")
    assert rnn_kernel([conv, "aten::mkldnn_rnn_layer"], True)[0] == "oneDNN fused RNN (CPU)"
    assert rnn_kernel([conv, "aten::_cudnn_rnn"], False) == (None, [])


def test_no_recurrent_op_means_per_step_ops_for_a_recurrent_model_and_nothing_otherwise():
    assert rnn_kernel(["tf:MatMul", "tf:Sigmoid"], recurrent=True) == (PER_STEP, [])
    assert rnn_kernel(["aten::conv2d"], recurrent=False) == (None, [])


def test_every_workload_with_a_recurrent_layer_says_so():
    """`recurrent` decides whether a run without a loop or RNN op records "per-step ops": a workload whose Keras
    version has an RNN layer must set it (imdb_gru and babi_rnn once did not, and keras-torch recorded nothing)."""
    from pathlib import Path

    from dlbench import workloads
    for workload in workloads.TRAINING_IDS:  # the inference workloads live in dlbench.inference
        keras_source = (Path(workloads.__file__).parent / workload / "keras.py").read_text()
        has_rnn = any(f"layers.{layer}(" in keras_source for layer in ("LSTM", "GRU", "SimpleRNN"))
        assert workloads.get(workload).SPEC.recurrent == has_rnn, workload

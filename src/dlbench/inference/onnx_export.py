"""The PyTorch ResNet-50 exported to ONNX, run in ONNX Runtime, and converted to OpenVINO's model.

Exporter: torch.onnx.export with dynamo=False, the TorchScript-based exporter (it traces the module once; the
dynamo-based one, torch 2.9's default, needs onnxscript, which dlbench does not install). Opset 17, the batch axis
dynamic (one file serves every batch size), constants folded; the model in eval mode, so each BatchNorm is
exported as an inference BatchNormalization node (ONNX Runtime and OpenVINO both fuse it into the preceding
convolution, which changes the rounding but not the function). Input "images" (N, 3, 224, 224), output "features"
(N, 2048).

ONNX Runtime: an InferenceSession on the CPUExecutionProvider (the CUDA provider where asked and installed), all
graph optimisations on, intra-op threads = `threads`, inter-op 1, sequential execution. Inputs: a NumPy array (ONNX
Runtime's own input type in host memory), or a torch tensor already on the device, bound to the session in place
through IOBinding (the inputs of a GPU trial are placed on the device once, as every runtime's are). TF32: the CUDA
provider's use_tf32 option (on by default) is turned off when a suite asks for strict FP32.
OpenVINO: openvino.convert_model on the ONNX file, compiled for "CPU" (or "GPU", an Intel GPU only) with
INFERENCE_NUM_THREADS = `threads`, the LATENCY performance hint (one stream: the same parallelism as the other
runtimes, which run one batch at a time) and INFERENCE_PRECISION_HINT f32: on CPUs with AVX512_BF16 or AMX,
OpenVINO's default is to run float32 models in bfloat16, which is faster and ~1e-2 off, not the same function.
"""
import numpy as np

INPUT = "images"
OUTPUT = "features"
OPSET = 17


def torch_export_arguments(opset=OPSET):
    """How dlbench calls torch.onnx.export (the TorchScript exporter: the dynamo one needs onnxscript); the feature
    probe (dlbench.report.probe) exports the same way, so that the matrix says what dlbench does."""
    return {"dynamo": False, "opset_version": opset}


def export(model, path, opset=OPSET):
    """Export the eval-mode torch `model` to `path`; returns a description of the exporter used."""
    import torch
    from dlbench.inference import resnet50_features as spec
    model = model.cpu().eval()
    example = torch.zeros((1, spec.IMAGE_SHAPE[2]) + spec.IMAGE_SHAPE[:2])
    torch.onnx.export(model, (example,), path, **torch_export_arguments(opset), input_names=[INPUT],
                      output_names=[OUTPUT], dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
                      do_constant_folding=True)
    return "torch.onnx.export (TorchScript-based, dynamo=False), opset %d, torch %s" % (opset, torch.__version__)


def onnxruntime_predictor(path, threads, device="cpu", tf32=None):
    """(predict, versions): predict maps (N, 3, 224, 224) float32 images to numpy (N, 2048) features. The images are
    a NumPy array, or a contiguous torch tensor on the session's device, which is bound in place (IOBinding: no copy
    through the host). tf32=False on a GPU: the CUDA provider's use_tf32 = 0 (strict FP32); otherwise its default
    (TF32 allowed)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if device == "gpu":
        # use_tf32 is named only to turn TF32 off: an ONNX Runtime older than the option would refuse the name.
        providers.insert(0, ("CUDAExecutionProvider", {"use_tf32": "0"}) if tf32 is False else "CUDAExecutionProvider")
    session = ort.InferenceSession(path, options, providers=providers)

    def predict(x):
        if isinstance(x, np.ndarray):
            return session.run([OUTPUT], {INPUT: np.ascontiguousarray(x, dtype=np.float32)})[0]
        return bound_run(session, x)
    cuda = session.get_provider_options().get("CUDAExecutionProvider", {})
    return predict, {"onnxruntime": ort.__version__, "providers": session.get_providers(),
                     "use_tf32": cuda.get("use_tf32")}


def bound_run(session, x):
    """One run with the torch tensor x bound as the input where it lies (IOBinding), the output bound to host
    memory: the features come back as NumPy, which waits for the run, as every runtime's predict does."""
    binding = session.io_binding()
    x = x.contiguous()
    binding.bind_input(name=INPUT, device_type=x.device.type, device_id=x.device.index or 0,
                       element_type=np.float32, shape=tuple(x.shape), buffer_ptr=x.data_ptr())
    binding.bind_output(OUTPUT, "cpu")
    session.run_with_iobinding(binding)
    return binding.copy_outputs_to_cpu()[0]


def openvino_predictor(path, threads, device="cpu"):
    """(predict, versions) for the ONNX file converted by openvino.convert_model and compiled for the CPU."""
    import openvino as ov
    core = ov.Core()
    model = ov.convert_model(path)
    target = "GPU" if device == "gpu" else "CPU"
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    if target == "CPU":
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = core.compile_model(model, target, config)
    request = compiled.create_infer_request()
    output = compiled.output(0)

    def predict(x):
        return np.array(request.infer({0: np.ascontiguousarray(x, dtype=np.float32)})[output])
    return predict, {"openvino": ov.get_version(), "inference_precision":
                     str(compiled.get_property("INFERENCE_PRECISION_HINT"))}

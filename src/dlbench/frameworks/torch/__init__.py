"""PyTorch's declaration; its adapter, Keras-initialised layers and Keras's optimizer rules are the modules beside
this one, imported in a worker only. Imports no framework; Python 3.6-safe (dlbench.frameworks reads it)."""
from dlbench.frameworks.declaration import EAGER_OR_JIT, MIXED, Framework

# Its feature rows known from documentation, not probed (dlbench.report.features; as of its DOCUMENTED_AS_OF).
DOCUMENTED = {
    "language": "Python; C++ core (ATen, LibTorch)",
    "platforms": "Linux, macOS, Windows; CUDA, ROCm, Apple MPS, Intel XPU",
    "interfaces": "Python, C++ (LibTorch), TorchScript, torch.export",
    "pretrained": "torchvision, torch.hub, Hugging Face Hub",
    "multi_gpu": "yes: DistributedDataParallel, FSDP",
    "multi_machine": "yes: torch.distributed (NCCL, Gloo), torchrun",
    "mixed_precision": "yes: torch.autocast (fp16, bf16), GradScaler",
    "keras_backend": "yes: as keras-torch",
}

FRAMEWORKS = [
    # torch.compile's gain is launch overhead, which a GPU has and a CPU hardly does (adapter.py).
    Framework("torch", "PyTorch", ["torch"], ["torch"], ["torch"], __name__, precisions=MIXED,
              compile_modes=EAGER_OR_JIT, tuned_compile={"gpu": "jit"}, workload_file="torch",
              probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED),
]

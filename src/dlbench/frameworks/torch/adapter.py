"""PyTorch: an eager training loop, the idiom of its tutorials.

Precision (the trial's `precision` setting), as PyTorch's automatic mixed precision recipe has it:
  fp32        float32 everywhere.
  bf16        torch.autocast(device, torch.bfloat16) around the forward pass and the loss: matmuls, convolutions and
              oneDNN/cuDNN RNNs run in bfloat16, losses and reductions in float32 (autocast's op lists); parameters,
              gradients and optimizer state stay float32 (the master weights). No loss scaling.
  fp16-mixed  the same with torch.float16, and torch.amp.GradScaler for dynamic loss scaling (initial scale 2**16,
              halved on a step with inf/NaN gradients, which is skipped; doubled after 2000 good steps). Both work
              on the CPU in torch 2.13 (GradScaler("cpu")), except recurrent layers: oneDNN has no float16 LSTM/GRU
              ("could not create a primitive descriptor for the LSTM forward propagation primitive"), so a model
              with nn.LSTM/GRU/RNN under fp16-mixed on a CPU is refused (the trial is recorded skipped).
Evaluation and prediction run under the same autocast as training.
"""
import contextlib

import numpy as np

from dlbench.frameworks.adapter import DEVICE_RESIDENT, HOST_PER_BATCH
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import PrecisionUnsupported
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals, matmul_precision, tf32_allowed

COMPUTE_DTYPES = {"fp32": None, "bf16": "bfloat16", "fp16-mixed": "float16"}


def set_torch_tf32(torch, allowed):
    """dlbench's one TF32 policy (adapter.tf32_allowed) in PyTorch's terms. PyTorch's own default leaves float32
    matmuls in FP32 and lets cuDNN's convolutions use TF32; its recommended "high" float32 matmul precision plus
    cuDNN's allow_tf32 make it what JAX and TensorFlow do by default, and "highest" with allow_tf32 off is strict
    FP32. Both are process-wide flags, read when each op runs."""
    torch.set_float32_matmul_precision("high" if allowed else "highest")
    torch.backends.cudnn.allow_tf32 = allowed


def torch_tf32_used(torch, gpu, capability=None):
    """(the flags read back, env["matmul_precision"]): "high" (or "medium") lets cuBLAS use TF32 for float32
    matmuls, allow_tf32 lets cuDNN's convolutions and RNNs."""
    flags = {"float32_matmul_precision": torch.get_float32_matmul_precision(),
             "matmul": bool(torch.backends.cuda.matmul.allow_tf32), "cudnn": bool(torch.backends.cudnn.allow_tf32)}
    return flags, matmul_precision(gpu, flags["float32_matmul_precision"] != "highest", flags["cudnn"], capability)


def setup_torch(settings):
    """Threads, denormal policy, seed and device for torch; shared with Keras on the torch backend."""
    import torch

    torch.set_num_threads(settings.threads)
    torch.set_num_interop_threads(settings.threads)
    torch.set_flush_denormal(True)  # XLA and TensorFlow flush; PyTorch on a CPU only when asked (WORKLOADS.md, 10)
    torch.manual_seed(settings.seed)
    gpu = settings.device == "gpu"
    if gpu:
        if not torch.cuda.is_available():
            raise RuntimeError("--device gpu, but torch %s sees no CUDA GPU: install a CUDA build of torch, or use "
                               "--device cpu" % torch.__version__)
        # Autotuning on unless a suite turns it off: TensorFlow and JAX autotune by default, and the seed's
        # PyTorch notebooks set cudnn.benchmark = True.
        torch.backends.cudnn.benchmark = settings.cudnn_autotune is not False
        set_torch_tf32(torch, tf32_allowed(settings))
    device = torch.device("cuda" if gpu else "cpu")
    tf32, used = torch_tf32_used(torch, gpu, torch.cuda.get_device_capability(0) if gpu else None)
    return device, {
        "threads": {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()},
        "denormals_flushed": flushes_denormals(
            lambda a, b: (torch.from_numpy(a).to(device) * torch.from_numpy(b).to(device)).cpu().numpy()),
        "device": {"kind": device.type,
                   "name": torch.cuda.get_device_name(0) if gpu else "cpu",
                   "cuda": torch.version.cuda if gpu else None,
                   "cudnn": torch.backends.cudnn.version() if gpu else None,
                   "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)},
        "tf32": tf32 if gpu else None,
        "matmul_precision": used,
    }


def torch_allocator_peak(torch):
    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() and torch.cuda.is_initialized() else None


def profiled_ops(torch, run):
    """The names of the ops PyTorch ran for run() (the RNN kernel shows as aten::mkldnn_rnn_layer,
    aten::_cudnn_rnn or only aten::lstm)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        run()
    return sorted({event.name for event in prof.events()})


def profiled_top_ops(torch, run):
    """The top-level ops PyTorch ran for run(), without gradients (kernels.torch_top_ops)."""
    from torch.profiler import ProfilerActivity, profile

    from dlbench.frameworks.kernels import torch_top_ops
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    return torch_top_ops(prof.events())


class Adapter(BaseAdapter):
    layout = "channels_first"  # NCHW: PyTorch's convolutions take it natively
    # channels_last: the same NCHW tensors stored NHWC in memory (torch.channels_last), the form cuDNN's tensor-core
    # convolutions and oneDNN prefer; the arrays stay NCHW, only the model's and the batches' strides change.
    layouts = ("channels_first", "channels_last")

    def load(self, settings):
        self.device, info = setup_torch(settings)
        info["memory_format"] = "channels_last" if settings.layout == "channels_last" else "contiguous"
        return info

    def trainer(self, workload_module, spec, settings, pipeline):
        return TorchTrainer(workload_module, spec.hp, self.device, pipeline, tuned=settings.tier == "tuned",
                            precision=settings.precision, compile=self.framework.compile_for(settings),
                            channels_last=settings.layout == "channels_last", attention=spec.attention)


class TorchTrainer(BaseTrainer):
    """Eager PyTorch, or with compile = jit the model under torch.compile (Inductor; the tuned tier on a GPU uses its
    "reduce-overhead" mode: CUDA graphs).

    Data placement (adapter.DATA_PLACEMENTS): the default tier feeds each batch from the host as PyTorch's tutorials
    do (torch.from_numpy(batch).to(device) every step); the tuned tier copies a training set without augmentation
    to the device once and gathers each batch there, in the same shuffled order (on a CPU the "device" is the
    host's memory: the set becomes tensors once instead of a conversion per batch). An augmented set stays on the
    host pipeline in both tiers: its augmentation is NumPy code."""

    def __init__(self, module, hp, device, pipeline, tuned=False, precision="fp32", compile="none",
                 channels_last=False, attention=False):
        import torch

        self.torch, self.module, self.device, self.pipeline = torch, module, device, pipeline
        parts = module.build(hp)
        self.model, self.optimizer = parts[0].to(device), parts[1]
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:  # 4-d weights only; the rest stay as they are
            self.model = self.model.to(memory_format=self.memory_format)
        self.precision = precision
        self.compute_dtype = getattr(torch, COMPUTE_DTYPES[precision]) if COMPUTE_DTYPES[precision] else None
        recurrent = [type(m).__name__ for m in self.model.modules() if isinstance(m, torch.nn.RNNBase)]
        if precision == "fp16-mixed" and device.type == "cpu" and recurrent:
            raise PrecisionUnsupported(
                "torch fp16-mixed on a CPU: oneDNN has no float16 %s kernel (torch %s: 'could not create a primitive "
                "descriptor for the LSTM forward propagation primitive'); bf16 runs" % (recurrent[0], torch.__version__))
        # Dynamic loss scaling for float16 (its range is too small for small gradients); bfloat16 needs none.
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16-mixed" else None
        self.schedule = parts[2] if len(parts) > 2 else None  # a per-step learning-rate schedule, stepped every batch
        self.resident = tuned and pipeline.augment is None
        self.on_device = {}
        self.forward = self.model
        self.compile = "eager"
        if compile == "jit":
            graphs = tuned and device.type == "cuda"  # CUDA graphs: the tuned tier's form on a GPU
            self.forward = torch.compile(self.model, mode="reduce-overhead" if graphs else "default")
            self.compile = "torch.compile(mode=%r)" % ("reduce-overhead" if graphs else "default")
            self.tuning = self.compile + (": CUDA graphs" if graphs else "")
        elif tuned:
            self.tuning = ("eager (the tuned tier compiles on a GPU only: torch.compile removes launch overhead, "
                           "which a CPU hardly has, and on a CPU it was slower, the transformers too: docs/gpu.md)")
        if tuned:
            self.tuning += ("; the training set resident on the device, batches gathered there" if self.resident else
                            "; batches from the host: the augmentation runs in NumPy, batch by batch")
        if tuned and attention:
            self.tuning += ("; attention: F.scaled_dot_product_attention, which picks its kernel itself (flash, "
                            "memory-efficient, cuDNN or math; the one that ran is recorded)")
        self.data_placement = DEVICE_RESIDENT if self.resident else HOST_PER_BATCH

    def _batches(self, split, batch_size, rng):
        """Training batches as device tensors: gathered on the device when the set lives there (the tuned tier; the
        same shuffled order as the pipeline's), else from the NumPy pipeline, copied per batch."""
        if not self.resident:
            for inputs, targets in self.pipeline.epoch(split, batch_size, rng):
                yield self._tensors(inputs), self._tensors(targets)
            return
        if id(split) not in self.on_device:  # once, in the warm-up epoch; integer labels as the int64 losses take
            targets = [t.long() if not t.is_floating_point() else t for t in self._tensors(split.targets)]
            self.on_device[id(split)] = (self._tensors(split.inputs), targets)
        inputs, targets = self.on_device[id(split)]
        order = self.torch.from_numpy(rng.permutation(split.n)).to(self.device)
        for start in range(0, split.n, batch_size):
            index = order[start:start + batch_size]
            yield [self._strided(a[index]) for a in inputs], [a[index] for a in targets]

    def param_counts(self):
        # Parameters that a native primitive has and the spec's math lacks (nn.LSTM's second bias b_hh, held at zero
        # and frozen, marked by frameworks/torch/layers) are not weights of the model Keras counts.
        params = [p for p in self.model.parameters() if not getattr(p, "structural_zero", False)]
        state = [b for name, b in self.model.named_buffers() if not name.endswith("num_batches_tracked")]
        total = sum(p.numel() for p in params) + sum(b.numel() for b in state)
        return total, sum(p.numel() for p in params if p.requires_grad)

    def _tensors(self, arrays):
        return [self._strided(self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)) for a in arrays]

    def _strided(self, tensor):
        """An image batch in the trial's memory format (a gather on the device returns the default one)."""
        return tensor.contiguous(memory_format=self.memory_format) if tensor.dim() == 4 else tensor

    def train_epoch(self, split, batch_size, rng):
        torch = self.torch
        self.model.train()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device)
        for inputs, targets in self._batches(split, batch_size, rng):
            with self._autocast():
                outputs = self.forward(*inputs)
                loss = self.module.loss_fn(outputs, *targets)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)  # unscales; skips the step if a gradient is inf or NaN
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            if self.schedule is not None:
                self.schedule.step()
            loss_sum += loss.detach() * len(targets[0])
            with torch.no_grad():
                correct += self.module.correct(outputs, *targets)
        return loss_sum.item() / split.n, correct.item() / split.n

    def evaluate(self, split, batch_size):
        torch = self.torch
        self.model.eval()
        loss_sum, correct = 0.0, 0.0
        with torch.no_grad(), self._autocast():
            for inputs, targets in self.pipeline.ordered(split, batch_size):
                inputs, targets = self._tensors(inputs), self._tensors(targets)
                outputs = self.model(*inputs)
                loss_sum += self.module.loss_fn(outputs, *targets) * len(targets[0])
                correct += self.module.correct(outputs, *targets)
        return float(loss_sum) / split.n, float(correct) / split.n

    def rnn_evidence(self, inputs, targets):
        """The ops of one forward and backward pass in training mode (after training: it moves BatchNorm
        statistics by a batch and leaves no gradients)."""
        self.model.train()
        inputs, targets = self._tensors(inputs), self._tensors(targets)
        def step():
            with self._autocast():
                loss = self.module.loss_fn(self.model(*inputs), *targets)
            loss.backward()
        ops = profiled_ops(self.torch, step)
        self.optimizer.zero_grad(set_to_none=True)
        return ops

    def forward_top_ops(self, inputs):
        """The top-level ops of one forward pass in training mode, profiled (it runs once, without gradients), for
        kernels.recurrent_launches (tests/test_rnn_launches.py)."""
        self.model.train()
        return profiled_top_ops(self.torch, lambda: self.model(*[self.torch.from_numpy(a) for a in inputs]))

    def predict(self, inputs):
        self.model.eval()
        with self.torch.no_grad(), self._autocast():
            return self.module.probabilities(self.model(*self._tensors(inputs))).float().cpu().numpy()

    def _autocast(self):
        if self.compute_dtype is None:
            return contextlib.nullcontext()
        return self.torch.autocast(self.device.type, dtype=self.compute_dtype)

    def precision_used(self, inputs):
        """What the trial really computes in, read back from one forward pass in inference mode (untimed): the
        dtype of the model's output (the logits: the last matmul's result), of its parameters and its gradients'
        optimizer (float32 master weights), and the loss scaling."""
        torch = self.torch
        self.model.eval()
        with torch.no_grad(), self._autocast():
            outputs = self.model(*self._tensors(inputs))
        first = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        params = sorted({str(p.dtype).replace("torch.", "") for p in self.model.parameters()})
        compute = str(first.dtype).replace("torch.", "")
        if compute != (COMPUTE_DTYPES[self.precision] or "float32"):
            raise PrecisionUnsupported("torch %s: this model's output is computed in %s under autocast, not %s"
                                       % (self.precision, compute, COMPUTE_DTYPES[self.precision] or "float32"))
        return {"requested": self.precision, "compute": compute,
                "params": ", ".join(params),
                "method": "torch.autocast(%r, dtype=torch.%s)" % (self.device.type, COMPUTE_DTYPES[self.precision])
                if self.compute_dtype is not None else "none",
                "loss_scale": "dynamic: torch.amp.GradScaler(%r), initial scale %g" % (
                    self.device.type, self.scaler.get_scale()) if self.scaler is not None else None}

    def compile_mode(self):
        return self.compile

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def allocator_peak(self):
        return torch_allocator_peak(self.torch)

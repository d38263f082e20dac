"""PyTorch's feature probes, run by `python -m dlbench.report.probe torch` (dlbench.report.probe: the
protocol, the tiny model and its expected numbers). Imports torch only when called."""
import os
import tempfile

from dlbench.report.probe import B1, B2, EXPECTED, GRAD_EXPECTED, GRAD_X, W1, W2, X, close, one_line, onnx_check


def probes(framework):
    """(feature, function) pairs, each run by dlbench.report.probe.probe."""
    import torch

    def model():
        m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        with torch.no_grad():
            m[0].weight.copy_(torch.from_numpy(W1.T))
            m[0].bias.copy_(torch.from_numpy(B1))
            m[2].weight.copy_(torch.from_numpy(W2.T))
            m[2].bias.copy_(torch.from_numpy(B2))
        return m.eval()

    def autodiff():
        x = torch.tensor(GRAD_X, requires_grad=True)
        (grad,) = torch.autograd.grad((x ** 3).sum(), x)
        ok = close(grad.numpy(), GRAD_EXPECTED)
        return ("yes" if ok else "no"), "torch.autograd.grad of sum(x^3) " + ("= 3x^2" if ok else "is wrong")

    def jit():
        m = model()
        try:
            out = torch.compile(m)(torch.from_numpy(X)).detach().numpy()
        except Exception as exc:  # noqa: BLE001
            traced = torch.jit.trace(m, torch.from_numpy(X))
            ok = close(traced(torch.from_numpy(X)).detach().numpy(), EXPECTED)
            return ("partly" if ok else "no"), "torch.compile failed (%s); torch.jit.trace %s" % (
                one_line(exc), "works" if ok else "gives wrong outputs")
        ok = close(out, EXPECTED)
        return ("yes" if ok else "no"), "torch.compile (inductor) on a 2-layer MLP: " + (
            "outputs match eager" if ok else "outputs differ")

    def bf16():
        m = model().to(torch.bfloat16).train()
        out = m(torch.from_numpy(X).to(torch.bfloat16))
        out.float().pow(2).mean().backward()
        ok = out.dtype == torch.bfloat16 and m[0].weight.grad.dtype == torch.bfloat16 and bool(
            torch.isfinite(m[0].weight.grad.float()).all()) and close(out.float().detach().numpy(), EXPECTED, 0.1)
        return ("yes" if ok else "no"), "forward and backward in bfloat16 on the cpu"

    def onnx():
        from dlbench.inference import onnx_export  # dlbench's own export path (ONNX Runtime, OpenVINO runs)
        path = os.path.join(tempfile.mkdtemp(), "probe.onnx")
        torch.onnx.export(model(), (torch.from_numpy(X),), path, **onnx_export.torch_export_arguments())
        value, detail = onnx_check(path)
        return value, "dlbench's export path (TorchScript exporter, opset %d): %s" % (onnx_export.OPSET, detail)

    def gpus():
        count = torch.cuda.device_count()
        names = [torch.cuda.get_device_name(i) for i in range(count)]
        return count, "torch.cuda.device_count()" + (": " + ", ".join(names) if names else "")

    return [("autodiff", autodiff), ("jit", jit), ("bf16", bf16), ("gpus", gpus), ("onnx", onnx)]

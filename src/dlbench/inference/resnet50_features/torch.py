"""resnet50_features in PyTorch: an nn.Module of nn.Conv2d and nn.BatchNorm2d on channels-first (NCHW) images, in
eval mode (BatchNorm reads its running statistics), under torch.inference_mode. Layers are kept in one ModuleDict
under Keras's layer names, so the weight converter is a renaming plus OIHW <-> HWIO. On the CPU the convolutions
run in oneDNN (mkldnn); on a GPU in cuDNN (whose default allows TF32 convolutions on Ampere and later: the check in
float32 needs torch.backends.cudnn.allow_tf32 = False). torch.compile (Inductor) is a second mode of the same
module. BatchNorm running statistics are buffers, not parameters: count_params adds them back (Keras's count)."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import weights as canonical

LAYOUT = "channels_first"


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict()
        for name, k, cin, cout, stride in spec.convs():
            self.layers[name + "_conv"] = nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=True)
            self.layers[name + "_bn"] = nn.BatchNorm2d(cout, eps=spec.EPSILON)

    def conv_bn(self, name, x):
        return self.layers[name + "_bn"](self.layers[name + "_conv"](x))

    def forward(self, x):  # (N, 3, 224, 224)
        x = F.relu(self.conv_bn("conv1", x))
        x = F.max_pool2d(x, 3, 2, padding=1)  # pads -inf where Keras pads 0: the same max of relu outputs
        for name, filters, stride, conv_shortcut in spec.blocks():  # keras.applications.resnet.block1
            if conv_shortcut:
                shortcut = self.conv_bn(name + "_0", x)
            else:
                shortcut = x
            y = F.relu(self.conv_bn(name + "_1", x))
            y = F.relu(self.conv_bn(name + "_2", y))
            y = self.conv_bn(name + "_3", y)
            x = F.relu(shortcut + y)
        return x.mean(dim=(2, 3))  # global average pool -> (N, 2048)


def build():
    return ResNet50().eval()


def count_params(model):
    """(total, trainable) as Keras counts them: parameters plus the BatchNorm running statistics."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    statistics = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return sum(p.numel() for p in model.parameters()) + statistics, trainable


def load(model, weights):
    state = {name: torch.from_numpy(array) for name, array in canonical.to_torch(weights).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [n for n in missing if not n.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError("weights do not fit the model: missing %s, unexpected %s" % (missing, unexpected))
    return model


def export(model):
    return canonical.from_torch({name: t.detach().cpu().numpy() for name, t in model.state_dict().items()})


def predictor(model, compile=False, device="cpu"):
    """A function numpy (N, 3, 224, 224) float32 -> numpy (N, 2048); compile=True: torch.compile (Inductor). x may
    also be a tensor already on `device` (a timed loop on a GPU places its images there once)."""
    model = model.to(device).eval()
    run = torch.compile(model) if compile else model

    def predict(x):
        with torch.inference_mode():
            x = x if isinstance(x, torch.Tensor) else torch.from_numpy(x)
            return run(x.to(device)).cpu().numpy()
    return predict


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


"""mnist_mlp in plain PyTorch, as a user would write it (Keras's RMSprop rule written inline), the epoch's loss and
accuracy summed as it trains (what Keras's fit reports). Each batch is gathered from the NumPy arrays and copied to
the device with .to(device), as PyTorch's tutorials do and as dlbench's default tier does; on a GPU float32 matmuls
and convolutions may use TF32 (torch.set_float32_matmul_precision("high"), PyTorch's recommendation and dlbench's
one TF32 policy)."""
from common import GPU, arguments, clock, mnist_small, pin, report

epochs, threads, _ = arguments()
pin(threads)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.set_num_interop_threads(threads)
torch.set_flush_denormal(True)
torch.manual_seed(0)
device = torch.device("cuda" if GPU else "cpu")
torch.backends.cudnn.benchmark = GPU
if GPU:
    torch.set_float32_matmul_precision("high")
    torch.backends.cudnn.allow_tf32 = True
x_train, y_train, _, _ = mnist_small()
model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                            torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(512, 10))
for layer in model:
    if isinstance(layer, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
model.to(device)
velocity = [torch.zeros_like(p) for p in model.parameters()]
rng = np.random.RandomState(0)
times = []
for epoch in range(epochs):
    start = clock()
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), 128):
        index = order[i:i + 128]
        x, y = torch.from_numpy(x_train[index]).to(device), torch.from_numpy(y_train[index]).to(device).long()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity):
                v.mul_(0.9).addcmul_(p.grad, p.grad, value=0.1)
                p.addcdiv_(p.grad, (v + 1e-7).sqrt_(), value=-1e-3)
            loss_sum += loss * len(y)
            correct += (logits.argmax(dim=1) == y).sum()
    loss_sum.item(), correct.item()
    times.append(clock() - start)
report(times)

"""cifar10_cnn in plain PyTorch, as a user would write it: an nn.Module on channels-first images, the NumPy shift and
flip augmentation on each batch, Keras's RMSprop rule with Keras 2's per-step decay written inline, the epoch's
loss and accuracy summed as it trains."""
from common import GPU, arguments, augment, cifar10, clock, pin, report

epochs, threads, _ = arguments()
pin(threads)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(threads)
torch.set_num_interop_threads(threads)
torch.set_flush_denormal(True)
torch.manual_seed(0)
device = torch.device("cuda" if GPU else "cpu")
torch.backends.cudnn.benchmark = GPU
if GPU:  # TF32 allowed, PyTorch's recommendation and dlbench's one TF32 policy
    torch.set_float32_matmul_precision("high")
    torch.backends.cudnn.allow_tf32 = True


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding="same")
        self.conv2 = nn.Conv2d(32, 32, 3)
        self.conv3 = nn.Conv2d(32, 64, 3, padding="same")
        self.conv4 = nn.Conv2d(64, 64, 3)
        self.dense1 = nn.Linear(2304, 512)
        self.dense2 = nn.Linear(512, 10)
        for layer in (self.conv1, self.conv2, self.conv3, self.conv4, self.dense1, self.dense2):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.dropout(F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2), 0.25, self.training)
        x = F.dropout(F.max_pool2d(F.relu(self.conv4(F.relu(self.conv3(x)))), 2), 0.25, self.training)
        x = F.dropout(F.relu(self.dense1(torch.flatten(x, 1))), 0.5, self.training)
        return self.dense2(x)


x_train, y_train = cifar10(channels_first=True)
model = CNN().to(device)
velocity = [torch.zeros_like(p) for p in model.parameters()]
rng = np.random.RandomState(0)
step = 0
times = []
for epoch in range(epochs):
    start = clock()
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), 32):
        index = order[i:i + 32]
        x = torch.from_numpy(augment(x_train[index], rng, channels_first=True)).to(device)
        y = torch.from_numpy(y_train[index]).to(device).long()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        lr = 1e-4 / (1.0 + 1e-6 * step)
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity):
                v.mul_(0.9).addcmul_(p.grad, p.grad, value=0.1)
                p.addcdiv_(p.grad, (v + 1e-7).sqrt_(), value=-lr)
            loss_sum += loss * len(y)
            correct += (logits.argmax(dim=1) == y).sum()
        step += 1
    loss_sum.item(), correct.item()
    times.append(clock() - start)
report(times)

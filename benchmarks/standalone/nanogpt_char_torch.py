"""nanoGPT's character GPT in plain PyTorch, with char_gpt_mini's settings (nanoGPT's README CPU run: 4 layers, 4
heads, width 128, windows of 64, batch 12, no dropout, lr 1e-3 warm-up 100 then cosine to 1e-4 at 2000), on the
shipped Nietzsche corpus. model.py's GPT, CausalSelfAttention, MLP and Block (LayerNorm without bias, bias=False,
weight tying, _init_weights and the c_proj rule, F.scaled_dot_product_attention) and train.py's loop (get_batch
with fresh random windows every iteration, configure_optimizers' two decay groups, get_lr, clip_grad_norm_ 1.0),
written out with no dlbench code: the yardstick benchmarks/faithful.py times dlbench's torch char_gpt_mini against.
An "epoch" is 250 iterations (nanoGPT's eval interval); evaluation is left out of the timing on both sides.

    python nanogpt_char_torch.py EPOCHS THREADS
"""
import math

from common import GPU, arguments, clock, nietzsche_ids, pin, report

epochs, threads, _ = arguments()
pin(threads)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.set_num_interop_threads(threads)
torch.set_flush_denormal(True)
torch.manual_seed(1337)
device = "cuda" if GPU else "cpu"
if GPU:
    torch.set_float32_matmul_precision("high")
    torch.backends.cudnn.allow_tf32 = True

block_size, batch_size, n_layer, n_head, n_embd, dropout, vocab_size = 64, 12, 4, 4, 128, 0.0, 57
learning_rate, min_lr, warmup_iters, lr_decay_iters = 1e-3, 1e-4, 100, 2000
weight_decay, beta1, beta2, grad_clip, eval_interval = 1e-1, 0.9, 0.99, 1.0, 250


class LayerNorm(nn.Module):
    """LayerNorm but with an optional bias (model.py)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=dropout if self.training else 0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=False)
        self.attn = CausalSelfAttention()
        self.ln_2 = LayerNorm(n_embd, bias=False)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd), drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=LayerNorm(n_embd, bias=False)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        nodecay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": nodecay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=(beta1, beta2))


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * decay_ratio)) * (learning_rate - min_lr)


train_data, _ = nietzsche_ids()


def get_batch():
    ix = torch.randint(len(train_data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy(train_data[i:i + block_size]) for i in ix])
    y = torch.stack([torch.from_numpy(train_data[i + 1:i + 1 + block_size]) for i in ix])
    return x.to(device), y.to(device)


model = GPT().to(device)
optimizer = model.configure_optimizers()
model.train()
times, it = [], 0
for epoch in range(epochs):
    start = clock()
    for _ in range(eval_interval):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it)
        X, Y = get_batch()
        logits, loss = model(X, Y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        it += 1
    loss.item()
    times.append(clock() - start)
report(times)

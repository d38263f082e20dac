"""char_gpt in PyTorch: nanoGPT's model.py as it is (nn.Linear without bias, nn.LayerNorm(bias=False), the tied
head sharing wte's weight, F.scaled_dot_product_attention(is_causal=True), which picks the flash, memory-efficient,
cuDNN or math kernel itself), logits out (softmax fused into the loss); torch.optim.AdamW with nanoGPT's two
parameter groups (decay on 2-D weights), gradients clipped in the optimizer's step, the learning rate a LambdaLR
the adapter steps after every batch (gpt_shared.learning_rate)."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.workloads.gpt_shared import learning_rate, projection_std

class CausalSelfAttention(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.c_attn = nn.Linear(hp.n_embd, 3 * hp.n_embd, bias=False)
        self.c_proj = nn.Linear(hp.n_embd, hp.n_embd, bias=False)
        self.resid_dropout = nn.Dropout(hp.dropout)
        self.n_head, self.dropout = hp.n_head, hp.dropout

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (a.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for a in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))

class MLP(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.c_fc = nn.Linear(hp.n_embd, 4 * hp.n_embd, bias=False)
        self.c_proj = nn.Linear(4 * hp.n_embd, hp.n_embd, bias=False)
        self.dropout = nn.Dropout(hp.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))  # exact (erf) GELU

class Block(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hp.n_embd, eps=hp.layer_norm_epsilon, bias=False)
        self.attn = CausalSelfAttention(hp)
        self.ln_2 = nn.LayerNorm(hp.n_embd, eps=hp.layer_norm_epsilon, bias=False)
        self.mlp = MLP(hp)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))

class GPT(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.wte = nn.Embedding(hp.symbols, hp.n_embd)
        self.wpe = nn.Embedding(hp.block_size, hp.n_embd)
        self.drop = nn.Dropout(hp.dropout)
        self.h = nn.ModuleList([Block(hp) for _ in range(hp.n_layer)])
        self.ln_f = nn.LayerNorm(hp.n_embd, eps=hp.layer_norm_epsilon, bias=False)
        for name, p in self.named_parameters():  # nanoGPT's _init_weights, then its c_proj rule
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=projection_std(hp) if name.endswith("c_proj.weight") else hp.init_std)

    def forward(self, idx):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # the tied head: logits (B, T, vocabulary)

class ClippedAdamW(torch.optim.AdamW):
    """AdamW whose step first clips the gradients to a global norm (nanoGPT's clip_grad_norm_ before each step)."""

    def __init__(self, groups, clip, **kwargs):
        super().__init__(groups, **kwargs)
        self.clip = clip

    def step(self, closure=None):
        torch.nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], self.clip)
        return super().step(closure)

def build(hp):
    model = GPT(hp)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": hp.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = ClippedAdamW(groups, hp.grad_clip, lr=hp.learning_rate, betas=(hp.beta_1, hp.beta_2),
                             eps=hp.epsilon)
    # LambdaLR multiplies the base rate: the factor for iteration it (from 0) is get_lr(it) / learning_rate.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: learning_rate(hp, it) / hp.learning_rate)
    return model, optimizer, schedule

def loss_fn(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1).long())

def correct(logits, targets):
    """Per window: the share of its positions whose next character is predicted (summed over the batch)."""
    return (logits.argmax(dim=-1) == targets).float().mean(dim=1).sum()

def probabilities(logits):
    return F.softmax(logits, dim=-1)

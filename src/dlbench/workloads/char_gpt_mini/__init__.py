"""char_gpt_mini: nanoGPT's CPU settings for the character-level GPT (its README, "I only have a macbook"), on the
Nietzsche corpus: char_gpt made small enough for a laptop CPU.

Model: 4 blocks, 4 heads, width 128, windows of 64 characters, no dropout; 803,072 parameters. Training: batches of
12 windows, 2000 iterations = 8 epochs of 250, AdamW(1e-3) with 100 warm-up iterations and a cosine decay to 1e-4 at
iteration 2000; validation is 20 batches of the held-out 10%. The data, model, optimizer and where they differ from
nanoGPT are in dlbench.workloads.gpt_shared. nanoGPT reports a validation loss of about 1.88 on Shakespeare (about
3 minutes on a laptop CPU); Nietzsche is another text, so that figure is not a target here.
Per framework: attention through the framework's fused API (torch F.scaled_dot_product_attention,
jax.nn.dot_product_attention, keras.ops.dot_product_attention; native TensorFlow writes softmax(QK^T/sqrt(d))V);
each run records which attention kernel ran, read from the ops it traced or profiled.
The four versions sit beside this file, each a two-line import of char_gpt's with these sizes.
"""
from dlbench.workloads import gpt_shared
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="char_gpt_mini",
    source="nanoGPT README, the CPU settings (karpathy/nanoGPT 3adf61e)",
    dataset="nietzsche",
    batch_size=12,
    epochs=8,
    params=803072,
    trainable_params=803072,
    hp=Hyper(**gpt_shared.hyper(block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, lr_decay_iters=2000,
                                eval_iters=20)),
    metric="loss",
    optimizer="adamw",
    output="logits",  # every version ends in the tied head, no softmax (the loss takes logits)
    attention=True,
    reference="val loss ~1.88 on Shakespeare (nanoGPT README); no Nietzsche figure",
)


def model_layers(hp):
    return gpt_shared.model_layers(hp)


def splits(dataset, layout):
    """int32 windows (N, 64) and next-character targets (the image layout does not apply): gpt_shared.splits."""
    return gpt_shared.splits(dataset, SPEC)

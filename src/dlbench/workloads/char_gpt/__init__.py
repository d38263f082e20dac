"""char_gpt: nanoGPT's "baby GPT" (config/train_shakespeare_char.py, karpathy/nanoGPT at 3adf61e), a character-level
GPT, on the Nietzsche corpus instead of Shakespeare.

Model: 6 blocks, 6 heads, width 384, windows of 256 characters, dropout 0.2 (after the embeddings, on the attention
weights, after each block's two output projections); 10,742,016 parameters (nanoGPT prints 10.64M: it leaves out
the 98,304 position embeddings). Training: batches of 64 windows, 5000 iterations = 20 epochs of 250 (nanoGPT's
eval interval), AdamW(1e-3) with 100 warm-up iterations and a cosine decay to 1e-4 at iteration 5000; validation is
200 batches of the held-out 10%. The data, model, optimizer and where they differ from nanoGPT are in
dlbench.workloads.gpt_shared. nanoGPT reports a best validation loss of 1.4697 on Shakespeare (about 3 minutes on
an A100); Nietzsche is another text, so that figure is not a target here.
Per framework: attention through the framework's fused API where it has one (torch F.scaled_dot_product_attention,
jax.nn.dot_product_attention, keras.ops.dot_product_attention; native TensorFlow writes softmax(QK^T/sqrt(d))V),
except that with attention dropout in training (this workload) JAX's and Keras's fused calls have no dropout: they
compute the same math unfused, softmax weights through Dropout (as nanoGPT's own non-flash path does). Each run
records which attention kernel ran, read from the ops it traced or profiled.
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py; char_gpt_mini has the same files with smaller sizes.
"""
from dlbench.workloads import gpt_shared
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="char_gpt",
    source="nanoGPT config/train_shakespeare_char.py (karpathy/nanoGPT 3adf61e)",
    dataset="nietzsche",
    batch_size=64,
    epochs=20,
    params=10742016,
    trainable_params=10742016,
    hp=Hyper(**gpt_shared.hyper(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2, lr_decay_iters=5000,
                                eval_iters=200)),
    metric="loss",
    optimizer="adamw",
    output="logits",  # every version ends in the tied head, no softmax (the loss takes logits)
    attention=True,
    reference="best val loss 1.4697 on Shakespeare (nanoGPT README); no Nietzsche figure",
)


def model_layers(hp):
    return gpt_shared.model_layers(hp)


def splits(dataset, layout):
    """int32 windows (N, 256) and next-character targets (the image layout does not apply): gpt_shared.splits."""
    return gpt_shared.splits(dataset, SPEC)

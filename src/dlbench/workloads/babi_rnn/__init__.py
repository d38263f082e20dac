"""babi_rnn: the Keras example babi_rnn.py on bAbI task QA2 (two supporting facts, 1k): read a story and a question,
answer with one word.

Model (two inputs, both word ids pre-padded with 0; dlbench.data.babi):
    story (552,) -> Embedding(36, 50) -> Dropout 0.3                                     -> (552, 50)
    query (5,)   -> Embedding(36, 50) -> Dropout 0.3 -> LSTM 50 (last state) -> RepeatVector 552 -> (552, 50)
    add -> LSTM 50 (last state) -> Dropout 0.3 -> Dense 36 softmax
45,836 parameters: 2 * 36 * 50 (the two embeddings) + 2 * 4 * 50 * (50 + 50 + 1) (the two LSTMs) + 50 * 36 + 36.
The embeddings do not mask the padding (the example has no mask_zero): the story LSTM reads all 552 steps.
The vocabulary (35 words + the padding id 0) and the lengths 552 and 5 are the real task's; the generated stories
of --data synthetic use the same words and are padded to the same lengths, so the model is the same on both.
LSTM: Keras's cell with a true sigmoid on the gates (the modern Keras default and cuDNN's; Keras 2 used
hard_sigmoid), tanh candidate and output, gates i, f, c, o (PyTorch's i, f, g, o is the same order); kernels
glorot_uniform, recurrent kernels orthogonal, bias zero with the forget gate's at 1 (unit_forget_bias); embeddings
U(-0.05, 0.05); Dense glorot_uniform, zero bias; set explicitly everywhere.
RepeatVector + add is a broadcast: the query's encoding is added to every step of the story's embedding.
Loss: categorical cross-entropy on the answer's word id. Keras keeps the softmax layer and its cross-entropy (which
clips probabilities to [1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the loss.
Optimizer: Adam with Keras 3's rule (the example's 'adam': lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
    w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
torch.optim.Adam and optax.adam put epsilon after the bias-corrected root instead: dlbench.frameworks' KerasAdam /
keras_adam write Keras's rule. Validation: Keras's validation_split=0.05, the last 5% of the training questions.
Per framework: Keras 3 runs its own LSTM loop on the CPU (lax.scan on jax, tf.while_loop on tensorflow, a Python loop
on torch; the fused cuDNN kernel only on a GPU); torch nn.LSTM (oneDNN on the CPU, cuDNN on a GPU) with its second
bias b_hh held at zero, frozen and not counted; Flax NNX OptimizedLSTMCell under nnx.RNN (a lax.scan); TensorFlow
the shared tensorflow/layers.LSTM, a tf.scan (a while loop: the 552 steps are not unrolled into the graph).
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
"""
from dlbench.workloads import layers
from dlbench.data import DataError
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="babi_rnn",
    source="Keras example babi_rnn.py",
    dataset="babi",
    batch_size=32,
    epochs=40,
    params=45836,
    trainable_params=45836,
    hp=Hyper(vocab_size=36, story_maxlen=552, query_maxlen=5, embed=50, hidden=50, dropout=0.3,
             learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    metric="accuracy",
    optimizer="adam",
    target=0.3,
    reference="QA2 two supporting facts, 1k: about 30-37% test accuracy after 40 epochs (Keras example)",
    recurrent=True,
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights). Keras's functional model lists the query's embedding before the story's (its graph
    order, not creation order). The LSTMs read embeddings, which train through them: both need their input
    gradients."""
    return [layers.Embedding("query_embed", hp.vocab_size, hp.embed),
            layers.Embedding("story_embed", hp.vocab_size, hp.embed),
            layers.LSTM("query_lstm", hp.embed, hp.embed, hp.query_maxlen),  # the query's encoding
            layers.LSTM("story_lstm", hp.embed, hp.hidden, hp.story_maxlen),  # story + repeated query
            layers.Dense("dense", hp.hidden, hp.vocab_size)]


def splits(dataset, layout):
    """Inputs [story (N, 552), query (N, 5)] of int32 word ids, target the answer's word id; no image layout."""
    hp = SPEC.hp
    vocab = dataset.meta.get("vocab", ())
    if len(vocab) + 1 != hp.vocab_size:
        raise DataError("bAbI ({}) has {} words, babi_rnn is built for QA2's {} (+ padding): use the QA2 1k files"
                        .format(dataset.variant, len(vocab), hp.vocab_size - 1))

    def split(x, y):
        story, query = x
        return Split([story, query], [y])
    return split(dataset.x_train, dataset.y_train), split(dataset.x_val, dataset.y_val)

"""Text generation after training, and the check that the text is not garbage (char_lstm, char_embed_lstm).

sample() is the Keras example's (lstm_text_generation.py): take a seed window of 40 characters from the corpus,
predict the next character's probabilities, reweight them by a temperature (log(p) / T, renormalised), draw one
character, append it, slide the window by one, 400 times.

check() asks whether the sample looks like text of the corpus: the share of its character bigrams (pairs of
neighbouring characters) that occur anywhere in the corpus. Why a bigram share, and why BIGRAM_THRESHOLD = 0.8:
- The Nietzsche corpus has 1,227 distinct bigrams of the 57 * 57 = 3,249 possible ones (37.8%). A random string
  over the 57 symbols scores 0.378 on average (0.29-0.48 over 1,000 random strings of 400 characters; the standard
  deviation of one is 0.024), and so does an untrained model, whose near-uniform output stays near-uniform at
  temperature 0.5 (torch, seed 0: char_lstm 0.376, char_embed_lstm 0.411). The garbage that one seed article got
  from a BatchNorm model trained to a normal-looking loss ("(_x2js1hevjg4z_?z_aae?q_gpmj:sn![?(f3_ch=...") scores
  0.43.
- Any excerpt of the corpus scores 1.0 by construction. A model that learned nothing but how often each character
  occurs already scores 0.90-0.97 (0.97-1.0 at temperature 0.5); char_lstm after 32 RMSprop steps scores 0.98-1.0.
  char_embed_lstm after 141 steps scored only 0.855, on text that reads as garbage, because its BatchNorms' moving
  statistics, which inference uses, had moved only 1 - 0.99^141 = 76% of the way from their start: the same
  weights with the statistics recomputed over the training windows score 1.0 ("eryer in the the wat the soo").
So 0.8 sits far above every random string (17 standard deviations above its mean) and below anything that learned
even character frequencies: it flags a broken model, not a weak one; the training loss speaks to quality.

Runs in the worker: Python 3.6, numpy and the standard library only.
"""
import numpy as np

LENGTH = 400
TEMPERATURE = 0.5
BIGRAM_THRESHOLD = 0.8


def reweight(probabilities, temperature):
    """The Keras example's sample(): log(p) / T, exponentiated and renormalised (in float64)."""
    p = np.asarray(probabilities, dtype=np.float64)
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    logits -= logits.max()
    weights = np.exp(logits)
    return weights / weights.sum()


def draw(probabilities, rng):
    """One index drawn with these probabilities (a single multinomial draw, as np.random.multinomial(1, p) makes it,
    without its error when float rounding leaves the sum a hair above 1)."""
    cumulative = np.cumsum(probabilities)
    return int(min(np.searchsorted(cumulative, rng.random_sample() * cumulative[-1], side="right"),
                   len(cumulative) - 1))


def sample(predict, seed_ids, length=LENGTH, temperature=TEMPERATURE, rng=None, encode=None):
    """Generate `length` character ids after the window `seed_ids` (a 1-d int array of the model's window length).

    predict(inputs) takes the list of numpy input arrays of a batch and returns the next-character probabilities,
    shape (batch, symbols); encode(windows) turns int32 windows (batch, length) into that list (by default the
    windows themselves). Returns the generated ids as an int32 array."""
    rng = rng if rng is not None else np.random.RandomState(0)
    encode = encode if encode is not None else (lambda windows: [windows])
    window = np.array(seed_ids, dtype=np.int32).reshape(1, -1)
    generated = np.zeros(length, dtype=np.int32)
    for i in range(length):
        probabilities = np.asarray(predict(encode(window)))[0]
        generated[i] = draw(reweight(probabilities, temperature), rng)
        window = np.concatenate([window[:, 1:], generated[None, i:i + 1]], axis=1)
    return generated


def seed_window(text, window_length, rng):
    """A random window of the text to start from, as the Keras example picks one."""
    start = rng.randint(0, len(text) - window_length - 1)
    return text[start:start + window_length]


def bigrams(text):
    return set(text[i:i + 2] for i in range(len(text) - 1))


_CORPUS_BIGRAMS = {}


def corpus_bigrams(corpus):
    """The set of the corpus's bigrams, computed once per corpus in a process (~0.2 s for Nietzsche)."""
    key = (len(corpus), hash(corpus))
    if key not in _CORPUS_BIGRAMS:
        _CORPUS_BIGRAMS[key] = bigrams(corpus)
    return _CORPUS_BIGRAMS[key]


def bigram_share(text, corpus):
    """The share of the text's bigrams (counted with repeats) that occur in the corpus."""
    known = corpus_bigrams(corpus)
    pairs = [text[i:i + 2] for i in range(len(text) - 1)]
    if not pairs:
        return 0.0
    return sum(1 for pair in pairs if pair in known) / float(len(pairs))


def check(text, corpus, threshold=BIGRAM_THRESHOLD, synthetic=False):
    """{"bigram_share": float, "ok": bool, "reason": one line}: is the sample made of the corpus's bigrams?"""
    share = bigram_share(text, corpus)
    if synthetic:
        return {"bigram_share": share, "ok": True,
                "reason": "synthetic data: random characters hold every bigram, so there is nothing to check"}
    ok = share >= threshold
    if ok:
        reason = "%.1f%% of the sample's bigrams occur in the corpus (at least %.0f%% needed)" % (
            100 * share, 100 * threshold)
    else:
        reason = ("only %.1f%% of the sample's bigrams occur in the corpus (at least %.0f%% needed; random "
                  "characters score about 38%%): the model generates garbage" % (100 * share, 100 * threshold))
    return {"bigram_share": share, "ok": ok, "reason": reason}

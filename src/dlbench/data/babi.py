"""bAbI task QA2 (two supporting facts, 1k) as the Keras example babi_rnn.py reads it: pre-padded word ids.

Every variant gives x_* = (story, query), int32 arrays (N, 552) and (N, 5) of word ids pre-padded with 0, and y_* the
answer's word id (int32, N). meta holds "vocab" (the sorted words; word id = position + 1, 0 is padding),
"story_maxlen" 552 and "query_maxlen" 5.

real       the canonical tarball that babi_rnn.py downloads (bAbI tasks 1-20 v1.2, 15,719,851 bytes), fetched once
           into the cache and checked against its SHA-256 (see SHA256 below for where the hash comes from). As the
           example: stories parsed with only_supporting=False (the whole story up to each question, question lines
           left out), the vocabulary from train + test (35 words + padding = 36), story and query padded to the
           maxima over train + test (552 and 5), and Keras's validation_split=0.05: the LAST 5% of the 1,000
           training questions (50) are the validation split, unshuffled; the 1,000 test questions only contribute
           to the vocabulary and the maxima, as they do in the example (it evaluates on them after fit, dlbench
           does not).
synthetic  stories GENERATED in bAbI's own text format (numbered lines, "Mary moved to the bathroom.", "John got the
           football there.", "Where is the football? \\tgarden\\t3 6") and read by the same parser, with QA2's 35
           words: four people move between six places and pick up, drop and carry three objects; a question asks
           where an object is now (the place of the person holding it, or where it was dropped). The answer is not
           simply the last place mentioned: that baseline scores at most 50% (the tests check it), while a model that
           reads the story learns it above chance. 2,000 stories of 5 questions (10,000 questions, the size of
           bAbI's en-10k) for training, 200 for the test part; story and query are padded to the REAL maxima, 552
           and 5, so the model's shapes are those of the real task (the generated stories are shorter).
small      not available: no real bAbI subset ships with dlbench; a one-line DataError points to synthetic or real.

Imported inside the worker process, which may run Python 3.6: standard library and numpy only.
"""
import os
import random
import re
import tarfile
import zlib
from functools import reduce

import numpy as np

from dlbench.data import Dataset, DataError, cache_dir, check_variant, fetch, limit

VARIANTS = ("real", "synthetic", "small")
URL = "https://s3.amazonaws.com/text-datasets/babi_tasks_1-20_v1-2.tar.gz"  # the location babi_rnn.py downloads
# No Keras code publishes a hash of this file (the example calls get_file without one). The SHA-256 below is the
# one Hugging Face's datasets library records for the same archive at its original location
# (http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz, 15,719,851 bytes) in
# datasets/babi_qa/dataset_infos.json (download_checksums). The S3 copy is the Keras team's mirror of that
# tarball; dlbench could not download either copy to compare them (built offline). If the mirror ever differs,
# fetch() fails with both hashes and says to copy the archive into the cache by hand.
SHA256 = "0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898"
FILENAME = "babi-tasks-v1-2.tar.gz"  # the name babi_rnn.py gives it in Keras's cache
CHALLENGE = "tasks_1-20_v1-2/en/qa2_two-supporting-facts_{}.txt"

STORY_MAXLEN = 552  # the real maxima over QA2 1k train + test
QUERY_MAXLEN = 5
VALIDATION_SPLIT = 0.05

# QA2's vocabulary, which the generator writes with (the real one is read from the files).
PEOPLE = ("Mary", "John", "Sandra", "Daniel")
PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")
MOVES = ("moved to the", "went to the", "journeyed to the", "travelled to the", "went back to the")
TAKES = ("got the {} there", "grabbed the {} there", "picked up the {} there", "took the {} there")
DROPS = ("dropped the {}", "discarded the {}", "put down the {}", "left the {}")
SYNTHETIC_STORIES = 2000
SYNTHETIC_TEST_STORIES = 200
QUESTIONS_PER_STORY = 5


def ensure(variant):
    """Check, before any trial starts, that `variant` can be loaded: download the real archive if needed."""
    _check_variant(variant)
    if variant == "real":
        _fetch_real()


def load(variant, samples=None, seed=0):
    """Load `variant` as a Dataset limited to `samples` training questions (dlbench.data.limit). `seed` only
    affects "synthetic" (which stories are generated)."""
    _check_variant(variant)
    if variant == "real":
        train, test = _read_real()
    else:
        train, test = synthetic_stories(seed)
    return limit(vectorize(train, test, variant), samples)


def _check_variant(variant):
    check_variant("bAbI", VARIANTS, variant, no_small=(
        "no real bAbI subset ships with dlbench; use --data synthetic (generated stories in bAbI's format, no network) "
        "or --data real (downloads the 15 MB archive once)"))


# --- the example's reader -----------------------------------------------------------------------------------

def tokenize(sent):
    """The tokens of a sentence, punctuation included: babi_rnn.py's tokenizer.

    >>> tokenize('Bob dropped the apple. Where is the apple?')
    ['Bob', 'dropped', 'the', 'apple', '.', 'Where', 'is', 'the', 'apple', '?']

    The example wrote re.split(r'(\\W+)?', sent). Before Python 3.7, re.split never split on an empty match, so that
    pattern split at runs of non-word characters and kept them: exactly what r'(\\W+)' does. From 3.7 on re.split
    also splits on the empty matches the '?' allows, which cuts every word into letters and yields None for the
    unmatched group (x.strip() then fails); r'(\\W+)' gives the original tokens on every Python.
    """
    return [x.strip() for x in re.split(r"(\W+)", sent) if x.strip()]


def parse_stories(lines, only_supporting=False):
    """bAbI's format -> [(substory: list of token lists, question tokens, answer)], as babi_rnn.py parses it.

    Lines are bytes (as read from the archive) or text: "ID text" statements, and "ID question\\tanswer\\tfacts"
    questions; ID 1 starts a new story. With only_supporting=False every question sees the whole story before it."""
    data = []
    story = []
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        line = line.strip()
        if not line:
            continue
        nid, line = line.split(" ", 1)
        nid = int(nid)
        if nid == 1:
            story = []
        if "\t" in line:
            q, a, supporting = line.split("\t")
            q = tokenize(q)
            if only_supporting:
                substory = [story[i - 1] for i in map(int, supporting.split())]
            else:
                substory = [x for x in story if x]
            data.append((substory, q, a))
            story.append("")  # a question keeps its line number but adds nothing to the story
        else:
            story.append(tokenize(line))
    return data


def get_stories(lines, only_supporting=False, max_length=None):
    """parse_stories, each story flattened into one token list (babi_rnn.py's get_stories)."""
    data = parse_stories(lines, only_supporting=only_supporting)

    def flatten(sentences):
        return reduce(lambda x, y: x + y, sentences, [])
    data = [(flatten(story), q, answer) for story, q, answer in data
            if not max_length or len(flatten(story)) < max_length]
    return data


def pad(sequences, maxlen):
    """Keras's pad_sequences defaults: pre-padding with 0 and pre-truncation (keep the last maxlen), int32."""
    out = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for row, seq in enumerate(sequences):
        seq = seq[-maxlen:]
        if len(seq):
            out[row, maxlen - len(seq):] = seq
    return out


def vectorize(train, test, variant):
    """The example's vocabulary and arrays, and Keras's validation_split: the last 5% of training, unshuffled."""
    vocab = set()
    for story, q, answer in train + test:
        vocab |= set(story + q + [answer])
    vocab = sorted(vocab)
    word_idx = dict((c, i + 1) for i, c in enumerate(vocab))  # 0 is the padding
    story_maxlen = max(len(x) for x, _, _ in train + test)
    query_maxlen = max(len(x) for _, x, _ in train + test)
    if story_maxlen > STORY_MAXLEN or query_maxlen > QUERY_MAXLEN:
        raise DataError("bAbI QA2 ({}) has stories of up to {} words and queries of up to {}, more than the real "
                        "task's {} and {}: the files are not QA2 1k, replace them".format(
                            variant, story_maxlen, query_maxlen, STORY_MAXLEN, QUERY_MAXLEN))
    story = pad([[word_idx[w] for w in s] for s, _, _ in train], STORY_MAXLEN)
    query = pad([[word_idx[w] for w in q] for _, q, _ in train], QUERY_MAXLEN)
    answer = np.array([word_idx[a] for _, _, a in train], dtype=np.int32)
    split_at = int(len(train) * (1.0 - VALIDATION_SPLIT))  # Keras: floor(n * (1 - validation_split))
    meta = {"vocab": vocab, "story_maxlen": STORY_MAXLEN, "query_maxlen": QUERY_MAXLEN,
            "data_story_maxlen": story_maxlen, "data_query_maxlen": query_maxlen, "test_questions": len(test)}
    return Dataset((story[:split_at], query[:split_at]), answer[:split_at],
                   (story[split_at:], query[split_at:]), answer[split_at:], "babi", variant, meta)


# --- real -----------------------------------------------------------------------------------------------------

def _fetch_real():
    path = os.path.join(cache_dir(), FILENAME)
    hint = "copy the file to {}, or use --data synthetic to run without the network".format(path)
    return fetch(URL, FILENAME, SHA256, hint=hint)


def _read_real():
    path = _fetch_real()

    def invalid(reason):
        return DataError("{} is not a valid bAbI tasks archive ({}): delete it and run again to download it"
                         .format(path, reason))
    try:
        with tarfile.open(path, "r:gz") as archive:
            parts = []
            for part in ("train", "test"):
                member = archive.extractfile(CHALLENGE.format(part))
                parts.append(get_stories(member.readlines()))
    except KeyError as error:
        raise invalid("missing {}".format(error.args[0] if error.args else error))
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, UnicodeDecodeError) as error:
        raise invalid(getattr(error, "strerror", None) or error)
    return parts[0], parts[1]


# --- synthetic ------------------------------------------------------------------------------------------------

def synthetic_stories(seed):
    """(train, test) as get_stories returns them, parsed from generated bAbI text."""
    return (get_stories(generate_lines(SYNTHETIC_STORIES, seed, 0)),
            get_stories(generate_lines(SYNTHETIC_TEST_STORIES, seed, 1)))


def generate_lines(stories, seed, split=0, questions=QUESTIONS_PER_STORY):
    """Stories in bAbI's text format, one line per list item (text, no newline), as QA2's files hold them.

    A story is a sequence of statements about four people and three objects, with a question after every few.
    A person moves to a place; picks up an object that lies nowhere yet or where they are ("there"); drops one
    they carry, which then lies where they are. A question asks for an object whose place is known: where its
    carrier is now, or where it was dropped. Supporting facts are numbered as in QA2 (the fact that put the object
    with its carrier or place, and the carrier's last move)."""
    rng = random.Random("babi-synthetic-%d-%d" % (seed, split))
    lines = []
    for _ in range(stories):
        lines.extend(_story(rng, questions))
    return lines


def _story(rng, questions):
    where = {}  # person -> place (once they have moved)
    moved_at = {}  # person -> line number of their last move
    carrier = {}  # object -> person carrying it
    lies = {}  # object -> (place, line number of the drop) for objects put down
    taken_at = {}  # object -> line number of the take
    lines = []

    def say(text):
        lines.append("%d %s" % (len(lines) + 1, text))

    def move(person):
        place = rng.choice([p for p in PLACES if p != where.get(person)])
        where[person] = place
        say("%s %s %s." % (person, rng.choice(MOVES), place))
        moved_at[person] = len(lines)

    def answerable():
        return [o for o in OBJECTS if o in lies or (o in carrier and carrier[o] in where)]

    asked = 0
    while asked < questions:
        # a few statements between questions; moves dominate, as in QA2
        for _ in range(rng.randint(2, 6)):
            person = rng.choice(PEOPLE)
            roll = rng.random()
            held = [o for o in OBJECTS if carrier.get(o) == person]
            free = [o for o in OBJECTS if o not in carrier and (o not in lies or lies[o][0] == where.get(person))]
            if person in where and held and roll < 0.25:
                obj = rng.choice(held)
                del carrier[obj]
                say("%s %s." % (person, rng.choice(DROPS).format(obj)))
                lies[obj] = (where[person], len(lines), moved_at[person])
            elif person in where and free and roll < 0.55:
                obj = rng.choice(free)
                carrier[obj] = person
                lies.pop(obj, None)
                say("%s %s." % (person, rng.choice(TAKES).format(obj)))
                taken_at[obj] = len(lines)
            else:
                move(person)
        candidates = answerable()
        if not candidates:
            continue
        # prefer objects that are carried: their answer depends on a person's later moves (two supporting facts)
        carried = [o for o in candidates if o in carrier]
        obj = rng.choice(carried if carried and rng.random() < 0.7 else candidates)
        if obj in carrier:
            person = carrier[obj]
            answer, facts = where[person], sorted([taken_at[obj], moved_at[person]])
        else:
            answer, dropped, person_move = lies[obj]
            facts = sorted([person_move, dropped])
        say("Where is the %s? \t%s\t%s" % (obj, answer, " ".join(str(f) for f in facts)))
        asked += 1
    return lines


def last_place_baseline(story, vocab):
    """The answer a reader gives who names the last place mentioned in the story: word ids (N,), 0 where none."""
    place_ids = set(vocab.index(p) + 1 for p in PLACES if p in vocab)
    out = np.zeros(len(story), dtype=np.int32)
    for row, words in enumerate(story):
        for word in words[::-1]:
            if int(word) in place_ids:
                out[row] = word
                break
    return out

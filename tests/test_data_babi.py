"""Tests for dlbench.data.babi: the example's tokenizer and parser on story files the tests write, the vocabulary,
padding and validation split, the real loader on a tiny archive in bAbI's layout served by a local HTTP server
(never the network), the offline errors, the missing "small" variant, and the generated stories: bAbI's format,
answers that follow from the story, and a "last place mentioned" baseline at most 50%. NumPy only."""
import functools
import hashlib
import http.server
import io
import re
import socket
import tarfile
import threading

import numpy as np
import pytest

from dlbench.data import DataError, babi


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "cache"))


# --- the tokenizer and the parser ------------------------------------------------------------------------------

def test_tokenizer_gives_the_examples_tokens():
    assert babi.tokenize("Bob dropped the apple. Where is the apple?") == [
        "Bob", "dropped", "the", "apple", ".", "Where", "is", "the", "apple", "?"]
    assert babi.tokenize("Where is the milk? ") == ["Where", "is", "the", "milk", "?"]
    assert babi.tokenize("John picked up the football there.") == ["John", "picked", "up", "the", "football",
                                                                   "there", "."]


def test_the_examples_pattern_breaks_on_python_37_and_the_fix_keeps_its_tokens():
    """re.split(r'(\\W+)?') splits at the empty matches too since Python 3.7 (letters and None groups: the
    example's x.strip() fails); before 3.7 it split only at the non-word runs, as r'(\\W+)' does everywhere."""
    broken = re.split(r"(\W+)?", "Mary moved.")
    assert None in broken and "M" in broken
    pieces = re.split(r"(\W+)", "Mary moved to the bathroom.")
    assert pieces == ["Mary", " ", "moved", " ", "to", " ", "the", " ", "bathroom", ".", ""]


STORY_FILE = (
    "1 Mary moved to the bathroom.\n"
    "2 Sandra journeyed to the bedroom.\n"
    "3 Mary got the football there.\n"
    "4 John went to the kitchen.\n"
    "5 Mary went back to the garden.\n"
    "6 Where is the football? \tgarden\t3 5\n"
    "7 Mary dropped the football.\n"
    "8 Where is the football? \tgarden\t7 5\n"
    "1 Daniel travelled to the office.\n"
    "2 Daniel took the milk there.\n"
    "3 Where is the milk? \toffice\t2 1\n"
)


def test_parse_stories_as_the_example_does():
    data = babi.parse_stories(STORY_FILE.encode().splitlines(True))
    assert len(data) == 3
    story, question, answer = data[0]
    assert [" ".join(s) for s in story] == ["Mary moved to the bathroom .", "Sandra journeyed to the bedroom .",
                                           "Mary got the football there .", "John went to the kitchen .",
                                           "Mary went back to the garden ."]
    assert question == ["Where", "is", "the", "football", "?"] and answer == "garden"
    # a question line adds nothing to the story the next question sees; line numbers keep counting
    assert [" ".join(s) for s in data[1][0]][-1] == "Mary dropped the football ."
    assert len(data[1][0]) == 6
    assert data[2][0] == [["Daniel", "travelled", "to", "the", "office", "."]] + [
        ["Daniel", "took", "the", "milk", "there", "."]]  # line 1 starts a new story
    supporting = babi.parse_stories(STORY_FILE.splitlines(), only_supporting=True)
    assert [" ".join(s) for s in supporting[1][0]] == ["Mary dropped the football .", "Mary went back to the garden ."]


def test_get_stories_flattens_and_vectorize_pads_before():
    train = babi.get_stories(STORY_FILE.encode().splitlines(True))
    assert train[0][0][:4] == ["Mary", "moved", "to", "the"] and len(train[0][0]) == 6 + 6 + 6 + 6 + 7
    test = babi.get_stories(["1 John went to the hallway.", "2 Where is the apple? \thallway\t1"])
    dataset = babi.vectorize(train, test, "test")
    vocab = dataset.meta["vocab"]
    assert vocab == sorted(vocab) and "hallway" in vocab and "apple" in vocab  # train + test
    idx = {w: i + 1 for i, w in enumerate(vocab)}
    story, query = dataset.x_train
    assert story.dtype == np.int32 and query.dtype == np.int32 and dataset.y_train.dtype == np.int32
    assert story.shape[1] == 552 and query.shape[1] == 5
    # pre-padded: zeros first, the story's last word at the end
    assert story[0, -1] == idx["."] and story[0, -2] == idx["garden"]
    assert np.all(story[0, :552 - 31] == 0) and story[0, 552 - 31] == idx["Mary"]
    assert list(query[0]) == [idx[w] for w in ["Where", "is", "the", "football", "?"]]
    assert dataset.meta["data_story_maxlen"] == 36 and dataset.meta["data_query_maxlen"] == 5


def test_validation_is_the_last_five_percent_of_training_unshuffled():
    lines = []
    for i in range(40):
        place = babi.PLACES[i % 6]
        lines += ["1 Mary went to the %s." % place, "2 Where is Mary? \t%s\t1" % place]
    train = babi.get_stories(lines)
    dataset = babi.vectorize(train, [], "test")
    assert dataset.n_train == 38 and dataset.n_val == 2  # floor(40 * 0.95), as Keras's validation_split
    idx = {w: i + 1 for i, w in enumerate(dataset.meta["vocab"])}
    expected = [idx[babi.PLACES[i % 6]] for i in range(40)]
    assert list(dataset.y_train) == expected[:38] and list(dataset.y_val) == expected[38:]


def test_a_story_longer_than_the_real_maximum_is_refused():
    long_story = ["%d Mary went to the kitchen." % (i + 1) for i in range(100)] + ["101 Where is Mary? \tkitchen\t1"]
    with pytest.raises(DataError, match="552"):
        babi.vectorize(babi.get_stories(long_story), [], "test")


# --- the real loader, on a tiny archive ---------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=functools.partial(httpd.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    yield folder, "http://127.0.0.1:{}/".format(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _archive(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _real_archive():
    test_file = "1 John went to the hallway.\n2 Where is the apple? \thallway\t1\n"
    return _archive({babi.CHALLENGE.format("train"): STORY_FILE, babi.CHALLENGE.format("test"): test_file,
                     "tasks_1-20_v1-2/en/qa1_single-supporting-fact_train.txt": "1 Mary went to the moon.\n"})


def test_real_is_downloaded_checked_and_read(served, monkeypatch):
    folder, url = served
    data = _real_archive()
    (folder / "babi.tar.gz").write_bytes(data)
    monkeypatch.setattr(babi, "URL", url + "babi.tar.gz")
    monkeypatch.setattr(babi, "SHA256", hashlib.sha256(data).hexdigest())
    babi.ensure("real")
    dataset = babi.load("real")
    assert dataset.variant == "real" and dataset.n_train + dataset.n_val == 3
    assert "moon" not in dataset.meta["vocab"]  # only QA2 is read
    assert dataset.meta["test_questions"] == 1 and "hallway" in dataset.meta["vocab"]
    (folder / "babi.tar.gz").unlink()
    assert babi.load("real").n_train == dataset.n_train  # the cached copy, no download


def test_real_with_a_wrong_checksum_or_offline_says_what_to_do(served, monkeypatch):
    folder, url = served
    (folder / "babi.tar.gz").write_bytes(_real_archive())
    monkeypatch.setattr(babi, "URL", url + "babi.tar.gz")
    with pytest.raises(DataError) as error:
        babi.load("real")
    assert babi.SHA256 in str(error.value) and "--data synthetic" in str(error.value)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(babi, "URL", "http://127.0.0.1:{}/babi.tar.gz".format(port))
    with pytest.raises(DataError) as error:
        babi.ensure("real")
    message = str(error.value)
    assert "\n" not in message and "could not download" in message and "--data synthetic" in message


def test_an_archive_without_qa2_is_named_invalid(served, monkeypatch):
    folder, url = served
    data = _archive({"tasks_1-20_v1-2/en/qa1_single-supporting-fact_train.txt": STORY_FILE})
    (folder / "babi.tar.gz").write_bytes(data)
    monkeypatch.setattr(babi, "URL", url + "babi.tar.gz")
    monkeypatch.setattr(babi, "SHA256", hashlib.sha256(data).hexdigest())
    with pytest.raises(DataError, match="not a valid bAbI tasks archive.*missing"):
        babi.load("real")


def test_small_and_unknown_variants_are_one_line_errors():
    for call in (babi.ensure, babi.load):
        with pytest.raises(DataError) as error:
            call("small")
        assert "synthetic" in str(error.value) and "real" in str(error.value)
    with pytest.raises(DataError, match="real, synthetic, small"):
        babi.load("tiny")


# --- the generated stories --------------------------------------------------------------------------------------

LINE = re.compile(r"^(\d+) (.*)$")


def replay(lines):
    """Answer every question of generated bAbI text by simulating the story from its sentences (an interpreter
    independent of the generator): [(answer written, answer simulated, supporting line numbers)]."""
    out = []
    for line in lines:
        nid, text = LINE.match(line).groups()
        if nid == "1":
            where, carrier, lies = {}, {}, {}
        words = babi.tokenize(text.split("\t")[0])
        if "\t" in text:
            _, answer, facts = text.split("\t")
            obj = words[3]
            simulated = where.get(carrier[obj]) if obj in carrier else lies.get(obj)
            out.append((answer, simulated, [int(f) for f in facts.split()]))
            continue
        person, last = words[0], words[-2]
        if last in babi.PLACES:  # "Mary moved to the kitchen ."
            where[person] = last
        elif last == "there":  # "Mary got the milk there ."
            carrier[words[-3]] = person
            lies.pop(words[-3], None)
            assert person in where
        else:  # "Mary dropped the milk ."
            assert carrier.pop(last) == person
            lies[last] = where[person]
    return out


def test_generated_text_is_babi_format_with_answers_that_follow_from_the_story():
    lines = babi.generate_lines(50, seed=3)
    assert lines[0].startswith("1 ") and all(LINE.match(line) for line in lines)
    questions = [l for l in lines if "\t" in l]
    assert len(questions) == 50 * babi.QUESTIONS_PER_STORY
    assert all(re.match(r"^\d+ Where is the (apple|football|milk)\? \t\w+\t\d+ \d+$", q) for q in questions)
    answers = replay(lines)
    assert all(written == simulated for written, simulated, _ in answers)
    # the verbs of QA2 all occur
    text = " ".join(lines)
    for phrase in ("moved to", "went back to", "journeyed", "travelled", "got the", "grabbed", "picked up",
                   "took", "dropped", "discarded", "put down", "left the"):
        assert phrase in text, phrase


def test_synthetic_has_the_real_shapes_and_vocabulary():
    dataset = babi.load("synthetic")
    story, query = dataset.x_train
    assert story.shape == (9500, 552) and query.shape == (9500, 5) and dataset.n_val == 500
    vocab = dataset.meta["vocab"]
    assert len(vocab) + 1 == 36  # QA2's 35 words and the padding
    words = set(babi.PEOPLE + babi.PLACES + babi.OBJECTS) | {".", "?", "Where", "is", "the", "to", "back", "up",
                                                              "down", "there"}
    assert words <= set(vocab)
    assert dataset.meta["data_story_maxlen"] <= 552 and dataset.meta["data_query_maxlen"] == 5
    place_ids = {vocab.index(p) + 1 for p in babi.PLACES}
    assert set(np.unique(dataset.y_train)) == place_ids  # every answer is a place, every place answers


def test_synthetic_is_seeded_and_limited_sets_are_prefixes():
    a, b, c = babi.load("synthetic", samples=300), babi.load("synthetic", seed=0), babi.load("synthetic", seed=1)
    np.testing.assert_array_equal(a.x_train[0], b.x_train[0][:300])
    np.testing.assert_array_equal(a.y_val, b.y_val[:len(a.y_val)])
    assert a.n_val == 16  # limit(): validation in proportion
    assert not np.array_equal(b.x_train[0], c.x_train[0])


def test_the_last_place_mentioned_is_right_at_most_half_the_time():
    """The task is not solved by recency: naming the last place mentioned in the story scores at most 50% (it is
    about 36%), above the most frequent answer (about 17%), so a model that learns more than recency shows it."""
    dataset = babi.load("synthetic")
    story, _ = dataset.x_train
    guess = babi.last_place_baseline(story, dataset.meta["vocab"])
    baseline = float(np.mean(guess == dataset.y_train))
    majority = np.bincount(dataset.y_train).max() / dataset.n_train
    assert 0.2 < baseline <= 0.5, baseline
    assert majority < 0.25

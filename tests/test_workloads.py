"""The workload registry: every workload answers the same hooks (spec.Workload), its package's where it defines
them and the defaults where it does not, so that no caller asks whether a workload has one."""
from dlbench import data, workloads
from dlbench.workloads.spec import Workload


def test_every_workload_answers_every_hook():
    for workload_id in workloads.WORKLOAD_IDS:
        workload = workloads.get(workload_id)
        assert isinstance(workload, Workload) and workloads.get(workload_id) is workload
        assert workload.SPEC.id == workload_id and workload.described is None
        assert workload.augment is None or callable(workload.augment)
        assert workload.sample_text is None or callable(workload.sample_text)


def test_a_package_hook_replaces_the_default_and_an_absent_one_keeps_it():
    cnn, mlp, fasttext = (workloads.get(w) for w in ("cifar10_cnn", "mnist_mlp", "imdb_fasttext"))
    assert cnn.augment is cnn.module.augment and mlp.augment is None
    assert workloads.get("char_lstm").sample_text is not None and mlp.sample_text is None
    dataset = data.dataset_module("mnist").load("synthetic", 8, seed=0)
    assert mlp.hyper(dataset) is mlp.SPEC.hp
    # imdb_fasttext's bigram vocabulary depends on the data (counted by splits): its own hyper, not the spec's
    texts = data.dataset_module(fasttext.SPEC.dataset).load("synthetic", 64, seed=0)
    fasttext.splits(texts, "channels_last")
    assert fasttext.SPEC.hp.max_features is None and fasttext.hyper(texts).max_features == texts.meta["max_features"]

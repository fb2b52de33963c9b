"""The complaint set and the classifier trained on it: the shipped data is sound, the held-out figure is printed and
above the bar, unsure predictions go to a dispatcher, corrections teach it, and a saved classifier loads back."""

from __future__ import annotations

import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import shipped_classifier

from cityos.cases import classifier as clf_module
from cityos.cases.classifier import (
    DATA_PATH,
    Classifier,
    default_classifier,
    evaluate,
    load_examples,
    retrain,
    set_default_classifier,
    train,
)
from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.taxonomy import load_taxonomy
from cityos.errors import InvalidInput

INDEPENDENT = Path(__file__).parents[2] / "bench" / "data" / "complaints_independent.jsonl"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The shipped classifier, trained once for the run from the shipped training split (conftest's model cache;
    test_train_on_a_small_set and test_model_cache.py train for real)."""
    return shipped_classifier()


def _rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dataset_is_big_balanced_and_split() -> None:
    rows = _rows()
    taxonomy = load_taxonomy()
    assert len(rows) >= 2000
    assert all(set(r) == {"text", "sub", "main", "split"} for r in rows)
    assert all(taxonomy.main_of(r["sub"]).code == r["main"] for r in rows)
    per_sub = Counter(r["sub"] for r in rows)
    assert set(per_sub) == {s.code for s in taxonomy.subs}
    assert min(per_sub.values()) >= 40
    held = [r for r in rows if r["split"] == "heldout"]
    assert {r["split"] for r in rows} == {"train", "heldout"}
    assert 0.18 <= len(held) / len(rows) <= 0.22
    held_per_sub = Counter(r["sub"] for r in held)
    for sub, n in per_sub.items():  # stratified: every sub has its fifth held out
        assert 0.15 <= held_per_sub[sub] / n <= 0.25, sub


def test_no_text_is_in_both_parts() -> None:
    rows = _rows()
    train_texts = {r["text"] for r in rows if r["split"] == "train"}
    held_texts = [r["text"] for r in rows if r["split"] == "heldout"]
    assert not train_texts & set(held_texts)
    assert len(set(held_texts)) == len(held_texts)


def test_texts_vary_like_real_reports() -> None:
    texts = [r["text"] for r in _rows()]
    lengths = sorted(len(t) for t in texts)
    assert lengths[len(lengths) // 10] <= 20 and lengths[-len(lengths) // 10] >= 60  # short ones and long ones
    assert any("南京东路" in t for t in texts) and any("来电人" in t for t in texts)


def test_heldout_accuracy(classifier: Classifier, capsys: pytest.CaptureFixture[str]) -> None:
    result = evaluate(classifier, load_examples("heldout"))
    with capsys.disabled():
        print(
            f"\ncases classifier, held-out ({result.count} complaints): main top-1 {result.main_accuracy:.3f}, "
            f"sub top-1 {result.sub_accuracy:.3f}; {result.needs_confirmation} sent to a dispatcher, "
            f"main top-1 on the rest {result.confident_main_accuracy:.3f}"
        )
        print("  per main: " + ", ".join(f"{m} {s.accuracy:.2f}" for m, s in result.per_main.items()))
    assert result.main_accuracy >= 0.85
    assert result.sub_accuracy >= 0.70
    assert set(result.per_main) == {m.code for m in load_taxonomy().mains}
    assert result.confident_main_accuracy is not None and result.confident_main_accuracy > result.main_accuracy


def test_it_holds_up_on_complaints_written_apart_from_its_training_text(
    classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    # a set written from the taxonomy alone, by a writer who never saw the training text (bench/data/*.md says how);
    # never trained or tuned on. bench/classifier_eval.py prints top-3 and the confusion matrix
    rows = [json.loads(line) for line in INDEPENDENT.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = evaluate(classifier, [(r["text"], r["sub"]) for r in rows])
    with capsys.disabled():
        print(f"\ncases classifier, independent set ({result.count}): main top-1 {result.main_accuracy:.3f}, lowest "
              f"main {min(s.accuracy for s in result.per_main.values()):.2f}")  # fmt: skip
    assert result.count >= 400
    assert result.main_accuracy >= 0.85
    assert all(s.accuracy >= 0.70 for s in result.per_main.values()), result.per_main


def test_prediction_shape(classifier: Classifier) -> None:
    p = classifier.predict("南京东路100号门口的窨井盖不见了，晚上看不见，太危险了")
    assert (p.sub, p.main) == ("road-manhole-damaged", "facilities")
    assert not p.needs_confirmation
    assert p.sub_confidence <= p.confidence <= 1.0
    assert len(p.alternatives) == 3 and p.alternatives[0].sub == p.sub
    probabilities = [a.probability for a in p.alternatives]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert [a.main for a in p.alternatives] == [load_taxonomy().main_of(a.sub).code for a in p.alternatives]


def test_nonsense_needs_a_dispatcher(classifier: Classifier) -> None:
    for text in ("你好", "喂？", ""):
        assert classifier.predict(text).needs_confirmation, text


def test_threshold_is_settable() -> None:
    lenient = Classifier(default_classifier().pipeline, load_taxonomy(), threshold=0.0)
    strict = Classifier(default_classifier().pipeline, load_taxonomy(), threshold=1.01)
    assert not lenient.predict("你好").needs_confirmation
    assert strict.predict("井盖没了").needs_confirmation


def test_retrain_learns_from_corrections(classifier: Classifier) -> None:
    # "阴沟盖子" is Shanghai for a manhole cover; the training set never says it, so 阴沟 (drain) misleads the model.
    probe = "弄堂口的阴沟盖子没了"
    assert classifier.predict(probe).sub != "road-manhole-damaged"
    corrections = [
        ("阴沟盖子被人偷走了，留下一个洞", "road-manhole-damaged"),
        ("马路上的阴沟盖子碎了", "road-manhole-damaged"),
        ("阴沟盖子翘起来了，踩上去会翻", "road-manhole-damaged"),
        ("人行道上阴沟盖子缺了一块", "road-manhole-damaged"),
    ]
    retrained = retrain(corrections)
    assert retrained.predict(probe).sub == "road-manhole-damaged"
    # What it knew before it still knows.
    assert retrained.predict("下水道堵了，污水从井里冒出来").sub == "sewer-blocked"
    assert retrained.predict("楼下饭店的油烟直接往我家窗户里排").sub == "cooking-fumes"


def test_training_refuses_unknown_sub() -> None:
    with pytest.raises(InvalidInput, match="no-such-sub"):
        retrain([("随便说说", "no-such-sub")])


def test_save_and_load_give_the_same_predictions(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "classifier.pkl"
    classifier.save(path)
    loaded = Classifier.load(path)
    texts = [t for t, _ in load_examples("heldout")[:60]] + ["你好"]
    assert loaded.predict_many(texts) == classifier.predict_many(texts)
    assert loaded.threshold == classifier.threshold


def test_load_refuses_other_versions_and_junk(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "old.pkl"
    with path.open("wb") as f:
        pickle.dump({"format": clf_module.FORMAT_VERSION + 1}, f)
    with pytest.raises(InvalidCasesConfig, match="format"):
        Classifier.load(path)
    with path.open("wb") as f:
        pickle.dump({"format": clf_module.FORMAT_VERSION, "sklearn": "0.1", "classes": [], "words": []}, f)
    with pytest.raises(InvalidCasesConfig, match=r"scikit-learn 0\.1"):
        Classifier.load(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(InvalidCasesConfig, match="cannot read"):
        Classifier.load(path)


def test_default_can_be_swapped(classifier: Classifier) -> None:
    other = Classifier(classifier.pipeline, load_taxonomy(), threshold=0.9)
    set_default_classifier(other)
    try:
        assert default_classifier() is other
    finally:
        set_default_classifier(classifier)
    assert default_classifier() is classifier


def test_train_on_a_small_set() -> None:
    """Training on a few examples works: the taxonomy's own words fill in the rest."""
    small = train([("井盖没了", "road-manhole-damaged"), ("楼下饭店油烟太大", "cooking-fumes")])
    assert small.predict("窨井盖缺失").main == "facilities"
    assert len(small.classes) == len(load_taxonomy().subs)


def test_the_quick_path_gives_scikit_learns_probabilities(classifier: Classifier) -> None:
    # one report at a time goes through plain array arithmetic, many through scikit-learn's matrices: the same
    texts = [t for t, _ in load_examples("heldout")[:150]]
    texts += ["", "   ", "zzzz 1234", "🙂🙂", "井盖" * 300, "ABC abc 路灯不亮了!!"]
    expected = classifier.pipeline.predict_proba(texts)
    one_by_one = np.vstack([classifier.probabilities([t]) for t in texts])
    assert np.allclose(one_by_one, expected, rtol=0, atol=1e-12)
    assert np.allclose(classifier.probabilities(texts), expected, rtol=0, atol=1e-12)


def test_a_text_seen_before_is_not_predicted_again(classifier: Classifier) -> None:
    text = "小区门口的窨井盖松动了，踩上去会晃，晚上看不清很危险"
    first = classifier.predict(text)
    assert classifier.predict(text) is first
    assert classifier.predict_many([text, "路灯坏了", text]) == [first, classifier.predict("路灯坏了"), first]
    other = Classifier(classifier.pipeline, classifier.taxonomy, threshold=1.01)
    assert other.predict(text).needs_confirmation  # another threshold: its own answer, not the kept one

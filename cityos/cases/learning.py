"""Learning (可学习): the classifier trained again with the categories dispatchers confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cityos.cases import store
from cityos.cases.classifying import classifier, model_path, use_classifier
from cityos.cases.models import Evaluation
from cityos.cases.settings import settings
from cityos.runtime import Runtime


@dataclass(frozen=True)
class Accuracy:
    """Held-out top-1 accuracy of the main category and of the sub-category."""

    main: float
    sub: float

    @classmethod
    def of(cls, e: Evaluation) -> Accuracy:
        return cls(main=e.main_accuracy, sub=e.sub_accuracy)


@dataclass(frozen=True)
class Retrained:
    corrections: int  # how many confirmed categories it learnt from
    before: Accuracy
    after: Accuracy
    path: Path  # where it was saved


def retrain(rt: Runtime, path: Path | None = None) -> Retrained:
    """Train the classifier again on the shipped training split plus every category a dispatcher confirmed,
    save it in the data directory and use it from now on; the held-out figures before and after tell an
    operator what the corrections changed."""
    from cityos.cases.classifier import evaluate, load_examples  # scikit-learn: loaded when training
    from cityos.cases.classifier import retrain as train_again

    with rt.db.connect() as conn:
        kept = store.list_corrections(conn)
    heldout = load_examples("heldout")
    before = evaluate(classifier(rt), heldout)
    model = train_again([(c["text"], c["confirmed"]) for c in kept], taxonomy=settings(rt).taxonomy)
    after = evaluate(model, heldout)
    path = path or model_path(rt)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    use_classifier(rt, model)
    return Retrained(len(kept), Accuracy.of(before), Accuracy.of(after), path)

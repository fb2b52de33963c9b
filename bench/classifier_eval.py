"""How well the case classifier generalises: the shipped model scored on a labelled set written independently
of its training text, beside its own held-out split. Prints figures; asserts nothing.

For each set: main-category top-1 and top-3 (mains ranked by their subs' summed probability, as the classifier
chooses), sub-category top-1 and top-3, every main category's top-1, the share of reports sent to a dispatcher
(main probability below the threshold) and the main top-1 of the rest, and a confusion matrix of main categories
(rows: the label; columns: the prediction). Targets of issue 22 on the independent set: main top-1 ≥ 0.85,
top-3 ≥ 0.95, every main category ≥ 0.70.

The independent set (``bench/data/complaints_independent.jsonl``, one ``{"id", "text", "sub", "main"}`` a line)
was written by a writer who saw only the taxonomy (see its ``.md``); it is never used to train or tune.

Run: .venv/bin/python bench/classifier_eval.py [--set FILE] [--threshold P]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from cityos.cases.classifier import Classifier, default_classifier, load_examples

INDEPENDENT = Path(__file__).parent / "data" / "complaints_independent.jsonl"
TARGETS = {"main top-1": 0.85, "main top-3": 0.95, "every main": 0.70}


def load_set(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r["sub"]) for r in rows]


def score(model: Classifier, pairs: list[tuple[str, str]]) -> dict[str, object]:
    taxonomy = model.taxonomy
    texts = [t for t, _ in pairs]
    probabilities = model.probabilities(texts)
    mains = sorted({taxonomy.main_of(c).code for c in model.classes})
    membership = np.array([[taxonomy.main_of(c).code == m for m in mains] for c in model.classes], dtype=float)
    by_main = probabilities @ membership
    predictions = model.predict_many(texts)
    true_mains = [taxonomy.main_of(sub).code for _, sub in pairs]
    main_rank = np.argsort(-by_main, axis=1)
    sub_rank = np.argsort(-probabilities, axis=1)
    n = len(pairs)
    main_top3 = sum(mains.index(t) in main_rank[i, :3] for i, t in enumerate(true_mains))
    sub_top3 = sum(model.classes.index(sub) in sub_rank[i, :3] for i, (_, sub) in enumerate(pairs))
    confusion: Counter[tuple[str, str]] = Counter((t, p.main) for t, p in zip(true_mains, predictions, strict=True))
    sent = [p.needs_confirmation for p in predictions]
    kept = [p.main == t for p, t, s in zip(predictions, true_mains, sent, strict=True) if not s]
    labelled = Counter(true_mains)
    per_main = {m: confusion[(m, m)] / labelled[m] for m in mains if labelled[m]}
    return {
        "n": n,
        "main top-1": sum(p.main == t for p, t in zip(predictions, true_mains, strict=True)) / n,
        "main top-3": main_top3 / n,
        "sub top-1": sum(p.sub == sub for p, (_, sub) in zip(predictions, pairs, strict=True)) / n,
        "sub top-3": sub_top3 / n,
        "per main": per_main,
        "sent to a dispatcher": sum(sent) / n,
        "main top-1 of the rest": (sum(kept) / len(kept)) if kept else None,
        "confusion": confusion,
        "mains": mains,
    }


def show(name: str, s: dict[str, object], independent: bool) -> None:
    print(f"\n{name}: {s['n']} complaints")
    for key in ("main top-1", "main top-3", "sub top-1", "sub top-3"):
        target = f"   (target ≥ {TARGETS[key]:.2f})" if independent and key in TARGETS else ""
        print(f"  {key:<24} {s[key]:.3f}{target}")
    rest = s["main top-1 of the rest"]
    print(f"  {'sent to a dispatcher':<24} {s['sent to a dispatcher']:.3f}   main top-1 of the rest "
          f"{'—' if rest is None else f'{rest:.3f}'}")  # fmt: skip
    per_main = s["per main"]
    assert isinstance(per_main, dict)
    low = min(per_main.values())
    print(f"  every main (lowest)      {low:.3f}" + ("   (target ≥ 0.70)" if independent else ""))
    print("  per main: " + ", ".join(f"{m} {v:.2f}" for m, v in per_main.items()))
    mains = s["mains"]
    confusion = s["confusion"]
    assert isinstance(mains, list) and isinstance(confusion, Counter)
    short = [m[:6] for m in mains]
    print("  confusion (rows: label, columns: prediction)")
    print("  " + " " * 16 + " ".join(f"{c:>6}" for c in short))
    for m in mains:
        if m in per_main:
            print(f"  {m:<16}" + " ".join(f"{confusion[(m, p)] or '.':>6}" for p in mains))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=INDEPENDENT, help="a labelled JSONL set (text, sub)")
    ap.add_argument("--threshold", type=float, default=None, help="the confirmation threshold (default: the model's)")
    args = ap.parse_args()
    model = default_classifier()
    if args.threshold is not None:
        model = Classifier(model.pipeline, model.taxonomy, threshold=args.threshold)
    print(f"cases classifier, threshold {model.threshold}")
    show("the shipped held-out split (same generator as training)", score(model, load_examples("heldout")), False)
    if args.set.exists():
        show(f"independent set {args.set.name}", score(model, load_set(args.set)), True)
    else:
        print(f"\n{args.set} is not there: no independent figure")


if __name__ == "__main__":
    main()

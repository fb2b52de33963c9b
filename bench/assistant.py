"""Evaluation of the Q&A assistant (智能客服). Prints figures; asserts nothing.

Asks each question of a questions file through the service function ``POST /onestop/assistant/ask`` calls
(``cityos.onestop.ask_assistant``, on a fresh SQLite database with the shipped items) and prints, separately
for the answerable questions (``expect: answer``) and those no service answers (``expect: refuse``):

- answered correctly: an answer whose suggested start (or first citation) is one of the question's targets;
- refused: the assistant said it does not know;
- answered wrongly: a wrong start, or any answer to a question it should refuse;

and the latency per question (p50, p95) beside a baseline in the same run: the BM25 scoring alone of the
question's words over the same passages (what a bare retrieval costs, without the tokenising, the synonyms,
the confidence and the answer). ``--sweep`` prints the shares at other thresholds too, from the same
answers (each answer keeps its confidence and the start it found nearest): how the threshold is calibrated,
on the development set only.

Questions file format (YAML list): ``{id, question, expect: answer|refuse, targets: [bundle:<code>|item:<code>]}``.

Run: .venv/bin/python bench/assistant.py [--questions FILE] [--sweep] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop import AssistantAnswer, ask_assistant, seed_items
from cityos.onestop.assistant import AssistantIndexes
from cityos.onestop.assistant_index import query, settings
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

DEFAULT = Path(__file__).parent / "data" / "assistant_questions.yaml"


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    expect: str
    targets: frozenset[str]


@dataclass(frozen=True)
class Asked:
    case: Case
    confidence: float
    nearest: str | None  # the start found (answered or not)
    first_citation: str | None


def load(path: Path) -> list[Case]:
    if not path.exists():
        raise SystemExit(f"{path} does not exist: name a questions file with --questions (the evaluation set lands "
                         "on main separately; bench/data/assistant_dev.yaml is the development set)")  # fmt: skip
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise SystemExit(f"{path}: expected a list of questions")
    cases = []
    for n, q in enumerate(raw, 1):
        if q.get("expect") not in ("answer", "refuse") or not str(q.get("question", "")).strip():
            raise SystemExit(f"{path}: question {n} ({q.get('id')}): needs a question and expect: answer|refuse")
        cases.append(Case(str(q.get("id", n)), str(q["question"]), q["expect"], frozenset(q.get("targets") or [])))
    return cases


def _asked(case: Case, a: AssistantAnswer) -> Asked:
    first = a.citations[0].passage.target if a.citations else None
    return Asked(case, a.confidence, a.nearest.target if a.nearest else None, first)


def _right(x: Asked) -> bool:
    return x.nearest in x.case.targets or (x.first_citation is not None and x.first_citation in x.case.targets)


def shares(asked: list[Asked], threshold: float) -> dict[str, tuple[int, int, int, int]]:
    """(correct, refused, wrong, total) per expectation at ``threshold``."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for expect in ("answer", "refuse"):
        group = [x for x in asked if x.case.expect == expect]
        answered = [x for x in group if x.nearest is not None and x.confidence >= threshold]
        refused = len(group) - len(answered)
        correct = sum(1 for x in answered if expect == "answer" and _right(x))
        out[expect] = (correct, refused, len(answered) - correct, len(group))
    return out


def _cost(s: dict[str, tuple[int, int, int, int]]) -> int:
    """Correct answers minus twice the wrong ones (to answerable and refuse questions alike)."""
    return s["answer"][0] - 2 * (s["answer"][2] + s["refuse"][2])


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}% ({n}/{total})" if total else "  —  "


def report(asked: list[Asked], threshold: float, label: str = "") -> None:
    s = shares(asked, threshold)
    c, r, w, t = s["answer"]
    print(f"{label}threshold {threshold:.2f}  answerable: correct {_pct(c, t)}  refused {_pct(r, t)}  "
          f"wrong {_pct(w, t)}")  # fmt: skip
    _, r, w, t = s["refuse"]
    print(f"{' ' * len(label)}                 refuse:     refused {_pct(r, t)}  answered (wrong) {_pct(w, t)}")


def _ms(values: list[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
    return statistics.median(values), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=DEFAULT)
    parser.add_argument("--sweep", action="store_true", help="the shares at thresholds 0.30 … 0.90 as well")
    parser.add_argument("--repeats", type=int, default=5, help="times each question is asked for the latency")
    parser.add_argument("--misses", action="store_true", help="list the questions answered wrongly or refused")
    args = parser.parse_args()
    cases = load(args.questions)
    with tempfile.TemporaryDirectory() as where:
        db = Database(f"sqlite:///{where}/bench.db")
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        seed_items(rt)
        ask_assistant(rt, "预热")  # the index and jieba's dictionary are built once per process
        asked, ours, base = [], [], []
        index = rt.parts.get(AssistantIndexes, AssistantIndexes).get(rt, rt.settings.default_tenant)
        for case in cases:
            words = query(case.question, settings()).all
            for _ in range(args.repeats):
                t = time.perf_counter()
                answer = ask_assistant(rt, case.question)
                ours.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                index.scores(words)
                base.append((time.perf_counter() - t) * 1000)
            asked.append(_asked(case, answer))
        rt.bus.close()
        db.dispose()
    threshold = settings().threshold
    print(f"{args.questions} · {len(cases)} questions · loaded machine (shared, 2 cores)")
    report(asked, threshold)
    if args.sweep:
        grid = [x / 100 for x in range(30, 95, 5)]
        for t in grid:
            report(asked, t, label="  sweep ")
        # a wrong answer costs a citizen more than a handover to a person: count it twice
        cost = {t: _cost(shares(asked, t)) for t in grid}
        best = max(grid, key=lambda t: (cost[t], t))
        print(f"  calibrated: threshold {best:.2f} maximises correct − 2 × wrong ({cost[best]}) "
              f"on {args.questions.name}")  # fmt: skip
    if args.misses:
        for x in asked:
            answered = x.nearest is not None and x.confidence >= threshold
            if (x.case.expect == "answer" and not (answered and _right(x))) or (x.case.expect == "refuse" and answered):
                print(f"  miss {x.case.id} {x.case.question} → {x.nearest} {x.confidence:.2f} "
                      f"(want {', '.join(sorted(x.case.targets)) or 'refuse'})")  # fmt: skip
    (m, p), (bm, bp) = _ms(ours), _ms(base)
    print(f"latency per question: p50 {m:.2f} ms  p95 {p:.2f} ms   baseline (BM25 scoring alone) p50 {bm:.3f} ms  "
          f"p95 {bp:.3f} ms   ratio of p50 {m / bm:.1f}×")  # fmt: skip


if __name__ == "__main__":
    main()

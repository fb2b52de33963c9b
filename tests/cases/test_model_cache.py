"""The model cache: the first process trains a model and saves it under its digest; later ones, and processes
started together, load that file instead of training; a digest that changes, or a file that does not load,
trains anew. The cache is the same for any model with ``save``: a small stand-in keeps these tests from
training the classifier again and again (the run's first process trains the shipped one through it, see
conftest.py; test_classifier.py trains for real)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import shipped_classifier

from cityos.cases.classifier import CACHE_NAME, Classifier, shipped_fingerprint
from cityos.cases.model_cache import cached


class Model:
    """A stand-in model: what it was made from, written as JSON."""

    def __init__(self, made_from: str) -> None:
        self.made_from = made_from

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"made_from": self.made_from}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Model:
        return cls(json.loads(path.read_text(encoding="utf-8"))["made_from"])


class Trainer:
    """Makes stand-in models and counts how often it did."""

    def __init__(self) -> None:
        self.trained = 0

    def __call__(self) -> Model:
        self.trained += 1
        return Model(f"training {self.trained}")


def test_the_first_trains_and_saves_the_next_loads(tmp_path: Path) -> None:
    make = Trainer()
    first = cached(tmp_path, "m", "d1", make, Model.load)
    assert make.trained == 1 and (tmp_path / "m-d1.pickle").exists()
    again = cached(tmp_path, "m", "d1", make, Model.load)
    assert make.trained == 1 and again is not first and again.made_from == "training 1"  # read, not trained


def test_the_shipped_classifier_goes_through_the_cache_whole(tmp_path: Path) -> None:
    shipped = shipped_classifier()
    cached(tmp_path, CACHE_NAME, shipped_fingerprint(), lambda: shipped, Classifier.load)
    loaded = cached(tmp_path, CACHE_NAME, shipped_fingerprint(), lambda: pytest.fail("trained again"), Classifier.load)
    assert loaded is not shipped and loaded.classes == shipped.classes
    text = "小区门口的垃圾桶满了三天没人清运"
    assert loaded.predict(text) == shipped.predict(text)


def test_another_digest_trains_anew_and_the_stale_file_goes(tmp_path: Path) -> None:
    make = Trainer()
    cached(tmp_path, "m", "d1", make, Model.load)
    cached(tmp_path, "other", "d1", make, Model.load)
    assert cached(tmp_path, "m", "d2", make, Model.load).made_from == "training 3"
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == ["m-d2.pickle", "other-d1.pickle"]


def test_a_file_that_does_not_load_is_trained_again(tmp_path: Path) -> None:
    (tmp_path / "m-d1.pickle").write_bytes(b"not a model")
    make = Trainer()
    assert cached(tmp_path, "m", "d1", make, Model.load).made_from == "training 1"
    assert Model.load(tmp_path / "m-d1.pickle").made_from == "training 1"  # the bad file replaced


def test_processes_started_together_train_once(tmp_path: Path) -> None:
    """Two processes ask at once: one trains (slowly), the other waits on the lock and loads its file. Both
    compute the shipped classifier's digest as this one does (no addresses or other per-process text in it:
    else every start would train again)."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from cityos.cases.classifier import shipped_fingerprint
        from cityos.cases.model_cache import cached

        class Model(str):  # a model that is its name
            def save(self, path):
                Path(path).write_text(self)

        def make():
            print("trained", flush=True)
            time.sleep(0.5)  # long enough for the other to find the lock taken
            return Model(sys.argv[2])

        print(shipped_fingerprint(), cached(Path(sys.argv[1]), "m", "d", make, lambda p: Model(p.read_text())))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), name], stdout=subprocess.PIPE, text=True)
        for name in ("first", "second")
    ]
    outs = [p.communicate(timeout=600)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(out.count("trained") for out in outs) == 1, outs
    assert len({tuple(out[-2:]) for out in outs}) == 1, outs  # one model, one digest
    assert outs[0][-2] == shipped_fingerprint() and len(shipped_fingerprint()) == 20

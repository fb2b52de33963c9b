"""A small pytest plugin (its hook is imported by tests/conftest.py): the decision rules' YAML tests
(cityos/onestop/data/decision_tests/<item>.yaml) collected as test items, one per case named ``<item>::<case>``
and run against the shipped rules of the item, plus one per rule that must hold in some case. They hang off
tests/onestop/test_decision_cases.py, so that running the one-stop tests runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cityos.onestop.catalogue import DATA, shipped
from cityos.onestop.decision_checks import rules_of
from cityos.onestop.decisions import Case, Rules, evaluate, parse_cases, run_case, run_cases

ANCHOR = "test_decision_cases.py"


class DecisionCaseFailed(Exception):
    pass


class DecisionCaseItem(pytest.Item):
    def __init__(self, *, rules: Rules, case: Case, **kw: Any) -> None:
        super().__init__(**kw)
        self.rules, self.case = rules, case

    def runtest(self) -> None:
        why = run_case(self.rules, self.case)
        if why is not None:
            got = evaluate(self.rules, self.case.facts)
            trace = "\n".join(f"  {s.rule} ({s.then}): {s.holds}  {s.inputs}" for s in got.trace)
            raise DecisionCaseFailed(f"{why}\ntrace:\n{trace}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DecisionCaseFailed):
            return f"decision case {self.name}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"decision case {self.name}"


class RuleCoveredItem(pytest.Item):
    def __init__(self, *, rules: Rules, rule: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.rules, self.rule = rules, rule

    def runtest(self) -> None:
        missing = [f for f in run_cases(self.rules, self.rules.cases) if f.case == f"rule {self.rule}"]
        assert not missing, missing[0].message


class DecisionTestsFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for path in sorted((DATA / "decision_tests").glob("*.yaml")):
            code = path.stem
            it = shipped().items.get(code)
            rules = rules_of(it) if it is not None else None
            if rules is None:
                raise pytest.UsageError(f"{path}: no shipped item {code} with decision rules")
            cases = parse_cases(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
            rules = Rules(rules.rules, rules.claims, cases)
            for case in cases:
                yield DecisionCaseItem.from_parent(self, name=f"{code}::{case.name}", rules=rules, case=case)
            for rule in rules.rules:
                yield RuleCoveredItem.from_parent(self, name=f"{code}::rule {rule.id} is tested", rules=rules,
                                                  rule=rule.id)  # fmt: skip


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name == ANCHOR and file_path.parent == Path(__file__).parent / "onestop":
        return DecisionTestsFile.from_parent(parent, path=file_path, name=f"{file_path.name}::decision-rules")
    return None

"""Every shipped policy (政策找人 · 免申即享) matches someone in the demo's registries, on a smaller count: the
persons and enterprises the demo feeds (with the newborns of the weeks before the day it is fed, health's
only-child certificates, human resources' uninsured and market regulation's registered capital), each
policy run as its department under its 政策找人 grant."""

from __future__ import annotations

from datetime import date

from cityos import datahub
from cityos.demo.feeding import load_feeds
from cityos.demo.feeds import demo_feeds, policy_feeds, registry_feeds
from cityos.demo.sharing import load_grants
from cityos.onestop import policy_matching as matching
from cityos.onestop.policies import shipped
from cityos.runtime import Runtime

T = "default"
ON = date(2027, 3, 1)  # the day it is fed and run: the newborns are born in the weeks before it


def test_every_shipped_policy_matches_someone_in_the_demo(rt: Runtime) -> None:
    datahub.load_catalogue(rt, T, by="cityos-demo")
    load_grants(rt, T)
    load_feeds(rt, T, demo_feeds(2000, on=ON) + policy_feeds(2000, on=ON) + registry_feeds(150))
    matched = {}
    for code, p in shipped().policies.items():
        run = matching.run_policy(rt, T, code, by=f"{p.department}-officer", on=ON)
        assert run.state == "done" and run.subjects >= (2000 - 10 if p.target == "person" else 150), code
        matched[code] = run.matched
    assert all(matched.values()), {c: n for c, n in matched.items() if not n}
    assert len(matched) == 10

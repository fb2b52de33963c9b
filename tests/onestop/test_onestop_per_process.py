"""What each process keeps of one-stop services, on SQLite and PostgreSQL, with two runtimes over one database
standing for two API processes: status indexes reserved a block at a time never collide and still read in the
status lists; parsed item versions kept per process never hide a version another process published."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cityos import onestop
from cityos.bus.memory import MemoryBus
from cityos.onestop import ItemNotFound, item, item_version, publish_item, seed_items
from cityos.onestop.items import latest_items
from cityos.onestop.seals import INDEX_BLOCK
from cityos.runtime import Runtime

SECRET = "a-test-seal-secret-of-some-length"
ENTERPRISE = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
LICENCE = {
    "entityName": "上海黄浦示例餐饮有限公司", "creditCode": "91310101MA1FPX1234", "entityType": "有限责任公司",
    "legalRepresentative": "张三", "establishedOn": "2024-03-01", "domicile": "上海市黄浦区示例路1号",
    "businessScope": "餐饮服务",
}  # fmt: skip
NEWBORN = ["HP-WJ-0001", "HP-GA-0001", "HP-YB-0001", "HP-RS-0001", "HP-WJ-0002"]


def _other(rt: Runtime) -> Runtime:
    """A second process's runtime over the same database: its own parts (seals, indexes, items)."""
    return Runtime(rt.settings, rt.db, MemoryBus())


def _close(other: Runtime) -> None:
    other.parts.close()  # not other.close(): the database is the test's
    other.bus.close()


def _issue(rt: Runtime) -> onestop.IssuedCredential:
    return onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, LICENCE, "market-regulation")


@pytest.mark.settings(seal_secret=SECRET)
def test_two_processes_take_status_indexes_from_their_own_blocks(rt: Runtime) -> None:
    other = _other(rt)
    try:
        mine = [_issue(rt) for _ in range(3)]
        theirs = [_issue(other) for _ in range(2)]
        assert [c.status_index for c in mine] == [0, 1, 2]
        assert [c.status_index for c in theirs] == [INDEX_BLOCK, INDEX_BLOCK + 1]  # the next block, not 3
        more = onestop.issue_many(rt, [onestop.IssueRequest("BusinessLicence", ENTERPRISE, LICENCE,
                                                            "market-regulation")] * INDEX_BLOCK)  # fmt: skip
        indexes = [c.status_index for c in mine + theirs + more]
        assert len(set(indexes)) == len(indexes)  # every credential has its own bit
        assert max(c.status_index for c in more) >= 2 * INDEX_BLOCK  # past the other's block
        onestop.revoke(other, more[-1].id, by="clerk", department="market-regulation")
        assert onestop.verify_credential_here(rt, more[-1].document).status == "revoked"
        assert onestop.verify_credential_here(other, theirs[0].document).status == "active"
        assert all(onestop.verify_credential_here(rt, c.document).ok for c in mine + theirs)
    finally:
        _close(other)


def test_an_item_published_by_another_process_is_read_at_once(rt: Runtime) -> None:
    seed_items(rt)
    other = _other(rt)
    try:
        before = latest_items(rt, NEWBORN)
        assert [before[c].version for c in NEWBORN] == [1] * 5
        assert item(rt, "HP-GA-0001") is before["HP-GA-0001"]  # parsed once in this process
        changed = replace(before["HP-GA-0001"], promised_limit_days=1)
        publish_item(other, "HP-GA-0001", changed, by="ops", reason="承诺1个工作日办结", expected=1)
        assert latest_items(rt, NEWBORN)["HP-GA-0001"].promised_limit_days == 1
        assert item(rt, "HP-GA-0001").version == 2
        assert item_version(rt, "HP-GA-0001", 1).item.promised_limit_days == before["HP-GA-0001"].promised_limit_days
        publish_item(rt, "HP-GA-0001", replace(changed, promised_limit_days=3), by="ops", reason="再调整", expected=2)
        assert item(other, "HP-GA-0001").promised_limit_days == 3
        assert latest_items(rt, NEWBORN)["HP-GA-0001"].version == 3
    finally:
        _close(other)


def test_items_not_seeded_yet_are_the_shipped_ones_and_an_unknown_code_is_not_found(rt: Runtime) -> None:
    found = latest_items(rt, NEWBORN, tenant="not-seeded")
    assert [found[c].version for c in NEWBORN] == [1] * 5
    with pytest.raises(ItemNotFound):
        latest_items(rt, [*NEWBORN, "HP-NO-0001"])

"""Benchmark of e-certificates (电子证照, issue 20): issue and verify, against raw Ed25519 in the same run.
Prints figures; asserts nothing. One process, one thread (one core).

  - raw sign / raw verify: Ed25519 (cryptography) of exactly the bytes a credential's proof signs (its 64-byte
    hashData), the floor of any eddsa-jcs-2022 implementation;
  - sign: build a credential and make its proof (JCS of the proof configuration and of the document, two
    SHA-256, Ed25519): what issuing costs before storage;
  - issue: ``onestop.issue_credential`` on SQLite: the claims checked, a status index taken (from the block
    this process reserved: one counter update per 64), the credential signed, then stored in the wallet with
    its history row and committed (one commit each, through the SQLite writer thread); and
    ``onestop.issue_many`` of 100 a transaction (统一发证 of a batch);
  - verify: ``onestop.verify_credential`` of a stored credential: signature, validity, seal, and its two status
    entries looked up in the status lists a verifier holds (each list's proof checked once, when it was read).
Each figure is the median of --repeats runs; ratios are against the raw figure of the same run.
Targets (issue 20): issue at least 1,000/s, verify at least 2,000/s on one core.

Run: .venv/bin/python bench/credentials.py [--n 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos import onestop
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop.credentials import credential, hash_data, proof_config, sign, verification_method
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

TARGET_ISSUE = 1_000
TARGET_VERIFY = 2_000
HOLDER = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
CLAIMS = {
    "operatorName": "上海黄浦示例餐饮有限公司",
    "creditCode": "91310101MA1FPX1234",
    "permitNumber": "JY13101010001",
    "premises": "上海市黄浦区示例路1号",
    "businessItems": "热食类食品制售",
}


def rate(n: int, fn: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="operations per run and figure")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (the median is printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as where:
        settings = Settings(
            data_dir=Path(where), database_url=f"sqlite:///{where}/cityos.db", seal_secret="a bench secret of the seals"
        )
        db = Database(settings.resolved_database_url)
        upgrade(db)
        rt = Runtime(settings, db, MemoryBus())
        try:
            run(rt, args.n, args.repeats)
        finally:
            rt.close()


def run(rt: Runtime, n: int, repeats: int) -> None:
    first = onestop.issue_credential(rt, "FoodBusinessPermit", HOLDER, CLAIMS, "market-supervision")
    seal = onestop.seals_ring(rt).seal("default", "market-supervision", "市场监督管理局")
    key, public = seal.private, seal.private.public_key()
    doc = {k: v for k, v in first.document.items() if k != "proof"}
    config = proof_config(doc, method=verification_method(public), created=doc["validFrom"])
    data = hash_data(doc, config)
    signature = key.sign(data)
    now = datetime.now(UTC)
    office = "market-supervision"
    lists = {onestop.list_url(rt, office, p): onestop.status_list_credential(rt, office, p)
             for p in ("revocation", "suspension")}  # fmt: skip
    seals = {s.key: s for s in onestop.published_seals(rt, "default")}
    opened = {url: onestop.open_list(listed, seals) for url, listed in lists.items()}  # a verifier opens each once

    def make(i: int) -> dict[str, Any]:
        unsigned = credential(credential_id=f"urn:uuid:bench-{i}", contexts=doc["@context"], types=doc["type"],
                              issuer=doc["issuer"], valid_from=doc["validFrom"], valid_until=doc.get("validUntil"),
                              subject=doc["credentialSubject"], schema_url=doc["credentialSchema"]["id"],
                              status=doc["credentialStatus"])  # fmt: skip
        return sign(unsigned, key, created=doc["validFrom"])

    names = ("raw sign", "sign", "issue", "issue x100", "raw verify", "verify")
    figures: dict[str, list[float]] = {k: [] for k in names}
    batch = [onestop.IssueRequest("FoodBusinessPermit", HOLDER, CLAIMS, office)] * 100
    for _ in range(repeats):
        figures["raw sign"].append(rate(n, lambda i: key.sign(data)))
        figures["sign"].append(rate(n, make))
        figures["issue"].append(rate(n, lambda i: onestop.issue_credential(
            rt, "FoodBusinessPermit", HOLDER, CLAIMS, "market-supervision")))  # fmt: skip
        figures["issue x100"].append(rate(n // 100, lambda i: onestop.issue_many(rt, batch)) * 100)
        figures["raw verify"].append(rate(n, lambda i: public.verify(signature, data)))
        figures["verify"].append(rate(n, lambda i: onestop.verify_credential(first.document, seals, opened.get, now)))
    assert onestop.verify_credential(first.document, seals, opened.get, now).ok
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(f"e-certificates, one core, medians of {repeats} runs of {n} (SQLite for issue)")
    print(f"  raw Ed25519 sign      {med['raw sign']:>10,.0f}/s")
    print(f"  sign (build + proof)  {med['sign']:>10,.0f}/s   {med['sign'] / med['raw sign']:.2f} of raw sign")
    print(f"  issue (+ wallet row)  {med['issue']:>10,.0f}/s   {med['issue'] / med['raw sign']:.2f} of raw sign"
          f"   target ≥ {TARGET_ISSUE:,}/s: {'met' if med['issue'] >= TARGET_ISSUE else 'MISSED'}")  # fmt: skip
    batched = med["issue x100"]
    print(f"  issue, 100 a commit   {batched:>10,.0f}/s   {batched / med['raw sign']:.2f} of raw sign"
          f"   target ≥ {TARGET_ISSUE:,}/s: {'met' if batched >= TARGET_ISSUE else 'MISSED'}")  # fmt: skip
    print(f"  raw Ed25519 verify    {med['raw verify']:>10,.0f}/s")
    print(f"  verify (+ status)     {med['verify']:>10,.0f}/s   {med['verify'] / med['raw verify']:.2f} of raw verify "
          f"   target ≥ {TARGET_VERIFY:,}/s: {'met' if med['verify'] >= TARGET_VERIFY else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()

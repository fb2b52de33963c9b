"""The audit chain on SQLite and PostgreSQL: appends verify; an edit, a deletion and a reorder made in the
database, and a forged seal, are each found and located by verify and by `cityos audit verify`; appends from
many threads keep one unbroken chain; who used my data."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from typer.testing import CliRunner, Result

from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.cli import app
from cityos.config import Settings, get_settings
from cityos.datahub import AuditRead
from cityos.datahub.audit_keys import keys
from cityos.datahub.keeper import AuditKeeper
from cityos.runtime import Runtime
from cityos.store.engine import Database

PERSON = "110101199001011234"
COMPANY = "91310101MA1FPX1234"


@pytest.fixture
def art(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose seal key lives in a directory of the test's own; a seal every 5 records."""
    rt = Runtime(Settings(database_url=db.url, data_dir=tmp_path, audit_seal_every=5), db, MemoryBus())
    yield rt
    rt.parts.close()
    rt.bus.close()


def read(n: int, **kw: object) -> AuditRead:
    fields: dict = {"principal": "hp-civil", "department": "hp-civil", "code": "HP-01-0001",
                    "route": "GET /datahub/datasets/{code}/records", "records": (f"p{n}",), "grant": "g1",
                    "scenario": "低保资格核验", "purpose": "eligibility", **kw}  # fmt: skip
    return AuditRead(**fields)


def filled(rt: Runtime, n: int = 12) -> None:
    datahub.append(rt, "default", [read(i) for i in range(1, 8)])
    datahub.append(rt, "default", [read(i) for i in range(8, n + 1)])


def sql(rt: Runtime, statement: str) -> None:
    with rt.db.begin() as conn:
        conn.execute(text(statement))


def broken_at(rt: Runtime, seq: int, words: str) -> None:
    out = datahub.verify(rt)
    assert not out.ok and out.seq == seq and words in (out.problem or ""), out


def test_appends_verify_and_seal_every_n(art: Runtime) -> None:
    first = datahub.append(art, "default", [read(i) for i in range(1, 8)])
    assert first is not None and (first.first, first.last, first.sealed) == (1, 7, 7)
    second = datahub.append(art, "default", [read(8)])
    assert second is not None and (second.first, second.last, second.sealed) == (8, 8, None)
    assert datahub.append(art, "default", []) is None
    out = datahub.verify(art)
    assert out.ok and out.records == 8 and out.seals == 1 and out.problem is None
    forced = datahub.seal(art)
    assert forced is not None and forced.seq == 8 and datahub.seal(art) == forced  # sealed already: the same
    assert datahub.verify(art).seals == 2


def test_batches_of_every_size_chain_as_one(art: Runtime) -> None:
    # one read's record (one INSERT with the head's update on PostgreSQL), a large batch (COPY), one again
    datahub.append(art, "default", [read(1, subjects=("310101199001011234",))])
    big = datahub.append(art, "default", [read(i, records=tuple(f"p{i}-{k}" for k in range(50))) for i in range(2, 42)])
    assert big is not None and (big.first, big.last) == (2, 41)
    last = datahub.append(art, "default", [read(42), read(43)])
    assert last is not None and (last.first, last.last) == (42, 43)
    out = datahub.verify(art)
    assert out.ok and out.records == 43 and datahub.chain_length(art) == 43
    sql(art, "UPDATE datahub_audit SET records = '[\"p7\"]' WHERE seq = 7")
    broken_at(art, 7, "edited")


def test_an_empty_chain_verifies(art: Runtime) -> None:
    out = datahub.verify(art)
    assert out.ok and out.records == 0 and datahub.seal(art) is None


def test_the_generated_seal_key_is_private_to_its_owner(art: Runtime, tmp_path: Path) -> None:
    datahub.append(art, "default", [read(1)])
    key = tmp_path / "audit-seal.pem"
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_an_edited_record_is_located(art: Runtime) -> None:
    filled(art)
    sql(art, "UPDATE datahub_audit SET department = 'someone-else' WHERE seq = 9")
    broken_at(art, 9, "edited")


def test_an_edited_hash_is_located(art: Runtime) -> None:
    filled(art)
    sql(art, "UPDATE datahub_audit SET hash = prev WHERE seq = 3")
    broken_at(art, 3, "edited")


def test_a_removed_record_is_located(art: Runtime) -> None:
    filled(art)
    sql(art, "DELETE FROM datahub_audit WHERE seq = 4")
    broken_at(art, 4, "removed")


def test_removed_newest_records_are_found(art: Runtime) -> None:
    filled(art)
    sql(art, "DELETE FROM datahub_audit WHERE seq > 10")
    broken_at(art, 11, "removed")


def test_reordered_records_are_located(art: Runtime) -> None:
    filled(art)
    sql(art, "UPDATE datahub_audit SET seq = -1 WHERE seq = 6")
    sql(art, "UPDATE datahub_audit SET seq = 6 WHERE seq = 5")
    sql(art, "UPDATE datahub_audit SET seq = 5 WHERE seq = -1")
    broken_at(art, 5, "moved: the record written as seq 6")


def test_a_record_removed_and_the_rest_renumbered_is_located(art: Runtime) -> None:
    filled(art)
    sql(art, "DELETE FROM datahub_audit WHERE seq = 3")
    # through negative numbers: PostgreSQL checks the key row by row, in the table's physical order
    sql(art, "UPDATE datahub_audit SET seq = -seq WHERE seq > 3")
    sql(art, "UPDATE datahub_audit SET seq = -seq - 1 WHERE seq < 0")
    broken_at(art, 3, "moved")


def test_a_forged_seal_is_found(art: Runtime) -> None:
    filled(art)
    forged = Ed25519PrivateKey.generate().sign(b"anything").hex()
    sql(art, f"UPDATE datahub_audit_seals SET signature = '{forged}' WHERE seq = 7")
    broken_at(art, 7, "forged seal")


def test_a_removed_seal_is_found(art: Runtime) -> None:
    filled(art)
    sql(art, "DELETE FROM datahub_audit_seals WHERE seq = 12")
    broken_at(art, 12, "its seal was removed")


def test_a_rewritten_chain_is_caught_by_its_seal(art: Runtime) -> None:
    """An edit with every hash after it recomputed still differs from what the seal signed."""
    filled(art)
    with art.db.begin() as conn:
        rows = conn.execute(text("SELECT * FROM datahub_audit ORDER BY seq")).mappings().all()
    prev = rows[1]["hash"]
    for row in rows[2:]:
        values = [row[c] for c in datahub.audit.BODY]  # type: ignore[attr-defined]
        if row["seq"] == 3:
            values[datahub.audit.BODY.index("purpose")] = "rewritten"  # type: ignore[attr-defined]
        digest = datahub.audit.chain_hash(datahub.audit.canonical(values), prev)  # type: ignore[attr-defined]
        sql(art, f"UPDATE datahub_audit SET purpose = '{values[9]}', prev = '{prev}', hash = '{digest}' "
                 f"WHERE seq = {row['seq']}")  # fmt: skip
        prev = digest
    sql(art, f"UPDATE datahub_audit_head SET hash = '{prev}'")
    broken_at(art, 7, "its seal signed another hash")


def test_concurrent_appends_keep_one_chain(art: Runtime) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for b in range(10):
                datahub.append(art, f"t{k % 2}", [read(k * 1000 + b * 10 + i) for i in range(7)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    out = datahub.verify(art)
    assert out.ok and out.records == 6 * 10 * 7 and out.seals >= 6 * 10 * 7 // 5 // 7


def test_who_used_my_data(art: Runtime) -> None:
    datahub.append(art, "default", [read(1, subjects=(PERSON,)), read(2, subjects=(COMPANY, PERSON.lower()))])
    datahub.append(art, "default", [read(3, department="hp-police", scenario="治安", subjects=(PERSON,))])
    datahub.append(art, "other", [read(4, subjects=(PERSON,))])
    mine = datahub.reads_of_subject(art, "default", datahub.subject_hash(art, PERSON))
    assert [(r.seq, r.department, r.scenario) for r in mine] == [
        (3, "hp-police", "治安"), (2, "hp-civil", "低保资格核验"), (1, "hp-civil", "低保资格核验")]  # fmt: skip
    with art.db.begin() as conn:
        stored = conn.execute(text("SELECT subjects FROM datahub_audit")).scalars().all()
    assert not any(PERSON in s or COMPANY in s for s in stored)  # keyed hashes only


def subject_rows(rt: Runtime) -> int:
    with rt.db.begin() as conn:
        return conn.execute(text("SELECT count(*) FROM datahub_audit_subjects")).scalar_one()


def test_the_subjects_index_follows_the_chain_off_the_reads_path(art: Runtime) -> None:
    # an append writes its record (its subjects hashed in it) and nothing of the index: reads stay cheap
    datahub.append(art, "default", [read(i, subjects=(PERSON, f"31010119900101{i:04d}")) for i in range(12)])
    assert subject_rows(art) == 0
    assert datahub.index_subjects(art) == 24 and subject_rows(art) == 24
    assert datahub.index_subjects(art) == 0  # up to the head: nothing written twice
    datahub.append(art, "default", [read(13, subjects=(PERSON,))])
    # a lookup brings the index up to the head first: the newest read is found at once
    mine = datahub.reads_of_subject(art, "default", datahub.subject_hash(art, PERSON))
    assert len(mine) == 13 and mine[0].seq == 13 and subject_rows(art) == 25
    assert datahub.verify(art).ok


def test_the_keeper_indexes_and_seals_a_quiet_chain_on_time(db: Database, tmp_path: Path) -> None:
    settings = Settings(database_url=db.url, data_dir=tmp_path, audit_seal_every=1000, audit_seal_seconds=1)
    rt = Runtime(settings, db, MemoryBus())
    try:
        keeper = AuditKeeper(rt)
        keeper.tick()  # an empty chain: nothing to seal, nothing to index
        datahub.append(rt, "default", [read(1, subjects=(PERSON,)), read(2)])
        with rt.db.begin() as conn:
            conn.execute(text("UPDATE datahub_audit_head SET sealed_at_ms = sealed_at_ms - 2000"))
        keeper.tick()  # no append since: the keeper seals the head, a second after the last seal
        with rt.db.begin() as conn:
            head = conn.execute(text("SELECT seq, sealed_seq, subjects_seq FROM datahub_audit_head")).one()
        assert tuple(head) == (2, 2, 2) and subject_rows(rt) == 1
        out = datahub.verify(rt)
        assert out.ok and out.seals == 1
    finally:
        rt.parts.close()
        rt.bus.close()


@pytest.fixture
def cli(art: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Runtime]:
    """The CLI on the test's database and seal key, through the environment, as in production."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYOS_DATABASE_URL", art.db.url)
    monkeypatch.setenv("CITYOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYOS_BUS_URL", "memory://")
    get_settings.cache_clear()
    yield art
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["audit", *args])


def test_the_cli_verifies_and_names_the_first_bad_record(cli: Runtime) -> None:
    filled(cli)
    sealed = run("seal")
    assert sealed.exit_code == 0 and "sealed seq 12" in sealed.output, sealed.output
    ok = run("verify")
    assert ok.exit_code == 0 and "intact: 12 records, 2 seals" in ok.output, ok.output
    sql(cli, "UPDATE datahub_audit SET route = 'GET /elsewhere' WHERE seq = 8")
    bad = run("verify")
    assert bad.exit_code == 1 and "broken at seq 8: edited" in bad.output, bad.output


def test_the_cli_names_a_removed_record(cli: Runtime) -> None:
    filled(cli)
    sql(cli, "DELETE FROM datahub_audit WHERE seq = 2")
    bad = run("verify")
    assert bad.exit_code == 1 and "broken at seq 2: removed" in bad.output, bad.output


def test_a_rotated_seal_key_keeps_the_old_seals_verifiable(
    cli: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    filled(cli)  # sealed by the first key at seq 7 and 12
    refused = run("rotate-key")  # no subject secret: who used my data would lose every earlier read
    assert refused.exit_code == 2 and "CITYOS_AUDIT_SUBJECT_SECRET" in refused.output, refused.output
    monkeypatch.setenv("CITYOS_AUDIT_SUBJECT_SECRET", "a long secret kept by the data office")
    get_settings.cache_clear()
    old = datahub.verify(cli)
    rotated = run("rotate-key")
    assert rotated.exit_code == 0 and "retired the seal key" in rotated.output and "sealed seq 12" in rotated.output
    assert len(list((tmp_path / "audit-keys-retired").glob("*.pem"))) == 1
    # a process started now seals with the new key; verify checks each seal with the key that made it
    later = Runtime(get_settings(), cli.db, MemoryBus())
    try:
        datahub.append(later, "default", [read(i) for i in range(13, 20)])
        sealed = datahub.seal(later)
        assert sealed is not None and sealed.key_id != keys(cli).key_id  # the new key, not the one cli loaded
        out = datahub.verify(later)
        assert out.ok and out.records == 19 and out.seals == old.seals + 1 == 3, out
        # without the retired public key, the first key's seals cannot be checked: named, not passed
        for path in (tmp_path / "audit-keys-retired").glob("*.pem"):
            path.unlink()
        later.parts.close()
        later = Runtime(get_settings(), cli.db, MemoryBus())
        broken = datahub.verify(later)
        assert not broken.ok and broken.seq == 7 and "neither the seal key" in (broken.problem or ""), broken
    finally:
        later.parts.close()
        later.bus.close()

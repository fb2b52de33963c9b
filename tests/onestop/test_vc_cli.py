"""`cityos vc verify FILE` offline, from saved seals and status lists: a valid credential passes (exit 0), a
tampered one fails with the reason (exit 1), a revoked one reports revoked (exit 1), no seals is exit 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cityos import onestop
from cityos.cli import app
from cityos.onestop.credential_schemas import SealPublic
from cityos.runtime import Runtime

ENTERPRISE = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
PERMIT = {
    "operatorName": "上海黄浦示例餐饮有限公司",
    "creditCode": "91310101MA1FPX1234",
    "permitNumber": "JY13101010001",
    "premises": "上海市黄浦区示例路1号",
    "businessItems": "热食类食品制售",
}
pytestmark = pytest.mark.settings(seal_secret="a-test-seal-secret-of-some-length")


def _save(where: Path, name: str, value: Any) -> Path:
    path = where / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def _files(rt: Runtime, where: Path) -> list[str]:
    seals = [SealPublic.of(s).model_dump(by_alias=True) for s in onestop.published_seals(rt, "default")]
    args = ["--seals", str(_save(where, "seals.json", seals))]
    for purpose in ("revocation", "suspension"):
        listed = onestop.status_list_credential(rt, "market-regulation", purpose)  # type: ignore[arg-type]
        args += ["--status", str(_save(where, f"{purpose}.json", listed))]
    return args


def test_vc_verify_offline(rt: Runtime, tmp_path: Path) -> None:
    issued = onestop.issue_credential(rt, "FoodBusinessPermit", ENTERPRISE, PERMIT, "market-regulation")
    runner = CliRunner()
    good = _save(tmp_path, "good.json", issued.document)
    ok = runner.invoke(app, ["vc", "verify", str(good), *_files(rt, tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "核验通过 verified" in ok.output

    tampered = copy.deepcopy(issued.document)
    tampered["credentialSubject"]["premises"] = "上海市黄浦区示例路2号"
    bad = runner.invoke(app, ["vc", "verify", str(_save(tmp_path, "bad.json", tampered)), *_files(rt, tmp_path)])
    assert bad.exit_code == 1 and "签名无效" in bad.output

    onestop.revoke(rt, issued.id, by="officer", department="market-regulation")
    revoked = runner.invoke(app, ["vc", "verify", str(good), *_files(rt, tmp_path)])
    assert revoked.exit_code == 1 and "status: revoked" in revoked.output
    assert runner.invoke(app, ["vc", "verify", str(good)]).exit_code == 2

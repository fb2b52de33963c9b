"""HTTP routes of e-certificates (电子证照): thin adapters over :mod:`cityos.onestop.wallet`.

Public (what a verifier needs, no token): the office seals, the status lists, the certificate types with
their JSON Schemas and the JSON-LD context, and verification (``POST /onestop/verify``, rate-limited per
address). Guarded: issuing (``credentials:issue``, the issuing department, or an operator naming it), the status
changes (``credentials:status``, the issuing department only), a wallet and a download (``credentials:read``:
a department reads the credentials it issued; an operator or administrator any holder's, ``?holder=``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.errors import problem_responses
from cityos.onestop import certificate_types, status_list, wallet
from cityos.onestop.citizen_service import subject_of
from cityos.onestop.credential_errors import CredentialNotFound, InvalidCredentialRequest
from cityos.onestop.credential_schemas import (
    CertificateTypePublic,
    CredentialPublic,
    CredentialSummary,
    IssueIn,
    SealPublic,
    StatusIn,
    VerificationPublic,
)
from cityos.onestop.seals import published

router = APIRouter(prefix="/onestop", tags=["onestop"])
Anyone = Annotated[PublicContext, public("what a verifier of e-certificates needs: public keys, status lists, "
                                         "schemas; nothing personal")]  # fmt: skip
Verifier = Annotated[PublicContext, public("anyone verifies an e-certificate they hold (rate-limited per address)",
                                           rate="public")]  # fmt: skip
Reader = Annotated[RequestContext, allow("credentials:read")]
Issuer = Annotated[RequestContext, allow("credentials:issue")]
StatusChanger = Annotated[RequestContext, allow("credentials:status")]
OwnWallet = Annotated[RequestContext, allow("wallet:read-own")]  # a citizen's or an enterprise's own (证照夹)
CREDENTIAL = Path(max_length=64, description="the credential's id (urn:uuid:…)")
VC_MEDIA = "application/vc+ld+json"


@router.get("/seals", summary="The offices' seals (电子印章): the public keys e-certificates are verified with")
def seals(ctx: Anyone) -> list[SealPublic]:
    return [SealPublic.of(s) for s in published(ctx.rt, ctx.tenant)]


@router.get("/certificate-types", summary="The e-certificate types, mapped to the national catalogue")
def list_types(ctx: Anyone) -> list[CertificateTypePublic]:
    base = wallet.base_url(ctx.rt)
    return [CertificateTypePublic.of(k, certificate_types.schema_url(base, k.code))
            for k in certificate_types.catalogue().values()]  # fmt: skip


@router.get("/schemas/{code}.json", summary="The JSON Schema of a certificate type (its credentialSchema)",
            responses=problem_responses(404))  # fmt: skip
def schema(ctx: Anyone, code: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    kind = certificate_types.catalogue().get(code)
    if kind is None:
        raise CredentialNotFound(f"no certificate type {code!r}: GET /onestop/certificate-types lists them")
    return certificate_types.json_schema(kind, wallet.base_url(ctx.rt))


@router.get("/contexts/certificates.jsonld", summary="The JSON-LD context of the certificate terms")
def context(ctx: Anyone) -> dict[str, Any]:
    return certificate_types.context(wallet.base_url(ctx.rt))


@router.get(
    "/status/{issuer}/{purpose}",
    summary="An office's status list (revocation or suspension) as a signed BitstringStatusListCredential",
    responses=problem_responses(404, 503),
)
async def status(ctx: Anyone, issuer: Annotated[str, Path(max_length=64)],
                 purpose: status_list.Purpose) -> JSONResponse:  # fmt: skip
    found = await run_in_threadpool(wallet.status_list_credential, ctx.rt, issuer, purpose, tenant=ctx.tenant)
    return JSONResponse(found, media_type=VC_MEDIA, headers={"Cache-Control": "no-cache"})


def _holder(ctx: RequestContext, body: IssueIn) -> str:
    if body.holder:
        return body.holder
    if body.id_card:
        return wallet.holder_id(ctx.rt, "person", body.id_card)
    if body.credit_code:
        return wallet.holder_id(ctx.rt, "enterprise", body.credit_code)
    raise InvalidCredentialRequest("name the holder: holder (a registry URN), idCard or creditCode", field="holder")


@router.post("/credentials", status_code=201, summary="Issue an e-certificate into its holder's wallet",
             responses=problem_responses(400, 403, 503))  # fmt: skip
async def issue(ctx: Issuer, body: IssueIn, response: Response) -> CredentialPublic:
    department = ctx.department or body.issuer
    if department is None:
        kind = certificate_types.catalogue().get(body.certificate_type)
        department = kind.department if kind else ""
    if ctx.department is not None and body.issuer not in (None, ctx.department):
        raise InvalidCredentialRequest(f"a department issues in its own name ({ctx.department})", field="issuer")
    holder = await run_in_threadpool(_holder, ctx, body)
    found = await run_in_threadpool(wallet.issue, ctx.rt, body.certificate_type, holder, body.claims, department,
                                    body.valid_until, tenant=ctx.tenant, by=ctx.principal.name)  # fmt: skip
    response.headers["Location"] = f"/onestop/credentials/{found.id}"
    return CredentialPublic.full(found)


@router.get("/wallet", summary="A holder's e-certificates (证照夹), newest first")
async def holder_wallet(ctx: Reader, holder: Annotated[str, Query(max_length=128, description="the holder's URN")]
                        ) -> list[CredentialSummary]:  # fmt: skip
    found = await run_in_threadpool(wallet.wallet, ctx.rt, holder, tenant=ctx.tenant)
    return [CredentialSummary.of(c) for c in found if ctx.department in (None, c.issuer)]


def _own_holder(ctx: RequestContext) -> str:
    subject = subject_of(ctx.principal)  # NotASubject (400) for a login of no person or enterprise
    return wallet.holder_id(ctx.rt, "person" if subject.kind == "person" else "enterprise", subject.key)


@router.get("/me/wallet", summary="My e-certificates (我的证照), newest first", responses=problem_responses(400))
async def my_wallet(ctx: OwnWallet) -> list[CredentialSummary]:
    holder = await run_in_threadpool(_own_holder, ctx)
    return [CredentialSummary.of(c) for c in await run_in_threadpool(wallet.wallet, ctx.rt, holder,
                                                                     tenant=ctx.tenant)]  # fmt: skip


@router.get("/me/credentials/{credential_id}", summary="Download one of my e-certificates (JSON, as a file)",
            responses=problem_responses(400, 404))  # fmt: skip
async def my_credential(ctx: OwnWallet, credential_id: Annotated[str, CREDENTIAL]) -> JSONResponse:
    holder = await run_in_threadpool(_own_holder, ctx)
    found = await run_in_threadpool(wallet.get, ctx.rt, credential_id, tenant=ctx.tenant)
    if found.holder != holder:
        raise CredentialNotFound(f"you hold no e-certificate {credential_id}: GET /onestop/me/wallet lists yours")
    disposition = f'attachment; filename="{found.filename}"'
    return JSONResponse(found.document, media_type=VC_MEDIA, headers={"Content-Disposition": disposition})


async def _readable(ctx: RequestContext, credential_id: str) -> wallet.IssuedCredential:
    found = await run_in_threadpool(wallet.get, ctx.rt, credential_id, tenant=ctx.tenant)
    if ctx.department not in (None, found.issuer):
        raise CredentialNotFound(f"no e-certificate {credential_id} issued by {ctx.department}")
    return found


@router.get("/credentials/{credential_id}", summary="Download a signed e-certificate (JSON, as a file)",
            responses=problem_responses(404))  # fmt: skip
async def download(ctx: Reader, credential_id: Annotated[str, CREDENTIAL]) -> JSONResponse:
    found = await _readable(ctx, credential_id)
    disposition = f'attachment; filename="{found.filename}"'
    return JSONResponse(found.document, media_type=VC_MEDIA, headers={"Content-Disposition": disposition})


@router.get("/credentials/{credential_id}/record", summary="A credential with its status and its history",
            responses=problem_responses(404))  # fmt: skip
async def record(ctx: Reader, credential_id: Annotated[str, CREDENTIAL]) -> CredentialPublic:
    return CredentialPublic.full(await _readable(ctx, credential_id))


@router.post("/credentials/{credential_id}/status", summary="Revoke, suspend or reinstate (the issuing office)",
             responses=problem_responses(400, 403, 404, 409))  # fmt: skip
async def change_status(ctx: StatusChanger, credential_id: Annotated[str, CREDENTIAL],
                        body: StatusIn) -> CredentialPublic:  # fmt: skip
    await _readable(ctx, credential_id)  # another office's credential: 404, as for a read
    found = await run_in_threadpool(lambda: wallet.change_status(
        ctx.rt, credential_id, body.action, by=ctx.principal.name, department=ctx.department, reason=body.reason,
        tenant=ctx.tenant))  # fmt: skip
    return CredentialPublic.full(found)


@router.post("/verify", summary="Verify an e-certificate: signature, validity, office seal, status",
             responses=problem_responses(400, 413, 429))  # fmt: skip
async def verify(ctx: Verifier, body: dict[str, Any]) -> VerificationPublic:
    found = await run_in_threadpool(wallet.verify_here, ctx.rt, body, tenant=ctx.tenant)
    return VerificationPublic.of(found)

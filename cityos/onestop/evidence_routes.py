"""HTTP routes of once-only evidence (两个免于提交): thin adapters over :mod:`cityos.onestop.evidence`.

The applicant previews a material (the explicit request: nothing is fetched before it), then confirms or
declines it, or uploads the file instead; the application's evidence lists each material's state and the
counts. Permission ``services:apply``. Until citizens' and enterprises' tokens exist, an operator's or an
administrator's request names the applicant (and the material as the service item declares it) in its
body; a citizen's token will name the applicant itself (see :func:`_applicant`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, UploadFile

from cityos.auth import RequestContext, allow
from cityos.errors import Forbidden, problem_responses
from cityos.onestop import evidence
from cityos.onestop.evidence_errors import InvalidEvidenceRequest
from cityos.onestop.evidence_schemas import (
    ApplicantIn,
    DecideIn,
    EvidenceSummaryPublic,
    MaterialEvidencePublic,
    MaterialIn,
    PreviewIn,
    PreviewPublic,
)
from cityos.onestop.models import Applicant, ApplicantKind, EvidenceSource

router = APIRouter(prefix="/onestop", tags=["onestop"])
Applying = Annotated[RequestContext, allow("services:apply")]
APP = Path(min_length=1, max_length=64, description="the application (its id, as the applications name it)")
CODE = Path(min_length=1, max_length=64, description="the material's code within the service item")
BASE = "/applications/{app_id}/materials/{code}"


def _subject(ctx: RequestContext) -> Applicant | None:
    """The person or enterprise the caller is: a citizen's or an enterprise's principal carries it as its
    ``subject`` (kind, registry key; being added to cityos.auth), None for staff, operators and administrators."""
    subject = getattr(ctx.principal, "subject", None)
    return Applicant(subject.kind, subject.key) if subject is not None else None


def _applicant(ctx: RequestContext, given: ApplicantIn | None) -> Applicant:
    """The applicant: a citizen or an enterprise applies for itself (a request naming another is refused); an
    operator or an administrator, at a service counter, names the applicant in the request."""
    own = _subject(ctx)
    if own is not None:
        if given is not None and (given.kind, given.key.strip().upper()) != (own.kind, own.key.strip().upper()):
            raise Forbidden("you apply for yourself only: leave out applicant, or name your own")
        return own
    if given is None:
        raise InvalidEvidenceRequest("applicant: a counter's request names the applicant (kind and key)",
                                     field="applicant")  # fmt: skip
    return given.applicant()


@router.post(BASE + "/preview", summary="Fetch a material from a base registry or the wallet and show it (预览)",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def preview(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: PreviewIn) -> PreviewPublic:
    shown = evidence.preview(ctx.rt, ctx.tenant, body.department, _applicant(ctx, body.applicant),
                             body.material.material(code), application_id=app_id, item_name=body.item_name,
                             by=ctx.principal.name, wallet=evidence.no_wallet, key=body.key)  # fmt: skip
    return PreviewPublic.of(shown)


@router.post(BASE + "/confirm", summary="Consent: attach the previewed evidence to the material (确认调取)",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def confirm(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: DecideIn
            ) -> MaterialEvidencePublic:  # fmt: skip
    done = evidence.confirm(ctx.rt, ctx.tenant, app_id, body.material.material(code), _applicant(ctx, body.applicant),
                            by=ctx.principal.name, content_hash=body.content_hash)  # fmt: skip
    return MaterialEvidencePublic.of(done)


@router.post(BASE + "/decline", summary="Refuse the fetch: the material is uploaded, never fetched again (拒绝调取)",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def decline(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: DecideIn
            ) -> MaterialEvidencePublic:  # fmt: skip
    done = evidence.decline(ctx.rt, ctx.tenant, app_id, body.material.material(code), _applicant(ctx, body.applicant),
                            by=ctx.principal.name, reason=body.reason)  # fmt: skip
    return MaterialEvidencePublic.of(done)


# the form's schema is named after the route's id: one without "__" (FastAPI's default puts the path in it)
@router.post(BASE + "/upload", summary="Upload a material's file (PDF, JPEG or PNG) instead of fetching it",
             responses=problem_responses(400, 403, 404, 409, 413, 415),
             generate_unique_id_function=lambda route: "upload_material")  # fmt: skip
def upload(
    ctx: Applying,
    app_id: Annotated[str, APP],
    code: Annotated[str, CODE],
    file: Annotated[UploadFile, File(description="the file: PDF, JPEG or PNG, up to CITYOS_ONESTOP_UPLOAD_MAX_BYTES")],
    material_name: Annotated[str, Form(alias="materialName", min_length=1, max_length=256)],
    material_source: Annotated[EvidenceSource, Form(alias="materialSource")] = "upload",
    applicant_kind: Annotated[ApplicantKind | None, Form(alias="applicantKind")] = None,
    applicant_key: Annotated[str | None, Form(alias="applicantKey", min_length=1, max_length=64)] = None,
) -> MaterialEvidencePublic:
    limit = ctx.rt.settings.onestop_upload_max_bytes
    content = file.file.read(limit + 1)  # one byte past the limit is enough to refuse it
    named = ApplicantIn(kind=applicant_kind, key=applicant_key) if applicant_kind and applicant_key else None
    who = _applicant(ctx, named)
    material = MaterialIn(name=material_name, source=material_source).material(code)
    done = evidence.upload(ctx.rt, ctx.tenant, app_id, material, who, filename=file.filename or "",
                           content_type=file.content_type or "", content=content, by=ctx.principal.name)  # fmt: skip
    return MaterialEvidencePublic.of(done)


@router.get("/applications/{app_id}/evidence", summary="An application's materials: fetched, uploaded, declined")
def application_evidence(ctx: Applying, app_id: Annotated[str, APP]) -> EvidenceSummaryPublic:
    # a citizen or an enterprise sees its own materials only; a counter sees the application's
    return EvidenceSummaryPublic.of(evidence.evidence_summary(ctx.rt, ctx.tenant, app_id, applicant=_subject(ctx)))

"""HTTP routes of once-only evidence (两个免于提交): thin adapters over :mod:`cityos.onestop.evidence`.

The applicant previews a material (the explicit request: nothing is fetched before it), then confirms or
declines it, or uploads the file instead; the application's evidence lists each material's state and the
counts. Permission ``services:apply``, on an application the caller may see: its applicant's (a citizen's or
an enterprise's login) or a service counter's. The applicant, the implementing department and the material
come from the application and its item's version, never from the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile

from cityos.auth import RequestContext, allow
from cityos.errors import problem_responses
from cityos.onestop import applications, deciding, evidence
from cityos.onestop.application_routes import actor_of
from cityos.onestop.applications import ItemApplication
from cityos.onestop.evidence_errors import EvidenceMoveRefused, EvidenceNotFound
from cityos.onestop.evidence_schemas import (
    DecideIn,
    EvidenceSummaryPublic,
    MaterialEvidencePublic,
    PreviewIn,
    PreviewPublic,
)
from cityos.onestop.issuing import wallet_lookup
from cityos.onestop.items import item
from cityos.onestop.models import Material

router = APIRouter(prefix="/onestop", tags=["onestop"])
Applying = Annotated[RequestContext, allow("services:apply")]
APP = Path(min_length=1, max_length=64, description="the application (its id, as the applications name it)")
CODE = Path(min_length=1, max_length=64, description="the material's code within the service item")
BASE = "/applications/{app_id}/materials/{code}"


OPEN_TO_EVIDENCE = frozenset({"submitted", "supplement-requested"})


def _material(ctx: RequestContext, app_id: str, code: str) -> tuple[ItemApplication, Material]:
    """The application (its applicant, department and item, as submitted; visible to its applicant and to a
    counter) and the material of its item named ``code``."""
    app = applications.get(ctx.rt, ctx.tenant, app_id, viewer=actor_of(ctx))
    if app.state not in OPEN_TO_EVIDENCE:  # what the clerk decides on stays as it was
        raise EvidenceMoveRefused(f"application {app_id} is {app.state}: its materials change only while it is "
                                  f"submitted or a supplement is requested (补正)", allowed=[])  # fmt: skip
    asked = item(ctx.rt, app.item_code, app.item_version, tenant=ctx.tenant).materials
    found = next((m for m in asked if m.code == code), None)
    if found is None:
        raise EvidenceNotFound(f"service item {app.item_code} asks for no material {code!r}; it asks for "
                               f"{', '.join(m.code for m in asked) or 'none'}")  # fmt: skip
    return app, found


@router.post(BASE + "/preview", summary="Fetch a material from a base registry or the wallet and show it (预览)",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def preview(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: PreviewIn) -> PreviewPublic:
    app, material = _material(ctx, app_id, code)
    held = wallet_lookup(ctx.rt, ctx.tenant, app.applicant.kind)
    shown = evidence.preview(ctx.rt, ctx.tenant, app.department, app.applicant, material, application_id=app_id,
                             item_name=app.item_name, by=ctx.principal.name, wallet=held, key=body.key)  # fmt: skip
    return PreviewPublic.of(shown)


@router.post(BASE + "/confirm", summary="Consent: attach the previewed evidence to the material (确认调取)",
             description="The item's decision rules are then asked again: an application they can now decide "
                         "is decided at once (GET the application for its state).",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def confirm(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: DecideIn
            ) -> MaterialEvidencePublic:  # fmt: skip
    app, material = _material(ctx, app_id, code)
    done = evidence.confirm(ctx.rt, ctx.tenant, app_id, material, app.applicant, by=ctx.principal.name,
                            content_hash=body.content_hash)  # fmt: skip
    deciding.decide_on_evidence(ctx.rt, ctx.tenant, app_id)  # the rules asked again: decided at once if they can
    return MaterialEvidencePublic.of(done)


@router.post(BASE + "/decline", summary="Refuse the fetch: the material is uploaded, never fetched again (拒绝调取)",
             responses=problem_responses(400, 403, 404, 409, 413))  # fmt: skip
def decline(ctx: Applying, app_id: Annotated[str, APP], code: Annotated[str, CODE], body: DecideIn
            ) -> MaterialEvidencePublic:  # fmt: skip
    app, material = _material(ctx, app_id, code)
    done = evidence.decline(ctx.rt, ctx.tenant, app_id, material, app.applicant, by=ctx.principal.name,
                            reason=body.reason)  # fmt: skip
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
) -> MaterialEvidencePublic:
    app, material = _material(ctx, app_id, code)
    limit = ctx.rt.settings.onestop_upload_max_bytes
    content = file.file.read(limit + 1)  # one byte past the limit is enough to refuse it
    done = evidence.upload(ctx.rt, ctx.tenant, app_id, material, app.applicant, filename=file.filename or "",
                           content_type=file.content_type or "", content=content, by=ctx.principal.name)  # fmt: skip
    return MaterialEvidencePublic.of(done)


@router.get("/applications/{app_id}/evidence", summary="An application's materials: fetched, uploaded, declined")
def application_evidence(ctx: Applying, app_id: Annotated[str, APP]) -> EvidenceSummaryPublic:
    app = applications.get(ctx.rt, ctx.tenant, app_id, viewer=actor_of(ctx))  # its applicant's, or a counter's
    return EvidenceSummaryPublic.of(evidence.evidence_summary(ctx.rt, ctx.tenant, app.id))

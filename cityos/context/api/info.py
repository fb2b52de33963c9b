"""NGSI-LD information about the Context Source itself: /ngsi-ld/v1/info/sourceIdentity (clause 5.15.1)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context.api.ld import LdRead, ld_response
from cityos.context.api.schemas import LD_PROBLEMS
from cityos.context.identity import source_identity

router = APIRouter(prefix="/ngsi-ld/v1/info", tags=["NGSI-LD source identity"], responses={**LD_PROBLEMS})


@router.get("/sourceIdentity", summary="Retrieve the identity of this Context Source (for the request's tenant)")
def retrieve_source_identity(ld: LdRead) -> Response:
    return ld_response(ld, source_identity(ld.rt, ld.tenant))

"""Errors of once-only evidence (两个免于提交): each names what is wrong and what the applicant can do instead
(most often: upload the material)."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidEvidenceRequest(CityError):
    """A request that lacks or mistakes a field (an applicant key that is not one, a material that names no
    registry entry): the detail names the field."""

    type = PROBLEM_BASE + "invalid-evidence-request"
    title = "Invalid evidence request"
    status = 400


class EvidenceNotGranted(CityError):
    """The implementing department holds no grant in force for the registry entry in the one-stop scenario
    (一网通办), or its grant leaves out items the material is made of: the detail names the grant to ask for,
    and the applicant uploads the material instead."""

    type = PROBLEM_BASE + "evidence-not-granted"
    title = "No grant to fetch this material"
    status = 403


class EvidenceNotFound(CityError):
    """The registry holds no record of the applicant in the entry, or the wallet no certificate of the type:
    the applicant uploads the material instead."""

    type = PROBLEM_BASE + "evidence-not-found"
    title = "Nothing to fetch for this material"
    status = 404


class EvidenceMoveRefused(CityError):
    """A step the material's evidence state does not allow (a preview after the applicant declined, a confirm
    with nothing previewed): the detail names the state and the steps allowed."""

    type = PROBLEM_BASE + "evidence-move-refused"
    title = "Not allowed in the material's evidence state"
    status = 409


class UploadTooLarge(CityError):
    """An uploaded file over the limit (``CITYOS_ONESTOP_UPLOAD_MAX_BYTES``): the detail names the limit."""

    type = PROBLEM_BASE + "upload-too-large"
    title = "Uploaded file too large"
    status = 413


class UploadTypeRefused(CityError):
    """An uploaded file that is not a PDF, JPEG or PNG (by its declared type and by its first bytes)."""

    type = PROBLEM_BASE + "upload-type-refused"
    title = "Uploaded file type not accepted"
    status = 415

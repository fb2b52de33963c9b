"""Errors of the data resource system."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class EntryNotFound(CityError):
    type = PROBLEM_BASE + "catalogue-entry-not-found"
    title = "Catalogue entry not found"
    status = 404


class EntryExists(CityError):
    """An entry registered under a code the catalogue holds already: change it with PUT instead."""

    type = PROBLEM_BASE + "catalogue-entry-exists"
    title = "Catalogue entry exists"
    status = 409


class InvalidLevelScale(CityError):
    """A level scale file that cannot be used; the detail names the file, the entry and the field."""

    type = PROBLEM_BASE + "invalid-level-scale"
    title = "Invalid level scale"
    status = 422


class InvalidEntry(CityError):
    """An entry or a data item the catalogue cannot take; the detail names the field and what is allowed."""

    type = PROBLEM_BASE + "invalid-catalogue-entry"
    title = "Invalid catalogue entry"
    status = 400


class SecondSource(CityError):
    """A data item registered by a second department: each item has one source (一数一源); the detail names it."""

    type = PROBLEM_BASE + "second-source"
    title = "The data item has its source already"
    status = 409


class GrantNotFound(CityError):
    type = PROBLEM_BASE + "grant-not-found"
    title = "Grant not found"
    status = 404


class InvalidGrant(CityError):
    """A grant request or move the workflow cannot take (unknown items, a period that ends before it starts,
    lasts too long or has passed, a narrowing that widens, a missing reason); the detail names what to fix."""

    type = PROBLEM_BASE + "invalid-grant"
    title = "Invalid grant"
    status = 400


class GrantMoveForbidden(CityError):
    """A grant move by someone the table does not name for it (only the provider or the city decides; a
    department never decides its own request); the detail names who may."""

    type = PROBLEM_BASE + "grant-move-forbidden"
    title = "Not allowed to move this grant"
    status = 403


class GrantMoveRefused(CityError):
    """A grant workflow move the transition table does not allow now; the detail names the allowed moves."""

    type = PROBLEM_BASE + "grant-move-refused"
    title = "Grant move refused"
    status = 409


class NoGrant(CityError):
    """A read of governed data outside the reader's grants; the detail names the catalogue code and what
    grant would allow it."""

    type = PROBLEM_BASE + "no-grant"
    title = "No grant for this data"
    status = 403


class AuditChainBroken(CityError):
    """The audit chain does not verify; the detail names the first record that was edited, removed or moved."""

    type = PROBLEM_BASE + "audit-chain-broken"
    title = "Audit chain broken"
    status = 500


class AuditKeyInvalid(CityError):
    """The configured audit seal key cannot be read or is not an Ed25519 private key; the detail names the file."""

    type = PROBLEM_BASE + "audit-key-invalid"
    title = "Audit seal key invalid"
    status = 500


class RecordsNotServed(CityError):
    """An entry whose records are neither in the data hub nor in a table with a registered reader
    (cityos.datahub.table_readers.READERS): the detail names the table and the tables served."""

    type = PROBLEM_BASE + "records-not-served"
    title = "Records not served"
    status = 404


class InvalidQualityRules(CityError):
    """A quality rule file that cannot be used; the detail names the file, the rule and the field."""

    type = PROBLEM_BASE + "invalid-quality-rules"
    title = "Invalid quality rules"
    status = 422


class QualityRulesNotFound(CityError):
    """A quality run asked for a dataset that has no rules."""

    type = PROBLEM_BASE + "quality-rules-not-found"
    title = "No quality rules for the dataset"
    status = 404


class QualityReferenceMissing(CityError):
    """A quality run not given the records of a dataset its rules compare with; the detail names both."""

    type = PROBLEM_BASE + "quality-reference-missing"
    title = "Quality reference missing"
    status = 422


class QualityRunNotFound(CityError):
    type = PROBLEM_BASE + "quality-run-not-found"
    title = "Quality run not found"
    status = 404


class FilterOnHiddenItem(CityError):
    """A filter that compares an item the reader sees masked or not at all: it would tell the hidden values
    (a q of idCard=="..." answers whether that person is there). The detail names the items it may filter on."""

    type = PROBLEM_BASE + "filter-on-hidden-item"
    title = "Filter on an item not shown in full"
    status = 403


class InvalidTableFilter(CityError):
    """A q filter a table-backed entry cannot apply: it takes item==value joined by ';'; the detail names the items."""

    type = PROBLEM_BASE + "invalid-table-filter"
    title = "Invalid filter for a table-backed entry"
    status = 400


class ObjectionNotFound(CityError):
    type = PROBLEM_BASE + "objection-not-found"
    title = "Objection not found"
    status = 404


class InvalidObjection(CityError):
    """An objection or a move on one that cannot be taken (an item the entry does not list, a record the hub
    does not hold, a missing reason or corrected value); the detail names what to fix."""

    type = PROBLEM_BASE + "invalid-objection"
    title = "Invalid objection"
    status = 400


class NotOwnRecord(CityError):
    """A person's or an enterprise's objection on a record that is not theirs (it names another ID number or
    credit code)."""

    type = PROBLEM_BASE + "objection-not-own-record"
    title = "Not the objector's own record"
    status = 403


class ValueNotRead(CityError):
    """An objection on a record the objector never read: the audit chain holds no read of it by the
    objector's department; the detail names the entry, the record and how to read it first."""

    type = PROBLEM_BASE + "objection-value-not-read"
    title = "The objector never read this value"
    status = 403


class ObjectionExists(CityError):
    """A second open objection by one department on the same item of the same record; the detail names it."""

    type = PROBLEM_BASE + "objection-exists"
    title = "An open objection exists"
    status = 409


class ObjectionMoveForbidden(CityError):
    """An objection move by someone the table does not name for it (the source verifies, corrects and
    rejects; the objector withdraws); the detail names who may."""

    type = PROBLEM_BASE + "objection-move-forbidden"
    title = "Not allowed to move this objection"
    status = 403


class ObjectionMoveRefused(CityError):
    """An objection move the transition table does not allow now; the detail names the allowed moves."""

    type = PROBLEM_BASE + "objection-move-refused"
    title = "Objection move refused"
    status = 409


class NoWorkingCalendar(CityError):
    """No working-day calendar is installed in this process (the cases component installs it): an
    objection's time limit cannot be counted."""

    type = PROBLEM_BASE + "no-working-calendar"
    title = "No working-day calendar"
    status = 503


class FeedRunNotFound(CityError):
    type = PROBLEM_BASE + "feed-run-not-found"
    title = "Feed run not found"
    status = 404


class NotASource(CityError):
    """A feed from a department that is the source of none of the entry's items: it could only offer values of
    other sources (each a conflict, telling it whether its guess matched) and make registry entries."""

    type = PROBLEM_BASE + "not-a-source"
    title = "Not a source of the entry's items"
    status = 403


class InvalidFeed(CityError):
    """A feed that cannot run at all (an entry without a base registry's record key, an empty batch);
    a malformed record is rejected on its own and the rest of the feed goes on."""

    type = PROBLEM_BASE + "invalid-feed"
    title = "Invalid feed"
    status = 422


class ReturnNotFound(CityError):
    type = PROBLEM_BASE + "return-grant-not-found"
    title = "Return grant not found"
    status = 404


class ReturnRunNotFound(CityError):
    type = PROBLEM_BASE + "return-run-not-found"
    title = "Return run not found"
    status = 404


class UnknownTenant(CityError):
    """A return grant to a tenant that does not exist: a district's tenant is made by its first write."""

    type = PROBLEM_BASE + "unknown-tenant"
    title = "Unknown tenant"
    status = 404


class InvalidReturn(CityError):
    """A return grant the district return cannot take (no entries, an entry not backed by entity types, an
    area that is not a polygon, the city tenant as the district); the detail names what to fix."""

    type = PROBLEM_BASE + "invalid-return-grant"
    title = "Invalid return grant"
    status = 400


class ReturnConflict(CityError):
    """An entry returned to the district already by another standing grant, or a move on an ended grant."""

    type = PROBLEM_BASE + "return-grant-conflict"
    title = "Return grant conflict"
    status = 409


class InvalidResolutionModel(CityError):
    """An entity resolution model file that cannot be used; the detail names the file, the model and the field."""

    type = PROBLEM_BASE + "invalid-resolution-model"
    title = "Invalid resolution model"
    status = 422


class InvalidResolution(CityError):
    """A resolution that cannot run at all (an unknown model, an empty batch); a record that cannot be compared
    is rejected on its own and the rest goes on."""

    type = PROBLEM_BASE + "invalid-resolution"
    title = "Invalid resolution"
    status = 422


class ResolutionNotFound(CityError):
    type = PROBLEM_BASE + "resolution-not-found"
    title = "Resolution decision not found"
    status = 404


class InvalidSettlement(CityError):
    """A settlement of a review decision that names no candidate for a match, or one the decision did not
    score; the detail names the candidates."""

    type = PROBLEM_BASE + "invalid-settlement"
    title = "Invalid settlement"
    status = 400


class SettlementRefused(CityError):
    """A settlement of a decision that is not ``review`` or was settled already; the detail says by whom."""

    type = PROBLEM_BASE + "settlement-refused"
    title = "Settlement refused"
    status = 409

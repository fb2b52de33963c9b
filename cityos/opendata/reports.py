"""Error reports (纠错) on an open dataset's values (issue 19 item 7): a visitor says which value of which
row of the preview is wrong, and the portal files it as an objection through the data resource system's
objection flow (:func:`cityos.datahub.submit_public_objection`): by the portal's principal ``public``, routed to
the item's one source to verify, correct or reject within the objections' time limit.

The preview shows no record ids (CKAN's ``_id`` is a row number), so a report names its row by the values it
showed; the portal finds the record holding them. Reports are counted per client address
(``CITYOS_OPENDATA_REPORTS_PER_HOUR``) in this process, and one value has at most one open report.
"""

from __future__ import annotations

from typing import Any

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from cityos.datahub import ObjectionRecord, submit_public_objection
from cityos.errors import PROBLEM_BASE, CityError, Forbidden, InvalidInput, TooManyRequests
from cityos.opendata import datastore, service
from cityos.opendata.errors import CkanError
from cityos.opendata.models import Package
from cityos.runtime import Runtime

SCAN = 1000  # the records a report's row is looked for among (after the filters its values make)


class RecordChanged(CityError):
    """No record holds the values a report's row showed any more (live data moves): read the preview again."""

    type = PROBLEM_BASE + "opendata-record-changed"
    title = "The record changed"
    status = 409


class ReportLimits:
    """Moving windows of reports per client address; a part of the runtime, closed with it."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    def take(self, per_hour: int, address: str) -> None:
        rate = RateLimitItemPerHour(max(per_hour, 1))
        if per_hour <= 0 or not self._limiter.hit(rate, "opendata-report", address):
            wait = max(1, int(self._limiter.get_window_stats(rate, "opendata-report", address).reset_time) - _now())
            raise TooManyRequests(f"too many error reports from this address (at most {per_hour} an hour): try "
                                  f"again in {wait} seconds", retryAfter=wait)  # fmt: skip

    def close(self) -> None:
        self._storage.timer.cancel()


def _now() -> int:
    import time

    return int(time.time())


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _narrowing(package: Package, row: dict[str, Any]) -> str | None:
    """A filter of the row's plain values the read can take (the values it cannot are compared after)."""
    usable = {k: v for k, v in row.items() if _scalar(v) and not any(c in str(v) for c in '";\n\r')}
    try:
        return datastore.filter_q(package, usable)
    except CkanError:
        return None


def find_record(rt: Runtime, tenant: str, package: Package, row: dict[str, Any]) -> str:
    """The id of a record of ``package`` that holds every value of ``row`` (open item -> value as shown)."""
    columns = {c.id for c in package.resource.columns}
    unknown = sorted(set(row) - columns - {"_id"})
    if unknown:
        raise InvalidInput(f"the row names items {package.name} does not open: {', '.join(unknown)}", field="row")
    wanted = {k: v for k, v in row.items() if k != "_id"}
    if not wanted:
        raise InvalidInput("name the row by the values the preview showed (item -> value)", field="row")
    found = service.read_records(rt, tenant, package, _narrowing(package, wanted), SCAN, 0).records
    for record in found:
        if all(record.get(k) == v for k, v in wanted.items()):
            return str(record["id"])
    raise RecordChanged(f"no record of {package.name} holds these values any more (its data may have changed since "
                        "the preview showed them): reload the preview and report again")  # fmt: skip


def file_report(
    rt: Runtime,
    tenant: str,
    package: Package,
    address: str,
    row: dict[str, Any],
    item: str,
    evidence: str,
    proposed: Any = None,
) -> ObjectionRecord:
    """File a visitor's error report on the value of ``item`` in the preview's ``row`` as an objection to the
    item's source. Forbidden (403) for a conditional dataset (its values are not shown to the public) or one
    whose records the data hub does not hold; TooManyRequests (429) past the address's reports per hour."""
    if package.conditional or not package.datastore:
        raise Forbidden(f"{package.name} shows no records to the public: there is no value to report; write to its "
                        f"provider {package.organization.title}")  # fmt: skip
    if not package.entities:
        raise Forbidden(f"the records of {package.name} are a table the data hub does not hold: error reports take "
                        f"the data hub's records; write to its provider {package.organization.title}")  # fmt: skip
    if item not in {c.id for c in package.resource.columns}:
        raise InvalidInput(f"{package.name} opens no item {item!r}: report one of the columns the preview shows",
                           field="item")  # fmt: skip
    rt.parts.get(ReportLimits, ReportLimits).take(rt.settings.opendata_reports_per_hour, address)
    record_id = find_record(rt, tenant, package, row)
    opened = tuple(c.id for c in package.resource.columns)
    return submit_public_objection(rt, tenant, package.code, record_id, item, evidence, opened=opened,
                                   proposed=proposed)  # fmt: skip
